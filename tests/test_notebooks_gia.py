"""The GIA chapters (05, 06, 07, 08, 10), executed through papermill with tiny
parameters on CPU and their JSON records checked; then, with enough training to make
them hold, the planted answers (tests marked slow).

Every notebook runs with cwd = the repository root (as ``make book`` runs them) and
writes into a temporary results folder.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from rbgia import book, results
from rbgia.data import shipped_data_dir

REPO = Path(__file__).resolve().parents[1]


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _run(name: str, out_dir: Path, **params: Any) -> None:
    """Execute notebooks/<name>.ipynb into out_dir (raises BookError naming the failing cell)."""
    book.execute(REPO / "notebooks" / f"{name}.ipynb", out_dir / f"{name}.ipynb", params, root=REPO)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, sim_dir) -> dict[str, Any]:
    """Shared tiny parameters and one results folder (models are reused across notebooks)."""
    root = tmp_path_factory.mktemp("gia_tiny")
    reference = shipped_data_dir("reference")
    params = {"data_dir": str(sim_dir), "results_dir": str(root / "results"), "epochs": 1, "seed": 0,
              "num_background": 50}
    return {"root": root, "res": root / "results", "params": params, "reference": str(reference),
            "have_reference": reference.is_dir()}


@pytest.mark.slow
def test_05_gia_tiny(tiny):
    _run("05_gia", tiny["root"], **tiny["params"], experiment="SIMRBFOX1", k=4, n_screen=20,
         reference_dir=tiny["reference"], reference_motif="RNCMPT00168", n_boot=200)
    rec = results.read_results(tiny["res"], "SIMRBFOX1", "05_gia")
    assert rec["config"] == results.config_dict() and rec["background"] == {"kind": "profile", "n": 50}
    top = rec["top_kmers"]
    assert len(top) == 10 and all(len(t["kmer"]) == 4 and _finite(t["mean"]) for t in top)
    assert [t["mean"] for t in top] == sorted((t["mean"] for t in top), reverse=True)
    assert rec["motif"] == rec["scan"]["top_kmer"] == top[0]["kmer"]
    assert rec["scan"]["evaluations"]["exhaustive"] == 4**4 * 50 + 50 and rec["scan"]["top10_shared"] >= 8
    assert len(rec["mutagenesis"]["l2"]) == 4 and all(_finite(v) for v in rec["mutagenesis"]["l2"])
    for kind in ("optimal", "suboptimal"):
        mult = rec["multiplicity"][kind]
        assert len(mult["mean"]) == 3 and (mult["r2"] is None or 0 <= mult["r2"] <= 1)
    assert rec["spacing"][-1]["arrangement"] == "one at 17" and rec["spacing"][-1]["ratio"] == 1.0
    assert len(rec["alignment"]["consensus"]) >= 4
    if tiny["have_reference"]:
        assert _finite(rec["kd"]["r2"]) and rec["kd"]["n"] == 7 and rec["kd"]["rbfox1_like"] is not None
        assert -1 <= rec["alignment"]["similarity"]["r"] <= 1
    else:
        assert rec["kd"] is None and rec["alignment"]["similarity"] is None


@pytest.mark.slow
def test_10_ground_truth_tiny(tiny):
    _run("10_ground_truth", tiny["root"], **tiny["params"], experiments=["SIMRBFOX1", "SIMNULL"], k=4, n_screen=20,
         n_random_kmers=5, n_boot=100)
    rec = results.read_results(tiny["res"], None, "10_ground_truth")
    assert rec["experiments"] == ["SIMRBFOX1", "SIMNULL"] and rec["n_analyses"] == 16  # 8 analyses each
    assert 0 <= rec["n_agree"] <= 16 and all(_finite(rec["test_pearson"][e]) for e in rec["experiments"])
    rows = {(r["experiment"], r["analysis"]): r for r in rec["table"]}
    rb = rec["per_experiment"]["SIMRBFOX1"]
    assert rb["motif"] == "UGCAUG" and len(rb["top_kmer"]) == 4 and len(rb["panel"]) >= 10
    # the raw signal's verdicts are the planted rules: additive copies, hindrance of close pairs, a 3' GC interaction
    assert rows[("SIMRBFOX1", "multiplicity, 3 copies of UGCAUG")]["signal verdict"] == "additive"
    assert rows[("SIMRBFOX1", "spacing 16+20 (gap -2)")]["signal verdict"] == "hindrance"
    assert rows[("SIMRBFOX1", "spacing 13+22 (gap 3)")]["signal verdict"] == "additive"
    assert rows[("SIMRBFOX1", "GC run at the 3' end")]["signal verdict"] == "amplifies"
    assert rows[("SIMRBFOX1", "spacing 16+20 (gap -2)")]["oracle verdict"] == "hindrance"  # on the model's scale too
    null = rec["per_experiment"]["SIMNULL"]
    assert null["motif"] == null["top_kmer"] and null["kmer_spearman"] is None  # the null oracle is 0 everywhere
    assert null["oracle"]["multiplicity"]["verdict"] == null["signal"]["multiplicity"]["verdict"] == "no effect"
    assert results.read_results(tiny["res"], "SIMNULL", "10_ground_truth")["experiment"] == "SIMNULL"
    page = (tiny["root"] / "10_ground_truth.ipynb").read_text()
    assert "agrees with the oracle's in" in page  # the findings, from the verdicts


# ----------------------------------------------------------------------------- the real-data chapters (04-08)

REAL_2013 = "data/rnacompete2013_sample"
REAL_2009 = "data/rnacompete2009"


@pytest.fixture(scope="module")
def real(tmp_path_factory) -> dict[str, Any]:
    """The GIA battery (05_gia, as the gia_2009 / gia_2013 jobs run it) on three shipped real experiments,
    600 probes per set and one epoch; the records the chapters 06-08 read."""
    root = tmp_path_factory.mktemp("gia_real")
    reference = str(shipped_data_dir("reference"))
    params = {"results_dir": str(root / "results"), "epochs": 1, "seed": 0, "num_background": 40,
              "max_probes": 600, "reference_dir": reference}
    battery = {**params, "k": 4, "n_screen": 15, "scan": "adaptive", "n_boot": 100, "n_ism": 6}
    _run("05_gia", root / "a", **battery, data_dir=REAL_2013, experiment="RNCMPT00001")
    for exp in ("HuR", "VTS1"):
        _run("05_gia", root / exp, **battery, data_dir=REAL_2009, experiment=exp, padding="fill")
    return {"root": root, "res": root / "results", "params": params, "experiments": ["RNCMPT00001", "HuR", "VTS1"]}


@pytest.mark.slow
def test_05_gia_real_records(real):
    a1cf, hur, vts1 = (results.read_results(real["res"], e, "05_gia") for e in real["experiments"])
    assert a1cf["alignment"]["reference"] == "RNCMPT00001" and -1 <= a1cf["alignment"]["similarity"]["r"] <= 1
    assert hur["alignment"]["n_references"] == 5 and hur["alignment"]["reference_name"] == "HuR"  # 2013 HuR motifs
    assert vts1["alignment"]["n_references"] == 0 and vts1["alignment"]["similarity"] is None  # not in 2013
    for rec in (a1cf, hur, vts1):
        assert len(rec["top_kmers"]) == 10 and all(0 <= t["qvalue"] <= 1 for t in rec["top_kmers"])
        assert rec["positions"] == {"multiplicity_starts": [3, 10, 17], "gc_starts": [0, 35], "kmer_start": 17}
        m = rec["multiplicity"]["optimal"]
        assert m["verdict"] in {"additive", "sub-additive", "super-additive", "no effect", "undetermined"}
        assert len(m["mean"]) == 3 and rec["gc"]["interaction3"]["verdict"] in {"amplifies", "dampens", "adds"}
        assert set(rec["gc"]["importance"]) == {"motif", "motif_gc5", "motif_gc3", "gc5", "gc3"}
        assert rec["ism_gc3"]["n_probes"] == 6 and rec["ism_gc3"]["verdict"] in {"3' bias", "no 3' bias"}
        assert rec["scan"]["evaluations"]["adaptive"] < rec["scan"]["evaluations"]["exhaustive"]
    assert hur["background_padding"] == "fill" and a1cf["background_padding"] == "source"


@pytest.mark.slow
def test_06_structure_vts1_real(real):
    _run("06_structure_vts1", real["root"], **real["params"], data_dir=REAL_2009, k=4, n_boot=100)
    rec = results.read_results(real["res"], "VTS1", "06_structure_vts1")
    assert set(rec["test_pearson"]) == {"seq", "pu"} and all(_finite(v) for v in rec["test_pearson"].values())
    assert rec["top_kmers_source"] == "05_gia record" and list(rec["top_kmers"][0])[0] == "kmer"
    assert rec["motif"] == rec["top_kmers"][0]["kmer"]
    for kind in ("seq", "pu"):
        effect = rec["structure_effect"][kind]
        assert effect["ci_low"] <= effect["mean"] <= effect["ci_high"]
        assert effect["verdict"] in {"prefers loop", "prefers stem", "no structure effect", "undetermined"}
        assert rec["hairpin"][kind]["folding"]["n_designed"] == 40
    perf = {r["inputs"]: r for r in rec["performance"]}
    assert perf["seq"]["paper"] == pytest.approx(0.6981) and perf["pu"]["paper"] == pytest.approx(0.7073)


@pytest.mark.slow
def test_04_ism_real(real):
    params = {k: v for k, v in real["params"].items() if k != "num_background"}  # ISM: no backgrounds
    _run("04_ism", real["root"], **params, data_dir=REAL_2013, data_dir_2009=REAL_2009,
         experiments=["RNCMPT00001", "RNCMPT00002"])
    rec = results.read_results(real["res"], None, "04_ism")
    assert {e["experiment"] for e in rec["examples"]} <= {"RNCMPT00001", "RNCMPT00002"} and rec["examples"]
    assert {e["mismatches"] for e in rec["examples"]} <= {0, 2}
    kinds = [p["kind"] for p in rec["vts1_probes"]]
    assert kinds == ["high", "high", "low", "low"] and all(p["mismatches"] == 0 for p in rec["vts1_probes"])
    assert all(0 <= p["unpaired at motif"] <= 1 for p in rec["vts1_probes"])


@pytest.mark.slow
def test_07_08_across_real(real):
    _run("07_gc_bias", real["root"], results_dir=real["params"]["results_dir"], experiments=real["experiments"],
         example="RNCMPT00001")
    gc = results.read_results(real["res"], None, "07_gc_bias")
    assert gc["experiments"] == real["experiments"] and gc["across"]["verdict"] in {"3' bias", "no 3' bias shown"}
    _run("08_across_experiments", real["root"], results_dir=real["params"]["results_dir"],
         experiments=real["experiments"])
    rec = results.read_results(real["res"], None, "08_across_experiments")
    assert [r["experiment"] for r in rec["supplementary_table1"]] == ["RNCMPT00001", "HuR"]  # VTS1 has no motif
    assert len(rec["multiplicity"]) == 3 and len(rec["spacing"]) == 3 * 3


# ----------------------------------------------------------------------------- planted answers


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict[str, Any]:
    """Enough data and epochs for the planted answers to be reachable (~7k training probes)."""
    from rbgia.simulate import write_rnacompete

    root = tmp_path_factory.mktemp("gia_planted")
    data = write_rnacompete(root / "data", n_a=8000, n_b=1000, experiments=["SIMRBFOX1", "SIMVTS1"], seed=1)
    params = {"data_dir": str(data), "results_dir": str(root / "results"), "epochs": 6, "seed": 0,
              "num_background": 150}
    return {"root": root, "res": root / "results", "params": params}


@pytest.mark.slow
def test_planted_rbfox1(trained):
    _run("05_gia", trained["root"], **trained["params"], experiment="SIMRBFOX1", scan="adaptive", n_screen=40,
         kd_check=False)
    rec = results.read_results(trained["res"], "SIMRBFOX1", "05_gia")
    assert rec["scan"]["top_kmer"] == "UGCAUG"  # the planted optimal site
    assert rec["multiplicity"]["optimal"]["r2"] > 0.9 and rec["multiplicity"]["suboptimal"]["motif"] == "AGAAUG"
    assert rec["multiplicity"]["suboptimal"]["mean"][0] < rec["multiplicity"]["optimal"]["mean"][0]
    assert "GCAUG" in rec["alignment"]["consensus"]
    gc = rec["gc"]  # the battery's GC test, on the top k-mer UGCAUG
    assert gc["effect3_ci"][0] > 1.0 and gc["diff_ci"][1] < 0  # planted: a 3' GC bias, none at the 5' end

"""The GIA chapters (05, 06, 07, 08, 10), executed through papermill with tiny
parameters on CPU and their JSON records checked; then, with enough training to make
them hold, the planted answers (tests marked slow).

Every notebook runs with cwd = the repository root (as ``make book`` runs them) and
writes into a temporary results folder.
"""

from __future__ import annotations

import gzip
import math
from pathlib import Path
from typing import Any

import pytest

from rbgia import book, results
from rbgia.data import shipped_data_dir

REPO = Path(__file__).resolve().parents[1]
ABSENT = "/nonexistent/rnacompete2009"  # the 2009 data switched off


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
         reference_dir=tiny["reference"])
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
def test_07_gc_bias_tiny(tiny):
    _run("07_gc_bias", tiny["root"], **tiny["params"], experiment="SIMRBFOX1", k=4, n_screen=20, n_boot=200)
    rec = results.read_results(tiny["res"], "SIMRBFOX1", "07_gc_bias")
    assert len(rec["motif"]) == 4 and rec["motif_source"].startswith("top 4-mer")
    assert set(rec["importance"]) == {"motif", "motif_gc5", "motif_gc3", "gc3"}
    assert all(_finite(v["mean"]) for v in rec["importance"].values())
    for key in ("effect5", "effect3", "diff"):
        if rec[key] is not None:  # undefined only when the motif has no effect
            lo, hi = rec[f"{key}_ci"]
            assert lo <= hi and _finite(rec[key])
    imp = rec["importance"]
    assert math.isclose(rec["effect3"], imp["motif_gc3"]["mean"] / imp["motif"]["mean"], rel_tol=1e-9)


@pytest.mark.slow
def test_08_across_experiments_fills_missing(tiny):
    # SIMHUR has no records yet: 08 runs 05 and 07 for it (nested papermill), then aggregates
    _run("08_across_experiments", tiny["root"], **tiny["params"], experiments=["SIMHUR"],
         fill_parameters={"scan": "adaptive", "k": 4, "n_screen": 20, "n_boot": 100})
    rec = results.read_results(tiny["res"], None, "08_across_experiments")
    assert rec["experiments"] == ["SIMHUR"]
    assert {(f["experiment"], f["notebook"]) for f in rec["filled"]} == {("SIMHUR", "05_gia"), ("SIMHUR", "07_gc_bias")}
    assert (tiny["res"] / "SIMHUR" / "notebooks" / "05_gia.ipynb").is_file()
    row = rec["per_experiment"]["SIMHUR"]
    assert row["motif"] == row["motif (07)"]  # 07 reused the motif 05 found
    assert rec["n_r2"] == 1 and (rec["median_r2"] is None or 0 <= rec["median_r2"] <= 1)


@pytest.mark.slow
def test_10_ground_truth_tiny(tiny):
    _run("10_ground_truth", tiny["root"], **tiny["params"], experiments=["SIMRBFOX1", "SIMNULL"], k=4, n_screen=20,
         n_random_kmers=5, n_series=[10, 20, 40], background_kinds=["profile", "quartile4"], n_boot=100)
    rec = results.read_results(tiny["res"], None, "10_ground_truth")
    assert rec["experiments"] == ["SIMRBFOX1", "SIMNULL"]
    rb, null = rec["per_experiment"]["SIMRBFOX1"], rec["per_experiment"]["SIMNULL"]
    assert rb["motif"] == "UGCAUG" and len(rb["top_kmer"]) == 4
    assert rb["multiplicity_r2.oracle"] > 0.999  # the planted rule is additive (up to chance background sites)
    assert rb["gc_effect3.oracle"] > 1.1 and rb["gc_effect5.oracle"] == pytest.approx(1.0, abs=0.05)  # planted 3' bias
    assert _finite(rb["panel_spearman"]) and _finite(rb["ci_width_slope"])
    assert null["panel_spearman"] is None  # the null oracle is zero everywhere: no correlation exists
    assert _finite(null["model_max_abs"])
    assert results.read_results(tiny["res"], "SIMNULL", "10_ground_truth")["experiment"] == "SIMNULL"


@pytest.fixture(scope="module")
def vts1_subset(tmp_path_factory) -> Path:
    """The first 1,500 probes of each VTS1 2009 set, in the per-set layout (not in the repo)."""
    out = tmp_path_factory.mktemp("vts1_2009")
    for s in ("A", "B"):
        with gzip.open(shipped_data_dir("rnacompete2009") / f"VTS1_data_full_{s}.txt.gz", "rt") as fh:
            lines = [next(fh) for _ in range(1500)]
        with gzip.open(out / f"VTS1_data_full_{s}.txt.gz", "wt") as fh:
            fh.writelines(lines)
    return out


@pytest.mark.slow
def test_06_structure_tiny(tiny, vts1_subset):
    _run("06_structure_vts1", tiny["root"], **tiny["params"], data_dir_2009=str(vts1_subset), epochs_2009=1,
         n_screen=20, reference_dir=tiny["reference"])
    sim = results.read_results(tiny["res"], "SIMVTS1", "06_structure_vts1")
    assert {r["predictor"] for r in sim["hairpin"]} == {"sequence", "sequence + PU", "planted rule"}
    assert len(sim["hairpin"]) == 12 and all(_finite(r["mean"]) for r in sim["hairpin"])
    assert sim["loop_gt_stem"]["planted rule"] is True  # the oracle: CNGG counts only in a hairpin loop
    real = results.read_results(tiny["res"], "VTS1", "06_structure_vts1")
    assert set(real["test_pearson"]) == {"seq", "pu"} and all(_finite(v) for v in real["test_pearson"].values())
    assert len(real["top_kmers"]) == 10 and len(real["hairpin"]) == 8
    assert real["summary_2009"][0]["rbp"] == "VTS1"


@pytest.mark.slow
def test_06_without_2009_data(tiny):
    _run("06_structure_vts1", tiny["root"], **tiny["params"], data_dir_2009=ABSENT, n_screen=20)
    sim = results.read_results(tiny["res"], "SIMVTS1", "06_structure_vts1")
    assert len(sim["hairpin"]) == 12


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
    _run("07_gc_bias", trained["root"], **trained["params"], experiment="SIMRBFOX1", motif="UGCAUG")
    gc = results.read_results(trained["res"], "SIMRBFOX1", "07_gc_bias")
    assert gc["effect3_ci"][0] > 1.0 and gc["diff_ci"][1] < 0  # planted: a 3' GC bias, none at the 5' end


@pytest.mark.slow
def test_planted_vts1_loop(trained):
    _run("06_structure_vts1", trained["root"], **trained["params"], data_dir_2009=ABSENT, n_screen=40)
    sim = results.read_results(trained["res"], "SIMVTS1", "06_structure_vts1")
    assert sim["loop_gt_stem"] == {"sequence": True, "sequence + PU": True, "planted rule": True}

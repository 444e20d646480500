"""Every chapter of the book, executed once through the engine (Snakemake, as ``make book``)
with TINY parameters (``tests/tiny_parameters.yml``) on the shipped real data and a small
simulated dataset (the ``tiny_book`` fixture in conftest.py), its JSON record checked, and
the rendered book checked for pages and figures.

Adding a chapter = its entry in tests/tiny_parameters.yml (same format as
book/parameters.yml) and, optionally, a check of its record in CHECKS below.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rbgia import book
from rbgia.chapters import records, results
from rbgia.config import TrainConfig

REPO = Path(__file__).resolve().parents[1]


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _params(spec: dict, name: str) -> dict:
    own = {k: v for k, v in (spec["notebooks"].get(name) or {}).items() if k not in ("needs", "requires")}
    return {**spec["defaults"], **own}


def check_01(res: Path, p: dict) -> None:
    rec = results.read_results(res, p["experiment"], "01_data")
    assert rec["n_experiments"] == 10 and "RNCMPT00002" in rec["experiments"]  # both shipped real datasets
    assert rec["n_probes"] == {"A": 600, "B": 600}  # max_probes per set
    dropped = sum(rec["n_dropped_nan"].values())
    assert rec["n_train"] + rec["n_valid"] + rec["n_test"] == 1200 - dropped
    assert rec["skewness"]["log"] < rec["skewness"]["raw"]  # the log transform tames the tail
    assert rec["transform_stats"] == "train" and rec["structure"]["channel_sums_ok"]


def check_02(res: Path, p: dict) -> None:
    rec = results.read_results(res, p["experiment"], "02_residualbind", {"normalization": "log"})
    assert rec["config"] == TrainConfig().as_dict() and rec["epochs"] == 1 and rec["epochs_run"] == 1
    assert rec["n_train"] + rec["n_valid"] == 600 and rec["n_test"] == 600
    assert _finite(rec["test_pearson"]) and isinstance(rec["stopped_early"], bool) and rec["patience"] >= 0
    assert rec["plateaued"] is False and "too few to tell" in rec["plateau"]  # 1 epoch cannot tell (rbgia.train)
    for name in ("kmer_ridge", "shallow_cnn"):
        assert _finite(rec["baselines"][name]["test_pearson"])
    assert rec["baselines"]["kmer_ridge"]["test_pearson"] > 0.2  # k-mers find VTS1's GCUGG even on 540 probes
    assert rec["scatter"]["motif"] == "GCUGG" and math.isclose(rec["scatter"]["pearson"], rec["test_pearson"],
                                                                abs_tol=1e-4)
    assert set(rec["scatter"]["mean_pred_by_mismatches"]) >= {"0", "1"}  # probes coloured by mismatches to GCUGG


def check_03(res: Path, p: dict) -> None:
    import pandas as pd

    rec = results.read_results(res, None, "03_benchmark")
    assert set(rec["experiments"]) == {"VTS1", "HuR", "RNCMPT00001"}
    assert {"log-seq-paper-s0", "log-pu-paper-s0", "clip-seq-paper-s0"} <= set(rec["configs"])
    reported = pd.read_csv(REPO / "data" / "reference" / "reported_results.csv", comment="#")
    vts1 = reported[reported["dataset"] == "rnacompete2009:VTS1"].set_index("inputs")["mean"]
    goals = {g["goal"]: g for g in rec["goals"]}
    assert goals["VTS1 sequence"]["target"] == vts1["sequence"] and goals["VTS1 +PU"]["target"] == vts1["sequence+PU"]
    assert _finite(goals["VTS1 sequence"]["measured"]) and goals["VTS1 sequence"]["epochs"] == "1"
    assert goals["VTS1 sequence"]["plateaued"] == "no"  # one epoch: the goals table says so
    pu = {t["comparison"]: t for t in rec["tests"]["inputs"]}["seq - pu"]
    assert pu["n"] == 2 and pu["unequal budget"] == 0  # VTS1 and HuR (tests/tiny_parameters.yml)
    assert {t["comparison"] for t in rec["tests"]["baselines"]} == {"ResidualBind - k-mer ridge",
                                                                    "ResidualBind - shallow CNN"}
    rows = {r["row"]: r for r in rec["compare_2009"]}
    assert rows["n (RBPs in that mean)"]["ResidualBind sequence"] == 2


def check_04(res: Path, p: dict) -> None:
    rec = results.read_results(res, None, "04_ism")
    assert rec["examples"] and {e["mismatches"] for e in rec["examples"]} <= {0, 2}
    assert {e["experiment"] for e in rec["examples"]} <= set(p["experiments"])
    kinds = [v["kind"] for v in rec["vts1_probes"]]
    assert kinds == ["high", "high", "low", "low"] and all(v["mismatches"] == 0 for v in rec["vts1_probes"])
    assert all(0 <= v["unpaired at motif"] <= 1 for v in rec["vts1_probes"])


def check_05(res: Path, p: dict) -> None:
    """The GIA battery records of the gia_2009 / gia_2013 jobs and of the chapter."""
    a1cf, vts1 = (results.read_results(res, e, "05_gia") for e in ("RNCMPT00001", "VTS1"))
    assert a1cf["alignment"]["reference"] == "RNCMPT00001" and -1 <= a1cf["alignment"]["similarity"]["r"] <= 1
    assert vts1["alignment"]["n_references"] == 0 and vts1["alignment"]["similarity"] is None  # not in 2013
    for rec in (a1cf, vts1):
        assert len(rec["top_kmers"]) == 10 and all(0 <= t["qvalue"] <= 1 for t in rec["top_kmers"])
        assert list(rec["top_kmers"][0])[0] == "kmer"
        assert rec["positions"] == {"multiplicity_starts": [3, 10, 17], "gc_starts": [0, 35], "kmer_start": 17}
        m = rec["multiplicity"]["optimal"]
        assert m["verdict"] in {"additive", "additive, unequal copies", "sub-additive", "super-additive", "no effect",
                                "undetermined"}
        assert len(m["copies"]) == 3 and rec["gc"]["interaction3"]["verdict"] in {"amplifies", "dampens", "adds",
                                                                                    "no effect", "undetermined"}
        assert set(rec["gc"]["importance"]) == {"motif", "motif_gc5", "motif_gc3", "gc5", "gc3"}
        assert rec["ism_gc3"]["verdict"] in {"3' bias", "no 3' bias"}
        assert rec["scan"]["evaluations"]["adaptive"] < rec["scan"]["evaluations"]["exhaustive"]
    assert vts1["background_padding"] == "fill" and a1cf["background_padding"] == "source"
    battery = records.read_record(res, "VTS1", "05_gia", kind="battery")  # the chapters' schema reads it back
    assert battery.multiplicity.optimal.verdict == vts1["multiplicity"]["optimal"]["verdict"]


def check_06(res: Path, p: dict) -> None:
    rec = results.read_results(res, "VTS1", "06_structure_vts1")
    assert set(rec["test_pearson"]) == {"seq", "pu"} and all(_finite(v) for v in rec["test_pearson"].values())
    assert list(rec["top_kmers"][0])[0] == "kmer" and rec["motif"] == rec["top_kmers"][0]["kmer"]
    for kind in ("seq", "pu"):
        effect = rec["structure_effect"][kind]
        assert {"mean", "ci_low", "ci_high"} <= set(effect) and effect["ci_low"] <= effect["mean"] <= effect["ci_high"]
        assert effect["verdict"] in {"prefers loop", "prefers stem", "no structure effect", "no effect", "undetermined"}
    structure = records.read_record(res, "VTS1", "06_structure_vts1", kind="structure")
    assert structure.structure_effect.seq.mean == rec["structure_effect"]["seq"]["mean"]
    sens = {r["model"]: r for r in rec["sensitivity"]}  # the hairpin verdict on each background kind
    assert set(sens) == {"seq", "pu"} and all(set(r) == {"model", "profile", "dinuc", "quartile1", "agree"}
                                                 for r in sens.values())
    assert all(sens[k]["profile"] == rec["structure_effect"][k]["verdict"] for k in sens)
    assert all(r["agree"] == (len({r["profile"], r["dinuc"], r["quartile1"]}) == 1) for r in sens.values())
    perf = {r["inputs"]: r for r in rec["performance"]}
    assert perf["seq"]["paper"] == pytest.approx(0.6981) and perf["pu"]["paper"] == pytest.approx(0.7073)


def check_07(res: Path, p: dict) -> None:
    gc = results.read_results(res, None, "07_gc_bias")
    assert gc["experiments"] == p["experiments"] and gc["across"]["verdict"] in {"3' bias", "no 3' bias shown",
                                                                                "undetermined"}
    assert gc["kind"] == "gc_chapter" and gc["across"]["kind"] == "gc_across_test"


def check_08(res: Path, p: dict) -> None:
    rec = results.read_results(res, None, "08_across_experiments")
    assert rec["experiments"] == p["experiments"] and len(rec["multiplicity"]) == len(p["experiments"])
    assert [r["experiment"] for r in rec["supplementary_table1"]] == ["RNCMPT00001"]  # VTS1 has no 2013 motif
    assert rec["kind"] == "across" and {r["verdict"] for r in rec["sensitivity"]} == {
        "top k-mer", "multiplicity", "spacing", "GC 3' end", "GC biased end"}



def check_10(res: Path, p: dict) -> None:
    rec = results.read_results(res, None, "10_ground_truth")
    assert rec["experiments"] == ["SIMRBFOX1", "SIMNULL"] and rec["n_analyses"] == 16  # 8 analyses each
    assert 0 <= rec["n_agree"] <= 16 and all(_finite(rec["test_pearson"][e]) for e in rec["experiments"])
    rows = {(r["experiment"], r["analysis"]): r for r in rec["table"]}
    rb = rec["per_experiment"]["SIMRBFOX1"]
    assert rb["motif"] == "UGCAUG" and len(rb["top_kmer"]) == 4 and len(rb["panel"]) >= 10
    # the raw signal's verdicts are the planted rules: additive copies, hindrance of close pairs, a 3' GC interaction
    assert rows[("SIMRBFOX1", "multiplicity, 3 copies of UGCAUG")]["signal verdict"] == "additive"
    assert rows[("SIMRBFOX1", "spacing 17+21 (gap -2)")]["signal verdict"] == "hindrance"
    assert rows[("SIMRBFOX1", "spacing 14+23 (gap 3)")]["signal verdict"] == "additive"
    assert rows[("SIMRBFOX1", "GC run at the 3' end")]["signal verdict"] == "amplifies"
    assert rows[("SIMRBFOX1", "spacing 17+21 (gap -2)")]["oracle verdict"] == "hindrance"  # on the model's scale too
    controls = {(r["verdict"], r["control"]) for r in rec["controls"]}  # the rules against their controls
    assert ("hairpin", "random PWM") in controls and ("multiplicity", "null model") in controls
    null = rec["per_experiment"]["SIMNULL"]
    assert null["motif"] == null["top_kmer"] and null["kmer_spearman"] is None  # the null oracle is 0 everywhere
    assert null["oracle"]["multiplicity"]["verdict"] == null["signal"]["multiplicity"]["verdict"] == "no effect"
    assert results.read_results(res, "SIMNULL", "10_ground_truth")["experiment"] == "SIMNULL"


CHECKS: dict[str, Callable[[Path, dict], None]] = {
    "01_data": check_01,
    "02_residualbind": check_02,
    "03_benchmark": check_03,
    "04_ism": check_04,
    "05_gia": check_05,
    "06_structure_vts1": check_06,
    "07_gc_bias": check_07,
    "08_across_experiments": check_08,
    "10_ground_truth": check_10,
}


def test_every_toc_chapter_has_tiny_parameters():
    import yaml

    spec = yaml.safe_load((REPO / "tests" / "tiny_parameters.yml").read_text())
    missing = [n for n in book.toc_notebooks(REPO) if n not in spec["notebooks"]]
    assert not missing, f"add {missing} to tests/tiny_parameters.yml"
    assert set(CHECKS) <= set(spec["notebooks"])


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CHECKS))
def test_chapter_record(tiny_book, name):
    run = tiny_book["runs"][name]
    assert run.status == "executed", f"{name}: {run.status} {run.note}"
    CHECKS[name](tiny_book["results"], _params(tiny_book["spec"], name))


@pytest.mark.slow
def test_book_renders_every_chapter_with_its_figures(tiny_book):
    html = tiny_book["html"]
    for name in tiny_book["runs"]:
        page = (html / book.EXECUTED / f"{name}.html").read_text()
        assert "<img" in page, f"{name} rendered without figures"
        assert "Traceback" not in page
        assert 'class="tag_injected-parameters' not in page and "tag_parameters" not in page  # parameters shown once
        assert "rbgia.train:" not in page and "  valid r " not in page  # progress lines stay in the logs
    for page in ("intro", "methods", "rerun", "references", "paper_map", "reliability", "validation"):
        assert (html / "book" / f"{page}.html").is_file()
    refs = (html / "book" / "references.html").read_text()
    assert "Koo" in refs  # the bibliography rendered, with every method quoted in chapter 03's tables
    assert all(name in refs for name in ("ThermoNet", "cDeepbind", "DLPRB", "RCK", "RNAcontext", "MatrixREDUCE"))
    for page in (html / "book" / "intro.html", html / book.EXECUTED / "03_benchmark.html"):
        stamp = re.search(r'<p class="rbgia-stamp">Built (.*?)</p>', page.read_text())
        assert stamp and "keras 3." in stamp.group(1) and " CPUs, " in stamp.group(1)  # every page: the build
    intro = (html / "book" / "intro.html").read_text()  # results at a glance, from this run's records
    assert "Results at a glance" in intro and "ResidualBind predicts better than simpler models" in intro
    assert "No records yet" not in intro and "claims: " in intro
    rerun = (html / "book" / "rerun.html").read_text()  # the defaults table, generated from the notebooks
    assert "<code class=\"docutils literal notranslate\"><span class=\"pre\">data/rnacompete2013_sample</span>" in rerun
    assert "{include}" not in rerun and "a simulated id" not in rerun
    gc_page = (html / book.EXECUTED / "07_gc_bias.html").read_text()
    assert "Quick run" in gc_page and "models not plateaued: " in gc_page  # 1-epoch models behind its GIA
    vts1 = (html / book.EXECUTED / "06_structure_vts1.html").read_text()
    assert "Fig 3c" in vts1  # figures are labelled with the paper panel they reproduce
    assert "model not plateaued (1 epoch run" in vts1  # one epoch: the captions say the models had not plateaued
    assert "agrees with the oracle" in (html / book.EXECUTED / "10_ground_truth.html").read_text()
    timings = (html / book.EXECUTED / "09_timings.html").read_text()  # the appendix, from this very run
    assert "minutes of notebook execution" in timings and "03_benchmark" in timings
    # staged copies are not pages (they made "isn't included in any toctree" and duplicate-label warnings)
    assert (tiny_book["root"] / book.STAGED).is_dir() and not (html / book.STAGED).exists()


@pytest.mark.slow
def test_other_experiment_without_edits(sim_dir, tmp_path):
    """A chapter runs on another experiment with `-p experiment` only (papermill CLI style)."""
    import papermill

    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(  # the GIA battery on a simulated experiment; sizes only to keep it quick
        str(REPO / "notebooks" / "05_gia.ipynb"), str(out), cwd=str(REPO), kernel_name="python3", progress_bar=False,
        parameters={"data_dir": str(sim_dir), "results_dir": str(tmp_path / "res"), "experiment": "SIMHUR", "epochs": 1,
                    "k": 4, "num_background": 30, "n_screen": 10, "allow_unplateaued": True},
    )
    rec = results.read_results(tmp_path / "res", "SIMHUR", "05_gia")
    assert rec["experiment"] == "SIMHUR" and rec["known_motif"] == "UUUUUU"  # the planted motif (truth.json)
    assert len(rec["top_kmers"]) == 10 and _finite(rec["test_pearson"])

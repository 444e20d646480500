"""Every chapter notebook, executed through papermill (rbgia.book.run) with TINY
parameters on CPU, its JSON record checked; then the Jupyter Book build of the whole
tiny book (every chapter of _toc.yml).

Adding a chapter = one entry in NOTEBOOK_PARAMS (tiny parameters; ``{sim}`` is the
small simulated dataset, ``{shared}`` the real-data folder), optionally REQUIRES (data
without which it is skipped) and CHECKS (a function of the results folder and the
parameters that asserts on the chapter's JSON record). The GIA chapters (05-08, 10)
are checked in detail in tests/test_notebooks_gia.py; here they are only executed and
rendered as part of the book.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from rbgia import book, results
from rbgia.data import shipped_data_dir

REPO = Path(__file__).resolve().parents[1]

# Tiny parameters per chapter, in _toc.yml order (shared: data_dir, results_dir, epochs, seed).
NOTEBOOK_PARAMS: dict[str, dict[str, Any]] = {
    "01_data": {"data_dir": "data/rnacompete2009", "experiment": "VTS1", "n_structure_probes": 2, "max_probes": 600},
    "02_residualbind": {"data_dir": "data/rnacompete2009", "experiment": "VTS1", "baselines": True, "cnn_epochs": 1,
                        "max_probes": 600, "motif": "GCUGG"},
    "03_benchmark": {},  # reads the real_* job records (tests/tiny_parameters.yml)
    # 04-08: the real-data GIA chapters (tests/tiny_parameters.yml; checked in tests/test_notebooks_gia.py)
    "04_ism": {"data_dir": "data/rnacompete2013_sample", "experiments": ["RNCMPT00001"], "max_probes": 600},
    "05_gia": {"data_dir": "data/rnacompete2013_sample", "experiment": "RNCMPT00001", "max_probes": 600, "k": 4,
               "n_screen": 20, "n_boot": 100, "n_ism": 6},
    "06_structure_vts1": {"data_dir": "data/rnacompete2009", "max_probes": 600, "k": 4, "n_boot": 100},
    "07_gc_bias": {"experiments": ["VTS1", "RNCMPT00001"], "example": "RNCMPT00001"},
    "08_across_experiments": {"experiments": ["VTS1", "RNCMPT00001"]},
    "10_ground_truth": {"experiments": ["SIMRBFOX1", "SIMNULL"], "k": 4, "n_screen": 20, "n_random_kmers": 5,
                        "n_boot": 100},
}
REQUIRES: dict[str, list[str]] = {}
TINY_DEFAULTS = {"data_dir": "{sim}", "results_dir": "{results}", "reference_dir": "{shared}/reference",
                 "epochs": 1, "seed": 0, "num_background": 50, "background": "profile"}


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


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
    assert rec["config"] == results.config_dict("log") and rec["epochs"] == 1 and rec["epochs_run"] == 1
    assert rec["n_train"] + rec["n_valid"] == 600 and rec["n_test"] == 600
    assert _finite(rec["test_pearson"]) and isinstance(rec["stopped_early"], bool) and rec["patience"] >= 0
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
    pu = {t["comparison"]: t for t in rec["tests"]["inputs"]}["seq - pu"]
    assert pu["n"] == 2 and pu["unequal budget"] == 0  # VTS1 and HuR (tests/tiny_parameters.yml)
    assert {t["comparison"] for t in rec["tests"]["baselines"]} == {"ResidualBind - k-mer ridge",
                                                                    "ResidualBind - shallow CNN"}
    rows = {r["row"]: r for r in rec["compare_2009"]}
    assert rows["n (RBPs in that mean)"]["ResidualBind sequence"] == 2


def check_04(res: Path, p: dict) -> None:
    rec = results.read_results(res, None, "04_ism")
    assert rec["examples"] and {e["mismatches"] for e in rec["examples"]} <= {0, 2}
    assert [v["kind"] for v in rec["vts1_probes"]] == ["high", "high", "low", "low"]


def check_06(res: Path, p: dict) -> None:
    rec = results.read_results(res, "VTS1", "06_structure_vts1")
    assert set(rec["test_pearson"]) == {"seq", "pu"} and list(rec["top_kmers"][0])[0] == "kmer"
    assert all({"mean", "ci_low", "ci_high"} <= set(rec["structure_effect"][k]) for k in ("seq", "pu"))


def check_08(res: Path, p: dict) -> None:
    rec = results.read_results(res, None, "08_across_experiments")
    assert rec["experiments"] == p["experiments"] and len(rec["multiplicity"]) == len(p["experiments"])


CHECKS: dict[str, Callable[[Path, dict], None]] = {
    "01_data": check_01,
    "02_residualbind": check_02,
    "03_benchmark": check_03,
    "04_ism": check_04,
    "06_structure_vts1": check_06,
    "08_across_experiments": check_08,
}


@pytest.fixture(scope="session")
def tiny_book(tmp_path_factory, sim_dir) -> dict[str, Any]:
    """A repository-like folder with the chapters, a toc, and the tiny parameters."""
    root = tmp_path_factory.mktemp("book")
    shared = tmp_path_factory.mktemp("shared")  # the shipped data/ in the layout {shared} stands for
    (shared / "data").mkdir()
    (shared / "data" / "rnacompete2013_sample").symlink_to(shipped_data_dir("rnacompete2013_sample"))
    (shared / "reference").symlink_to(shipped_data_dir("reference"))
    res = root / "results"
    subs = {"sim": str(sim_dir), "results": str(res)}
    for d in ("notebooks", "book"):
        (root / d).mkdir()
    for name in NOTEBOOK_PARAMS:
        shutil.copy(REPO / "notebooks" / f"{name}.ipynb", root / "notebooks")
    for f in ("intro.md", "paper_map.md", "methods.md", "rerun.md", "references.md", "references.bib"):
        shutil.copy(REPO / "book" / f, root / "book")
    shutil.copy(REPO / "_config.yml", root)
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    for part in toc.get("parts", []):  # keep the chapters this test knows about
        part["chapters"] = [c for c in part["chapters"]
                            if not c["file"].startswith(book.EXECUTED) or Path(c["file"]).name in NOTEBOOK_PARAMS]
    (root / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False))
    spec = {"defaults": {k: v.format(**subs, shared="{shared}") if isinstance(v, str) else v
                         for k, v in TINY_DEFAULTS.items()},
            "notebooks": {name: {**{k: v.format(**subs, shared="{shared}") if isinstance(v, str) else v
                                    for k, v in params.items()}, "requires": REQUIRES.get(name, [])}
                          for name, params in NOTEBOOK_PARAMS.items()}}
    (root / "book" / "parameters.yml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return {"root": root, "results": res, "shared": shared, "spec": spec}


def test_every_toc_chapter_has_tiny_parameters():
    missing = [n for n in book.toc_notebooks(REPO) if n not in NOTEBOOK_PARAMS]
    assert not missing, f"add {missing} to NOTEBOOK_PARAMS in tests/test_notebooks.py"


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CHECKS))
def test_notebook(tiny_book, name):
    (run,) = book.run(tiny_book["root"], shared_dir=tiny_book["shared"], only=[name])
    if run.status == "skipped":
        pytest.skip(run.note)
    params = {**tiny_book["spec"]["defaults"], **tiny_book["spec"]["notebooks"][name]}
    if name in CHECKS:
        CHECKS[name](tiny_book["results"], params)


@pytest.mark.slow
def test_other_experiment_without_edits(tiny_book, sim_dir, tmp_path):
    """A chapter runs on another experiment with `-p experiment` only (papermill CLI style)."""
    import papermill

    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(  # the GIA battery on a simulated experiment; sizes only to keep it quick
        str(REPO / "notebooks" / "05_gia.ipynb"), str(out), cwd=str(REPO), kernel_name="python3", progress_bar=False,
        parameters={"data_dir": str(sim_dir), "results_dir": str(tmp_path / "res"), "experiment": "SIMHUR", "epochs": 1,
                    "k": 4, "num_background": 30, "n_screen": 10, "n_boot": 50, "n_ism": 3},
    )
    rec = results.read_results(tmp_path / "res", "SIMHUR", "05_gia")
    assert rec["experiment"] == "SIMHUR" and rec["known_motif"] == "UUUUUU"  # the planted motif (truth.json)
    assert len(rec["top_kmers"]) == 10 and _finite(rec["test_pearson"])


@pytest.mark.slow
def test_book_builds(tiny_book):
    """`make book`-style: every chapter executed (or skipped with a note), rendered with its figures."""
    runs = book.run(tiny_book["root"], shared_dir=tiny_book["shared"])
    html = book.build(tiny_book["root"])  # raises on missing pages, figures or error outputs
    for r in runs:
        page = (html / book.EXECUTED / f"{r.name}.html").read_text()
        if r.status == "skipped":
            assert "not built" in page
        else:
            assert "<img" in page, f"{r.name} rendered without figures"
            assert "Traceback" not in page
    for page in ("intro", "methods", "rerun", "references"):
        assert (html / "book" / f"{page}.html").is_file()
    assert "Koo" in (html / "book" / "references.html").read_text()  # the bibliography rendered

"""The GIA battery (notebook 05) on simulated data with planted truth, executed through
papermill with tiny parameters and its record checked; then, with enough training to make
them hold, the planted answers (tests marked slow). The real-data chapters are checked on
the tiny book in tests/test_notebooks.py.

Every notebook runs with cwd = the repository root (as ``make book`` runs them) and
writes into a temporary results folder.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from rbgia import book
from rbgia.chapters import results
from rbgia.config import TrainConfig
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
    params = {"data_dir": str(sim_dir), "results_dir": str(root / "results"), "epochs": 1, "num_background": 50}
    return {"root": root, "res": root / "results", "params": params, "reference": str(reference),
            "have_reference": reference.is_dir()}


@pytest.mark.slow
def test_05_gia_refuses_a_model_that_has_not_plateaued(tiny):
    """GIA on a 1-epoch model stops with one line naming the model and the budget to raise; the page is not
    written. (test_05_gia_tiny takes the same model with allow_unplateaued, as a quick run.)"""
    with pytest.raises(book.BookError, match=r"GIA refused: the model of SIMRBFOX1 log-seq-paper-s0 has not "
                                             r"plateaued \(1 epoch run: too few to tell.*raise its epoch budget"):
        _run("05_gia", tiny["root"], **tiny["params"], experiment="SIMRBFOX1", k=4, n_screen=20)
    assert not (tiny["res"] / "SIMRBFOX1" / "05_gia.json").exists()


@pytest.mark.slow
def test_05_gia_tiny(tiny):
    _run("05_gia", tiny["root"], **tiny["params"], experiment="SIMRBFOX1", k=4, n_screen=20,
         reference_motif="RNCMPT00168", allow_unplateaued=True)
    rec = results.read_results(tiny["res"], "SIMRBFOX1", "05_gia")
    assert rec["config"] == TrainConfig().as_dict() and rec["background"] == {"kind": "profile", "n": 50}
    top = rec["top_kmers"]
    assert len(top) == 10 and all(len(t["kmer"]) == 4 and _finite(t["mean"]) for t in top)
    assert [t["mean"] for t in top] == sorted((t["mean"] for t in top), reverse=True)
    assert rec["motif"] == rec["scan"]["top_kmer"] == top[0]["kmer"]
    assert rec["scan"]["evaluations"]["exhaustive"] == 4**4 * 50 + 50 and rec["scan"]["top10_shared"] >= 8
    assert len(rec["mutagenesis"]["l2"]) == 4 and all(_finite(v) for v in rec["mutagenesis"]["l2"])
    for kind in ("optimal", "suboptimal"):
        mult = rec["multiplicity"][kind]
        assert len(mult["copies"]) == 3 and (mult["r2"] is None or 0 <= mult["r2"] <= 1)
    assert rec["spacing"]["reference"] == 17 and rec["spacing"]["single"]["n"] == 50  # the single copy at 17
    assert len(rec["alignment"]["consensus"]) >= 4
    if tiny["have_reference"]:
        assert _finite(rec["kd"]["r2"]) and rec["kd"]["n"] == 7 and rec["kd"]["rbfox1_like"] is not None
        assert -1 <= rec["alignment"]["similarity"]["r"] <= 1
    else:
        assert rec["kd"] is None and rec["alignment"]["similarity"] is None


# ----------------------------------------------------------------------------- planted answers


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict[str, Any]:
    """Enough data and epochs for the planted answers to be reachable (~7k training probes)."""
    from rbgia.simulate import write_rnacompete

    root = tmp_path_factory.mktemp("gia_planted")
    data = write_rnacompete(root / "data", n_a=8000, n_b=1000, experiments=["SIMRBFOX1", "SIMVTS1"], seed=1)
    params = {"data_dir": str(data), "results_dir": str(root / "results"), "epochs": 6, "num_background": 150}
    return {"root": root, "res": root / "results", "params": params}


@pytest.mark.slow
def test_planted_rbfox1(trained):
    _run("05_gia", trained["root"], **trained["params"], experiment="SIMRBFOX1", scan="adaptive", n_screen=40,
         allow_unplateaued=True)
    rec = results.read_results(trained["res"], "SIMRBFOX1", "05_gia")
    assert rec["scan"]["top_kmer"] == "UGCAUG"  # the planted optimal site
    assert rec["multiplicity"]["optimal"]["r2"] > 0.9 and rec["multiplicity"]["suboptimal"]["motif"] == "AGAAUG"
    assert rec["multiplicity"]["suboptimal"]["copies"][0]["mean"] < rec["multiplicity"]["optimal"]["copies"][0]["mean"]
    assert "GCAUG" in rec["alignment"]["consensus"]
    gc = rec["gc"]  # the battery's GC test, on the top k-mer UGCAUG
    assert gc["effect3"]["ci_low"] > 1.0 and gc["diff"]["ci_high"] < 0  # planted: a 3' GC bias, none at the 5' end

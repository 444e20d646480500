"""Results at a glance (the intro's table): each status rule on records made to hold, to fail and to be
undecidable (negative controls), and the Markdown the build includes."""

from __future__ import annotations

from pathlib import Path

import pytest

from rbgia._io import save_json
from rbgia.chapters import glance
from rbgia.chapters.results import ALL, results_path


def _put(res: Path, experiment: str | None, notebook: str, record: dict) -> None:
    path = results_path(res, experiment, notebook)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_json(path, record)


def _pair(name: str, n: int, diff: float, p: float | None) -> dict:
    return {"comparison": name, "n": n, "mean difference": diff, "pvalue": p}


def _goal(name: str, measured: float, target: float, plateaued: str) -> dict:
    return {"goal": name, "target": target, "target source": "paper", "measured": measured,
            "gap": measured - target, "reached": measured >= target, "plateaued": plateaued}


def _book(res: Path, *, baselines, inputs, goals, scans, multiplicity, vts1, gc) -> None:
    _put(res, ALL, "03_benchmark", {"tests": {"baselines": baselines, "normalization": [_pair("log - clip", 2, 0.03,
                                                                                             1.0)],
                                              "inputs": inputs}, "goals": goals})
    _put(res, ALL, "08_across_experiments", {"scans": [{"motif": m} for m in scans],
                                             "multiplicity": [{"verdict": v} for v in multiplicity]})
    _put(res, "VTS1", "06_structure_vts1", {"structure_effect": {"seq": {"verdict": vts1, "mean": 1.0,
                                                                         "ci_low": 0.9, "ci_high": 1.1}}})
    _put(res, ALL, "07_gc_bias", {"across": gc})


def _status(table, start: str) -> str:
    return table[table["claim"].str.startswith(start)]["status"].tolist()


def test_claims_that_hold(tmp_path):
    _book(tmp_path, baselines=[_pair("ResidualBind - k-mer ridge", 10, 0.05, 0.002)],
          inputs=[_pair("seq - pu", 8, -0.013, 0.008)], goals=[_goal("VTS1 sequence", 0.70, 0.698, "yes")],
          scans=["motif found"] * 3, multiplicity=["additive", "additive, unequal copies", "undetermined"],
          vts1="prefers loop", gc={"n": 8, "verdict": "3' bias", "median_difference": 0.1, "pvalue": 0.004})
    t = glance.claims(tmp_path)
    for start in ("ResidualBind predicts better", "Accuracy: ", "Structure inputs help",
                  "GIA's top k-mer", "Multiplicity", "VTS1's motif", "Models prefer GC"):
        assert _status(t, start) == ["holds"], start
    assert _status(t, "The log transform") == ["not testable here"]  # n = 2: a Wilcoxon test cannot decide
    assert _status(t, "Two copies' spacing") == ["not testable here"]  # RBFOX1 is not shipped
    assert list(t.columns) == glance.COLUMNS


def test_claims_that_fail_or_cannot_be_decided(tmp_path):
    """Negative controls: the wrong direction, a p above alpha, a missed goal of plateaued models, no motif, a
    structure-blind verdict, no GC bias, too few experiments, every verdict undetermined."""
    _book(tmp_path, baselines=[_pair("ResidualBind - k-mer ridge", 10, -0.05, 0.002),
                               _pair("ResidualBind - shallow CNN", 10, 0.05, 0.3)],
          inputs=[_pair("seq - pu", 8, 0.02, 0.01), _pair("seq - phime", 7, -0.02, 0.02)],
          goals=[_goal("VTS1 sequence", 0.69, 0.698, "yes"), _goal("VTS1 +PU", 0.69, 0.707, "no"),
                 _goal("2009 mean sequence (n RBPs)", 0.64, 0.711, "8 of 8"),
                 _goal("2009 mean +PU (n RBPs)", 0.65, 0.721, "1 of 8")],
          scans=["no motif", "no motif"], multiplicity=["undetermined"] * 3, vts1="no preference",
          gc={"n": 8, "verdict": "no end bias", "median_difference": 0.0, "pvalue": 0.6})
    t = glance.claims(tmp_path)
    assert _status(t, "ResidualBind predicts better") == ["not confirmed"]  # one wrong way, one p = 0.3
    assert _status(t, "Structure inputs help") == ["partly"]  # +PHIME helps, +PU does not
    assert _status(t, "Accuracy: ") == ["not confirmed", "partly", "not confirmed", "partly"]
    assert _status(t, "GIA's top k-mer") == ["not confirmed"]
    assert _status(t, "Multiplicity") == ["not testable here"]
    assert _status(t, "VTS1's motif") == ["not confirmed"]
    assert _status(t, "Models prefer GC") == ["not confirmed"]
    _put(tmp_path, ALL, "07_gc_bias", {"across": {"n": 4, "verdict": "3' bias", "pvalue": 0.06}})
    assert _status(glance.claims(tmp_path), "Models prefer GC") == ["not testable here"]  # n = 4 < 6


def test_the_markdown_the_intro_includes(tmp_path):
    assert "No records yet" in glance.glance_markdown(tmp_path)
    assert set(glance.claims(tmp_path)["status"]) == {"not testable here"}  # nothing recorded: nothing decided
    _put(tmp_path, ALL, "07_gc_bias", {"across": {"n": 8, "verdict": "3' bias", "median_difference": 0.1,
                                                  "pvalue": 0.004}})
    text = glance.glance_markdown(tmp_path)
    assert text.startswith("| claim | paper | this build | test | status |")
    assert "3' bias: median 5'-3' difference 0.1 over 8 experiments (p = 0.004) |" in text and "| **holds** |" in text
    assert "claims: 1 holds, 0 partly, 0 not confirmed" in text


@pytest.mark.parametrize("status", glance.STATUS)
def test_every_status_is_explained_under_the_table(tmp_path, status):
    _put(tmp_path, ALL, "07_gc_bias", {"across": {"n": 8, "verdict": "3' bias"}})
    assert f"*{status}*" in glance.glance_markdown(tmp_path)


def test_the_paper_map_lists_every_panel_once_with_a_status():
    panels = glance.panels_table()
    expected = [f"Fig 1{c}" for c in "abcdef"] + [f"Fig 2{c}" for c in "abcdefg"] + [f"Fig 3{c}" for c in "abc"]
    expected += [f"Fig 4{c}" for c in "abcde"] + ["Supp. Table 1"]
    assert panels["panel"].tolist() == expected  # the paper's 22 panels, in order, each once
    assert set(panels["status"]) <= {"full", "partial", "absent"} and set(panels["kind"]) <= {"real", "simulated"}
    assert panels.set_index("panel").loc["Fig 2f", "kind"] == "simulated"
    text = glance.panels_markdown()
    assert "{doc}`/notebooks/executed/05_gia`" in text and text.count("\n| Fig") == 21
    counts = panels["status"].value_counts()
    assert f"22 panels: {counts.get('full', 0)} full, {counts.get('partial', 0)} partial, 0 absent" in text

"""rbgia.chapters.performance: the Performance chapter's tables from training records (no model is trained here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from rbgia.chapters import performance, results, training
from rbgia.config import TrainConfig
from rbgia.errors import DataError

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "data" / "reference"
RBPS_2009 = ["Fusip", "HuR", "PTB", "SF2", "SLM2", "U1A", "VTS1", "YB1"]
EXPS_2013 = ["RNCMPT00001", "RNCMPT00002"]


def _write(res: Path, data_dir: Path, exp: str, r: float, *, normalization: str = "log", inputs: str = "seq",
           baselines: bool = False, epochs: int = 8, epochs_run: int = 8, stopped: bool = False) -> None:
    rec = {"data_dir": str(data_dir.resolve()), "epochs": epochs, "epochs_run": epochs_run, "best_epoch": epochs_run,
           "patience": 3, "stopped_early": stopped, "n_train": 1000, "test_pearson": r, "test_spearman": r - 0.05,
           "plateaued": stopped, "plateau": "early stopping reached" if stopped else "validation r still gained +0.010",
           "protocol": "book" if exp != "HuR" else "paper"}
    if baselines:
        rec["baselines"] = {"kmer_ridge": {"test_pearson": r - 0.1, "test_spearman": r - 0.15},
                            "shallow_cnn": {"test_pearson": r - 0.2, "test_spearman": r - 0.25}}
    cfg = TrainConfig(normalization, inputs).as_dict()
    results.write_results(res, exp, "02_residualbind", {**rec, "config": cfg}, cfg)


@pytest.fixture
def records(tmp_path):
    """Records of the ten real experiments: log seq (+ baselines), log pu, log phime, clip seq."""
    res, d09, d13 = tmp_path / "results", tmp_path / "rnacompete2009", tmp_path / "rnacompete2013_sample"
    for d in (d09, d13):
        d.mkdir()
    rng = np.random.default_rng(0)
    for i, exp in enumerate(RBPS_2009 + EXPS_2013):
        d = d09 if exp in RBPS_2009 else d13
        r = 0.5 + 0.02 * i
        _write(res, d, exp, r, baselines=True, stopped=exp == "VTS1", epochs_run=5 if exp == "VTS1" else 8)
        _write(res, d, exp, r + 0.01 + 0.001 * i, inputs="pu")  # +PU better on every experiment
        _write(res, d, exp, r + rng.normal(0, 0.01), inputs="phime")
        _write(res, d, exp, r - 0.005, normalization="clip")
    _write(res, tmp_path / "elsewhere", "RNCMPT00168", 0.99)  # another data folder: not read
    return res, d09, d13


def test_load_reads_only_the_given_data_folders(records, tmp_path):
    res, d09, d13 = records
    long = performance.load(res, [d09, d13])
    assert set(long["experiment"]) == set(RBPS_2009 + EXPS_2013)
    assert long["pearson"].max() < 0.9  # the 0.99 record of another folder is left out
    assert set(long["method"]) == {"ResidualBind", "k-mer ridge", "shallow CNN"}
    assert set(long["dataset"]) == {"rnacompete2009", "rnacompete2013_sample"}
    with pytest.raises(DataError, match="training jobs"):
        performance.load(res, [tmp_path / "nothing"])


def test_reported_keeps_the_source_column():
    rep = performance.reported(REFERENCE)
    raw = pd.read_csv(REFERENCE / "reported_results.csv", comment="#")
    assert len(rep) == len(raw) and set(rep["source"]) == set(raw["source"])
    vts1 = rep[rep["dataset"] == "rnacompete2009:VTS1"].set_index("inputs")["mean"]
    assert vts1.to_dict() == raw[raw["dataset"] == "rnacompete2009:VTS1"].set_index("inputs")["mean"].rename(
        {"sequence": "seq", "sequence+PU": "pu"}).to_dict()


def test_compare_2009_states_n_and_quotes_the_paper(records):
    res, d09, d13 = records
    table = performance.compare_2009(performance.load(res, [d09, d13]), REFERENCE)
    ours = table.loc[RBPS_2009, "ResidualBind sequence"]
    assert table.loc["mean over the RBPs here", "ResidualBind sequence"] == pytest.approx(ours.mean())
    n = table.loc["n (RBPs in that mean)"]
    assert n["ResidualBind sequence"] == 8 and n["cDeepbind RNN_struct"] == 8
    assert n["cDeepbind CNN_struct"] == 2 and table.loc["n (RBPs cDeepbind published)", "cDeepbind RNN_struct"] == 9
    raw = pd.read_csv(REFERENCE / "reported_results.csv", comment="#")
    paper = raw[(raw["dataset"] == "rnacompete2009 (9 RBPs)")].set_index("inputs")["mean"]
    paper_row = [i for i in table.index if i.startswith("paper, 9 RBPs")][0]
    assert table.loc[paper_row, "ResidualBind sequence"] == paper["sequence"]
    assert table.loc[paper_row, "ResidualBind +PU"] == paper["sequence+PU"]
    assert table.loc["VTS1", "cDeepbind RNN_struct"] == pytest.approx(0.495976889515)


def test_compare_2013_beside_published(records):
    res, d09, d13 = records
    table = performance.compare_2013(performance.load(res, [d09, d13]), REFERENCE)
    assert list(table.index) == ["RNCMPT00001 (A1CF)", "RNCMPT00002 (ANKHD1)"]
    pub = pd.read_csv(REFERENCE / "published_pearson_per_experiment.tsv", sep="\t", comment="#").set_index("experiment")
    assert table["ThermoNet (full data)"].tolist() == pub.loc[EXPS_2013, "ThermoNet"].tolist()
    assert {"k-mer ridge (here)", "shallow CNN (here)", "training probes (here)"} <= set(table.columns)


def test_paired_differences_and_wilcoxon_match_scipy(records):
    res, d09, d13 = records
    long = performance.load(res, [d09, d13])
    wide, tests = performance.paired(long, "inputs", "seq", ["pu", "phime"], normalization="log")
    assert len(wide) == 10 and (wide["seq - pu"] < 0).all()  # reference - other, as the paired_diff plots
    row = tests.set_index("comparison").loc["seq - pu"]
    expected = stats.wilcoxon(wide["seq"], wide["pu"])
    assert row["n"] == 10 and row["reference higher"] == 0
    assert row["pvalue"] == pytest.approx(expected.pvalue) and row["statistic"] == pytest.approx(expected.statistic)
    assert "significant at 0.05" in performance.verdict(tests)
    n_phime = int(wide[["seq", "phime"]].notna().all(axis=1).sum())
    assert performance.pairs_label(tests) == f"seq - pu: n = 10; seq - phime: n = {n_phime}"
    assert performance.pairs_label(tests.iloc[:0]) == "no pairs"
    _, base = performance.paired(long, "method", "ResidualBind", ["k-mer ridge", "shallow CNN"], method=None,
                               inputs="seq", normalization="log")
    assert base.set_index("comparison").loc["ResidualBind - k-mer ridge", "median difference"] == pytest.approx(0.1)


def test_wilcoxon_without_differences_is_no_test():
    out = performance.wilcoxon([0.5, 0.6, 0.7], [0.5, 0.6, 0.7])
    assert out["n"] == 3 and out["pvalue"] is None and out["statistic"] is None
    assert performance.wilcoxon([0.5, np.nan], [0.4, 0.3])["n"] == 1


def test_goals_read_targets_and_report_budget(records):
    res, d09, d13 = records
    g = performance.goals(performance.load(res, [d09, d13]), REFERENCE).set_index("goal")
    raw = pd.read_csv(REFERENCE / "reported_results.csv", comment="#")
    vts1 = raw[raw["dataset"] == "rnacompete2009:VTS1"].set_index("inputs")["mean"]
    assert g.loc["VTS1 sequence", "target"] == vts1["sequence"]
    assert g.loc["VTS1 +PU", "target"] == vts1["sequence+PU"]
    a1cf = g.loc["RNCMPT00001 (A1CF) sequence"]
    assert a1cf["target"] == pytest.approx(0.75087251226527)
    assert a1cf["gap"] == pytest.approx(a1cf["measured"] - a1cf["target"]) and not a1cf["reached"]
    assert g.loc["VTS1 sequence", "early stopping reached"] == "yes"
    assert g.loc["VTS1 sequence", "plateaued"] == "yes" and g.loc["VTS1 +PU", "plateaued"] == "no"
    assert g.loc[[i for i in g.index if i.startswith("2009 mean sequence")][0], "plateaued"] == "1 of 8"
    assert g.loc["VTS1 sequence", "epochs run"] == "5"
    mean_goal = [i for i in g.index if i.startswith("2009 mean sequence")][0]
    assert g.loc[mean_goal, "n"] == 8
    assert g.loc["VTS1 sequence", "protocol"] == "book" and g.loc[mean_goal, "protocol"] == "book, paper"
    legend = performance.protocol_legend(performance.load(res, [d09, d13]))
    assert legend == ("protocols: book (batch 100, Adam 0.001, x0.3 after 7, patience 3, stop on plateau); "
                      "paper (batch 100, Adam 0.001, x0.3 after 7, patience 25)")
    assert performance.protocol_legend(pd.DataFrame({"protocol": [None]})) == ""


def test_findings_and_record_from_numbers(records):
    res, d09, d13 = records
    long = performance.load(res, [d09, d13])
    _, m = performance.paired(long, "method", "ResidualBind", ["k-mer ridge"], method=None, inputs="seq",
                            normalization="log")
    _, n = performance.paired(long, "normalization", "log", ["clip"], inputs="seq")
    _, k = performance.paired(long, "inputs", "seq", ["pu"], normalization="log")
    text = performance.findings(long, REFERENCE, m, n, k)
    assert "Wilcoxon p" in text and "early stopping was reached by 1 of 40" in text
    assert "plateaued (early stopping, or the best validation r gaining under 0.003 over the last 3 epochs) for 1 of " \
           "40 models" in text
    table = performance.budget(long).set_index(["experiment", "transform", "inputs"])
    assert table.loc[("VTS1", "log", "seq"), "plateaued"] == "yes (early stopping reached)"
    assert table.loc[("HuR", "log", "seq"), "plateaued"] == "no (validation r still gained +0.010)"
    rec = performance.record(long, performance.compare_2009(long, REFERENCE), performance.compare_2013(long, REFERENCE),
                           performance.goals(long, REFERENCE), m, n, k)
    results.write_results(res, None, "03_benchmark", rec, allow_nan=True)  # JSON-ready
    assert rec["n_experiments"] == 10 and "log-phime-paper-s0" in rec["configs"]


def test_run_table_and_finding():
    rec = {"test_pearson": 0.7, "test_spearman": 0.6, "n_train": 100, "epochs": 8, "epochs_run": 4, "best_epoch": 1,
           "patience": 3, "stopped_early": True,
           "baselines": {"kmer_ridge": {"test_pearson": 0.5, "test_spearman": 0.4}}}
    assert training.run_table(rec)["method"].tolist() == ["ResidualBind", "k-mer ridge"]
    assert "early stopping was reached" in training.run_finding(rec, "VTS1")
    assert training.run_budget({**rec, "stopped_early": False})["early stopping reached"].iloc[0] == "no (epoch cap)"
    assert training.run_budget(rec)["plateaued"].iloc[0] == "not recorded"  # a record of an older rbgia
    flat = {**rec, "plateaued": True, "plateau": "early stopping reached"}
    assert training.run_budget(flat)["plateaued"].iloc[0] == "yes (early stopping reached)"
    assert "plateaued: yes (early stopping reached)" in training.run_finding(flat, "VTS1")


def test_paired_compares_only_equal_budgets(records):
    res, d09, d13 = records
    _write(res, d09, "VTS1", 0.9, inputs="pu", epochs=2)  # +PU at 2 epochs against sequence at 8: left out
    wide, tests = performance.paired(performance.load(res, [d09, d13]), "inputs", "seq", ["pu"], normalization="log")
    row = tests.set_index("comparison").loc["seq - pu"]
    assert row["n"] == 9 and row["unequal budget"] == 1
    assert np.isnan(wide.loc["VTS1", "seq - pu"]) and wide.loc["VTS1", "pu"] == 0.9


def test_chapter_02_labels_its_scatter_with_the_panel_it_reproduces():
    assert training.scatter_panel("VTS1", "log") == "Fig 3a (scatter)"
    assert training.scatter_panel("RNCMPT00001", "log") == "Fig 1c (log panel)"
    assert training.scatter_panel("RNCMPT00001", "clip") == "Fig 1b (clip panel)"


def test_too_few_pairs_report_no_test(records):
    """Fig 1d on two experiments: the difference is shown, no Wilcoxon p (n = 2 cannot reach 0.05)."""
    res, d09, d13 = records
    long = performance.load(res, [d09, d13])
    _, n = performance.paired(long, "normalization", "log", ["clip"], inputs="seq")
    row = n.iloc[0]
    if row["n"] < performance.MIN_WILCOXON_N:
        assert row["pvalue"] is None and row["statistic"] is None
        text = performance.verdict(n)
        assert "no test: n = " in text and "it takes n >= 6" in text and "Wilcoxon p" not in text
    fake = pd.DataFrame([{"comparison": "log - clip", "n": 2, "median difference": 0.03, "reference higher": 1,
                          "pvalue": None}])
    assert performance.verdict(fake) == ("log - clip: median +0.030, log higher in 1 of 2; no test: n = 2 is too "
                                         "few for a Wilcoxon signed-rank test to reach p < 0.05 (it takes n >= 6)")

"""rbgia.chapters.report: numbers, tables, captions and rerun commands as the book shows them."""

from __future__ import annotations

import shlex
import warnings

import matplotlib

matplotlib.use("agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from rbgia import plotting  # noqa: E402
from rbgia.chapters import report  # noqa: E402
from rbgia.errors import DataError  # noqa: E402
from rbgia.model_cache import TrainedModel  # noqa: E402


@pytest.mark.parametrize("x, text", [
    (0.7763290902255863, "0.776"),
    (27000.0, "27,000"),
    (27000, "27,000"),
    (np.int64(12), "12"),
    (123.456, "123"),
    (1234.5, "1,234"),
    (999.7, "1,000"),
    (9.996, "10.0"),
    (0.5, "0.500"),
    (-0.01234, "-0.0123"),
    (3.2e-07, "3.20e-07"),
    (np.float32(0.1234567), "0.123"),
    (0.0, "0"),
    (float("nan"), "–"),
    (None, "–"),
    (True, "yes"),
    ("GCUGG", "GCUGG"),
])
def test_fmt(x, text):
    assert report.fmt(x) == text


def test_fmt_significant_digits():
    assert report.fmt(0.7763290902255863, sig=2) == "0.78"
    assert report.fmt(3.14159, sig=5) == "3.1416"


@pytest.mark.parametrize("p, text", [
    (0.0, "< 1e-300"),
    (5e-324, "< 1e-300"),
    (3.2123e-05, "3.21e-05"),
    (0.5, "5.00e-01"),
    (1.0, "1.00e+00"),
    (float("nan"), "–"),
])
def test_fmt_p(p, text):
    assert report.fmt_p(p) == text


@pytest.mark.parametrize("name, words", [
    ("test_pearson", "test Pearson r"),
    ("ci_low", "95% CI low"),
    ("wilcoxon_p", "Wilcoxon p"),
    ("num_sites", "number of sites"),
    ("top_kmer", "top k-mer"),
    ("gc", "GC"),
    ("pvalue", "p-value"),
    ("Experiment", "Experiment"),
    ("already words", "already words"),
])
def test_column_words(name, words):
    assert report.column_words(name) == words


@pytest.mark.parametrize("name, is_p", [
    ("pvalue", True), ("qvalue", True), ("p", True), ("q", True), ("wilcoxon_p", True),
    ("spacing_qvalue", True), ("pearson", False), ("top", False), ("pu", False), ("n_kmers", False),
])
def test_is_p_column(name, is_p):
    assert report.is_p_column(name) is is_p


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "experiment": ["RNCMPT00001", "RNCMPT00002"],
        "test_pearson": [0.7763290902255863, 0.5],
        "n_train": [27000, 1500],
        "epochs": [12.0, 8.0],  # whole floats print as integers
        "pvalue": [0.0, 3.2e-05],
        "sites": [3.0, np.nan],
    })


def test_table_formats_every_column():
    t = report.table(_frame(), caption="Two experiments")
    assert list(t.frame.columns) == ["experiment", "test Pearson r", "n train", "epochs", "p-value", "sites"]
    assert t.frame.iloc[0].tolist() == ["RNCMPT00001", "0.776", "27,000", "12", "< 1e-300", "3"]
    assert t.frame.iloc[1].tolist() == ["RNCMPT00002", "0.500", "1,500", "8", "3.20e-05", "–"]
    html = t._repr_html_()
    assert "Two experiments" in html and "<figcaption" in html
    assert "0.7763290902255863" not in html and "0.0<" not in html
    assert 'class="rbgia-num">27,000<' in html and 'class="rbgia-text">RNCMPT00001<' in html
    assert "Two experiments" in repr(t) and "0.776" in repr(t)


def test_table_values_are_not_changed():
    df = _frame()
    before = df.copy()
    report.table(df)
    pd.testing.assert_frame_equal(df, before)


def test_wide_table_scrolls_inside_its_container():
    wide = pd.DataFrame({f"predictor_{i}": np.linspace(0, 1, 3) for i in range(12)})
    t = report.table(wide, caption="All predictors")
    html = t._repr_html_()
    assert t.wide and "rbgia-wide" in html
    assert '<div class="rbgia-scroll" style="overflow-x:auto' in html
    assert html.index("rbgia-scroll") < html.index("<table")
    assert "12 columns: scroll sideways" in html
    narrow = report.table(wide.iloc[:, :8])
    assert not narrow.wide and "rbgia-wide" not in narrow.html
    assert not report.table(wide, max_columns=12).wide


def test_table_index_and_escaping():
    df = pd.DataFrame({"value": [1.23456]}, index=pd.Index(["<b>x</b>"], name="kmer"))
    t = report.table(df, index=True)
    assert list(t.frame.columns) == ["k-mer", "value"]
    assert "&lt;b&gt;x&lt;/b&gt;" in t.html and "<b>x</b>" not in t.html
    assert "k-mer" not in report.table(df).html
    unnamed = report.table(pd.DataFrame({"r": [0.5]}, index=["HuR"]), index=True)
    assert list(unnamed.frame.columns) == ["", "r"] and unnamed.frame.iloc[0].tolist() == ["HuR", "0.500"]


def test_table_lists_and_p_columns_with_text():
    df = pd.DataFrame({"kmers": [["AAA", "CCC"]], "q": [None], "wilcoxon_p": ["n/a"]})
    assert report.table(df).frame.iloc[0].tolist() == ["AAA, CCC", "–", "n/a"]


def test_table_keeps_columns_whose_words_coincide():
    t = report.table(pd.DataFrame({"p": [0.5], "pvalue": [0.1]}))
    assert list(t.frame.columns) == ["p-value", "pvalue"]


def test_table_needs_a_frame():
    with pytest.raises(DataError, match="DataFrame"):
        report.table([1, 2, 3])


def test_caption():
    c = report.caption("Fig 2b", "RNCMPT00001 (A1CF), 2013 sample", "Importance of 1-3 copies.")
    md = c._repr_markdown_()
    assert "**Figure (paper Fig 2b).** Importance of 1-3 copies. *Data: RNCMPT00001 (A1CF), 2013 sample.*" in md
    assert "not in the paper" in report.caption(None, "simulated", "Oracle vs model.").text
    with pytest.raises(DataError):
        report.caption("Fig 1", "", "text")


def test_rerun_command_round_trips_through_papermill_cli():
    from papermill.cli import _resolve_type

    md = report.rerun("05_gia", experiment="RNCMPT00168", epochs=12, rate=0.5, tag="001", kmers=["AAA", "CCC"],
                      flag=True)._repr_markdown_()
    line = next(ln for ln in md.splitlines() if ln.startswith("papermill "))
    argv = shlex.split(line)
    assert argv[:3] == ["papermill", "notebooks/05_gia.ipynb", "05_gia.out.ipynb"]
    got = {}
    i = 3
    while i < len(argv):
        if argv[i] == "-p":
            got[argv[i + 1]] = _resolve_type(argv[i + 2])
            i += 3
        elif argv[i] == "-r":
            got[argv[i + 1]] = argv[i + 2]
            i += 3
        else:
            assert argv[i] == "-y"
            import yaml

            got.update(yaml.safe_load(argv[i + 1]))
            i += 2
    assert got == {"experiment": "RNCMPT00168", "epochs": 12, "rate": 0.5, "tag": "001", "kmers": ["AAA", "CCC"],
                   "flag": True}
    assert "notebooks/executed/05_gia.ipynb" in md and "snakemake" in md
    assert 'href="../../_static/download/05_gia.ipynb" download' in md


def test_rerun_rejects_bad_names():
    with pytest.raises(DataError):
        report.rerun("05 gia; rm -rf /")
    with pytest.raises(DataError):
        report.rerun("05_gia", **{"bad-name": 1})


def test_book_style_and_a_readable_figure():
    with matplotlib.rc_context():
        rc = plotting.book_style()
        assert matplotlib.rcParams["figure.dpi"] == rc["figure.dpi"] == 110
        fig, axes = plt.subplots(1, 3)
        for ax in axes:
            ax.plot([0, 1], [0, 1])
            ax.set_xlabel("position")
        assert fig.get_figwidth() * fig.dpi <= report.COLUMN_PX
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert report.check_figure(fig) == []
        plt.close(fig)


def test_check_figure_finds_what_does_not_read():
    with matplotlib.rc_context({"font.size": 10, "figure.dpi": 100}):
        fig, axes = plt.subplots(2, 4, figsize=(12, 5))
        with pytest.warns(UserWarning, match="4 panels in a row"):
            problems = report.check_figure(fig)
        assert any("4 panels in a row" in p for p in problems)
        assert any("pt at display size" in p for p in problems)  # 12 in shrunk into the column
        plt.close(fig)
        fig, ax = plt.subplots(figsize=(5, 3))
        ax.set_title("75% of 4")
        ax.text(0.5, 1.01, "a label on the title", transform=ax.transAxes, ha="center")
        problems = report.check_figure(fig, warn=False)
        assert problems == ["overlapping labels: 'a label on the title' / '75% of 4'"] or \
            problems == ["overlapping labels: '75% of 4' / 'a label on the title'"]
        plt.close(fig)


def test_check_figure_ignores_tick_labels_outside_the_view():
    with matplotlib.rc_context({"font.size": 10, "figure.dpi": 100}):
        fig, ax = plt.subplots(figsize=(5, 3))
        ax.plot([0, 10], [0, 1])
        ax.set_xlim(2, 3)  # the ticks at 0..10 leave Tick objects whose labels are not drawn
        assert report.check_figure(fig, warn=False) == []
        plt.close(fig)


def test_the_plateau_note_of_a_caption():
    """A caption says when the model behind it had not plateaued (rbgia.train.plateau), per model of a mapping."""
    flat = {"metrics": {"valid_pearson_curve": [0.5, 0.6, 0.7, 0.7, 0.7, 0.7]}}
    rising = {"metrics": {"valid_pearson_curve": [0.5, 0.6]}}
    assert report.plateau_note(flat) == ""
    assert report.plateau_note(rising) == "; model not plateaued (2 epochs run: too few to tell, it takes more than 3)"
    both = report.plateau_note({"seq": flat, "pu": TrainedModel(None, rising, None)})
    assert both == "; pu model not plateaued (2 epochs run: too few to tell, it takes more than 3)"

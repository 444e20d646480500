"""Every figure the library draws reads at the book's page width (issue 13, "figures that read").

Under ``plotting.book_style()`` each plot function's figure, drawn from toy data the way a chapter
draws it, passes ``report.check_figure``: at most 3 panels a row, text >= 8 pt at display size
(so no wider than the 688 px content column), no overlapping labels. Integer mismatch counts get
one colour each, and the paired scatter's "b better" count cannot sit on a point.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from rbgia import plotting  # noqa: E402
from rbgia.chapters import gc, performance, report  # noqa: E402
from rbgia.data import one_hot  # noqa: E402


@pytest.fixture(autouse=True)
def _book_style():
    with matplotlib.rc_context():  # book_style sets rcParams globally: restore them afterwards
        plotting.book_style()
        yield
        plt.close("all")


RNG = np.random.default_rng(0)
SEQ = "".join(RNG.choice(list("ACGU"), 41))


def _x(length: int = 41) -> np.ndarray:
    return one_hot([SEQ[:length]], length=length)[0]


def _gia(x: str, values, hue=None) -> pd.DataFrame:
    v = np.asarray(values, float)
    df = pd.DataFrame({x: np.arange(1, len(v) + 1), "mean": v, "ci_low": v - 0.1, "ci_high": v + 0.1})
    if hue is not None:
        df["group"] = hue
    return df


def _methods() -> pd.DataFrame:
    exps = [f"RNCMPT{i:05d}" for i in range(10)]
    rows = [{"experiment": e, "method": m, "pearson": float(RNG.uniform(0.3, 0.9))}
            for e in exps for m in ("ResidualBind", "k-mer ridge", "shallow CNN")]
    return pd.DataFrame(rows)


def _profiles(channels: int, n: int = 2) -> np.ndarray:
    p = RNG.uniform(size=(n, 41, channels))
    return p / p.sum(-1, keepdims=True)


def _scatter_frame(n: int = 400) -> pd.DataFrame:
    y = RNG.normal(size=n)
    return pd.DataFrame({"y": y, "pred": y + RNG.normal(scale=0.5, size=n), "color": RNG.integers(0, 5, n)})


def _published() -> pd.DataFrame:
    rows = ["Fusip", "HuR", "PTB", "RBM4", "SF2", "SLM2", "U1A", "VTS1"]
    cols = ["ResidualBind sequence", "ResidualBind +PU", "cDeepbind RNN_struct"]
    return pd.DataFrame(RNG.uniform(0.3, 0.9, (len(rows), len(cols))), index=rows, columns=cols)


def _local(n: int = 200) -> dict[str, np.ndarray]:
    return {f"{c} cop{'y' if c == 1 else 'ies'}": RNG.normal(c, 0.5, n) for c in (1, 2, 3)}


FIGURES = {
    "logo (41 nt)": lambda: plotting.logo(_x(), title="top test probe, one-hot"),
    "ism_logo": lambda: plotting.ism_logo(RNG.normal(size=(41, 4)) * (1 - _x()), _x(), title="ISM"),
    "ism_heatmap": lambda: plotting.ism_heatmap(RNG.normal(size=(41, 4)), _x()),
    "l2_logo": lambda: plotting.l2_logo(RNG.normal(size=(6, 4)), "UGCAUG", title="GIA mutagenesis of UGCAUG"),
    "structure_track": lambda: plotting.structure_track(_profiles(5, 1)[0], title="PHIME"),
    "structure_grid": lambda: plotting.structure_grid([SEQ, SEQ[::-1]], {"PU": _profiles(2), "PHIME": _profiles(5)}),
    "scatter_pred": lambda: plotting.scatter_pred(_scatter_frame(), title="log transform",
                                                  color_label="mismatches to UGCAUG"),
    "learning_curves": lambda: plotting.learning_curves(pd.DataFrame(
        {"epoch": range(10), "loss": np.linspace(1, 0.3, 10), "valid_mse": np.linspace(1.1, 0.5, 10),
         "valid_pearson": np.linspace(0.2, 0.7, 10), "lr": [1e-3] * 5 + [1e-4] * 5}), title="RNCMPT00001"),
    "score_hist": lambda: plotting.score_hist(RNG.gamma(1, 2, 500), {"clip": RNG.normal(size=500),
                                                                     "log": RNG.normal(size=500)},
                                              title="RNCMPT00001: training-set scores"),
    "method_comparison": lambda: plotting.method_comparison(_methods(), ylabel="set-B Pearson r"),
    "paired_diff": lambda: plotting.paired_diff(_methods(), reference="ResidualBind",
                                                title="ResidualBind minus baseline"),
    "paired_scatter": lambda: plotting.paired_scatter(_methods(), a="k-mer ridge", b="ResidualBind",
                                                      title="set-B Pearson r"),
    "importance_bars": lambda: plotting.importance_bars(pd.concat([_gia("copies", [1, 2, 3], "a"),
                                                                   _gia("copies", [1, 1.5, 2], "b")]),
                                                        x="copies", hue="group"),
    "multiplicity_plot": lambda: plotting.multiplicity_plot(_gia("count", [1, 2, 3])),
    "positional_plot": lambda: plotting.positional_plot(_gia("position", RNG.normal(size=36))),
    "local_importance_boxplot": lambda: plotting.local_importance_boxplot(_local(), title="UGCAUG"),
    "kmer_rank_plot": lambda: plotting.kmer_rank_plot(
        pd.DataFrame({"kmer": ["".join(RNG.choice(list("ACGU"), 6)) for _ in range(20)],
                      "mean": np.sort(RNG.uniform(0, 1, 20))[::-1]}), truth="UGCAUG", title="top 6-mers"),
    "hist": lambda: plotting.hist(RNG.uniform(size=30), xlabel="R²", vline=1.0),
    "ci_vs_n": lambda: plotting.ci_vs_n(pd.DataFrame({"n": [25, 50, 100, 200, 400],
                                                      "ci_low": [-1, -.7, -.5, -.35, -.25],
                                                      "ci_high": [1, .7, .5, .35, .25]})),
    "kd_regression": lambda: plotting.kd_regression([0.2, 0.5, 0.9, 1.4], [-1.0, -1.8, -2.9, -3.5],
                                                    labels=["UGCAUG", "UGCACG", "UGCAUA", "AGCAUG"]),
    "performance.plot_published": lambda: performance.plot_published(_published(), list(_published().columns),
                                                                 title="2009 RNAcompete, set B"),
    "performance.plot_scatters": lambda: performance.plot_scatters({"clip-seq-paper-s0": _scatter_frame(),
                                                                "log-seq-paper-s0": _scatter_frame()},
                                                               color_label="mismatches to the motif"),
    "gc.fig_histograms": lambda: gc.fig_histograms(
        pd.DataFrame({"effect 5'": RNG.normal(1, 0.2, 20), "effect 3'": RNG.normal(1, 0.2, 20),
                      "5' - 3'": RNG.normal(0, 0.2, 20)}), {"effect 5'": 1.0, "effect 3'": 1.0, "5' - 3'": 0.0}),
}


@pytest.mark.parametrize("name", list(FIGURES))
def test_library_figure_reads_at_the_page_width(name):
    drawn = FIGURES[name]()
    fig = getattr(drawn, "figure", drawn)
    assert fig.get_figwidth() <= plotting.BOOK_RC["figure.figsize"][0] + 1e-9
    assert report.check_figure(fig, warn=False) == []


def test_panels_puts_at_most_three_a_row_at_the_page_width():
    fig, axes = plotting.panels(4)
    assert len(axes) == 4 and fig.get_figwidth() == pytest.approx(6.2)
    assert report.check_figure(fig, warn=False) == []  # 2 x 2, not 4 in a row
    fig, axes = plotting.panels(5)
    assert len(axes) == 5 and sum(a.get_visible() for a in fig.get_axes()) == 5


def test_mismatch_counts_get_one_colour_each_and_integer_ticks():
    frame = _scatter_frame()
    ax = plotting.scatter_pred(frame, color_label="mismatches")
    points = ax.collections[0]
    colours = {tuple(np.round(c, 6)) for c in points.to_rgba(points.get_array())}
    assert len(colours) == frame["color"].nunique()  # one colour per count, not a continuous ramp
    bar = ax.figure.axes[-1]
    assert [t.get_text() for t in bar.get_yticklabels()] == ["0", "1", "2", "3", "4"]
    continuous = plotting.scatter_pred(frame.assign(color=frame["color"] + 0.5 * RNG.uniform(size=len(frame))))
    ramp = continuous.collections[0]
    assert len({tuple(np.round(c, 6)) for c in ramp.to_rgba(ramp.get_array())}) > 5


def test_paired_scatter_count_sits_on_no_point():
    df = _methods()
    # a point in the upper-left corner, where a label at (0.03, 0.97) in axes coordinates would sit
    df.loc[(df.experiment == "RNCMPT00000") & (df.method == "k-mer ridge"), "pearson"] = 0.3
    df.loc[(df.experiment == "RNCMPT00000") & (df.method == "ResidualBind"), "pearson"] = 0.9
    ax = plotting.paired_scatter(df, a="k-mer ridge", b="ResidualBind")
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    pts = ax.transData.transform(ax.collections[0].get_offsets())
    labels = [t for t in fig.findobj(matplotlib.text.Text) if "better" in t.get_text()]
    assert labels, "the count of experiments where b is better is shown"
    for t in labels:
        box = t.get_window_extent(renderer).expanded(1.0, 1.0)
        assert not any(box.contains(x, y) for x, y in pts), f"{t.get_text()!r} covers a point"

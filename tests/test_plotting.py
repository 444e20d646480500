"""Tests for rbgia.plotting: every helper draws on tiny inputs, labels its axes, and the
logo matrices are the quantities the paper defines."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from toy_models import pwm  # noqa: E402

from rbgia import plotting as P  # noqa: E402
from rbgia.data import one_hot  # noqa: E402
from rbgia.errors import DataError  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _labelled(ax: Axes, title: str | None = None) -> None:
    assert isinstance(ax, Axes)
    assert ax.get_xlabel() and ax.get_ylabel()
    if title is not None:
        assert ax.get_title() == title


def _ism(seed: int = 0, length: int = 12):
    rng = np.random.default_rng(seed)
    x = one_hot(["".join(rng.choice(list("ACGU"), length))], length=length)[0]
    deltas = rng.normal(size=(length, 4)) * (1 - x)  # 0 at the wild type, like ism()
    return deltas, x


# ---------------------------------------------------------------------------
# pure matrices


def test_ism_l2_matrix_is_l2_norm_on_wild_type():
    deltas, x = _ism()
    m = P.ism_l2_matrix(deltas, x)
    norms = np.linalg.norm(deltas, axis=1)
    np.testing.assert_allclose(m.sum(1), norms)
    np.testing.assert_array_equal(m.argmax(1), x.argmax(1))
    assert ((m > 0).sum(1) <= 1).all()  # one letter per position
    # raw variant predictions give the same matrix (wild-type value subtracted)
    np.testing.assert_allclose(P.ism_l2_matrix(deltas + 5.0, x), m)
    # padding rows and structure channels
    xs = np.concatenate([x, np.full((len(x), 2), 0.5)], axis=1)
    xs[0, :4] = 0
    assert P.ism_l2_matrix(deltas, xs)[0].sum() == 0
    # batched input works row by row
    np.testing.assert_allclose(P.ism_l2_matrix(deltas[None], x[None])[0], m)
    with pytest.raises(DataError, match="differ"):
        P.ism_l2_matrix(deltas[:5], x)


def test_l2_matrix_for_motif_mutagenesis():
    rng = np.random.default_rng(1)
    imp = rng.normal(size=(6, 4))
    m = P.l2_matrix(imp, "UGCAUG")
    wt = one_hot(["UGCAUG"], length=6)[0].astype(bool)
    rel = imp - imp[wt][:, None]
    np.testing.assert_allclose(m[wt], np.linalg.norm(rel, axis=1))
    assert (m[~wt] == 0).all()


def test_linear_fit():
    x = np.arange(5.0)
    fit = P.linear_fit(x, 2 * x + 1)
    assert fit["slope"] == pytest.approx(2) and fit["intercept"] == pytest.approx(1)
    assert fit["r2"] == pytest.approx(1) and fit["p"] < 1e-6
    with pytest.raises(DataError):
        P.linear_fit([1, 2], [1, 2])


def test_matches():
    assert P._matches("UGCAUG", "GCAUG", 0)
    assert not P._matches("AGAAUG", "UGCAUG", 1)
    assert P._matches("AGAAUG", "UGCAUG", 2)
    assert P._matches("ugcatg", "UGCAUG", 0)


# ---------------------------------------------------------------------------
# logos


@pytest.mark.parametrize("kind, top", [("probability", 1.0), ("information", 2.0), ("raw", None)])
def test_logo_kinds(kind, top):
    pfm = np.vstack([np.full((1, 4), 0.25), np.eye(4)[[0, 3]] * 0.5 if kind == "raw" else np.eye(4)[[0, 3]]])
    ax = P.logo(pfm, kind=kind, title="t")
    _labelled(ax, "t")
    if top is not None:
        assert ax.get_ylim()[1] >= top - 1e-9
    with pytest.raises(DataError, match="kind"):
        P.logo(pfm, kind="bits")


@pytest.fixture
def logo_spy(monkeypatch):
    """Record the DataFrame each logomaker.Logo call draws."""
    import logomaker

    drawn = []
    orig = logomaker.Logo

    def spy(df, **kw):
        drawn.append(df)
        return orig(df, **kw)

    monkeypatch.setattr(logomaker, "Logo", spy)
    return drawn


def test_logo_information_matches_ic(logo_spy):
    # the glyph stack of a uniform column is 0 bits high, of a one-hot column 2 bits
    P.logo(np.vstack([np.full((1, 4), 0.25), np.eye(4)[:1]]), kind="information")
    np.testing.assert_allclose(logo_spy[0].sum(1).to_numpy(), [0.0, 2.0], atol=1e-12)
    assert list(logo_spy[0].columns) == list("ACGU")


def test_ism_logo_draws_l2_norms(logo_spy):
    deltas, x = _ism()
    P.ism_logo(deltas, x, start=3)
    drawn = logo_spy[0]
    np.testing.assert_allclose(drawn.sum(1).to_numpy(), np.linalg.norm(deltas, axis=1))
    np.testing.assert_array_equal(drawn.to_numpy().argmax(1), x.argmax(1))
    assert drawn.index[0] == 3


def test_ism_logo_heatmap_and_l2_logo():
    deltas, x = _ism()
    _labelled(P.ism_logo(deltas, x, title="ism"), "ism")
    _labelled(P.ism_heatmap(deltas, x))
    fig, ax = plt.subplots()
    assert P.l2_logo(np.random.default_rng(2).normal(size=(6, 4)), "UGCAUG", ax=ax) is ax
    _labelled(ax)


@pytest.mark.parametrize("channels, n_labels", [(2, 2), (5, 5), (9, 5)])
def test_structure_track(channels, n_labels):
    p = np.random.default_rng(0).dirichlet(np.ones(channels - 4 if channels > 5 else channels), size=41)
    if channels == 9:
        p = np.concatenate([one_hot(["A" * 41])[0], p], axis=1)
    for kind in ("area", "line"):
        ax = P.structure_track(p, kind=kind)
        _labelled(ax)
        assert len(ax.get_legend().get_texts()) == n_labels
    with pytest.raises(DataError):
        P.structure_track(np.ones((41, 3)))


# ---------------------------------------------------------------------------
# performance


def test_scatter_pred_array_and_frame():
    rng = np.random.default_rng(0)
    y = rng.normal(size=200)
    pred = y + rng.normal(scale=0.5, size=200)
    ax = P.scatter_pred(y, pred, title="s")
    _labelled(ax, "s")
    r = np.corrcoef(y, pred)[0, 1]
    assert f"r = {r:.3f}" in ax.texts[0].get_text()
    df = pd.DataFrame({"y": y, "pred": pred, "gc": rng.uniform(size=200)})
    ax = P.scatter_pred(df, color="gc")
    assert len(ax.figure.axes) == 2  # colour bar
    with pytest.raises(DataError, match="pred"):
        P.scatter_pred(y)


def test_learning_curves():
    hist = pd.DataFrame({"epoch": np.arange(10), "loss": np.linspace(1, 0.5, 10),
                         "val_loss": np.linspace(1.1, 0.6, 10),
                         "val_pearson": [0.1, 0.3, 0.5, 0.55, 0.6, 0.58, 0.62, 0.61, 0.6, 0.6],
                         "lr": [1e-3] * 5 + [3e-4] * 5})
    ax = P.learning_curves(hist, title="fit")
    _labelled(ax, "fit")
    decay = [ln for ln in ax.lines if ln.get_linestyle() == ":"]
    assert len(decay) == 1 and decay[0].get_xdata()[0] == 5
    assert ax.right_ax.get_ylabel()
    # the column names rbgia.train.fit writes
    ax = P.learning_curves(hist.rename(columns={"val_pearson": "valid_pearson", "val_loss": "valid_mse"}))
    assert len(ax.lines) == 3 and len(ax.right_ax.lines) == 2
    with pytest.raises(DataError, match="loss"):
        P.learning_curves(hist.drop(columns="loss"))


def test_score_hist():
    rng = np.random.default_rng(0)
    raw = rng.lognormal(size=500)
    fig = P.score_hist(raw, {"clip": np.clip(raw, 0, 3), "log": np.log(raw)}, title="scores")
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    for ax in fig.axes:
        _labelled(ax)


def _methods_df():
    rng = np.random.default_rng(0)
    rows = [{"experiment": f"E{i}", "method": m, "pearson": base + rng.normal(scale=0.05)}
            for i in range(12) for m, base in [("ResidualBind", 0.7), ("DeepBind", 0.6), ("RCK", 0.55)]]
    return pd.DataFrame(rows)


def test_method_comparison_and_paired():
    df = _methods_df()
    for kind in ("box", "violin"):
        _labelled(P.method_comparison(df, kind=kind, title="m"), "m")
    ax = P.paired_diff(df, reference="ResidualBind")
    _labelled(ax)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["DeepBind", "RCK"]
    _labelled(P.paired_scatter(df, "DeepBind", "ResidualBind"))
    with pytest.raises(DataError, match="reference"):
        P.paired_diff(df, reference="nope")
    with pytest.raises(DataError, match="lacks"):
        P.method_comparison(df, y="spearman")


# ---------------------------------------------------------------------------
# GIA results


def _gia_df(x: str, values, hue=None):
    rng = np.random.default_rng(0)
    mean = rng.normal(size=len(values))
    df = pd.DataFrame({x: values, "mean": mean, "ci_low": mean - 0.1, "ci_high": mean + 0.2})
    if hue is not None:
        df["context"] = hue
    return df


def test_importance_bars():
    df = pd.concat([_gia_df("spacing", ["overlap", "adjacent", "3 nt"], hue=h) for h in ("A", "B")])
    for kind in ("bar", "point"):
        ax = P.importance_bars(df, x="spacing", hue="context", kind=kind, title="sp")
        _labelled(ax, "sp")
        assert [t.get_text() for t in ax.get_xticklabels()] == ["overlap", "adjacent", "3 nt"]
    ax = P.importance_bars(_gia_df("where", ["loop", "stem"]).drop(columns=["ci_low", "ci_high"]), x="where")
    _labelled(ax)


def test_multiplicity_plot_reports_r2():
    df = pd.DataFrame({"count": [0, 1, 2, 3], "mean": [0.0, 1.0, 2.0, 3.0], "ci_low": [-0.1, 0.9, 1.9, 2.9],
                       "ci_high": [0.1, 1.1, 2.1, 3.1], "motif": "UGCAUG"})
    df = pd.concat([df, df.assign(motif="AGAAUG", mean=[0, 0.5, 0.7, 1.6])])
    ax = P.multiplicity_plot(df, hue="motif")
    _labelled(ax)
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts[0] == "UGCAUG: R² = 1.000"
    r2 = P.linear_fit([0, 1, 2, 3], [0, 0.5, 0.7, 1.6])["r2"]
    assert texts[1] == f"AGAAUG: R² = {r2:.3f}"


def test_positional_plot():
    _labelled(P.positional_plot(_gia_df("position", np.arange(36))))


def test_kmer_rank_plot_highlights_truth():
    df = pd.DataFrame({"kmer": ["UGCAUG", "GCAUGU", "AAAAAA", "GCAUGC"], "mean": [3.0, 2.0, 1.0, 0.5],
                       "ci_low": [2.8, 1.8, 0.8, 0.3], "ci_high": [3.2, 2.2, 1.2, 0.7]})
    ax = P.kmer_rank_plot(df, top=3, truth="GCAUG")
    _labelled(ax)
    colors = [t.get_color() for t in ax.get_xticklabels()]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["UGCAUG", "GCAUGU", "AAAAAA"]
    assert colors[0] == colors[1] != colors[2]


def test_hist_ci_vs_n_and_kd_regression():
    rng = np.random.default_rng(0)
    ax = P.hist(rng.uniform(size=50), xlabel="R²", title="h", vline=0.5)
    _labelled(ax)
    assert ax.get_title().startswith("h\nmedian ") and ax.get_title().endswith("n = 50") and not ax.texts
    assert ax.get_xlabel() == "R²\ndashed line at 0.5" and ax.get_legend() is None  # named, off the bars
    named = P.hist([1.0, 1.2], vline=1.0, vline_label="additive (1)")
    assert named.get_xlabel().endswith("dashed: additive (1)")
    few = P.hist([0.1, 0.2, 0.9], xlabel="x", bins=10)  # 3 values: counts 0-1, no 0.25-step ticks
    few.figure.canvas.draw()
    assert all(float(t).is_integer() for t in few.get_yticks())

    ns = np.repeat([100, 400, 1600], 3)
    half = 1 / np.sqrt(ns)
    df = pd.DataFrame({"n": ns, "ci_low": -half, "ci_high": half})
    ax = P.ci_vs_n(df)
    _labelled(ax)
    assert ax.get_xscale() == "log"
    np.testing.assert_allclose(ax.lines[0].get_ydata(), 2 / np.sqrt([100, 400, 1600]))
    np.testing.assert_allclose(ax.lines[1].get_ydata(), ax.lines[0].get_ydata())  # 1/sqrt(n) reference
    # the log x axis is labelled at the n values, its minor ticks not at all (no overlap)
    ax.figure.canvas.draw()
    np.testing.assert_allclose(ax.get_xticks(), [100, 400, 1600])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["100", "400", "1600"]
    assert not [t.get_text() for t in ax.get_xticklabels(minor=True) if t.get_text()]
    # less than a decade: matplotlib alone would label 2x10^1, 3x10^1, ... as well
    ax = P.ci_vs_n(pd.DataFrame({"n": [10, 20, 40], "ci_low": 0.0, "ci_high": [1.0, 0.7, 0.5]}))
    ax.figure.canvas.draw()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["10", "20", "40"]
    assert not [t.get_text() for t in ax.get_xticklabels(minor=True) if t.get_text()]
    many = pd.DataFrame({"n": np.arange(10, 210, 10), "ci_low": 0.0, "ci_high": 1.0})
    ax = P.ci_vs_n(many)
    ax.figure.canvas.draw()
    assert not [t.get_text() for t in ax.get_xticklabels(minor=True) if t.get_text()]
    assert 1 <= len([t for t in ax.get_xticklabels() if t.get_text()]) <= 8

    gia = np.array([2.0, 1.5, 1.0, 0.4, 0.1])
    ln_kd = -2 * gia + rng.normal(scale=0.1, size=5)
    ax = P.kd_regression(gia, ln_kd, labels=["UGCAUG", "UGCAUGU", "GCAUG", "AGAAUG", "AAAAAA"])
    _labelled(ax)
    fit = P.linear_fit(gia, ln_kd)
    assert f"R² = {fit['r2']:.3f}" in ax.texts[-1].get_text()
    with pytest.raises(DataError, match="labels"):
        P.kd_regression(gia, ln_kd, labels=["a"])


# ---------------------------------------------------------------------------
# local importance box plots (paper Fig 2b-2d, 3c, 4c)


def _toy_results():
    from rbgia.experiments import multiplicity, spacing
    from rbgia.gcbias import gc_bias
    from rbgia.hairpin import hairpin_context
    from rbgia.session import GIA

    rng = np.random.default_rng(0)
    rng.normal(size=(41, 4))  # the toy's weights came from this stream: keep the backgrounds' draws
    bg = one_hot(["".join(rng.choice(list("ACGU"), 41)) for _ in range(30)])
    g = GIA(pwm, bg)
    return {"multiplicity": multiplicity(g, "UGCAUG", n_boot=20),
            "spacing": spacing(g, "UGCAUG", on_conflict="skip", n_boot=20),
            "gc_bias": gc_bias(g, "UGCAUG", n_boot=20),
            "hairpin": hairpin_context(g, "GCUGGC", 16, 7, fold_check=False, n_boot=20)}


def _triangles(ax: Axes) -> np.ndarray:
    lines = [ln for ln in ax.lines if ln.get_marker() == "^" and len(ln.get_xdata())]
    return np.array([ln.get_ydata()[0] for ln in lines])


def test_local_importance_boxplot_marks_median_and_global_importance():
    res = _toy_results()
    mult = res["multiplicity"]
    ax = P.local_importance_boxplot(mult, title="Fig 2b")
    _labelled(ax, "Fig 2b")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1 copy", "2 copies", "3 copies"]
    np.testing.assert_allclose(_triangles(ax), mult.table["mean"])  # green triangles = global importance
    medians = [ln for ln in ax.lines if ln.get_marker() != "^" and ln.get_color() == "k"]
    np.testing.assert_allclose([ln.get_ydata()[0] for ln in medians], np.median(mult.local, axis=1))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:2] == ["median", "global importance"] and labels[2].startswith("linear fit")
    # the record (quantiles only) draws the same boxes
    ax2 = P.local_importance_boxplot(mult.to_record())
    np.testing.assert_allclose(_triangles(ax2), mult.table["mean"])
    np.testing.assert_allclose([ln.get_ydata()[0] for ln in ax2.lines if ln.get_color() == "k"
                                and ln.get_marker() != "^"], np.median(mult.local, axis=1))
    for kind, n_boxes in (("spacing", 4), ("gc_bias", 5), ("hairpin", 5)):
        for source in (res[kind], res[kind].to_record()):
            ax = P.local_importance_boxplot(source, points=True)
            assert len(_triangles(ax)) == n_boxes and isinstance(ax, Axes)
    hp = P.local_importance_boxplot(res["hairpin"])
    assert [t.get_text() for t in hp.get_xticklabels()][0] == "hairpin loop"
    with pytest.raises(DataError, match="quantiles"):
        P.local_importance_boxplot({"a": {"mean": 1.0}})
    with pytest.raises(DataError, match="cannot draw"):
        P.local_importance_boxplot(3.0)


def test_linear_fit_is_the_stats_fit():
    from rbgia.stats import linear_fit

    x, y = [0, 1, 2, 3], [0, 0.5, 0.7, 1.6]
    assert P.linear_fit(x, y) == linear_fit(x, y).as_dict()
    assert np.isnan(linear_fit([1, 2], [1, 3]).r2)  # 2 points: exact by construction
    assert P._matches is __import__("rbgia.motifs", fromlist=["kmer_matches"]).kmer_matches


def test_variant_bars_one_bar_per_variant_the_wild_type_outlined():
    imp = np.arange(24, dtype=float).reshape(6, 4)
    ax = P.variant_bars(imp, "UGCAUG", imp - 1, imp + 1)
    bars = [p for p in ax.patches]
    assert len(bars) == 24
    outlined = [b for b in bars if b.get_linewidth() > 0 and tuple(b.get_edgecolor()) == (0.0, 0.0, 0.0, 1.0)]
    assert len(outlined) == 6  # one wild-type base per position
    assert [t.get_text() for t in ax.get_xticklabels()] == [f"{i + 1}\n{c}" for i, c in enumerate("UGCAUG")]
    with pytest.raises(DataError, match=r"pass the \(k, 4\) = \(6, 4\) variant importances of UGCAUG"):
        P.variant_bars(imp[:3], "UGCAUG")

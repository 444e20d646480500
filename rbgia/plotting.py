"""Every figure of the project (matplotlib, seaborn, logomaker).

Each function takes an optional ``ax`` (a new figure is made when absent), sets axis
labels (and a title when given) and returns the Axes, or the Figure for multi-panel
plots. Nothing here calls ``plt.show()`` or selects a backend: notebooks render
inline, scripts pick their own backend. The matrices drawn by the logo helpers come
from pure functions (``ism_l2_matrix``, ``l2_matrix``) that can be tested and reused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from . import stats
from .data import ALPHABET
from .errors import DataError
from .evaluate import pearson
from .experiments import spacing_label
from .hairpin import CONDITIONS as HAIRPIN_CONDITIONS
from .hairpin import LABELS as HAIRPIN_LABELS
from .motifs import ic_scaled, kmer_matches, kmer_pfm
from .records import GC_CONDITIONS, QUANTILES

__all__ = [
    "BOOK_RC",
    "book_style",
    "drawn_texts",
    "png_metadata",
    "page_width",
    "fit_figsize",
    "panels",
    "structure_grid",
    "logo",
    "ism_l2_matrix",
    "ism_logo",
    "ism_heatmap",
    "l2_matrix",
    "l2_logo",
    "structure_track",
    "scatter_pred",
    "learning_curves",
    "score_hist",
    "method_comparison",
    "paired_diff",
    "paired_scatter",
    "importance_bars",
    "multiplicity_plot",
    "local_importance_boxplot",
    "positional_plot",
    "kmer_rank_plot",
    "hist",
    "ci_vs_n",
    "kd_regression",
    "linear_fit",
]

PU_LABELS = ("paired", "unpaired")
PHIME_LABELS = ("paired", "hairpin", "interior", "multi", "exterior")


def page_width() -> float:
    """The widest a figure may be, in inches: rcParams' width, at most :data:`BOOK_RC`'s (6.2 in).

    At the book's 110 dpi that is 682 px, inside the 688 px content column, so the page shows
    the figure unscaled and its fonts at their nominal size.
    """
    import matplotlib as mpl

    return min(float(mpl.rcParams["figure.figsize"][0]), float(BOOK_RC["figure.figsize"][0]))


def fit_figsize(figsize: tuple[float, float]) -> tuple[float, float]:
    """``figsize`` with its width capped at :func:`page_width` (the height is kept)."""
    return min(float(figsize[0]), page_width()), float(figsize[1])


def panels(n: int, max_per_row: int = 3, height: float = 2.8, **subplot_kw: Any) -> tuple[Figure, list[Axes]]:
    """A figure of ``n`` panels at the page's width, at most ``max_per_row`` side by side.

    Rows are balanced (4 panels: 2 x 2, 5: 3 + 2); ``height`` is per row; axes left over in
    the last row are hidden. ``subplot_kw`` goes to ``plt.subplots`` (``sharey=True``, ...).
    Returns the Figure and the ``n`` Axes in reading order.
    """
    n = max(1, int(n))
    rows = -(-n // max(1, max_per_row))
    cols = -(-n // rows)
    fig, grid = plt.subplots(rows, cols, figsize=(page_width(), height * rows), squeeze=False, **subplot_kw)
    axes = list(grid.ravel())
    for extra in axes[n:]:
        extra.set_visible(False)
    return fig, axes[:n]


def _ax(ax: Axes | None, figsize: tuple[float, float] = (5, 4)) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=fit_figsize(figsize))
    return ax


def _finish(ax: Axes, xlabel: str | None, ylabel: str | None, title: str | None) -> Axes:
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title)
    return ax


def _matrix(m: np.ndarray | pd.DataFrame, name: str, width: int = 4) -> np.ndarray:
    arr = np.asarray(m, dtype=float)
    if arr.ndim != 2 or arr.shape[1] < width:
        raise DataError(f"{name} has shape {arr.shape}, expected (L, {width}); pass one sequence's matrix")
    return arr


# ---------------------------------------------------------------------------
# logos


def logo(
    matrix: np.ndarray | pd.DataFrame,
    ax: Axes | None = None,
    alphabet: str = ALPHABET,
    kind: str = "probability",
    title: str | None = None,
    start: int = 0,
    xlabel: str | None = "position",
    ylabel: str | None = None,
    color_scheme: str = "classic",
    background: float | Sequence[float] = 0.25,
    **kwargs,
) -> Axes:
    """Sequence logo of an ``(L, 4)`` matrix with logomaker.

    Parameters
    ----------
    matrix : np.ndarray or pd.DataFrame
        ``(L, 4)`` values in ``alphabet`` column order.
    kind : {"probability", "information", "raw"}
        ``probability``: columns normalised to sum to 1; ``information``: letter
        heights = probability x column information content (bits); ``raw``: drawn
        as given (importances, may be negative).
    start : int
        Position label of the first column (0-based by convention).
    **kwargs
        Passed to ``logomaker.Logo``.
    """
    import logomaker  # noqa: PLC0415 - heavy import, only when drawing logos

    m = _matrix(matrix, "matrix")[:, : len(alphabet)]
    if kind == "probability":
        tot = m.sum(1, keepdims=True)
        m = np.divide(m, tot, out=np.zeros_like(m), where=tot > 0)
        default_ylabel = "probability"
    elif kind == "information":
        m = ic_scaled(m, background)
        default_ylabel = "bits"
    elif kind == "raw":
        default_ylabel = "importance"
    else:
        raise DataError(f"kind={kind!r} is unknown; use 'probability', 'information' or 'raw'")
    ax = _ax(ax, figsize=(max(3.0, 0.35 * len(m) + 1), 2.2))
    df = pd.DataFrame(m, columns=list(alphabet), index=np.arange(start, start + len(m)))
    logomaker.Logo(df, ax=ax, color_scheme=color_scheme, **kwargs)
    if kind == "information":
        ax.set_ylim(0, 2)
    ax.xaxis.set_major_locator(mticker.MaxNLocator(integer=True))  # positions, not 2.5
    ax.spines[["top", "right"]].set_visible(False)
    return _finish(ax, xlabel, default_ylabel if ylabel is None else ylabel, title)


def ism_l2_matrix(deltas: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Matrix an ISM logo draws: the L2 norm of the variants' effects on the wild-type base.

    Parameters
    ----------
    deltas : np.ndarray
        ``(..., L, 4)`` prediction(variant) - prediction(wild type) (0 at the wild
        type, as ``rbgia.mutagenesis.ism`` returns). Raw variant predictions also
        work: the wild-type entry is subtracted first.
    x : np.ndarray
        ``(..., L, A>=4)`` one-hot wild type; extra (structure) channels are ignored,
        all-zero (padding) rows give zero height.

    Returns
    -------
    np.ndarray
        ``(..., L, 4)``: ``x * ||deltas - delta_wt||_2`` per position.
    """
    d = np.asarray(deltas, dtype=float)
    oh = np.asarray(x, dtype=float)[..., :4]
    if d.shape != oh.shape:
        raise DataError(f"deltas {d.shape} and x {oh.shape} (first 4 channels) differ; pass the same sequence(s)")
    rel = d - (d * oh).sum(-1, keepdims=True)
    return oh * np.sqrt((rel**2).sum(-1, keepdims=True))


def ism_logo(
    deltas: np.ndarray,
    x: np.ndarray,
    ax: Axes | None = None,
    title: str | None = None,
    start: int = 0,
    ylabel: str = "ISM L2 norm",
    **kwargs,
) -> Axes:
    """In silico mutagenesis logo (paper Fig 2a): L2 norm per position on the wild-type base."""
    m = ism_l2_matrix(_matrix(deltas, "deltas"), _matrix(x, "x"))
    return logo(m, ax=ax, kind="raw", title=title, start=start, ylabel=ylabel, **kwargs)


def ism_heatmap(
    deltas: np.ndarray,
    x: np.ndarray | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    cmap: str = "RdBu_r",
    start: int = 0,
) -> Axes:
    """Heatmap of ISM effects ``(L, 4)`` (letters x positions), wild type marked by dots."""
    d = _matrix(deltas, "deltas")[:, :4]
    ax = _ax(ax, figsize=(max(4.0, 0.2 * len(d) + 1), 1.8))
    lim = float(np.abs(d).max()) or 1.0
    im = ax.imshow(d.T, aspect="auto", cmap=cmap, vmin=-lim, vmax=lim, interpolation="nearest",
                   extent=(start - 0.5, start + len(d) - 0.5, 3.5, -0.5))
    if x is not None:
        oh = _matrix(x, "x")[:, :4]
        pos, base = np.nonzero(oh > 0)
        ax.scatter(pos + start, base, s=6, c="k", marker="o")
    ax.set_yticks(range(4), list(ALPHABET))
    ax.figure.colorbar(im, ax=ax, label="Δ prediction", pad=0.01)
    return _finish(ax, "position", "variant", title)


def l2_matrix(importances: np.ndarray, kmer: str) -> np.ndarray:
    """Matrix a motif-mutagenesis logo draws: per-position L2 norm on the k-mer's base.

    ``importances`` is ``(k, 4)``: the global importance of each single-nucleotide
    variant of ``kmer``. The wild-type entry of each position is subtracted first, so
    absolute importances and differences from the wild type give the same logo.
    """
    return ism_l2_matrix(_matrix(importances, "importances")[:, :4], kmer_pfm(kmer))


def l2_logo(
    importances: np.ndarray,
    kmer: str,
    ax: Axes | None = None,
    title: str | None = None,
    start: int = 0,
    ylabel: str = "L2 norm",
    **kwargs,
) -> Axes:
    """Motif mutagenesis logo (paper Fig 2c): per-position L2 norm drawn on the k-mer."""
    return logo(l2_matrix(importances, kmer), ax=ax, kind="raw", title=title, start=start,
                ylabel=ylabel, **kwargs)


def variant_bars(
    importance: np.ndarray,
    kmer: str,
    ci_low: np.ndarray | None = None,
    ci_high: np.ndarray | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    start: int = 0,
) -> Axes:
    """Global importance of every single-nucleotide variant of ``kmer`` (paper Fig 2e, 3b: the bars beside the L2
    logo): per 1-based position, one bar per nucleotide (ACGU colours), the wild type's outlined in black.

    ``importance``, ``ci_low``, ``ci_high`` are ``(k, 4)`` (:class:`rbgia.experiments.MotifMutagenesis`); the
    wild-type entries hold the k-mer's own importance.
    """
    imp = np.asarray(importance, float)
    k = len(kmer)
    if imp.shape != (k, 4):
        raise DataError(f"importance has shape {imp.shape}; pass the (k, 4) = ({k}, 4) variant importances of {kmer}")
    ax = _ax(ax, figsize=(max(4.0, 0.7 * k + 1.5), 3.0))
    width = 0.2
    colours = {"A": "tab:green", "C": "tab:blue", "G": "orange", "U": "tab:red"}
    for j, base in enumerate("ACGU"):
        x = np.arange(k) + (j - 1.5) * width
        err = None
        if ci_low is not None and ci_high is not None:
            lo, hi = np.asarray(ci_low, float)[:, j], np.asarray(ci_high, float)[:, j]
            err = np.abs(np.vstack([imp[:, j] - lo, hi - imp[:, j]]))
        wild = np.array([kmer[i] == base for i in range(k)])
        ax.bar(x, imp[:, j], width, yerr=err, color=colours[base], label=base, capsize=1.5,
               edgecolor=np.where(wild, "black", "none"), linewidth=1.2, error_kw={"lw": 0.6})
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xticks(np.arange(k), [f"{start + i + 1}\n{c}" for i, c in enumerate(kmer)])
    from matplotlib.patches import Patch

    handles = [Patch(color=c, label=b) for b, c in colours.items()]
    handles.append(Patch(facecolor="white", edgecolor="black", label="wild type"))
    ax.legend(handles=handles, ncol=5, fontsize="small", frameon=False, loc="lower left", bbox_to_anchor=(0, 1.0),
              handlelength=1.0, columnspacing=0.8)
    return _finish(ax, "position (1-based), wild-type base", "global importance", title)


def mutagenesis_panels(importance: np.ndarray, kmer: str, ci_low: np.ndarray | None = None,
                       ci_high: np.ndarray | None = None, title: str = "") -> Figure:
    """Motif mutagenesis as the paper draws it (Fig 2e, 3b): the L2 logo (left) and the per-variant global
    importance bars (right)."""
    fig, (left, right) = panels(2, height=2.8, gridspec_kw={"width_ratios": (1, 2)})
    l2_logo(np.asarray(importance, float), kmer, ax=left, title=f"{title}\nL2 per position" if title else None,
            start=1)  # 1-based on the page
    variant_bars(importance, kmer, ci_low, ci_high, ax=right)
    fig.tight_layout()
    return fig


def structure_track(
    profile: np.ndarray,
    ax: Axes | None = None,
    labels: Sequence[str] | None = None,
    kind: str = "area",
    title: str | None = None,
    start: int = 0,
) -> Axes:
    """Structure probabilities along a sequence (paper Fig 3): PU (2) or PHIME (5) tracks.

    ``profile`` is ``(L, 2)`` or ``(L, 5)``, or a whole input ``(L, 6)`` / ``(L, 9)``
    whose channels after the 4 sequence ones are drawn. ``kind`` is ``"area"``
    (stacked, the channels sum to 1) or ``"line"``.
    """
    p = _matrix(profile, "profile", width=2)
    if p.shape[1] in (6, 9):
        p = p[:, 4:]
    if labels is None:
        if p.shape[1] not in (2, 5):
            raise DataError(f"profile has {p.shape[1]} channels; pass PU (2) or PHIME (5) channels, or labels")
        labels = PU_LABELS if p.shape[1] == 2 else PHIME_LABELS
    if len(labels) != p.shape[1]:
        raise DataError(f"{len(labels)} labels for {p.shape[1]} channels; pass one label per channel")
    ax = _ax(ax, figsize=(max(4.0, 0.15 * len(p) + 1), 2.0))
    pos = np.arange(start, start + len(p))
    colors = plt.get_cmap("tab10").colors
    if kind == "area":
        ax.stackplot(pos, p.T, labels=list(labels), colors=colors[: p.shape[1]], alpha=0.85, step=None)
        ax.set_ylim(0, max(1.0, float(p.sum(1).max())))
    elif kind == "line":
        for j, lab in enumerate(labels):
            ax.plot(pos, p[:, j], label=lab, color=colors[j % len(colors)])
        ax.set_ylim(0, 1.02)
    else:
        raise DataError(f"kind={kind!r} is unknown; use 'area' or 'line'")
    ax.set_xlim(pos[0], pos[-1])
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small", frameon=False)
    return _finish(ax, "position", "probability", title)


def structure_grid(
    seqs: Sequence[str],
    profiles: Mapping[str, np.ndarray],
    row_height: float = 1.6,
) -> Figure:
    """Structure tracks of several probes at the page's width: one row per probe and profile.

    ``profiles`` maps a name (``"PU"``, ``"PHIME"``) to ``(N, L, C)`` profiles of the ``N``
    ``seqs``; each probe's rows follow one another, the first titled with the sequence.
    """
    if not profiles:
        raise DataError("no profiles to draw; pass e.g. {'PU': pu, 'PHIME': phime}")
    arrays = {name: np.asarray(p, float) for name, p in profiles.items()}
    for name, p in arrays.items():
        if p.ndim != 3 or len(p) != len(seqs):
            raise DataError(f"{name} profiles have shape {p.shape} for {len(seqs)} sequences; pass (N, L, C) arrays")
    fig, axes = panels(len(seqs) * len(arrays), max_per_row=1, height=row_height)
    cells = [(seq, name, p[i]) for i, seq in enumerate(seqs) for name, p in arrays.items()]
    for k, (ax, (seq, name, prof)) in enumerate(zip(axes, cells)):
        structure_track(prof, ax=ax, title=seq if k % len(arrays) == 0 else None)
        ax.set_ylabel(name)
        ax.set_xlabel("position" if k == len(cells) - 1 else "")
    return fig


# ---------------------------------------------------------------------------
# performance


def scatter_pred(
    df_or_y: pd.DataFrame | np.ndarray,
    pred: np.ndarray | None = None,
    color: np.ndarray | str | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    xlabel: str = "measured",
    ylabel: str = "predicted",
    color_label: str | None = None,
    cmap: str = "viridis",
    s: float = 3,
    alpha: float = 0.5,
    discrete: bool | None = None,
) -> Axes:
    """Predicted vs measured scores with Pearson r; optional colour by a per-probe value.

    Parameters
    ----------
    df_or_y : pd.DataFrame or np.ndarray
        A DataFrame with columns ``y``, ``pred`` (and optionally the ``color``
        column), or the measured values.
    pred : np.ndarray, optional
        Predictions when ``df_or_y`` is an array.
    color : np.ndarray or str, optional
        Per-probe values (or a column name of the DataFrame) for a colour bar.
    discrete : bool, optional
        One colour per integer value (mismatch counts), with a colour bar ticked at the
        integers; ``None``: when ``color`` holds integers spanning at most :data:`MAX_DISCRETE` values.
    """
    if isinstance(df_or_y, pd.DataFrame):
        df = df_or_y
        missing = {"y", "pred"} - set(df.columns)
        if missing:
            raise DataError(f"DataFrame lacks columns {sorted(missing)}; pass columns 'y' and 'pred'")
        y, p = df["y"].to_numpy(float), df["pred"].to_numpy(float)
        if isinstance(color, str):
            color_label = color_label or color
            color = df[color].to_numpy(float)
        elif color is None:
            for col in ("color", "colour"):
                if col in df.columns:
                    color = df[col].to_numpy(float)
                    break
    else:
        if pred is None:
            raise DataError("pred is missing; pass scatter_pred(y, pred) or a DataFrame with 'y' and 'pred'")
        y, p = np.asarray(df_or_y, float).ravel(), np.asarray(pred, float).ravel()
    if y.shape != p.shape:
        raise DataError(f"y has {y.size} values but pred {p.size}; pass matching arrays")
    ax = _ax(ax)
    if color is not None:
        c = np.asarray(color, float).ravel()
        if c.shape != y.shape:
            raise DataError(f"color has {c.size} values for {y.size} points; pass one value per probe")
        order = np.argsort(c, kind="stable")  # draw high values last, on top
        if discrete is None:
            discrete = is_discrete(c)
        colors, norm, ticks = _discrete_colors(c, cmap) if discrete else (cmap, None, None)
        sc = ax.scatter(y[order], p[order], c=c[order], s=s, alpha=alpha, cmap=colors, norm=norm, rasterized=True,
                        lw=0)
        bar = ax.figure.colorbar(sc, ax=ax, label=color_label or "", ticks=ticks)
        if discrete:
            bar.minorticks_off()
            bar.solids.set(alpha=1)  # the key shows each class's colour at full strength
    else:
        ax.scatter(y, p, s=s, alpha=alpha, color="C0", rasterized=True, lw=0)
    r = pearson(y, p)
    ax.text(0.03, 0.97, f"r = {r:.3f}\nn = {y.size:,}", transform=ax.transAxes, va="top", ha="left")
    return _finish(ax, xlabel, ylabel, title)


MAX_DISCRETE = 12  # at most this many integer values get one colour each (mismatch counts: 0 .. k)


def is_discrete(values: np.ndarray, max_levels: int = MAX_DISCRETE) -> bool:
    """Whether ``values`` are a few integers (counts): finite, whole, spanning at most ``max_levels`` values."""
    v = np.asarray(values, float).ravel()
    if not v.size or not np.isfinite(v).all() or not np.array_equal(v, np.round(v)):
        return False
    return v.max() - v.min() + 1 <= max_levels


def _discrete_colors(values: np.ndarray, cmap: str) -> tuple[Any, Any, list[int]]:
    """A colour map with one colour per integer from min to max, its norm and the colour bar's ticks."""
    from matplotlib.colors import BoundaryNorm

    lo, hi = int(np.min(values)), int(np.max(values))
    n = hi - lo + 1
    return plt.get_cmap(cmap).resampled(n), BoundaryNorm(np.arange(lo - 0.5, hi + 1.5), n), list(range(lo, hi + 1))


def learning_curves(
    history: pd.DataFrame,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Loss (left axis) and validation Pearson r (right axis) per epoch.

    Dashed vertical lines mark epochs where the learning rate dropped; a star marks
    the best validation Pearson r. ``history`` needs ``epoch`` (else the index) and
    ``loss``; the validation loss (``valid_mse`` or ``val_loss``), the validation
    Pearson r (``valid_pearson`` or ``val_pearson``) and ``lr`` are drawn when
    present. Returns the loss Axes (the Pearson axis is ``ax.right_ax``).
    """
    if "loss" not in history.columns:
        raise DataError(f"history has columns {list(history.columns)}, no 'loss'; pass the DataFrame fit() returns")
    val_loss = next((c for c in ("valid_mse", "val_loss") if c in history.columns), None)
    val_r = next((c for c in ("valid_pearson", "val_pearson") if c in history.columns), None)
    ax = _ax(ax, figsize=(6, 3.5))
    epoch = history["epoch"].to_numpy() if "epoch" in history.columns else np.arange(len(history))
    ax.plot(epoch, history["loss"], color="C0", label="loss")
    if val_loss:
        ax.plot(epoch, history[val_loss], color="C0", ls="--", label="validation loss")
    handles, labels = ax.get_legend_handles_labels()
    if val_r:
        right = ax.twinx()
        vp = history[val_r].to_numpy(float)
        right.plot(epoch, vp, color="C1", label="validation Pearson r")
        if np.isfinite(vp).any():
            best = int(np.nanargmax(vp))
            right.plot(epoch[best], vp[best], marker="*", ms=12, color="C1", ls="none", label="best epoch")
        right.set_ylabel("validation Pearson r")
        h2, l2 = right.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
        ax.right_ax = right  # type: ignore[attr-defined]
    if "lr" in history.columns:
        lr = history["lr"].to_numpy(float)
        drops = np.flatnonzero(np.diff(lr) < 0) + 1
        for k, i in enumerate(drops):
            ax.axvline(epoch[i], color="grey", ls=":", lw=1, label="lr decay" if k == 0 else None)
        if len(drops):
            handles.append(ax.lines[-1])
            labels.append("lr decay")
    ax.legend(handles, labels, loc="center right", fontsize="small", frameon=False)
    return _finish(ax, "epoch", "loss", title)


def score_hist(
    raw: np.ndarray,
    transformed: np.ndarray | Mapping[str, np.ndarray] | None = None,
    axes: Sequence[Axes] | None = None,
    bins: int = 100,
    title: str | None = None,
) -> Figure:
    """Score distributions: raw, and under each transform (e.g. ``{"clip": .., "log": ..}``).

    Returns the Figure with one panel per distribution.
    """
    dists = {"raw": np.asarray(raw, float).ravel()}
    if isinstance(transformed, Mapping):
        dists |= {str(k): np.asarray(v, float).ravel() for k, v in transformed.items()}
    elif transformed is not None:
        dists["transformed"] = np.asarray(transformed, float).ravel()
    own = axes is None
    if own:
        _, axes = panels(len(dists), height=2.8)
    elif len(axes) != len(dists):
        raise DataError(f"{len(axes)} axes for {len(dists)} panels; pass one Axes per distribution")
    for a, (name, v) in zip(axes, dists.items()):
        v = v[np.isfinite(v)]
        a.hist(v, bins=bins, color="C0")
        a.set_yscale("log")
        _finish(a, f"{name} score", "probes", None)
    fig = axes[0].figure
    if title is not None:
        fig.suptitle(title)
    if own:
        fig.tight_layout()
    return fig


def method_comparison(
    df: pd.DataFrame,
    x: str = "method",
    y: str = "pearson",
    hue: str | None = None,
    ax: Axes | None = None,
    order: Sequence[str] | None = None,
    kind: str = "box",
    title: str | None = None,
    ylabel: str | None = None,
) -> Axes:
    """Per-experiment scores across methods (paper Fig 1a): box or violin plus points."""
    import seaborn as sns  # noqa: PLC0415

    _need(df, [x, y] + ([hue] if hue else []))
    ax = _ax(ax, figsize=(max(4.0, 0.9 * df[x].nunique() + 1.5), 3.5))
    if kind == "box":
        sns.boxplot(data=df, x=x, y=y, hue=hue, order=order, ax=ax, showfliers=False, color="0.85"
                    if hue is None else None)
    elif kind == "violin":
        sns.violinplot(data=df, x=x, y=y, hue=hue, order=order, ax=ax, inner=None, cut=0,
                       color="0.85" if hue is None else None)
    else:
        raise DataError(f"kind={kind!r} is unknown; use 'box' or 'violin'")
    sns.stripplot(data=df, x=x, y=y, hue=hue, order=order, ax=ax, dodge=hue is not None, size=2.5,
                  color="k" if hue is None else None, alpha=0.6, legend=False)
    ax.tick_params(axis="x", rotation=30)
    return _finish(ax, x, ylabel or y, title)


def _need(df: pd.DataFrame, cols: Sequence[str]) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataError(f"DataFrame lacks columns {missing} (has {list(df.columns)}); rename or pass the column names")


def _pivot(df: pd.DataFrame, x: str, y: str, by: str) -> pd.DataFrame:
    _need(df, [x, y, by])
    return df.pivot_table(index=by, columns=x, values=y, aggfunc="mean")


def paired_diff(
    df: pd.DataFrame,
    reference: str,
    x: str = "method",
    y: str = "pearson",
    by: str = "experiment",
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Per-experiment difference ``reference - other`` for every other method (box + points).

    Only experiments scored by both methods count; the share where the reference wins
    is written above each box.
    """
    import seaborn as sns  # noqa: PLC0415

    wide = _pivot(df, x, y, by)
    if reference not in wide.columns:
        raise DataError(f"reference {reference!r} not among {list(wide.columns)}; pass one of the {x} values")
    others = [c for c in wide.columns if c != reference]
    diffs = pd.concat(
        [pd.DataFrame({x: o, "diff": (wide[reference] - wide[o]).dropna()}) for o in others], ignore_index=True
    )
    ax = _ax(ax, figsize=(max(3.5, 0.9 * len(others) + 1.5), 3.5))
    sns.boxplot(data=diffs, x=x, y="diff", ax=ax, showfliers=False, color="0.85", order=others)
    sns.stripplot(data=diffs, x=x, y="diff", ax=ax, color="k", size=2.5, alpha=0.6, order=others)
    ax.axhline(0, color="grey", lw=1, ls="--")
    for i, o in enumerate(others):
        d = diffs.loc[diffs[x] == o, "diff"]
        if len(d):
            ax.text(i, 1.0, f"{(d > 0).mean():.0%} of {len(d)}", transform=ax.get_xaxis_transform(),
                    ha="center", va="bottom", fontsize="small")
    ax.tick_params(axis="x", rotation=30)
    _finish(ax, x, f"Δ {y} ({reference} − method)", None)
    if title is not None:  # lifted over the shares written above the boxes
        ax.set_title(title, pad=plt.rcParams["axes.titlepad"] + 1.6 * plt.rcParams["font.size"])
    return ax


def paired_scatter(
    df: pd.DataFrame,
    a: str,
    b: str,
    x: str = "method",
    y: str = "pearson",
    by: str = "experiment",
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Per-experiment score of method ``a`` (x axis) vs ``b`` (y axis) with the diagonal."""
    wide = _pivot(df, x, y, by)
    for m in (a, b):
        if m not in wide.columns:
            raise DataError(f"method {m!r} not among {list(wide.columns)}; pass one of the {x} values")
    pair = wide[[a, b]].dropna()
    ax = _ax(ax, figsize=(3.8, 3.6))
    ax.scatter(pair[a], pair[b], s=10, color="C0", alpha=0.7)
    lo = float(np.nanmin(pair.to_numpy())) if len(pair) else 0.0
    hi = float(np.nanmax(pair.to_numpy())) if len(pair) else 1.0
    ax.plot([lo, hi], [lo, hi], color="grey", ls="--", lw=1)
    # The count goes under the title, above the axes: inside them it can sit on a point.
    count = f"{b} better: {(pair[b] > pair[a]).sum()} of {len(pair)}"
    return _finish(ax, f"{a} {y}", f"{b} {y}", count if title is None else f"{title}\n{count}")


# ---------------------------------------------------------------------------
# GIA results


def _errbars(df: pd.DataFrame, y: str, low: str | None, high: str | None) -> np.ndarray | None:
    if low and high and low in df.columns and high in df.columns:
        mean = df[y].to_numpy(float)
        # clip at 0: matplotlib refuses negative bars (a CI that misses the mean)
        return np.clip(np.vstack([mean - df[low].to_numpy(float), df[high].to_numpy(float) - mean]), 0, None)
    return None


def _by_hue(df: pd.DataFrame, hue: str | None) -> list[tuple[int, Any, pd.DataFrame]]:
    """(colour index, group value or None, rows) per ``hue`` group, in order of appearance."""
    if not hue:
        return [(0, None, df)]
    return [(gi, g, df[df[hue] == g]) for gi, g in enumerate(pd.unique(df[hue]))]


def importance_bars(
    df: pd.DataFrame,
    x: str,
    y: str = "mean",
    low: str | None = "ci_low",
    high: str | None = "ci_high",
    hue: str | None = None,
    ax: Axes | None = None,
    kind: str = "bar",
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str = "global importance",
) -> Axes:
    """Global importances with 95% CI error bars, grouped by ``hue`` when given.

    Used for multiplicity, spacing, hairpin context and GC-bias results; ``low`` and
    ``high`` name the CI columns (bars without them when absent). ``kind`` is
    ``"bar"`` or ``"point"``.
    """
    _need(df, [x, y] + ([hue] if hue else []))
    if kind not in ("bar", "point"):
        raise DataError(f"kind={kind!r} is unknown; use 'bar' or 'point'")
    cats = list(pd.unique(df[x]))
    groups = list(pd.unique(df[hue])) if hue else [None]
    ax = _ax(ax, figsize=(max(3.5, 0.6 * len(cats) * len(groups) + 1.5), 3.2))
    width = 0.8 / len(groups)
    for gi, g in enumerate(groups):
        sub = df if g is None else df[df[hue] == g]
        pos = np.array([cats.index(v) for v in sub[x]]) + (gi - (len(groups) - 1) / 2) * width
        err = _errbars(sub, y, low, high)
        label = None if g is None else str(g)
        if kind == "bar":
            ax.bar(pos, sub[y], width=width * 0.95, yerr=err, capsize=3, label=label, color=f"C{gi}")
        else:
            ax.errorbar(pos, sub[y], yerr=err, fmt="o", capsize=3, label=label, color=f"C{gi}")
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xticks(range(len(cats)), [str(c) for c in cats], rotation=30 if len(cats) > 6 else 0)
    if hue:
        ax.legend(title=hue, fontsize="small", frameon=False)
    return _finish(ax, xlabel or x, ylabel, title)


def linear_fit(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Least-squares line ``y = slope x + intercept`` with ``r2`` and two-sided ``p`` (a drawn regression).

    The fit is :func:`rbgia.stats.linear_fit`; a regression panel needs its R², so a fit
    without a residual degree of freedom (fewer than 3 points) is an error here.
    """
    x, y = np.asarray(x, float).ravel(), np.asarray(y, float).ravel()
    fit = stats.linear_fit(x, y)
    if x.size != y.size or fit.dof < stats.MIN_FIT_DOF:
        raise DataError(f"need >= 3 matching (x, y) pairs for a fit, got {x.size} and {y.size}; pass more points")
    return fit.as_dict()


def multiplicity_plot(
    df: pd.DataFrame,
    x: str = "count",
    y: str = "mean",
    low: str | None = "ci_low",
    high: str | None = "ci_high",
    hue: str | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    xlabel: str = "motif copies",
    ylabel: str = "global importance",
) -> Axes:
    """Importance vs number of motif copies with CI bars and a linear fit (R² in the legend)."""
    _need(df, [x, y] + ([hue] if hue else []))
    ax = _ax(ax, figsize=(4, 3.4))
    for gi, g, sub in _by_hue(df, hue):
        xs, ys = sub[x].to_numpy(float), sub[y].to_numpy(float)
        ax.errorbar(xs, ys, yerr=_errbars(sub, y, low, high), fmt="o", capsize=3, color=f"C{gi}")
        label = "" if g is None else f"{g}: "
        fit = stats.linear_fit(xs, ys)
        if np.isfinite(fit.r2):
            grid = np.linspace(xs.min(), xs.max(), 50)
            ax.plot(grid, fit.slope * grid + fit.intercept, color=f"C{gi}", label=f"{label}R² = {fit.r2:.3f}")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small", frameon=False)
    ax.set_xticks(np.unique(df[x].to_numpy(float)))
    return _finish(ax, xlabel, ylabel, title)


def positional_plot(
    df: pd.DataFrame,
    x: str = "position",
    y: str = "mean",
    low: str | None = "ci_low",
    high: str | None = "ci_high",
    hue: str | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    xlabel: str = "motif start (0-based)",
    ylabel: str = "global importance",
) -> Axes:
    """Importance of a motif along the sequence: a line with a shaded 95% CI band."""
    _need(df, [x, y] + ([hue] if hue else []))
    ax = _ax(ax, figsize=(5.5, 3))
    for gi, g, rows in _by_hue(df, hue):
        sub = rows.sort_values(x)
        xs = sub[x].to_numpy(float)
        ax.plot(xs, sub[y], color=f"C{gi}", marker=".", label=None if g is None else str(g))
        if low in sub.columns and high in sub.columns:
            ax.fill_between(xs, sub[low].to_numpy(float), sub[high].to_numpy(float), color=f"C{gi}", alpha=0.25,
                            lw=0)
    ax.axhline(0, color="grey", lw=0.8)
    if hue:
        ax.legend(title=hue, fontsize="small", frameon=False)
    return _finish(ax, xlabel, ylabel, title)


def _record_groups(rec: Mapping) -> dict[str, Any]:
    """Box-plot groups of a record written by ``to_record()`` (see :mod:`rbgia.records`)."""
    kind = rec.get("kind")
    if kind == "multiplicity":
        return {f"{c} cop{'y' if c == 1 else 'ies'}": r for c, r in enumerate(rec["copies"], 1)}
    if kind == "hairpin":
        return {HAIRPIN_LABELS[c]: rec[c] for c in HAIRPIN_CONDITIONS}
    if kind == "gc_bias":
        names = ("motif", "motif + GC 5'", "motif + GC 3'", "GC 5' alone", "GC 3' alone")
        return dict(zip(names, (rec["importance"][c] for c in GC_CONDITIONS)))
    if kind == "spacing":
        out = {} if rec["single"] is None else {spacing_label(rec["reference"]): rec["single"]}
        return out | {spacing_label(p["start_1"], p["start_2"], p["gap"]): p["importance"] for p in rec["pairs"]}
    return dict(rec)


_BOX_XLABELS = {"multiplicity": "motif copies", "spacing": "arrangement", "gc_bias": "embedding",
                "hairpin": "context", "Multiplicity": "motif copies", "Spacing": "arrangement", "GCBias": "embedding",
                "Hairpin": "context"}


def _box_stats(label: str, value: Any) -> tuple[dict, np.ndarray | None]:
    """matplotlib ``bxp`` statistics (whiskers at 2.5% / 97.5%, mean = global importance) and the points."""
    if isinstance(value, Mapping):
        summ = value.get("local", value)
        missing = [k for k in ("q025", "q25", "median", "q75", "q975") if summ.get(k) is None]
        if missing:
            raise DataError(f"group {label!r} lacks local-importance quantiles {missing}; pass a result or its record")
        mean = value.get("mean", summ.get("mean"))
        st = {"whislo": summ["q025"], "q1": summ["q25"], "med": summ["median"], "q3": summ["q75"],
              "whishi": summ["q975"], "mean": np.nan if mean is None else mean}
        return st | {"label": label, "fliers": []}, None
    v = np.asarray(getattr(value, "local", value), dtype=float).ravel()
    v = v[np.isfinite(v)]
    if not v.size:
        raise DataError(f"group {label!r} has no finite local importances; pass the result of a GIA experiment")
    lo, q1, med, q3, hi = np.quantile(v, list(QUANTILES.values()))
    return {"label": label, "whislo": lo, "q1": q1, "med": med, "q3": q3, "whishi": hi, "mean": v.mean(),
            "fliers": []}, v


def local_importance_boxplot(
    result: Any,
    ax: Axes | None = None,
    fit: bool = True,
    points: bool = False,
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str = "local importance",
) -> Axes:
    """Box plots of the local importance per condition (paper Fig 2b-2d, 3c, 4c).

    Boxes span the quartiles, whiskers the 2.5-97.5% quantiles; the line is the median and
    the green triangle the global importance (the mean, the paper's triangles).

    Parameters
    ----------
    result
        A :func:`~rbgia.experiments.multiplicity`, :func:`~rbgia.experiments.spacing`,
        :func:`~rbgia.experiments.gc_bias` or :func:`~rbgia.experiments.hairpin_context`
        result (its ``local_effects()``), such a result's ``to_record()`` (drawn from the
        stored quantiles), or a mapping ``label -> Importance``, array of local importances
        or importance record.
    fit
        For multiplicity: draw the 1..n line fit (its R² in the legend).
    points
        Overlay the local importances themselves (not available from records).
    """
    if hasattr(result, "local_effects"):
        groups = result.local_effects()
    elif isinstance(result, Mapping):
        groups = _record_groups(result)
    else:
        raise DataError(f"cannot draw {type(result).__name__}; pass a GIA experiment result, its record or a mapping")
    if not groups:
        raise DataError("nothing to draw: no conditions; pass a result with local importances")
    boxes = [_box_stats(str(label), value) for label, value in groups.items()]
    ax = _ax(ax, figsize=(max(3.5, 0.9 * len(boxes) + 1.5), 3.4))
    pos = np.arange(1, len(boxes) + 1)
    green = {"marker": "^", "markerfacecolor": "tab:green", "markeredgecolor": "tab:green", "markersize": 7}
    ax.bxp([b for b, _ in boxes], positions=pos, showmeans=True, meanprops=green, showfliers=False,
           medianprops={"color": "k"}, boxprops={"color": "0.3"}, widths=0.6)
    if points:
        rng = np.random.default_rng(0)  # jitter only
        for p, (_, v) in zip(pos, boxes):
            if v is not None:
                ax.scatter(p + rng.uniform(-0.15, 0.15, v.size), v, s=3, color="C0", alpha=0.3, lw=0, zorder=1)
    handles = [plt.Line2D([], [], color="k", label="median"),
               plt.Line2D([], [], ls="none", label="global importance", **green)]
    slope = getattr(result, "slope", None) if not isinstance(result, Mapping) else result.get("slope")
    intercept = getattr(result, "intercept", None) if not isinstance(result, Mapping) else result.get("intercept")
    r2 = getattr(result, "r2", None) if not isinstance(result, Mapping) else result.get("r2")
    if fit and slope is not None and intercept is not None and np.isfinite(slope) and np.isfinite(intercept):
        (line,) = ax.plot(pos, slope * pos + intercept, color="C3", lw=1.2,
                          label="linear fit" + ("" if r2 is None or not np.isfinite(r2) else f" (R² = {r2:.3f})"))
        handles.append(line)
    ax.axhline(0, color="grey", lw=0.8, ls="--")
    ax.set_xticks(pos, [b["label"] for b, _ in boxes], rotation=30 if len(boxes) > 3 else 0)
    low, high = ax.get_ylim()
    ax.set_ylim(low, high + 0.3 * (high - low))  # headroom: the legend sits above the boxes, not on them
    ax.legend(handles=handles, fontsize="small", frameon=False, loc="upper left", ncol=len(handles),
              handlelength=1.2, columnspacing=0.8)
    kind = result.get("kind") if isinstance(result, Mapping) else type(result).__name__
    return _finish(ax, xlabel or _BOX_XLABELS.get(str(kind), "condition"), ylabel, title)


_matches = kmer_matches  # the one matching rule lives in rbgia.motifs


def kmer_rank_plot(
    kmer_df: pd.DataFrame,
    top: int = 20,
    truth: str | Sequence[str] | None = None,
    max_mismatch: int = 0,
    ax: Axes | None = None,
    kmer: str = "kmer",
    y: str = "mean",
    low: str | None = "ci_low",
    high: str | None = "ci_high",
    title: str | None = None,
) -> Axes:
    """Top k-mers' global importances with CIs; k-mers matching ``truth`` highlighted.

    A k-mer matches a motif in ``truth`` when the shorter of the two fits inside the
    longer with at most ``max_mismatch`` mismatches. Rows are drawn in the order given
    (``kmer_scan`` sorts by mean, descending).
    """
    _need(kmer_df, [kmer, y])
    sub = kmer_df.head(top)
    motifs = [truth] if isinstance(truth, str) else list(truth or [])
    hit = np.array([any(_matches(k, m, max_mismatch) for m in motifs) for k in sub[kmer]], dtype=bool)
    ax = _ax(ax, figsize=(max(4.0, 0.3 * len(sub) + 1.5), 3.2))
    pos = np.arange(len(sub))
    colors = np.where(hit, "C3", "C0")
    ax.bar(pos, sub[y], yerr=_errbars(sub, y, low, high), capsize=2, color=colors)
    ax.set_xticks(pos, list(sub[kmer]), rotation=90, family="monospace")
    for lab, h in zip(ax.get_xticklabels(), hit):
        if h:
            lab.set_color("C3")
    if motifs:
        from matplotlib.patches import Patch  # noqa: PLC0415

        ax.legend([Patch(color="C3"), Patch(color="C0")], [f"matches {', '.join(motifs)}", "other"],
                  fontsize="small", frameon=False)
    ax.axhline(0, color="grey", lw=0.8)
    return _finish(ax, "k-mer", "global importance", title)


def hist(
    values: np.ndarray,
    ax: Axes | None = None,
    xlabel: str = "value",
    ylabel: str = "count",
    bins: int | Sequence[float] = 30,
    title: str | None = None,
    vline: float | None = None,
    annotate: bool = True,
    vline_label: str | None = None,
) -> Axes:
    """Histogram of counts (e.g. R² across experiments, GC-bias effect sizes): integer count ticks, the median and
    n in the title, off the bars and the reference line; ``vline_label`` names the dashed line under the x label
    (default: its value), where no bar can hide it."""
    from matplotlib.ticker import MaxNLocator

    v = np.asarray(values, float).ravel()
    v = v[np.isfinite(v)]
    ax = _ax(ax, figsize=(4, 3))
    ax.hist(v, bins=bins, color="C0", edgecolor="white", lw=0.5)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no 0.25-step ticks
    if vline is not None:
        ax.axvline(vline, color="grey", ls="--", lw=1)
        xlabel = f"{xlabel}\n" + (f"dashed: {vline_label}" if vline_label else f"dashed line at {vline:g}")
    if annotate and v.size:
        note = f"median {np.median(v):.3g}, n = {v.size}"
        title = f"{title}\n{note}" if title else note
    return _finish(ax, xlabel, ylabel, title)


def ci_vs_n(
    df: pd.DataFrame,
    n: str = "n",
    low: str = "ci_low",
    high: str = "ci_high",
    hue: str | None = None,
    ax: Axes | None = None,
    reference: bool = True,
    title: str | None = None,
) -> Axes:
    """Width of the 95% CI against the number of background sequences (log-log).

    Rows with the same ``n`` (and ``hue``) are averaged; a dashed ``1/sqrt(n)`` line,
    anchored at the smallest ``n``, shows the expected shrinkage. The x axis is
    labelled at the ``n`` values themselves (up to 8 of them, else at the decades);
    minor ticks stay unlabelled so that their labels cannot overlap.
    """
    _need(df, [n, low, high] + ([hue] if hue else []))
    d = df.assign(_width=df[high].astype(float) - df[low].astype(float))
    ax = _ax(ax, figsize=(4, 3.2))
    groups = list(pd.unique(d[hue])) if hue else [None]
    for gi, g in enumerate(groups):
        sub = d if g is None else d[d[hue] == g]
        agg = sub.groupby(n)["_width"].mean().sort_index()
        ns = agg.index.to_numpy(float)
        ax.plot(ns, agg.to_numpy(), marker="o", color=f"C{gi}", label=None if g is None else str(g))
        if reference and g is None and len(ns):
            ax.plot(ns, agg.iloc[0] * np.sqrt(ns[0] / ns), color="grey", ls="--", lw=1, label="∝ 1/√n")
    ax.set_xscale("log")
    ax.set_yscale("log")
    # A log axis spanning less than a few decades labels its minor ticks (30, 40, ...),
    # and those labels collide: label the n values (or the decades) only.
    ticks = np.unique(d[n].to_numpy(float))
    if 0 < len(ticks) <= 8:
        ax.xaxis.set_major_locator(mticker.FixedLocator(ticks))
        ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(mticker.NullFormatter())
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small", frameon=False)
    return _finish(ax, "background sequences", "95% CI width", title)


def kd_regression(
    gia_values: np.ndarray,
    ln_kd: np.ndarray,
    labels: Sequence[str] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    xlabel: str = "global importance",
    ylabel: str = "ln Kd",
) -> Axes:
    """Global importance vs measured ln Kd (paper Fig 2f): points, fit line, R² and p."""
    x, y = np.asarray(gia_values, float).ravel(), np.asarray(ln_kd, float).ravel()
    fit = linear_fit(x, y)
    ax = _ax(ax, figsize=(4, 3.4))
    ax.scatter(x, y, color="C0", zorder=3)
    grid = np.linspace(x.min(), x.max(), 50)
    ax.plot(grid, fit["slope"] * grid + fit["intercept"], color="C3", lw=1.5)
    if labels is not None:
        if len(labels) != x.size:
            raise DataError(f"{len(labels)} labels for {x.size} points; pass one label per point")
        for xi, yi, lab in zip(x, y, labels):
            ax.annotate(str(lab), (xi, yi), xytext=(3, 3), textcoords="offset points", fontsize="small",
                        family="monospace")
    ax.text(0.97, 0.97, f"R² = {fit['r2']:.3f}\np = {fit['p']:.2g}", transform=ax.transAxes, ha="right", va="top")
    return _finish(ax, xlabel, ylabel, title)


# --------------------------------------------------------------------------- the book's style

BOOK_RC: dict[str, object] = {
    "figure.figsize": (6.2, 3.9),  # 682 px at 110 dpi: fits the 688 px content column unscaled
    "figure.dpi": 110,
    "savefig.dpi": "figure",
    "figure.autolayout": True,  # tight layout at draw time: labels do not run into each other
    "font.size": 10,  # "small" = 8.3 pt; 8 pt nominal shows as ~9 pt at 110 dpi on a 96 dpi page
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "figure.titlesize": 12,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


FONT_KEY = "rbgia:min-font-pt"  # PNG text chunk: the smallest drawn font, in points at nominal size
DPI_KEY = "rbgia:dpi"  # PNG text chunk: the figure's pixels per inch


def drawn_texts(fig: Figure) -> list[Any]:
    """The text artists that are drawn: titles, labels, annotations, and tick labels inside the view."""
    from matplotlib.axis import Axis
    from matplotlib.text import Text

    fig.canvas.draw()  # ticks and their labels are laid out at draw time
    tick_labels: set[int] = set()
    shown: list[Any] = []
    for axis in fig.findobj(Axis):
        low, high = sorted(axis.get_view_interval())
        tol = (high - low) * 1e-9
        for tick in axis.get_major_ticks() + axis.get_minor_ticks():
            inside = low - tol <= tick.get_loc() <= high + tol
            for label in (tick.label1, tick.label2):
                tick_labels.add(id(label))
                if inside and tick.get_visible():
                    shown.append(label)
    shown += [t for t in fig.findobj(Text) if id(t) not in tick_labels]
    return [t for t in shown if t.get_visible() and t.get_text().strip() and t.figure is not None]


def png_metadata(fig: Figure) -> dict[str, str]:
    """PNG text chunks that let the rendered site check a figure's text size (:data:`FONT_KEY`, :data:`DPI_KEY`).

    Empty for a figure without text. A point of text shows on the page as ``dpi / 96`` points,
    times the shrink of the image to its column: the site check reads both.
    """
    sizes = [t.get_fontsize() for t in drawn_texts(fig)]
    return {FONT_KEY: f"{min(sizes):g}", DPI_KEY: f"{fig.dpi:g}"} if sizes else {}


def _stamp_inline_pngs() -> None:
    """Have IPython's PNG of every figure carry :func:`png_metadata` (a no-op outside IPython)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    formatter = shell.display_formatter.formatters["image/png"]
    try:
        plain = formatter.lookup_by_type(Figure)
    except KeyError:
        return
    if getattr(plain, "rbgia_stamped", False):
        return

    def stamped(fig: Figure) -> Any:
        return plain(fig, metadata=png_metadata(fig))

    stamped.rbgia_stamped = True  # type: ignore[attr-defined]
    formatter.for_type(Figure, stamped)


def book_style(**overrides: object) -> dict[str, object]:
    """Apply the book's matplotlib settings (fonts >= 8 pt at display size, 6.2 in wide, 110 dpi).

    Chapters call it once after their imports; ``overrides`` are rcParams that win over
    :data:`BOOK_RC`. Returns the settings applied. ``rbgia.chapters.report.check_figure`` checks a figure;
    in a notebook each figure's PNG also carries :func:`png_metadata`, which the site check reads.
    """
    import matplotlib as mpl

    rc = {**BOOK_RC, **overrides}
    mpl.rcParams.update(rc)
    plt.close(plt.figure())  # the inline backend registers its PNG formatter when it loads
    _stamp_inline_pngs()
    return rc

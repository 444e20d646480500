"""Motif experiments of the paper: mutagenesis, multiplicity, spacing, position, GC bias, hairpins."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .embedding import merge_copies, pattern_rows
from .errors import PatternError
from .scan import _codes_to_str, _scan_local, _str_to_codes
from .session import GIA, UNSET, session
from .stats import Importance, importance, rows, summary
from .stemloop import PAPER_PARTNER, PAPER_STEM


@dataclass(frozen=True, eq=False)
class MotifMutagenesis:
    """Result of :func:`motif_mutagenesis`.

    Attributes
    ----------
    kmer
        The wild-type k-mer.
    importance, ci_low, ci_high
        ``(k, 4)`` global importance (and 95% CI) of every single-nucleotide
        variant; the wild-type entries hold the k-mer's own importance.
    delta
        ``(k, 4)`` importance minus the wild type's (0 at the wild type).
    l2
        ``(k,)`` per-position L2 norm of ``delta`` (logo heights).
    """

    kmer: str
    importance: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    delta: np.ndarray
    l2: np.ndarray


def motif_mutagenesis(
    predict: Any,
    background: np.ndarray | None,
    kmer: str,
    start: int = 17,
    *,
    task: int | None = UNSET,
    batch_size: int | None = UNSET,
) -> MotifMutagenesis:
    """Global importance of every single-nucleotide variant of ``kmer`` at ``start``.

    The wild type and its ``3k`` variants go through the model in one batched pass.
    """
    g = session(predict, background, task, batch_size)
    wt = _str_to_codes([kmer])[0]
    k = len(wt)
    pos, base = np.divmod(np.arange(4 * k), 4)
    variant = base != wt[pos]
    codes = np.repeat(wt[None], 1 + variant.sum(), axis=0)
    codes[np.arange(1, len(codes)), pos[variant]] = base[variant]
    s = summary(_scan_local(g, codes, int(start)))
    grid = {}
    for key in ("mean", "ci_low", "ci_high"):
        m = np.empty(4 * k)
        m[~variant] = s[key][0]
        m[variant] = s[key][1:]
        grid[key] = m.reshape(k, 4)
    delta = grid["mean"] - s["mean"][0]
    return MotifMutagenesis(
        kmer=_codes_to_str(wt[None])[0],
        importance=grid["mean"],
        ci_low=grid["ci_low"],
        ci_high=grid["ci_high"],
        delta=delta,
        l2=np.sqrt((delta**2).sum(1)),
    )




@dataclass(frozen=True, eq=False)
class Multiplicity:
    """Result of :func:`multiplicity`.

    Attributes
    ----------
    table
        ``count``, ``starts``, ``mean``, ``ci_low``, ``ci_high``, ``pvalue``, ``n``.
    r2, slope, intercept
        Least-squares fit (``scipy.stats.linregress``) of global importance on count.
    include_origin
        Whether the point (0 copies, importance 0) was part of the fit.
    """

    table: pd.DataFrame
    r2: float
    slope: float
    intercept: float
    include_origin: bool


def multiplicity(
    predict: Any,
    background: np.ndarray | None,
    motif: str,
    starts: Sequence[int] = (4, 12, 20),
    *,
    include_origin: bool = False,
    task: int | None = UNSET,
    batch_size: int | None = UNSET,
) -> Multiplicity:
    """Global importance of 1..n copies of ``motif`` at the first ``count`` starts.

    The paper (RBFOX1, UGCAUG) embeds 1, 2, 3 copies at starts 4, 12, 20 and fits
    a line to the importance of 1..3 copies: that is the default
    (``include_origin=False``). ``include_origin=True`` adds the exact point
    (0 copies, 0 importance), which tests proportionality rather than linearity.
    With two copies and no origin the fit is exact (R^2 = 1) by construction; a
    flat response (equal importances) has no defined R^2 (NaN).
    """
    g = session(predict, background, task, batch_size)
    starts = [int(s) for s in starts]
    if not starts:
        raise PatternError("no starts given; pass e.g. starts=(4, 12, 20)")
    configs = [merge_copies(motif, starts[:c]) for c in range(1, len(starts) + 1)]
    imps = g.importances(configs)
    counts = np.arange(1, len(starts) + 1)
    table = pd.DataFrame({"count": counts, "starts": [tuple(starts[:c]) for c in counts]} | rows(imps))
    xs, ys = counts.astype(float), table["mean"].to_numpy(dtype=float)
    if include_origin:
        xs, ys = np.r_[0.0, xs], np.r_[0.0, ys]
    if len(xs) < 2:
        r2 = slope = intercept = float("nan")
    else:
        fit = stats.linregress(xs, ys)
        r2, slope, intercept = float(fit.rvalue**2), float(fit.slope), float(fit.intercept)
    return Multiplicity(table, r2, slope, intercept, include_origin)


def spacing(
    predict: Any,
    background: np.ndarray | None,
    motif: str,
    pairs_of_starts: Sequence[tuple[int, int]] = ((16, 20), (15, 21), (13, 22)),
    reference: int | None = 17,
    *,
    on_conflict: str = "raise",
    task: int | None = UNSET,
    batch_size: int | None = UNSET,
) -> pd.DataFrame:
    """Two copies of ``motif`` at each pair of starts, and one copy at ``reference``.

    Overlapping copies are merged when their shared letters agree (UGCAUG at 16
    and 20 gives UGCAUGCAUG). ``gap`` = second start - first start - k: negative
    for overlaps, 0 for adjacent copies; NA for the single reference copy.

    Parameters
    ----------
    on_conflict
        What to do with a pair whose overlapping copies disagree (UGCAUG at 16 and
        18 would need both C and U at 18): ``"raise"`` a
        :class:`~rbgia.errors.PatternError`, or ``"skip"`` the pair. Skipped pairs
        are listed (sorted starts) in ``df.attrs["skipped"]``, which is empty
        when none were.

    Returns
    -------
    pandas.DataFrame
        ``start_1``, ``start_2``, ``gap``, ``mean``, ``ci_low``, ``ci_high``,
        ``pvalue``, ``n``, and ``ratio`` (mean / reference mean, when given).
    """
    if on_conflict not in ("raise", "skip"):
        raise PatternError(f"on_conflict={on_conflict!r} is not an option; pass 'raise' or 'skip'")
    g = session(predict, background, task, batch_size)
    k = len(motif)
    pairs, configs, skipped = [], [], []
    for pair in pairs_of_starts:
        starts = tuple(sorted(int(s) for s in pair))
        try:
            configs.append(merge_copies(motif, starts))
        except PatternError:
            if on_conflict == "raise":
                raise
            skipped.append(starts)
            continue
        pairs.append(starts)
    first = [p[0] for p in pairs]
    second: list = [p[1] for p in pairs]
    gaps: list = [p[1] - p[0] - k for p in pairs]
    if reference is not None:
        configs.append([(motif, int(reference))])
        first.append(int(reference))
        second.append(pd.NA)
        gaps.append(pd.NA)
    imps = g.importances(configs)
    df = pd.DataFrame(
        {
            "start_1": first,
            "start_2": pd.array(second, dtype="Int64"),
            "gap": pd.array(gaps, dtype="Int64"),
        }
        | rows(imps)
    )
    if reference is not None:
        df["ratio"] = df["mean"] / imps[-1].mean
    df.attrs["skipped"] = skipped
    return df


def positional_scan(
    predict: Any,
    background: np.ndarray | None,
    motif: str,
    starts: Sequence[int] | None = None,
    *,
    task: int | None = UNSET,
    batch_size: int | None = UNSET,
) -> pd.DataFrame:
    """Global importance of ``motif`` at every start (default: 0..L-k).

    Returns
    -------
    pandas.DataFrame
        ``start``, ``mean``, ``ci_low``, ``ci_high``, ``pvalue``, ``n``.
    """
    g = session(predict, background, task, batch_size)
    k = pattern_rows(motif)[0].shape[0]
    starts = list(range(g.length - k + 1)) if starts is None else [int(s) for s in starts]
    imps = g.importances([(motif, s) for s in starts])
    return pd.DataFrame({"start": starts} | rows(imps))


@dataclass(frozen=True, eq=False)
class GCBias:
    """Result of :func:`gc_bias`.

    Attributes
    ----------
    motif, motif_gc5, motif_gc3, gc3
        Importances of the motif alone, with the GC pattern at the 5' / 3' start,
        and of the GC pattern alone at the 3' start (control).
    effect5, effect3
        ``motif_gc5.mean / motif.mean`` and ``motif_gc3.mean / motif.mean``; NaN
        (as are the CIs and ``diff``) when ``motif.mean`` is exactly 0.
    effect5_ci, effect3_ci, diff, diff_ci
        Paired-bootstrap 95% CIs of the effects, and of ``effect5 - effect3``.
    """

    motif: Importance
    motif_gc5: Importance
    motif_gc3: Importance
    gc3: Importance
    effect5: float
    effect5_ci: tuple[float, float]
    effect3: float
    effect3_ci: tuple[float, float]
    diff: float
    diff_ci: tuple[float, float]


def gc_bias(
    predict: Any,
    background: np.ndarray | None,
    motif: str,
    motif_start: int = 17,
    gc_motif: str = "GCGCGC",
    gc_starts: tuple[int, int] = (2, 34),
    *,
    n_boot: int = 2000,
    seed: int | np.random.Generator | None = 0,
    task: int | None = UNSET,
    batch_size: int | None = UNSET,
) -> GCBias:
    """The paper's GC-bias test (Fig 4): does a GC-rich flank change the motif's effect?

    Effect size = importance(motif + GC at the 5' or 3' start) / importance(motif).
    CIs resample the backgrounds (paired: all four embeddings share each draw).
    The effect sizes, their difference and CIs are NaN when the motif alone has an
    importance of exactly 0 (e.g. a null predictor): the ratio is undefined.
    """
    g = session(predict, background, task, batch_size)
    m = (motif, int(motif_start))
    configs = [[m], [m, (gc_motif, int(gc_starts[0]))], [m, (gc_motif, int(gc_starts[1]))], [(gc_motif, int(gc_starts[1]))]]
    local = g.local(configs)
    imps = [importance(row) for row in local]
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, g.n, size=(int(n_boot), g.n))
    boot = np.stack([row[idx].mean(1) for row in local[:3]])  # (3, B)

    def ratio(num: np.ndarray | float, den: np.ndarray | float) -> np.ndarray:
        # a zero denominator (a null predictor) makes the ratio undefined: NaN, not inf
        num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den == 0, np.nan, num / den)

    e5, e3 = ratio(boot[1], boot[0]), ratio(boot[2], boot[0])
    effect5, effect3 = ratio(imps[1].mean, imps[0].mean), ratio(imps[2].mean, imps[0].mean)

    def ci(v: np.ndarray) -> tuple[float, float]:
        v = v[np.isfinite(v)]
        if not v.size:
            return float("nan"), float("nan")
        lo, hi = np.percentile(v, [2.5, 97.5])
        return float(lo), float(hi)

    return GCBias(
        motif=imps[0], motif_gc5=imps[1], motif_gc3=imps[2], gc3=imps[3],
        effect5=float(effect5), effect5_ci=ci(e5),
        effect3=float(effect3), effect3_ci=ci(e3),
        diff=float(effect5 - effect3), diff_ci=ci(e5 - e3),
    )


def hairpin_context(
    predict: Any,
    background: np.ndarray | None,
    motif: str,
    loop_start: int,
    stem_start: int,
    stem: tuple[int, int] = PAPER_STEM,
    partner: tuple[int, int] = PAPER_PARTNER,
    *,
    recompute_structure: bool | str | None = None,
    task: int | None = UNSET,
    batch_size: int | None = UNSET,
) -> pd.DataFrame:
    """Motif in the loop vs in the stem of stem-loop backgrounds, and at the same
    positions in the unstructured backgrounds (paper: VTS1, GCUGG / GCUGGC).

    Stem-loop backgrounds are made with :func:`stem_loop_background`; after
    embedding, the pairing is re-imposed, so a motif in the stem gets a
    complementary partner (it stays paired). Each row's importance is relative
    to its own background: ``f(stem-loop + motif) - f(stem-loop)``.
    For a model with structure inputs pass ``recompute_structure`` (``True`` when
    the background carries the channels, else ``"pu"``/``"phime"``; ``None``
    keeps a given GIA's setting, else off).

    Returns
    -------
    pandas.DataFrame
        ``context`` (``stem-loop`` / ``unstructured``), ``position`` (``loop`` /
        ``stem``), ``start``, ``mean``, ``ci_low``, ``ci_high``, ``pvalue``, ``n``,
        and ``baseline_mean`` (mean prediction on that background).
    """
    flat = session(predict, background, task, batch_size, recompute_structure=recompute_structure)
    hairpin = GIA(flat.predict, flat.background, task=flat.predict.task, stem_loop=(stem, partner),
                  recompute_structure=flat.recompute_structure, chunk_size=flat.chunk_size)
    configs = [[(motif, int(loop_start))], [(motif, int(stem_start))]]
    imps = hairpin.importances(configs) + flat.importances(configs)
    return pd.DataFrame(
        {
            "context": ["stem-loop", "stem-loop", "unstructured", "unstructured"],
            "position": ["loop", "stem", "loop", "stem"],
            "start": [int(loop_start), int(stem_start)] * 2,
        }
        | rows(imps)
        | {"baseline_mean": [float(hairpin.baseline.mean())] * 2 + [float(flat.baseline.mean())] * 2}
    )


__all__ = [
    "GCBias",
    "MotifMutagenesis",
    "Multiplicity",
    "gc_bias",
    "hairpin_context",
    "motif_mutagenesis",
    "multiplicity",
    "positional_scan",
    "spacing",
]

"""Motif experiments of the paper: mutagenesis, multiplicity, spacing and position (GC bias:
:mod:`rbgia.gcbias`; hairpins: :mod:`rbgia.hairpin`).

Every experiment takes a :class:`~rbgia.session.GIA` session first
(``multiplicity(GIA(model, background), "UGCAUG")``); a session passed in is never modified.

Each result keeps the per-background local importances (``Importance.local``) so that
the paper's box plots can be drawn (:func:`rbgia.plotting.local_importance_boxplot`),
states its verdict with the rule and the statistics behind it (:mod:`rbgia.verdicts`), and gives
a JSON-ready record through ``to_record()`` (keys in :data:`rbgia.records.SCHEMAS`). Default
positions follow the paper's text (:mod:`rbgia.paper`). CIs of derived statistics (ratios,
interactions) are percentile intervals over paired bootstrap resamples of the backgrounds
(:func:`rbgia.stats.bootstrap_means`); their p-values are paired t-tests of the per-background
values (:func:`contrast`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import paper
from . import verdicts as rules
from .embedding import additive_parts, codes_to_kmers, kmer_codes, merge_copies, pattern_rows
from .errors import PatternError
from .records import make_record
from .scan import kmer_local
from .sequence import check_seed, clean
from .session import GIA, require_session, warn_untestable
from .stats import (
    Estimate,
    Importance,
    bootstrap_means,
    importance,
    linear_fit,
    paired_estimate,
    percentile_ci,
    rows,
    safe_ratio,
    summary,
)
from .verdicts import ALPHA, TOLERANCE, Effect

N_BOOT = 2000
UNEQUAL = rules.UNEQUAL  # the copies add, but weigh differently at their starts
_NAN = float("nan")


def contrast(session: GIA, local: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    """Per-background ``sum(weight x row)`` of local importances ``(P, N)``, round-off set to exactly 0.

    The round-off scale is the model's output resolution (:attr:`rbgia.inference.Predictor.eps`) times
    the magnitude of the predictions involved: an exactly additive model gives interactions of
    exactly 0 whatever its dtype (:func:`rbgia.verdicts.without_roundoff`).
    """
    w = np.asarray(weights, dtype=float)[:, None]
    scale = np.abs(w).sum() * np.abs(session.baseline) + (np.abs(w) * np.abs(local)).sum(0)
    return rules.without_roundoff((w * local).sum(0), scale, session.predict.eps)


def contrast_estimate(session: GIA, local: np.ndarray, weights: Sequence[float], boot: np.ndarray) -> Estimate:
    """:func:`contrast` as an :class:`~rbgia.stats.Estimate`: its mean, the percentile CI of the same
    weights over the paired bootstrap means ``boot`` (rows as ``local``), and its paired t-test."""
    per = contrast(session, local, weights)
    draws = (np.asarray(weights, dtype=float)[:, None] * boot).sum(0)
    return paired_estimate(per.mean(), draws, per)


# --------------------------------------------------------------------------- motif mutagenesis
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
    start
        0-based start of the k-mer.
    wild_type
        The wild type's :class:`~rbgia.stats.Importance` (with its local importances).
    local
        ``(k, 4, n)`` local importances of every variant (wild-type entries: the wild type's).
    """

    kmer: str
    importance: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    delta: np.ndarray
    l2: np.ndarray
    start: int = paper.MOTIF_START
    wild_type: Importance | None = None
    local: np.ndarray | None = field(default=None, repr=False)

    def to_record(self) -> dict:
        """Record of kind ``mutagenesis`` (matrices as nested lists; the wild type's local summary)."""
        return make_record("mutagenesis", kmer=self.kmer, start=self.start, wild_type=self.wild_type,
                           importance=self.importance, ci_low=self.ci_low, ci_high=self.ci_high, delta=self.delta,
                           l2=self.l2)


def motif_mutagenesis(session: GIA, kmer: str, start: int = paper.MOTIF_START) -> MotifMutagenesis:
    """Global importance of every single-nucleotide variant of ``kmer`` at ``start`` (paper Fig 2e, 3b).

    The wild type and its ``3k`` variants go through the model in one batched pass.
    """
    session = require_session(session, "motif_mutagenesis")
    wt = kmer_codes([kmer])[0]
    k = len(wt)
    pos, base = np.divmod(np.arange(4 * k), 4)
    variant = base != wt[pos]
    codes = np.repeat(wt[None], 1 + variant.sum(), axis=0)
    codes[np.arange(1, len(codes)), pos[variant]] = base[variant]
    local = kmer_local(session, codes, int(start))
    warn_untestable(session.n, "motif_mutagenesis")
    s = summary(local)
    grid = {}
    for key in ("mean", "ci_low", "ci_high"):
        m = np.empty(4 * k)
        m[~variant] = s[key][0]
        m[variant] = s[key][1:]
        grid[key] = m.reshape(k, 4)
    full = np.empty((4 * k, local.shape[1]))
    full[~variant] = local[0]
    full[variant] = local[1:]
    delta = grid["mean"] - s["mean"][0]
    return MotifMutagenesis(
        kmer=codes_to_kmers(wt[None])[0],
        importance=grid["mean"],
        ci_low=grid["ci_low"],
        ci_high=grid["ci_high"],
        delta=delta,
        l2=np.sqrt((delta**2).sum(1)),
        start=int(start),
        wild_type=importance(local[0]),
        local=full.reshape(k, 4, -1),
    )


# --------------------------------------------------------------------------- multiplicity
@dataclass(frozen=True, eq=False)
class Multiplicity:
    """Result of :func:`multiplicity`.

    Attributes
    ----------
    table
        ``count``, ``starts``, ``mean``, ``ci_low``, ``ci_high``, ``pvalue``, ``n``.
    r2, slope, intercept
        Least-squares fit (:func:`rbgia.stats.linear_fit`) of global importance on
        count 1..n (NaN R² with 2 counts: exact by construction).
    include_origin
        Whether the point (0 copies, importance 0) was part of that fit.
    motif, starts
        The motif and the 0-based starts of its copies.
    importances
        One :class:`~rbgia.stats.Importance` per count (local importances kept).
    origin_slope, origin_r2
        Fit through the origin (importance = slope x count; uncentred R²).
    ratio
        The paper's statistic: importance of n copies / 1 copy with its paired-bootstrap 95% CI
        (additive copies of equal weight: n).
    vs_additive
        n copies / the sum of each copy alone at its start (additive: 1), with its CI; its
        ``pvalue`` tests the per-background departure (the copies' interaction) against 0.
    verdict, rule
        ``"additive"``, ``"additive, unequal copies"``, ``"sub-additive"``, ``"super-additive"``,
        ``"no effect"`` or ``"undetermined"``, and the rule as applied, in words with the numbers.
    effect
        Whether the motif has an effect at all (:func:`rbgia.verdicts.motif_effect`).
    tolerance, alpha
        The equivalence band and the significance level of the verdict.
    """

    table: pd.DataFrame
    r2: float
    slope: float
    intercept: float
    include_origin: bool
    motif: str = ""
    starts: tuple[int, ...] = ()
    importances: tuple[Importance, ...] = field(default=(), repr=False)
    origin_slope: float = _NAN
    origin_r2: float = _NAN
    ratio: Estimate = Estimate(_NAN, _NAN, _NAN)
    verdict: str = rules.UNDETERMINED
    rule: str = ""
    effect: Effect | None = None
    tolerance: float = TOLERANCE
    alpha: float = ALPHA
    vs_additive: Estimate = Estimate(_NAN, _NAN, _NAN)

    @property
    def local(self) -> np.ndarray:
        """``(n_counts, n)`` local importances (row c: c + 1 copies)."""
        return np.stack([imp.local for imp in self.importances])

    def local_effects(self) -> dict[str, Importance]:
        """Box-plot groups: ``"1 copy"``, ``"2 copies"``, ..."""
        return {f"{c} cop{'y' if c == 1 else 'ies'}": imp for c, imp in enumerate(self.importances, 1)}

    def to_record(self) -> dict:
        """Record of kind ``multiplicity``; ``copies`` lists each count's importance record."""
        return make_record("multiplicity", motif=self.motif, starts=self.starts, include_origin=self.include_origin,
                           copies=self.importances, r2=self.r2, slope=self.slope, intercept=self.intercept,
                           origin_slope=self.origin_slope, origin_r2=self.origin_r2, ratio=self.ratio,
                           vs_additive=self.vs_additive, verdict=self.verdict, rule=self.rule,
                           tolerance=self.tolerance, alpha=self.alpha, motif_effect=self.effect)


def _vs_parts(session: GIA, combined: np.ndarray, parts: np.ndarray, weights: Sequence[float], n_boot: int,
              seed: Any) -> Estimate:
    """``combined / sum(weight x part)`` over the backgrounds (additive: 1) with its paired-bootstrap CI and the
    paired t-test of the per-background departure ``combined - sum(weight x part)`` (exactly 0 for a model
    that adds one effect per position)."""
    local = np.vstack([combined[None], parts])
    w = np.asarray(weights, dtype=float)
    boot = bootstrap_means(local, n_boot=n_boot, seed=seed)
    expected = w @ boot[1:]
    lo, hi = percentile_ci(safe_ratio(boot[0], expected))
    departure = contrast(session, local, (1.0, *(-w)))
    return Estimate(float(safe_ratio(combined.mean(), w @ parts.mean(1))), lo, hi, importance(departure).pvalue)


def _paper_ratio(local: np.ndarray, copies: float, n_boot: int, seed: Any) -> Estimate:
    """The paper's ``row 1 / row 0`` (n copies over one copy), scaled by ``copies`` being its additive value,
    with its paired-bootstrap CI (no p-value: the verdict tests copies against their parts)."""
    boot = bootstrap_means(local, n_boot=n_boot, seed=seed)
    lo, hi = percentile_ci(safe_ratio(boot[1], boot[0]))
    return Estimate(float(safe_ratio(local[1].mean(), local[0].mean())), lo, hi)


def _multiplicity_verdict(session: GIA, vs: Estimate, ratio: Estimate, n: int, effect: Effect, tolerance: float,
                          alpha: float) -> tuple[str, str]:
    few = rules.too_few(session.n, "multiplicity", stacklevel=4)
    if few or n == 1:
        return rules.UNDETERMINED, few or "one start: nothing to compare the single copy with"
    verdict, rule = rules.ratio(vs, 1.0, vs.pvalue, effect, ("sub-additive", "additive", "super-additive"),
                                tolerance=tolerance, alpha=alpha, unit=n)
    if verdict != "additive" or ratio.ci_low <= n <= ratio.ci_high:
        return verdict, rule
    # the copies add, but n copies are not n times one copy: never "additive" when that CI excludes n
    paper_ci = f"{n} copies / one copy is {ratio.mean:.3g} (95% CI {ratio.ci_low:.3g} to {ratio.ci_high:.3g})"
    if abs(ratio.mean - n) >= rules.MIN_EFFECT:
        return UNEQUAL, f"{rule}; but {paper_ci}: the copies weigh unequally at their starts"
    return rules.UNDETERMINED, f"{rule}; but {paper_ci}, which misses {n} by less than the minimum effect"


def multiplicity(
    session: GIA,
    motif: str,
    starts: Sequence[int] = paper.MULTIPLICITY_STARTS,
    *,
    include_origin: bool = False,
    tolerance: float = TOLERANCE,
    alpha: float = ALPHA,
    n_boot: int = N_BOOT,
    seed: int | np.random.Generator | None = 0,
) -> Multiplicity:
    """Global importance of 1..n copies of ``motif`` at the first ``count`` starts (paper Fig 2b, 2c, 2g).

    Default starts are the paper text's (1-based 4-9, 11-16, 18-23); the public code's are
    :data:`rbgia.paper.PUBLIC_CODE_MULTIPLICITY_STARTS`. A line is fitted to 1..n copies
    (``include_origin=True`` adds (0, 0)); ``ratio`` is the paper's n copies / one copy. The verdict
    compares the n copies with the sum of each copy alone at its start (``vs_additive``, additive: 1),
    by the rules of :mod:`rbgia.verdicts`: ``"no effect"`` unless the motif has an effect;
    ``"sub-additive"`` / ``"super-additive"`` when the copies interact (the CI excludes 1, the departure
    test gives p < ``alpha``, the departure is at least the minimum effect); ``"additive"`` when the
    CI lies inside ``1 -/+ tolerance`` and ``ratio``'s inside ``n x (1 -/+ tolerance)``; ``"additive,
    unequal copies"`` when the copies add but weigh differently at their starts (``ratio``'s CI is off
    ``n``); ``"undetermined"`` otherwise. ``rule`` states the case with its numbers.
    """
    session = require_session(session, "multiplicity")
    check_seed(seed)  # before any model call
    starts = tuple(int(s) for s in starts)
    if not starts:
        raise PatternError("no starts given; pass e.g. starts=rbgia.paper.MULTIPLICITY_STARTS")
    parts = additive_parts(motif, starts)
    configs = [merge_copies(motif, starts[:c]) for c in range(1, len(starts) + 1)]
    local = session.local(configs + [patterns for _, patterns in parts[1:]])  # parts[0] is one copy, row 0
    copies, singles = local[: len(starts)], np.vstack([local[:1], local[len(starts):]])
    imps = tuple(importance(row) for row in copies)
    counts = np.arange(1, len(starts) + 1)
    table = pd.DataFrame({"count": counts, "starts": [starts[:c] for c in counts]} | rows(imps))
    xs, ys = counts.astype(float), table["mean"].to_numpy(dtype=float)
    fit = linear_fit(np.r_[0.0, xs], np.r_[0.0, ys]) if include_origin else linear_fit(xs, ys)
    origin = linear_fit(xs, ys, through_origin=True)
    ratio = _paper_ratio(copies[[0, -1]], float(len(starts)), n_boot, seed)
    vs = _vs_parts(session, copies[-1], singles, [w for w, _ in parts], n_boot, seed)
    effect = rules.motif_effect([imps[0], imps[-1]], rules.prediction_sd(session.baseline))
    verdict, rule = _multiplicity_verdict(session, vs, ratio, len(starts), effect, tolerance, alpha)
    return Multiplicity(table, fit.r2, fit.slope, fit.intercept, include_origin, motif=str(motif).upper(),
                        starts=starts, importances=imps, origin_slope=origin.slope, origin_r2=origin.r2, ratio=ratio,
                        verdict=verdict, rule=rule, effect=effect, tolerance=float(tolerance), alpha=float(alpha),
                        vs_additive=vs)


# --------------------------------------------------------------------------- spacing
@dataclass(frozen=True, eq=False)
class Spacing:
    """Result of :func:`spacing`.

    Attributes
    ----------
    table
        ``start_1``, ``start_2``, ``gap``, ``mean``, ``ci_low``, ``ci_high``, ``pvalue``,
        ``n``; with a reference also ``ratio`` (mean / single copy: the paper's), ``vs_additive``
        (mean / the two copies alone) with ``vs_additive_ci_low`` / ``_high``,
        ``departure_p`` and ``verdict``. The single copy is the last row (``start_2``, ``gap``
        NA). ``table.attrs["skipped"]`` = ``skipped``.
    importances
        One :class:`~rbgia.stats.Importance` per pair (local importances kept).
    single
        The single copy's importance (``None`` without a reference).
    pairs
        The pairs' sorted starts, in table order.
    vs_additive
        One :class:`~rbgia.stats.Estimate` per pair: the pair / its two copies alone at their starts
        (less the letters they share), paired bootstrap CI; its ``pvalue`` tests the departure (the
        copies' interaction) against 0. (The paper's statistic, pair / single copy at the reference,
        is the table's ``ratio``.)
    verdicts, rules
        Per pair: ``"hindrance"``, ``"additive"``, ``"synergy"``, ``"no effect"`` or
        ``"undetermined"`` (:func:`rbgia.verdicts.ratio` with expectation 1), and the rule in words.
    effect
        Whether the single copy has an effect (:func:`rbgia.verdicts.motif_effect`).
    skipped
        Pairs left out (``on_conflict="skip"``).
    """

    table: pd.DataFrame
    motif: str
    reference: int | None
    importances: tuple[Importance, ...] = field(repr=False)
    single: Importance | None = field(repr=False)
    pairs: tuple[tuple[int, int], ...]
    vs_additive: tuple[Estimate, ...]
    verdicts: tuple[str, ...]
    skipped: tuple[tuple[int, ...], ...]
    rules: tuple[str, ...] = ()
    effect: Effect | None = None
    tolerance: float = TOLERANCE
    alpha: float = ALPHA

    def local_effects(self) -> dict[str, Importance]:
        """Box-plot groups: ``"one at 18"``, ``"17+21 (gap -2)"``, ... (:func:`spacing_label`)."""
        k = len(self.motif)
        out = {spacing_label(a, b, b - a - k): imp for (a, b), imp in zip(self.pairs, self.importances)}
        if self.single is not None:
            out = {spacing_label(self.reference): self.single} | out
        return out

    def to_record(self) -> dict:
        """Record of kind ``spacing``; ``pairs`` lists ``spacing_pair`` records."""
        k = len(self.motif)
        ratios = self.table["ratio"].tolist() if "ratio" in self.table else [_NAN] * len(self.pairs)
        why = self.rules or ("",) * len(self.pairs)
        pairs = [make_record("spacing_pair", start_1=a, start_2=b, gap=b - a - k, importance=imp, ratio=r,
                             vs_additive=est, verdict=v, rule=w)
                 for (a, b), imp, r, est, v, w in zip(self.pairs, self.importances, ratios, self.vs_additive,
                                                      self.verdicts, why)]
        return make_record("spacing", motif=self.motif, reference=self.reference, single=self.single, pairs=pairs,
                           skipped=self.skipped, tolerance=self.tolerance, alpha=self.alpha,
                           motif_effect=self.effect)


def spacing_label(start_1: int, start_2: int | None = None, gap: int | None = None) -> str:
    """How the page names an arrangement, 1-based: ``"17+21 (gap -2)"``, or ``"one at 18"`` for a single copy."""
    if start_2 is None:
        return f"one at {int(start_1) + 1}"
    return f"{int(start_1) + 1}+{int(start_2) + 1} (gap {gap})"


def _pairs_to_embed(motif: str, pairs_of_starts: Sequence[tuple[int, int]], on_conflict: str
                    ) -> tuple[list[tuple[int, int]], list[Any], list[tuple[int, ...]]]:
    """The pairs that fit (sorted starts), their merged embeddings, and the pairs skipped as conflicting."""
    if on_conflict not in ("raise", "skip"):
        raise PatternError(f"on_conflict={on_conflict!r} is not an option; pass 'raise' or 'skip'")
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
    return pairs, configs, skipped


def _pair_verdicts(session: GIA, pairs: list[tuple[int, int]], pair_local: np.ndarray, motif: str,
                   single: Importance, tolerance: float, alpha: float, n_boot: int, seed: Any
                   ) -> tuple[tuple[Estimate, ...], tuple[str, ...], tuple[str, ...], Effect]:
    """Each pair against the sum of its two copies alone at their starts (less the letters they share): the
    estimates, verdicts, rules and the gate (the reference copy must have an effect)."""
    parts = [additive_parts(motif, pair) for pair in pairs]
    configs = list(dict.fromkeys(tuple(c) for part in parts for _, c in part))  # each part embedded once
    local = session.local([list(c) for c in configs]) if configs else np.empty((0, session.n))
    row = {c: i for i, c in enumerate(configs)}
    effect = rules.motif_effect([single], rules.prediction_sd(session.baseline))
    ests = tuple(_vs_parts(session, pair_local[i], local[[row[tuple(c)] for _, c in part]], [w for w, _ in part],
                           n_boot, seed) for i, part in enumerate(parts))
    few = rules.too_few(session.n, "spacing", stacklevel=4)
    said = [(rules.UNDETERMINED, few) if few else
            rules.ratio(e, 1.0, e.pvalue, effect, ("hindrance", "additive", "synergy"), tolerance=tolerance,
                        alpha=alpha, unit=2.0) for e in ests]
    return ests, tuple(v for v, _ in said), tuple(r for _, r in said), effect


def spacing(
    session: GIA,
    motif: str,
    pairs_of_starts: Sequence[tuple[int, int]] = paper.SPACING_PAIRS,
    reference: int | None = paper.SPACING_REFERENCE,
    *,
    on_conflict: str = "raise",
    tolerance: float = TOLERANCE,
    alpha: float = ALPHA,
    n_boot: int = N_BOOT,
    seed: int | np.random.Generator | None = 0,
) -> Spacing:
    """Two copies of ``motif`` at each pair of starts, and one copy at ``reference`` (paper Fig 2d).

    Overlapping copies are merged when their shared letters agree (UGCAUG at 16 and 20 gives
    UGCAUGCAUG); ``on_conflict`` says what a pair whose copies disagree does: ``"raise"`` a
    :class:`~rbgia.errors.PatternError`, or ``"skip"`` it (listed in ``skipped``). ``gap`` = second
    start - first start - k: negative for overlaps, 0 for adjacent copies. Each pair is compared with
    its additive expectation, its two copies alone at their starts (less the letters they share):
    ``vs_additive`` and a verdict by the rules of :func:`multiplicity` (``"hindrance"`` below 1,
    ``"synergy"`` above). The reference copy gives the paper's ``ratio`` and the gate (the motif must
    have an effect); without one the verdicts are ``"undetermined"``.
    """
    session = require_session(session, "spacing")
    check_seed(seed)  # before any model call
    motif = clean(motif)
    k = len(motif)
    pairs, configs, skipped = _pairs_to_embed(motif, pairs_of_starts, on_conflict)
    first, second, gaps = [p[0] for p in pairs], [p[1] for p in pairs], [p[1] - p[0] - k for p in pairs]
    if reference is not None:
        configs.append([(motif, int(reference))])
        first, second, gaps = [*first, int(reference)], [*second, pd.NA], [*gaps, pd.NA]
    local = session.local(configs)
    imps = tuple(importance(row) for row in local)
    df = pd.DataFrame({"start_1": first, "start_2": pd.array(second, dtype="Int64"),
                       "gap": pd.array(gaps, dtype="Int64")} | rows(imps))
    single = imps[-1] if reference is not None else None
    effect = None
    if single is None:
        ests = tuple(Estimate(_NAN, _NAN, _NAN) for _ in pairs)
        verdicts, why = (rules.UNDETERMINED,) * len(pairs), ("no single copy to compare with",) * len(pairs)
    else:
        ests, verdicts, why, effect = _pair_verdicts(session, pairs, local[: len(pairs)], motif, single, tolerance,
                                                     alpha, n_boot, seed)
        df["ratio"] = safe_ratio(df["mean"].to_numpy(float), single.mean)
        df["vs_additive"] = [e.mean for e in ests] + [_NAN]
        df["vs_additive_ci_low"] = [e.ci_low for e in ests] + [_NAN]
        df["vs_additive_ci_high"] = [e.ci_high for e in ests] + [_NAN]
        df["departure_p"] = [e.pvalue for e in ests] + [_NAN]
        df["verdict"] = [*verdicts, None]
    df.attrs["skipped"] = skipped
    return Spacing(df, motif, None if reference is None else int(reference), imps[: len(pairs)], single, tuple(pairs),
                   ests, tuple(verdicts), tuple(skipped), tuple(why), effect, float(tolerance), float(alpha))


# --------------------------------------------------------------------------- position
@dataclass(frozen=True, eq=False)
class Positional:
    """Result of :func:`positional_scan`.

    Attributes
    ----------
    table
        ``start``, ``mean``, ``ci_low``, ``ci_high``, ``pvalue``, ``n``.
    motif, starts
        The pattern's label and its 0-based starts.
    importances
        One :class:`~rbgia.stats.Importance` per start (local importances kept).
    """

    table: pd.DataFrame
    motif: str
    starts: tuple[int, ...]
    importances: tuple[Importance, ...] = field(repr=False)

    def local_effects(self) -> dict[str, Importance]:
        """Box-plot groups: one per start, labelled 0-based."""
        return {f"start {s}": imp for s, imp in zip(self.starts, self.importances)}

    def to_record(self) -> dict:
        """Record of kind ``positional``; ``importance`` lists one importance record per start."""
        return make_record("positional", motif=self.motif, starts=self.starts, importance=self.importances)


def positional_scan(session: GIA, motif: Any, starts: Sequence[int] | None = None) -> Positional:
    """Global importance of ``motif`` at every start (default: 0..L-k); see :class:`Positional`."""
    session = require_session(session, "positional_scan")
    _, _, label = pattern_rows(motif)
    starts = list(range(session.length - len(label) + 1)) if starts is None else [int(s) for s in starts]
    imps = tuple(session.importances([(motif, s) for s in starts]))
    return Positional(pd.DataFrame({"start": starts} | rows(imps)), label, tuple(starts), imps)


__all__ = [
    "ALPHA",
    "MotifMutagenesis",
    "Multiplicity",
    "Positional",
    "Spacing",
    "TOLERANCE",
    "contrast",
    "contrast_estimate",
    "motif_mutagenesis",
    "multiplicity",
    "positional_scan",
    "spacing",
    "spacing_label",
]

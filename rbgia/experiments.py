"""Motif experiments of the paper: mutagenesis, multiplicity, spacing, position, GC bias, hairpins.

Every experiment takes a :class:`~rbgia.session.GIA` session first
(``multiplicity(GIA(model, background), "UGCAUG")``); a session passed in is never modified.

Each result keeps the per-background local importances (``Importance.local``) so that
the paper's box plots can be drawn (:func:`rbgia.plotting.local_importance_boxplot`),
states its verdict with the statistic behind it, and gives a JSON-ready record through
``to_record()`` (keys in :data:`rbgia.records.SCHEMAS`). Default positions follow the
paper's text (:mod:`rbgia.paper`). CIs of derived statistics (ratios, differences in
differences, interactions) are percentile intervals over paired bootstrap resamples of
the backgrounds (:func:`rbgia.stats.bootstrap_means`); their p-values are paired t-tests
of the per-background values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import paper
from .embedding import codes_to_kmers, kmer_codes, merge_copies, pattern_rows
from .errors import DataError, PatternError
from .records import GC_CONDITIONS, make_record
from .scan import kmer_local
from .sequence import clean
from .session import GIA, require_session
from .stats import (
    Estimate,
    Importance,
    bootstrap_means,
    importance,
    linear_fit,
    paired_estimate,
    rows,
    safe_ratio,
    summary,
)
from .stemloop import PAPER_PARTNER, PAPER_STEM, check_stem

ALPHA = 0.05  # significance level of every verdict
TOLERANCE = 0.1  # additive: the ratio's CI reaches within 10% of the additive expectation
N_BOOT = 2000


def _combine(signs: Sequence[float], local: np.ndarray) -> np.ndarray:
    """Per-background ``sum(sign * row)`` with floating-point round-off set to exactly 0.

    An exactly additive model gives interactions of ~1e-16 whose signs are noise; left as
    they are, a t-test on them would be a coin toss. Values below 1e-12 of the terms'
    magnitudes are round-off.
    """
    signs = np.asarray(signs, dtype=float)[:, None]
    out = (signs * local).sum(0)
    return np.where(np.abs(out) <= 1e-12 * np.abs(local).sum(0), 0.0, out)


def _boot(local: np.ndarray, n_boot: int, seed: Any) -> np.ndarray:
    return bootstrap_means(local, n_boot=n_boot, seed=seed)


def _ratio_verdict(ratio: Estimate, expected: float, p_one: float, p_many: float, tolerance: float,
                   alpha: float, names: tuple[str, str, str]) -> tuple[str, str]:
    """Verdict on a ratio whose additive value is ``expected`` (see :func:`multiplicity`).

    ``names`` = (below, additive, above) words. Returns (verdict, the rule applied in words).
    """
    below, additive, above = names
    band = (expected * (1 - tolerance), expected * (1 + tolerance))
    ci = f"{ratio.mean:.3g} (95% CI {ratio.ci_low:.3g} to {ratio.ci_high:.3g})"
    if not (p_one < alpha or p_many < alpha):
        return "no effect", f"neither the single copy (p = {p_one:.2g}) nor the copies (p = {p_many:.2g}) differ from 0"
    if not p_one < alpha:
        return "undetermined", f"one copy has no significant effect (p = {p_one:.2g}): the ratio {ci} is unstable"
    if not (np.isfinite(ratio.ci_low) and np.isfinite(ratio.ci_high)):
        return "undetermined", f"the ratio's CI is undefined ({ci})"
    if ratio.ci_high < band[0]:
        return below, f"ratio {ci} lies below {band[0]:.3g} = {expected:g} x (1 - {tolerance:g})"
    if ratio.ci_low > band[1]:
        return above, f"ratio {ci} lies above {band[1]:.3g} = {expected:g} x (1 + {tolerance:g})"
    return additive, f"ratio {ci} reaches [{band[0]:.3g}, {band[1]:.3g}] = {expected:g} x (1 -/+ {tolerance:g})"


def _significance_verdict(est: Estimate, alpha: float, words: tuple[str, str, str]) -> str:
    """(positive, null, negative) word: positive or negative only when the paired p-value is
    below ``alpha`` AND the printed 95% CI excludes 0 on the same side, so that the verdict never
    contradicts the interval shown beside it (the t-test and the bootstrap can disagree near 0)."""
    if not (np.isfinite(est.pvalue) and est.pvalue < alpha):
        return words[1]
    if est.mean > 0 and est.ci_low > 0:
        return words[0]
    if est.mean < 0 and est.ci_high < 0:
        return words[2]
    return words[1]


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
        Importance of n copies / 1 copy with its paired-bootstrap 95% CI (additive: n).
    verdict, rule
        ``"additive"``, ``"sub-additive"``, ``"super-additive"``, ``"no effect"`` or
        ``"undetermined"``, and the rule as applied, in words with the numbers.
    tolerance, alpha
        The verdict's tolerance and significance level.
    """

    table: pd.DataFrame
    r2: float
    slope: float
    intercept: float
    include_origin: bool
    motif: str = ""
    starts: tuple[int, ...] = ()
    importances: tuple[Importance, ...] = field(default=(), repr=False)
    origin_slope: float = float("nan")
    origin_r2: float = float("nan")
    ratio: Estimate = Estimate(float("nan"), float("nan"), float("nan"))
    verdict: str = "undetermined"
    rule: str = ""
    tolerance: float = TOLERANCE
    alpha: float = ALPHA

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
                           verdict=self.verdict, rule=self.rule, tolerance=self.tolerance, alpha=self.alpha)


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
    :data:`rbgia.paper.PUBLIC_CODE_MULTIPLICITY_STARTS`. A line is fitted to the importance of
    1..n copies (``include_origin=True`` adds the exact point (0, 0)); a 3-point fit has a
    high R² even for clearly sub-additive effects, so the verdict comes from the ratio of n
    copies to 1 copy, ``ratio`` (additive: n), with a paired-bootstrap 95% CI:

    - ``"no effect"``: neither 1 nor n copies differ from 0 (t-test, p >= ``alpha``);
    - ``"undetermined"``: 1 copy alone has no significant effect (the ratio is unstable),
      the CI is undefined, or only one start is given;
    - ``"sub-additive"``: the CI lies below ``n (1 - tolerance)``;
    - ``"super-additive"``: the CI lies above ``n (1 + tolerance)``;
    - ``"additive"``: otherwise (the CI reaches ``n`` within the tolerance).

    ``rule`` states the case with its numbers.
    """
    session = require_session(session, "multiplicity")
    starts = tuple(int(s) for s in starts)
    if not starts:
        raise PatternError("no starts given; pass e.g. starts=rbgia.paper.MULTIPLICITY_STARTS")
    configs = [merge_copies(motif, starts[:c]) for c in range(1, len(starts) + 1)]
    local = session.local(configs)
    imps = tuple(importance(row) for row in local)
    counts = np.arange(1, len(starts) + 1)
    table = pd.DataFrame({"count": counts, "starts": [starts[:c] for c in counts]} | rows(imps))
    xs, ys = counts.astype(float), table["mean"].to_numpy(dtype=float)
    fit = linear_fit(np.r_[0.0, xs], np.r_[0.0, ys]) if include_origin else linear_fit(xs, ys)
    origin = linear_fit(xs, ys, through_origin=True)
    boot = _boot(local[[0, -1]], n_boot, seed)
    ratio = paired_estimate(safe_ratio(imps[-1].mean, imps[0].mean), safe_ratio(boot[1], boot[0]))
    if len(starts) == 1:
        verdict, rule = "undetermined", "one start: nothing to compare the single copy with"
    else:
        verdict, rule = _ratio_verdict(ratio, float(len(starts)), imps[0].pvalue, imps[-1].pvalue, tolerance, alpha,
                                       ("sub-additive", "additive", "super-additive"))
    return Multiplicity(table, fit.r2, fit.slope, fit.intercept, include_origin, motif=str(motif).upper(),
                        starts=starts, importances=imps, origin_slope=origin.slope, origin_r2=origin.r2, ratio=ratio,
                        verdict=verdict, rule=rule, tolerance=float(tolerance), alpha=float(alpha))


# --------------------------------------------------------------------------- spacing
@dataclass(frozen=True, eq=False)
class Spacing:
    """Result of :func:`spacing`.

    Attributes
    ----------
    table
        ``start_1``, ``start_2``, ``gap``, ``mean``, ``ci_low``, ``ci_high``, ``pvalue``,
        ``n``; with a reference also ``ratio`` (mean / single copy), ``vs_additive``
        (mean / twice the single copy) with ``vs_additive_ci_low`` / ``_high`` and
        ``verdict``. The single copy is the last row (``start_2``, ``gap`` NA).
        ``table.attrs["skipped"]`` = ``skipped``.
    importances
        One :class:`~rbgia.stats.Importance` per pair (local importances kept).
    single
        The single copy's importance (``None`` without a reference).
    pairs
        The pairs' sorted starts, in table order.
    vs_additive
        One :class:`~rbgia.stats.Estimate` per pair: pair / (2 x single), paired bootstrap CI.
    verdicts
        Per pair: ``"hindrance"``, ``"additive"``, ``"synergy"``, ``"no effect"`` or ``"undetermined"``.
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
    tolerance: float = TOLERANCE
    alpha: float = ALPHA

    def local_effects(self) -> dict[str, Importance]:
        """Box-plot groups: ``"one at 17"``, ``"16+20 (gap -2)"``, ..."""
        k = len(self.motif)
        out = {f"{a}+{b} (gap {b - a - k})": imp for (a, b), imp in zip(self.pairs, self.importances)}
        if self.single is not None:
            out = {f"one at {self.reference}": self.single} | out
        return out

    def to_record(self) -> dict:
        """Record of kind ``spacing``; ``pairs`` lists ``spacing_pair`` records."""
        k = len(self.motif)
        ratios = self.table["ratio"].tolist() if "ratio" in self.table else [float("nan")] * len(self.pairs)
        pairs = [make_record("spacing_pair", start_1=a, start_2=b, gap=b - a - k, importance=imp, ratio=r,
                             vs_additive=est, verdict=v)
                 for (a, b), imp, r, est, v in zip(self.pairs, self.importances, ratios, self.vs_additive,
                                                   self.verdicts)]
        return make_record("spacing", motif=self.motif, reference=self.reference, single=self.single, pairs=pairs,
                           skipped=self.skipped, tolerance=self.tolerance, alpha=self.alpha)


def spacing(
    session: GIA,
    motif: str,
    pairs_of_starts: Sequence[tuple[int, int]] = paper.SPACING_PAIRS,
    reference: int | None = paper.MOTIF_START,
    *,
    on_conflict: str = "raise",
    tolerance: float = TOLERANCE,
    alpha: float = ALPHA,
    n_boot: int = N_BOOT,
    seed: int | np.random.Generator | None = 0,
) -> Spacing:
    """Two copies of ``motif`` at each pair of starts, and one copy at ``reference`` (paper Fig 2d).

    Overlapping copies are merged when their shared letters agree (UGCAUG at 16
    and 20 gives UGCAUGCAUG). ``gap`` = second start - first start - k: negative
    for overlaps, 0 for adjacent copies; NA for the single reference copy.

    Each pair is compared with the additive expectation, twice the single copy:
    ``vs_additive`` = pair / (2 x single), paired-bootstrap 95% CI, and a verdict by the
    rule of :func:`multiplicity` with expectation 1: ``"hindrance"`` when the CI lies below
    ``1 - tolerance``, ``"synergy"`` above ``1 + tolerance``, ``"additive"`` otherwise;
    ``"no effect"`` / ``"undetermined"`` as there. Without a reference these are NaN /
    ``"undetermined"``.

    Parameters
    ----------
    on_conflict
        What to do with a pair whose overlapping copies disagree (UGCAUG at 16 and
        18 would need both C and U at 18): ``"raise"`` a
        :class:`~rbgia.errors.PatternError`, or ``"skip"`` the pair. Skipped pairs
        are listed (sorted starts) in ``skipped`` and ``table.attrs["skipped"]``.
    """
    session = require_session(session, "spacing")
    if on_conflict not in ("raise", "skip"):
        raise PatternError(f"on_conflict={on_conflict!r} is not an option; pass 'raise' or 'skip'")
    motif = clean(motif)
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
    local = session.local(configs)
    imps = tuple(importance(row) for row in local)
    df = pd.DataFrame(
        {
            "start_1": first,
            "start_2": pd.array(second, dtype="Int64"),
            "gap": pd.array(gaps, dtype="Int64"),
        }
        | rows(imps)
    )
    nan = float("nan")
    single = imps[-1] if reference is not None else None
    if single is None:
        ests = tuple(Estimate(nan, nan, nan) for _ in pairs)
        verdicts = tuple("undetermined" for _ in pairs)
    else:
        df["ratio"] = safe_ratio(df["mean"].to_numpy(float), single.mean)
        boot = _boot(local, n_boot, seed)
        ests = tuple(paired_estimate(safe_ratio(imp.mean, 2 * single.mean), safe_ratio(b, 2 * boot[-1]))
                     for imp, b in zip(imps[:-1], boot[:-1]))
        verdicts = tuple(_ratio_verdict(e, 1.0, single.pvalue, imp.pvalue, tolerance, alpha,
                                        ("hindrance", "additive", "synergy"))[0] for e, imp in zip(ests, imps))
        df["vs_additive"] = [e.mean for e in ests] + [nan]
        df["vs_additive_ci_low"] = [e.ci_low for e in ests] + [nan]
        df["vs_additive_ci_high"] = [e.ci_high for e in ests] + [nan]
        df["verdict"] = [*verdicts, None]
    df.attrs["skipped"] = skipped
    return Spacing(df, motif, None if reference is None else int(reference), imps[: len(pairs)], single, tuple(pairs),
                   ests, verdicts, tuple(skipped), float(tolerance), float(alpha))


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


# --------------------------------------------------------------------------- GC bias
@dataclass(frozen=True, eq=False)
class GCBias:
    """Result of :func:`gc_bias`.

    Attributes
    ----------
    motif, motif_gc5, motif_gc3, gc3, gc5
        Importances of the motif alone, with the GC run at the 5' / 3' start, and of
        the GC run alone at the 3' and 5' starts (local importances kept).
    effect5, effect3
        ``motif_gc5.mean / motif.mean`` and ``motif_gc3.mean / motif.mean``; NaN
        (as are the CIs and ``diff``) when ``motif.mean`` is exactly 0.
    effect5_ci, effect3_ci, diff, diff_ci
        Paired-bootstrap 95% CIs of the effects, and of ``effect5 - effect3``.
    interaction5, interaction3
        ``(motif + GC) - motif - GC alone`` at each end: mean, paired-bootstrap CI and
        paired t-test p-value of the per-background interaction.
    verdict5, verdict3
        ``"amplifies"`` (interaction > 0, p < ``alpha``), ``"dampens"`` (< 0, p < ``alpha``)
        or ``"adds"`` (no significant interaction: the GC run's own effect, possibly 0,
        adds to the motif's).
    kmer, motif_start, gc_motif, gc_starts, alpha
        The embedding and the verdicts' significance level.
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
    gc5: Importance | None = None
    interaction5: Estimate | None = None
    interaction3: Estimate | None = None
    verdict5: str = ""
    verdict3: str = ""
    kmer: str = ""
    motif_start: int = paper.MOTIF_START
    gc_motif: str = paper.GC_MOTIF
    gc_starts: tuple[int, int] = paper.GC_STARTS
    alpha: float = ALPHA

    def local_effects(self) -> dict[str, Importance]:
        """Box-plot groups: motif, motif + GC 5', motif + GC 3', GC 5' alone, GC 3' alone."""
        return {"motif": self.motif, "motif + GC 5'": self.motif_gc5, "motif + GC 3'": self.motif_gc3,
                "GC 5' alone": self.gc5, "GC 3' alone": self.gc3}

    def to_record(self) -> dict:
        """Record of kind ``gc_bias``; ``importance`` maps :data:`rbgia.records.GC_CONDITIONS` to records,
        ``interaction5`` / ``interaction3`` hold the estimate and that end's ``verdict``."""
        imps = dict(zip(GC_CONDITIONS, (self.motif, self.motif_gc5, self.motif_gc3, self.gc5, self.gc3)))
        ratios = (("effect5", self.effect5, self.effect5_ci), ("effect3", self.effect3, self.effect3_ci),
                  ("diff", self.diff, self.diff_ci))
        est = {name: {"mean": v, "ci_low": ci[0], "ci_high": ci[1], "pvalue": None} for name, v, ci in ratios}
        inter = {f"interaction{end}": None if e is None else e.to_record() | {"verdict": v}
                 for end, e, v in (("5", self.interaction5, self.verdict5), ("3", self.interaction3, self.verdict3))}
        return make_record("gc_bias", motif=self.kmer, motif_start=self.motif_start, gc_motif=self.gc_motif,
                           gc_starts=self.gc_starts, importance=imps, **est, **inter, alpha=self.alpha)


def gc_bias(
    session: GIA,
    motif: str,
    motif_start: int = paper.MOTIF_START,
    gc_motif: str = paper.GC_MOTIF,
    gc_starts: tuple[int, int] | None = None,
    *,
    alpha: float = ALPHA,
    n_boot: int = N_BOOT,
    seed: int | np.random.Generator | None = 0,
) -> GCBias:
    """The paper's GC-bias test (Fig 4c): does a GC-rich flank amplify the motif, or add to it?

    ``gc_starts`` default: the very 5' and 3' ends (paper text; ``(0, 35)`` for a 6-mer in
    41 nt, :func:`rbgia.paper.gc_ends`); the public code's are
    :data:`rbgia.paper.PUBLIC_CODE_GC_STARTS`. Effect size = importance(motif + GC at the 5'
    or 3' start) / importance(motif), NaN when the motif alone has an importance of exactly
    0 (the ratio is undefined). An effect size above 1 does not say "amplifies": the GC run
    alone may have that effect. The interaction ``(motif + GC) - motif - GC alone`` per
    background is tested (paired t-test; CI by paired bootstrap) and gives ``verdict5`` /
    ``verdict3``. All embeddings share each bootstrap draw.
    """
    session = require_session(session, "gc_bias")
    if gc_starts is None:
        gc_starts = paper.gc_ends(session.length, pattern_rows(gc_motif)[0].shape[0])
    gc_starts = (int(gc_starts[0]), int(gc_starts[1]))
    m = (motif, int(motif_start))
    gc5, gc3 = (gc_motif, gc_starts[0]), (gc_motif, gc_starts[1])
    local = session.local([[m], [m, gc5], [m, gc3], [gc3], [gc5]])
    imps = [importance(row) for row in local]
    boot = _boot(local, n_boot, seed)  # (5, B)
    e5, e3 = safe_ratio(boot[1], boot[0]), safe_ratio(boot[2], boot[0])
    effect5, effect3 = (paired_estimate(safe_ratio(imps[i].mean, imps[0].mean), e) for i, e in ((1, e5), (2, e3)))
    diff = paired_estimate(effect5.mean - effect3.mean, e5 - e3)
    inter = {}
    for end, (with_gc, alone) in {"5": (1, 4), "3": (2, 3)}.items():
        per_bg = _combine((1, -1, -1), local[[with_gc, 0, alone]])
        inter[end] = paired_estimate(per_bg.mean(), boot[with_gc] - boot[0] - boot[alone], per_bg)
    words = ("amplifies", "adds", "dampens")
    return GCBias(
        motif=imps[0], motif_gc5=imps[1], motif_gc3=imps[2], gc3=imps[3],
        effect5=effect5.mean, effect5_ci=effect5.ci95, effect3=effect3.mean, effect3_ci=effect3.ci95,
        diff=diff.mean, diff_ci=diff.ci95, gc5=imps[4], interaction5=inter["5"], interaction3=inter["3"],
        verdict5=_significance_verdict(inter["5"], alpha, words),
        verdict3=_significance_verdict(inter["3"], alpha, words),
        kmer=str(motif).upper(), motif_start=int(motif_start), gc_motif=str(gc_motif).upper(), gc_starts=gc_starts,
        alpha=float(alpha),
    )


# --------------------------------------------------------------------------- hairpins
def _pair_table(dot_bracket: str) -> np.ndarray:
    partner = np.full(len(dot_bracket), -1)
    stack: list[int] = []
    for i, c in enumerate(dot_bracket):
        if c == "(":
            stack.append(i)
        elif c == ")" and stack:
            j = stack.pop()
            partner[i], partner[j] = j, i
    return partner


def folded_as_designed(x: np.ndarray, stem: tuple[int, int], partner: tuple[int, int],
                       threshold: float = 0.8) -> np.ndarray:
    """Which sequences' ViennaRNA MFE structure forms the intended stem.

    A sequence folds as designed when at least ``threshold`` of the intended pairs (stem
    position i with its mirror in ``partner``, see :func:`rbgia.stemloop.stem_loop_background`)
    are base pairs of its MFE structure. Padding is stripped before folding, as for the
    structure channels. Returns ``(N,)`` bool.
    """
    from .sequence import decode  # noqa: PLC0415
    from .structure import mfe  # noqa: PLC0415 (ViennaRNA only when folding)

    x = np.asarray(x)
    i, j = check_stem(stem, partner, x.shape[1])
    present = x[..., :4].sum(-1) > 0
    offsets = present.argmax(1)
    out = np.zeros(len(x), dtype=bool)
    for n, (seq, off) in enumerate(zip(decode(x[..., :4]), offsets)):
        a, b = i - off, j - off
        if not seq or a.min() < 0 or b.min() < 0 or max(a.max(), b.max()) >= len(seq):
            continue  # the stem lies (partly) in the padding: it cannot fold
        pt = _pair_table(mfe(seq)[0])
        out[n] = np.mean(pt[a] == b) >= threshold
    return out


@dataclass(frozen=True, eq=False)
class Hairpin:
    """Result of :func:`hairpin_context`.

    Attributes
    ----------
    table
        ``context`` (``stem-loop`` / ``unstructured``), ``position`` (``loop`` / ``stem``),
        ``start``, ``mean``, ``ci_low``, ``ci_high``, ``pvalue``, ``n``, ``baseline_mean``.
    in_loop, in_stem, unstructured_at_loop, unstructured_at_stem
        Importances (local importances kept) of the motif in the hairpin's loop and stem,
        and at the same starts in the unstructured backgrounds.
    structure_effect
        Difference in differences ``(in_loop - unstructured_at_loop) - (in_stem -
        unstructured_at_stem)`` per background: mean, paired-bootstrap CI, paired t-test p.
        Position effects cancel; > 0: the motif counts more unpaired.
    loop_minus_stem
        The naive ``in_loop - in_stem`` (confounded by position), for comparison.
    n_folded, n_designed, fold_threshold
        Designed stem-loop backgrounds whose MFE structure forms at least
        ``fold_threshold`` of the intended pairs, out of ``n_designed`` (``None``:
        not checked).
    verdict
        ``"prefers loop"`` / ``"prefers stem"`` (structure effect > 0 / < 0, p < ``alpha``),
        ``"no structure effect"``, or ``"undetermined"`` when fewer than half of the
        designed backgrounds fold as intended.
    """

    table: pd.DataFrame
    in_loop: Importance = field(repr=False)
    in_stem: Importance = field(repr=False)
    unstructured_at_loop: Importance = field(repr=False)
    unstructured_at_stem: Importance = field(repr=False)
    structure_effect: Estimate
    loop_minus_stem: Estimate
    n_folded: int | None
    n_designed: int
    fold_threshold: float
    verdict: str
    motif: str
    loop_start: int
    stem_start: int
    stem: tuple[int, int]
    partner: tuple[int, int]
    alpha: float = ALPHA

    @property
    def mean(self) -> float:
        return self.structure_effect.mean

    @property
    def ci95(self) -> tuple[float, float]:
        return self.structure_effect.ci95

    @property
    def pvalue(self) -> float:
        return self.structure_effect.pvalue

    def local_effects(self) -> dict[str, Importance]:
        """Box-plot groups: hairpin loop, hairpin stem, unstructured at each start."""
        return {"hairpin loop": self.in_loop, "unstructured, loop start": self.unstructured_at_loop,
                "hairpin stem": self.in_stem, "unstructured, stem start": self.unstructured_at_stem}

    def to_record(self) -> dict:
        """Record of kind ``hairpin``: ``mean``, ``ci_low``, ``ci_high``, ``pvalue`` of the structure
        effect, ``n_folded`` / ``n_designed``, the verdict and the four importances."""
        se = self.structure_effect
        return make_record("hairpin", mean=se.mean, ci_low=se.ci_low, ci_high=se.ci_high, pvalue=se.pvalue,
                           n=self.in_loop.n, n_folded=self.n_folded, n_designed=self.n_designed,
                           fold_threshold=self.fold_threshold, verdict=self.verdict, motif=self.motif,
                           loop_start=self.loop_start, stem_start=self.stem_start, stem_range=self.stem,
                           partner_range=self.partner, in_loop=self.in_loop, in_stem=self.in_stem,
                           unstructured_at_loop=self.unstructured_at_loop,
                           unstructured_at_stem=self.unstructured_at_stem, loop_minus_stem=self.loop_minus_stem,
                           alpha=self.alpha)


def hairpin_context(
    session: GIA,
    motif: str,
    loop_start: int,
    stem_start: int,
    stem: tuple[int, int] = PAPER_STEM,
    partner: tuple[int, int] = PAPER_PARTNER,
    *,
    recompute_structure: bool | str | None = None,
    fold_check: bool = True,
    fold_threshold: float = 0.8,
    alpha: float = ALPHA,
    n_boot: int = N_BOOT,
    seed: int | np.random.Generator | None = 0,
) -> Hairpin:
    """Motif in the loop vs in the stem of stem-loop backgrounds, and at the same
    positions in the unstructured backgrounds (paper Fig 3c: VTS1, GCUGGC in the loop at 16).

    Stem-loop backgrounds are made with :func:`rbgia.stemloop.stem_loop_background`; after
    embedding, the pairing is re-imposed, so a motif in the stem gets a complementary
    partner (it stays paired). Each importance is relative to its own background:
    ``f(stem-loop + motif) - f(stem-loop)``. Loop minus stem alone is confounded by
    position; the structure effect is the difference in differences (see :class:`Hairpin`).
    It removes position effects, not the partner's sequence that pairing rewrites: a motif
    whose reverse complement makes sites itself (UGCAUG -> CAUGCA, next to UG: UGCAUG) gets
    a structure effect from that as well; compare the motif's reverse complement.
    ``fold_check`` folds the designed backgrounds (ViennaRNA MFE, ~1 ms each) to count how
    many form the intended stem, so that a failed design is visible.
    For a model with structure inputs pass ``recompute_structure`` (``True`` when the
    background carries the channels, else ``"pu"``/``"phime"``; ``None`` keeps a given
    GIA's setting, else off).
    """
    session = require_session(session, "hairpin_context")
    if session.stem_loop is not None:
        raise DataError("hairpin_context makes its own stem-loops; pass a session without stem_loop")
    flat = session if recompute_structure is None else session.replace(recompute_structure=recompute_structure)
    hairpin = flat.replace(stem_loop=(tuple(stem), tuple(partner)))
    configs = [[(motif, int(loop_start))], [(motif, int(stem_start))]]
    hp_local, flat_local = hairpin.local(configs), flat.local(configs)
    imps = [importance(row) for row in (*hp_local, *flat_local)]
    table = pd.DataFrame(
        {
            "context": ["stem-loop", "stem-loop", "unstructured", "unstructured"],
            "position": ["loop", "stem", "loop", "stem"],
            "start": [int(loop_start), int(stem_start)] * 2,
        }
        | rows(imps)
        | {"baseline_mean": [float(hairpin.baseline.mean())] * 2 + [float(flat.baseline.mean())] * 2}
    )
    local = np.concatenate([hp_local, flat_local])  # loop, stem (hairpin); loop, stem (unstructured)
    boot = _boot(local, n_boot, seed)
    did_local = _combine((1, -1, -1, 1), local)  # (loop - unstructured@loop) - (stem - unstructured@stem)
    did = paired_estimate(did_local.mean(), (boot[0] - boot[2]) - (boot[1] - boot[3]), did_local)
    naive = _combine((1, -1), local[:2])
    loop_minus_stem = paired_estimate(naive.mean(), boot[0] - boot[1], naive)
    n_folded = None
    if fold_check:
        n_folded = int(folded_as_designed(hairpin.background, stem, partner, fold_threshold).sum())
    if n_folded is not None and n_folded < 0.5 * hairpin.n:
        verdict = "undetermined"
    else:
        verdict = _significance_verdict(did, alpha, ("prefers loop", "no structure effect", "prefers stem"))
    return Hairpin(table, *imps, structure_effect=did, loop_minus_stem=loop_minus_stem, n_folded=n_folded,
                   n_designed=hairpin.n, fold_threshold=float(fold_threshold), verdict=verdict,
                   motif=str(motif).upper(), loop_start=int(loop_start), stem_start=int(stem_start),
                   stem=(int(stem[0]), int(stem[1])), partner=(int(partner[0]), int(partner[1])), alpha=float(alpha))


__all__ = [
    "ALPHA",
    "GCBias",
    "Hairpin",
    "MotifMutagenesis",
    "Multiplicity",
    "Positional",
    "Spacing",
    "TOLERANCE",
    "folded_as_designed",
    "gc_bias",
    "hairpin_context",
    "motif_mutagenesis",
    "multiplicity",
    "positional_scan",
    "spacing",
]

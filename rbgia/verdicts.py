"""The rules that turn GIA statistics into the words the book prints, and the conditions for saying anything.

Every experiment (:mod:`rbgia.experiments`, :mod:`rbgia.gcbias`, :mod:`rbgia.hairpin`) states its verdict
through these rules, so that one rule holds everywhere and the negative controls
(:mod:`rbgia.controls`) exercise them all:

1. **Enough backgrounds.** Below :data:`MIN_BACKGROUNDS` every verdict is ``"undetermined"`` (with a
   warning); a NaN statistic never reads as "not significant" (:func:`too_few`).
2. **The motif has an effect** before anything is said about how it combines: its own importance differs
   from 0 at ``p < ALPHA_EFFECT`` (Bonferroni over the placements tested) and by at least
   :data:`MIN_EFFECT` of the spread of the model's predictions over the backgrounds (:func:`motif_effect`).
   Otherwise the verdict is ``"no effect"``. The stricter level keeps a model that learnt nothing at
   "no effect" in about 99% of background sets, not 95%.
3. **A claimed departure** (sub-additive, hindrance, amplifies, prefers loop, ...) needs its test at
   ``p < alpha``, its 95% CI on one side of the null value, and a size of at least :data:`MIN_EFFECT` of
   the motif's own effect (:func:`signed`, :func:`ratio`).
4. **A claimed absence** of departure ("additive") needs equivalence: the CI of the ratio inside
   ``expected x (1 -/+ TOLERANCE)`` (:func:`ratio`); a CI too wide for either is ``"undetermined"``.
5. **Round-off is not an effect**: values within a few units in the last place of the model's output
   dtype are exactly 0 (:func:`without_roundoff`).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .stats import Estimate, Importance

ALPHA = 0.05  # significance level of a claimed departure (sub-additive, amplifies, prefers loop, ...)
ALPHA_EFFECT = 0.01  # significance level of "the motif has an effect", the gate of every other verdict
MIN_EFFECT = 0.1  # smallest effect worth a word: of the prediction's sd (the motif) or of the motif's effect
TOLERANCE = 0.1  # equivalence band of "additive": the ratio's CI inside expected x (1 -/+ TOLERANCE)
MIN_BACKGROUNDS = 10  # fewer backgrounds: every verdict is "undetermined"
ROUNDOFF_ULPS = 64  # |value| <= ULPS x eps(output dtype) x the magnitudes involved: round-off, set to 0

UNDETERMINED = "undetermined"
NO_EFFECT = "no effect"
UNEQUAL = "additive, unequal copies"  # multiplicity: the copies add, but weigh differently at their starts


def too_few(n: int, what: str, stacklevel: int = 3) -> str | None:
    """The rule's words when ``n`` backgrounds are too few for ``what`` (with a warning), else ``None``."""
    if n >= MIN_BACKGROUNDS:
        return None
    warnings.warn(f"{what} on {n} background(s): a verdict needs at least {MIN_BACKGROUNDS}; it is "
                  f"'{UNDETERMINED}' (use more backgrounds)", RuntimeWarning, stacklevel=stacklevel)
    return f"{n} background(s), fewer than the {MIN_BACKGROUNDS} a verdict needs"


def without_roundoff(values: np.ndarray, scale: np.ndarray, eps: float) -> np.ndarray:
    """``values`` with entries within :data:`ROUNDOFF_ULPS` x ``eps`` x ``scale`` of 0 set to exactly 0.

    ``scale`` is the magnitude of the predictions the values were computed from (a float32 model's
    differences carry ~1e-7 of them as noise); ``eps`` the machine epsilon of the model's output dtype.
    An exactly additive model then gives interactions of exactly 0, whose test says "no interaction"
    instead of a coin toss on round-off signs.
    """
    values = np.asarray(values, dtype=np.float64)
    return np.where(np.abs(values) <= ROUNDOFF_ULPS * float(eps) * np.abs(scale), 0.0, values)


@dataclass(frozen=True)
class Effect:
    """Whether the motif has an effect (rule 2), and the size the other rules compare with.

    Attributes
    ----------
    present
        The gate: some placement's importance has ``p < ALPHA_EFFECT / k`` and ``|mean| >= floor``.
    size
        ``|mean|`` of the strongest placement (the motif's own effect).
    floor
        :data:`MIN_EFFECT` x the sd of the predictions over the backgrounds.
    rule
        The gate in words, with its numbers.
    """

    present: bool
    size: float
    floor: float
    rule: str

    def to_record(self) -> dict[str, Any]:
        """``{present, size, floor, rule}`` (a record's ``motif_effect``)."""
        return {"present": self.present, "size": self.size, "floor": self.floor, "rule": self.rule}


def motif_effect(placements: Sequence[Importance], prediction_sd: float, alpha: float = ALPHA_EFFECT) -> Effect:
    """Rule 2 over the motif's single placements (one copy, the motif alone, ...); see :class:`Effect`."""
    floor = MIN_EFFECT * float(prediction_sd)
    level = alpha / max(1, len(placements))
    best = max(placements, key=lambda imp: abs(imp.mean) if np.isfinite(imp.mean) else -1.0)
    clear = [imp for imp in placements if np.isfinite(imp.pvalue) and imp.pvalue < level and abs(imp.mean) >= floor]
    if clear:
        top = max(clear, key=lambda imp: abs(imp.mean))
        return Effect(True, abs(top.mean), floor, f"the motif's importance {top.mean:.3g} (p = {top.pvalue:.2g} < "
                      f"{level:.2g}, |effect| >= {floor:.3g} = {MIN_EFFECT:g} x the predictions' sd)")
    return Effect(False, abs(best.mean) if np.isfinite(best.mean) else float("nan"), floor,
                  f"the motif has no clear effect: best {best.mean:.3g} (p = {best.pvalue:.2g}); a verdict needs "
                  f"p < {level:.2g} and |effect| >= {floor:.3g} ({MIN_EFFECT:g} x the predictions' sd)")


def ratio(est: Estimate, expected: float, pvalue: float, effect: Effect, names: tuple[str, str, str], *,
          tolerance: float = TOLERANCE, alpha: float = ALPHA, unit: float = 1.0) -> tuple[str, str]:
    """Rules 3-4 for a ratio whose additive value is ``expected`` (multiplicity: n copies / 1; spacing: 1).

    ``pvalue`` tests the ratio against ``expected`` (a paired t-test of the per-background departure);
    ``names`` are the (below, additive, above) words; ``unit`` is how many copies' effect one unit of the
    ratio stands for (spacing: pair / (2 x one copy), so 2), for the minimum departure. Returns
    ``(verdict, rule in words)``.
    """
    below, additive, above = names
    if not effect.present:
        return NO_EFFECT, effect.rule
    ci = f"{est.mean:.3g} (95% CI {est.ci_low:.3g} to {est.ci_high:.3g})"
    if not (np.isfinite(est.ci_low) and np.isfinite(est.ci_high) and np.isfinite(pvalue)):
        return UNDETERMINED, f"the ratio's CI or test is undefined ({ci}, p = {pvalue:.2g})"
    band = (expected * (1 - tolerance), expected * (1 + tolerance))
    departure = abs(est.mean - expected) * unit  # in units of one copy's effect
    excludes = est.ci_high < expected or est.ci_low > expected
    inside = band[0] <= est.ci_low and est.ci_high <= band[1]
    if excludes and pvalue < alpha and departure >= MIN_EFFECT:
        word = below if est.ci_high < expected else above
        return word, f"ratio {ci} excludes {expected:g} (p = {pvalue:.2g}); departure {departure:.3g} of one copy"
    # equivalence: a CI inside the band with no claimable departure is additive, even where it excludes the
    # expected value by less than the minimum effect (a tight CI on a negligible departure)
    if inside and (not excludes or departure < MIN_EFFECT):
        why = (f"; it misses {expected:g} by a negligible {departure:.2g} of one copy (p = {pvalue:.2g}, below the "
               f"minimum effect {MIN_EFFECT:g})" if excludes else "")
        where = f"[{band[0]:.3g}, {band[1]:.3g}] = {expected:g} x (1 -/+ {tolerance:g})"
        return additive, f"ratio {ci} lies inside {where}{why}"
    if excludes:
        return UNDETERMINED, (f"ratio {ci} excludes {expected:g} but not clearly: p = {pvalue:.2g}, departure "
                              f"{departure:.3g} of one copy (a claim needs p < {alpha:g} and >= {MIN_EFFECT:g})")
    return UNDETERMINED, (f"ratio {ci} holds {expected:g} but reaches outside [{band[0]:.3g}, {band[1]:.3g}]: too wide "
                          f"to call additive or not")


def signed(est: Estimate, effect: Effect, words: tuple[str, str, str], *, alpha: float = ALPHA,
           sign: float = 1.0) -> tuple[str, str]:
    """Rule 3 for a difference whose null value is 0 (an interaction, a structure effect).

    ``words`` = (positive, null, negative); ``sign`` flips the reading (a GC run "amplifies" a motif
    whose own effect is negative when the interaction is negative). The positive or negative word needs
    ``p < alpha``, the CI on that side of 0 and ``|mean| >= MIN_EFFECT x effect.size``; the null word
    otherwise. Returns ``(verdict, rule in words)``.
    """
    pos, null, neg = words
    if not effect.present:
        return NO_EFFECT, effect.rule
    ci = f"{est.mean:.3g} (95% CI {est.ci_low:.3g} to {est.ci_high:.3g}, p = {est.pvalue:.2g})"
    if not np.isfinite(est.pvalue):
        return UNDETERMINED, f"the test is undefined ({ci})"
    floor = MIN_EFFECT * effect.size
    if est.pvalue < alpha and abs(est.mean) >= floor and (est.ci_low > 0 or est.ci_high < 0):
        up = (est.mean > 0) == (sign > 0)
        return (pos if up else neg), f"{ci}: p < {alpha:g}, the CI excludes 0 and |effect| >= {floor:.3g}"
    return null, f"{ci}: not a departure (needs p < {alpha:g}, a CI excluding 0 and |effect| >= {floor:.3g})"


def holm_demoted(verdict: str, adjusted_p: float, null_word: str, alpha: float = ALPHA) -> str:
    """A claimed departure that does not survive Holm's correction across a battery becomes ``"undetermined"``;
    null words (and "additive, unequal copies", a form of additive) and other verdicts stay as they are."""
    if verdict in (null_word, UNEQUAL, NO_EFFECT, UNDETERMINED) or not np.isfinite(adjusted_p) or adjusted_p < alpha:
        return verdict
    return UNDETERMINED


NO_MOTIF_RULE = ("the top k-mer does not stand out from the other k-mers (no motif): nothing is said about how "
                 "it combines")


def motif_stands_out(standout_verdict: str, top_kmer: str, motif: str) -> bool:
    """Whether verdicts about ``motif`` can say anything: it was given from outside (it is not the scan's top
    k-mer), or the scan's top k-mer stands out (:func:`rbgia.scan.standout` did not say "no motif")."""
    return standout_verdict != "no motif" or top_kmer != motif


def motif_gate(verdicts: Mapping[str, str], stands_out: bool) -> dict[str, str]:
    """The verdicts about a motif, all ``"undetermined"`` unless it ``stands_out`` (:func:`motif_stands_out`: a
    model that learnt nothing still responds to its best k-mer, and how that response combines is no finding).
    A motif given from outside (planted, known), or one that stands out, keeps them."""
    if stands_out:
        return dict(verdicts)
    return {name: UNDETERMINED for name in verdicts}


def prediction_sd(baseline: Any) -> float:
    """The spread of the model's predictions over the backgrounds (the scale of :data:`MIN_EFFECT`)."""
    b = np.asarray(baseline, dtype=np.float64)
    return float(b.std(ddof=1)) if b.size > 1 else float("nan")


__all__ = [
    "ALPHA",
    "ALPHA_EFFECT",
    "MIN_BACKGROUNDS",
    "MIN_EFFECT",
    "NO_EFFECT",
    "ROUNDOFF_ULPS",
    "TOLERANCE",
    "UNDETERMINED",
    "UNEQUAL",
    "Effect",
    "NO_MOTIF_RULE",
    "holm_demoted",
    "motif_gate",
    "motif_stands_out",
    "motif_effect",
    "prediction_sd",
    "ratio",
    "signed",
    "too_few",
    "without_roundoff",
]

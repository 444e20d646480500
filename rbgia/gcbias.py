"""The paper's GC-bias test (Fig 4c-e): does a GC run at a probe's end amplify the motif, or add to it?

Five embeddings per background: the motif alone, the motif with the GC run at the 5' and at the
3' end, and the GC run alone at each end. The effect sizes of the paper (motif + GC over the motif)
move with the GC run's own effect, so the verdicts come from the **interaction**
``(motif + GC) - motif - GC alone`` per background, read against the sign of the motif's own
effect: ``"amplifies"`` when the GC run makes the motif's effect larger in magnitude,
``"dampens"`` when smaller, ``"adds"`` when there is no interaction (:mod:`rbgia.verdicts`).
The biased end is the end whose interaction is the larger, from the per-background difference
``interaction 3' - interaction 5'``: an additive GC effect leaves it at exactly 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import paper
from . import verdicts as rules
from .embedding import pattern_rows
from .experiments import N_BOOT, contrast_estimate
from .records import GC_CONDITIONS, as_record, make_record
from .session import GIA, require_session
from .stats import Estimate, Importance, bootstrap_means, importance, paired_estimate, safe_ratio
from .verdicts import ALPHA, Effect

WORDS = ("amplifies", "adds", "dampens")
END_WORDS = ("3'", "none", "5'")


@dataclass(frozen=True, eq=False)
class GCBias:
    """Result of :func:`gc_bias`.

    Attributes
    ----------
    motif, motif_gc5, motif_gc3, gc3, gc5
        Importances of the motif alone, with the GC run at the 5' / 3' start, and of
        the GC run alone at the 3' and 5' starts (local importances kept).
    effect5, effect3
        The paper's effect sizes ``motif_gc5.mean / motif.mean`` and ``motif_gc3.mean / motif.mean``;
        NaN (as are the CIs and ``diff``) when ``motif.mean`` is exactly 0. They move with the GC run's
        own effect: the verdicts do not use them.
    effect5_ci, effect3_ci, diff, diff_ci
        Paired-bootstrap 95% CIs of the effects, and ``effect5 - effect3`` with its CI.
    interaction5, interaction3
        ``(motif + GC) - motif - GC alone`` at each end: mean, paired-bootstrap CI and
        paired t-test p-value of the per-background interaction (round-off is exactly 0).
    verdict5, verdict3, rule5, rule3
        ``"amplifies"``, ``"adds"``, ``"dampens"``, ``"no effect"`` (the motif has none) or
        ``"undetermined"`` (too few backgrounds), and the rule applied in words.
    bias, biased_end, bias_rule
        ``interaction 3' - interaction 5'`` per background (mean, CI, p) and its verdict, read against
        the motif's sign: ``"3'"`` (the 3' run amplifies more), ``"5'"``, ``"none"``, ``"no effect"``.
    effect
        Whether the motif alone has an effect (:func:`rbgia.verdicts.motif_effect`).
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
    rule5: str = ""
    rule3: str = ""
    bias: Estimate | None = None
    biased_end: str = ""
    bias_rule: str = ""
    effect: Effect | None = None

    def local_effects(self) -> dict[str, Importance]:
        """Box-plot groups: motif, motif + GC 5', motif + GC 3', GC 5' alone, GC 3' alone."""
        return {"motif": self.motif, "motif + GC 5'": self.motif_gc5, "motif + GC 3'": self.motif_gc3,
                "GC 5' alone": self.gc5, "GC 3' alone": self.gc3}

    def to_record(self) -> dict:
        """Record of kind ``gc_bias``; ``importance`` maps :data:`rbgia.records.GC_CONDITIONS` to records,
        ``interaction5`` / ``interaction3`` hold the estimate with that end's ``verdict`` and ``rule``,
        ``bias`` the end difference with ``verdict`` (the biased end) and ``rule``."""
        imps = dict(zip(GC_CONDITIONS, (self.motif, self.motif_gc5, self.motif_gc3, self.gc5, self.gc3)))
        ratios = (("effect5", self.effect5, self.effect5_ci), ("effect3", self.effect3, self.effect3_ci),
                  ("diff", self.diff, self.diff_ci))
        est = {name: {"mean": v, "ci_low": ci[0], "ci_high": ci[1], "pvalue": None} for name, v, ci in ratios}
        said = {"5": (self.interaction5, self.verdict5, self.rule5), "3": (self.interaction3, self.verdict3,
                                                                            self.rule3)}
        inter = {f"interaction{end}": None if e is None else e.to_record() | {"verdict": v, "rule": r}
                 for end, (e, v, r) in said.items()}
        bias = None if self.bias is None else self.bias.to_record() | {"verdict": self.biased_end,
                                                                        "rule": self.bias_rule}
        return make_record("gc_bias", motif=self.kmer, motif_start=self.motif_start, gc_motif=self.gc_motif,
                           gc_starts=self.gc_starts, importance=imps, **est, **inter, bias=bias, alpha=self.alpha,
                           motif_effect=self.effect)


def _effect_sizes(imps: list[Importance], boot: np.ndarray) -> tuple[Estimate, Estimate, Estimate]:
    """The paper's effect sizes (motif + GC over the motif) at each end, and their difference."""
    e5, e3 = safe_ratio(boot[1], boot[0]), safe_ratio(boot[2], boot[0])
    effect5, effect3 = (paired_estimate(safe_ratio(imps[i].mean, imps[0].mean), e) for i, e in ((1, e5), (2, e3)))
    return effect5, effect3, paired_estimate(effect5.mean - effect3.mean, e5 - e3)


def _verdicts(session: GIA, inter: dict[str, Estimate], bias: Estimate, effect: Effect, motif_mean: float,
              alpha: float) -> tuple[dict[str, tuple[str, str]], tuple[str, str]]:
    """Each end's interaction verdict and the biased end, against the sign of the motif's own effect."""
    few = rules.too_few(session.n, "gc_bias", stacklevel=4)
    if few:
        return {end: (rules.UNDETERMINED, few) for end in inter}, (rules.UNDETERMINED, few)
    sign = 1.0 if not motif_mean < 0 else -1.0
    said = {end: rules.signed(e, effect, WORDS, alpha=alpha, sign=sign) for end, e in inter.items()}
    return said, rules.signed(bias, effect, END_WORDS, alpha=alpha, sign=sign)


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
    """Motif alone, with a GC run at the 5' or 3' end, and the GC run alone (paper Fig 4c); see the module doc.

    ``gc_starts`` default: the very 5' and 3' ends (paper text; ``(0, 35)`` for a 6-mer in 41 nt,
    :func:`rbgia.paper.gc_ends`); the public code's are :data:`rbgia.paper.PUBLIC_CODE_GC_STARTS`.
    All embeddings share each bootstrap draw.
    """
    session = require_session(session, "gc_bias")
    if gc_starts is None:
        gc_starts = paper.gc_ends(session.length, pattern_rows(gc_motif)[0].shape[0])
    gc_starts = (int(gc_starts[0]), int(gc_starts[1]))
    m = (motif, int(motif_start))
    gc5, gc3 = (gc_motif, gc_starts[0]), (gc_motif, gc_starts[1])
    local = session.local([[m], [m, gc5], [m, gc3], [gc3], [gc5]])
    imps = [importance(row) for row in local]
    boot = bootstrap_means(local, n_boot=n_boot, seed=seed)  # (5, B)
    effect5, effect3, diff = _effect_sizes(imps, boot)
    # rows: motif, motif+GC5, motif+GC3, GC3 alone, GC5 alone
    inter = {"5": contrast_estimate(session, local, (-1, 1, 0, 0, -1), boot),
             "3": contrast_estimate(session, local, (-1, 0, 1, -1, 0), boot)}
    bias = contrast_estimate(session, local, (0, -1, 1, -1, 1), boot)  # interaction 3' - interaction 5'
    effect = rules.motif_effect([imps[0]], rules.prediction_sd(session.baseline))
    said, (end, end_rule) = _verdicts(session, inter, bias, effect, imps[0].mean, alpha)
    return GCBias(
        motif=imps[0], motif_gc5=imps[1], motif_gc3=imps[2], gc3=imps[3],
        effect5=effect5.mean, effect5_ci=effect5.ci95, effect3=effect3.mean, effect3_ci=effect3.ci95,
        diff=diff.mean, diff_ci=diff.ci95, gc5=imps[4], interaction5=inter["5"], interaction3=inter["3"],
        verdict5=said["5"][0], verdict3=said["3"][0], kmer=str(motif).upper(), motif_start=int(motif_start),
        gc_motif=str(gc_motif).upper(), gc_starts=gc_starts, alpha=float(alpha), rule5=said["5"][1],
        rule3=said["3"][1], bias=bias, biased_end=end, bias_rule=end_rule, effect=effect,
    )


def relative_bias(record: Any) -> float | None:
    """``(interaction 3' - interaction 5') / motif``, signed by the motif's effect, of a GC-bias result or record:
    the across-experiment statistic of the end bias (0 for an additive GC effect); ``None`` without a motif effect."""
    r = as_record(record)
    m, b = r.importance.motif.mean, r.bias
    if b is None or m is None or b.mean is None or m == 0:
        return None
    return float(b.mean / abs(m) * (1 if m > 0 else -1))


__all__ = ["END_WORDS", "GCBias", "WORDS", "gc_bias", "relative_bias"]

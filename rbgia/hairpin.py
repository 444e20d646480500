"""Is a motif worth more unpaired in a hairpin's loop than paired in its stem (paper Fig 3c, VTS1)?

The paper embeds the motif in the loop and in the stem of designed stem-loops and compares them
with the same starts in unstructured backgrounds. That comparison confounds structure with
sequence: a motif in the stem gets its reverse complement written into the partner arm, the
unstructured control does not, so any model that weighs the partner arm's bases (a position
weight matrix, a GC-content model) shows a "structure effect" (issue 18).

Here every contrast changes structure with the sequence held fixed, or cancels the sequence it
changes. On the designed stem-loop backgrounds ``H`` (arms paired,
:func:`rbgia.stemloop.stem_loop_background`) and their broken twins ``B`` (the partner arm the
stem's mirror image: no pair can form, :func:`rbgia.stemloop.broken_stem_background`), five
embeddings are measured, each against its own background:

==================  ==========  =================================================  ==============
name                background  embedded                                            the motif
==================  ==========  =================================================  ==============
``in_loop``         H           motif in the loop                                   unpaired, loop
``broken_loop``     B           motif at the same start                             open chain
``in_stem``         H           motif in the stem arm + its reverse complement      paired
                                in the partner arm
``stem_unpaired``   H           motif in the stem arm only                          unpaired
``partner_only``    H           the reverse complement in the partner arm only      (absent)
==================  ==========  =================================================  ==============

- ``loop_context = in_loop - broken_loop``: the hairpin around the loop against none, the loop's
  bases and their neighbours identical.
- ``pairing = in_stem - stem_unpaired - partner_only``: the interaction of the motif with its
  complement, i.e. what pairing adds beyond the two sequences' separate effects.
- ``structure_effect = loop_context - pairing`` (> 0: the motif counts more unpaired in the loop).

For any model that adds per-position effects (a PWM, GC content, k-mer counts shorter than the
distance between the arms) both contrasts are exactly 0 for every background, whatever its
sequence. The motif's unpaired probability in each embedding (ViennaRNA) is reported beside the
verdict, and the verdict is ``"undetermined"`` when the design does not separate the motif's
structure (fewer than half the stem-loops fold as designed, or the motif is not clearly less paired
in the loop than in the stem).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import paper
from . import verdicts as rules
from .errors import DataError
from .experiments import N_BOOT, contrast_estimate
from .records import make_record
from .sequence import decode
from .session import GIA, require_session
from .stats import Estimate, Importance, bootstrap_means, importance, rows
from .stemloop import PAPER_PARTNER, PAPER_STEM, broken_stem_background, check_stem, partner_of, stem_loop_background
from .verdicts import ALPHA, Effect

CONDITIONS = ("in_loop", "broken_loop", "in_stem", "stem_unpaired", "partner_only")
#: How the page names each embedding (box plots, tables).
LABELS = {"in_loop": "hairpin loop", "broken_loop": "broken stem, loop start", "in_stem": "hairpin stem (paired)",
          "stem_unpaired": "stem arm only (unpaired)", "partner_only": "partner arm only"}
WORDS = ("prefers loop", "no structure effect", "prefers stem")
DESIGN_CONTRAST = 0.3  # the motif's unpaired probability must be this much higher in the loop than in the stem
_COMPLEMENT = str.maketrans("ACGU", "UGCA")


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
    from .structure import mfe  # noqa: PLC0415 (ViennaRNA only when folding)

    x = np.asarray(x)
    i, j = check_stem(stem, partner, x.shape[1])
    offsets = (x[..., :4].sum(-1) > 0).argmax(1)
    out = np.zeros(len(x), dtype=bool)
    for n, (seq, off) in enumerate(zip(decode(x[..., :4]), offsets)):  # folding, no model call
        a, b = i - off, j - off
        if not seq or a.min() < 0 or b.min() < 0 or max(a.max(), b.max()) >= len(seq):
            continue  # the stem lies (partly) in the padding: it cannot fold
        out[n] = np.mean(_pair_table(mfe(seq)[0])[a] == b) >= threshold
    return out


def motif_unpaired(x: np.ndarray, start: int, k: int) -> float:
    """Mean ViennaRNA unpaired probability of positions ``[start, start + k)`` over the sequences ``x``."""
    from .structure import structure_profile  # noqa: PLC0415 (ViennaRNA only when folding)

    pu = structure_profile(decode(np.asarray(x)[..., :4]), "pu", length=np.asarray(x).shape[1])
    return float(pu[:, start : start + k, 1].mean())


@dataclass(frozen=True, eq=False)
class Hairpin:
    """Result of :func:`hairpin_context` (the design: module doc).

    Attributes
    ----------
    table
        One row per embedding (:data:`CONDITIONS`): ``condition``, ``background`` (``stem-loop`` /
        ``broken``), ``start``, ``motif unpaired`` (ViennaRNA, NaN without the fold check),
        ``mean``, ``ci_low``, ``ci_high``, ``pvalue``, ``n``.
    in_loop, broken_loop, in_stem, stem_unpaired, partner_only
        The five importances (local importances kept).
    structure_effect, loop_context, pairing
        Per-background contrasts (mean, paired-bootstrap CI, paired t-test p); ``structure_effect =
        loop_context - pairing``, > 0: the motif counts more unpaired in the loop.
    loop_minus_stem
        The naive ``in_loop - in_stem`` (confounded by position and sequence), for comparison.
    unpaired
        The motif's mean unpaired probability per embedding (``None`` without the fold check).
    n_folded, n_broken_folded, n_designed, fold_threshold
        Stem-loops (and broken twins) whose MFE structure forms at least ``fold_threshold`` of the
        designed pairs, out of ``n_designed`` (``None``: not checked).
    verdict, rule
        ``"prefers loop"`` / ``"prefers stem"`` / ``"no structure effect"`` by
        :func:`rbgia.verdicts.signed`, ``"no effect"`` when the motif has none, ``"undetermined"``
        when the design fails or backgrounds are too few; the rule applied in words.
    effect
        Whether the motif has an effect in any placement (:func:`rbgia.verdicts.motif_effect`).
    """

    table: pd.DataFrame
    in_loop: Importance = field(repr=False)
    broken_loop: Importance = field(repr=False)
    in_stem: Importance = field(repr=False)
    stem_unpaired: Importance = field(repr=False)
    partner_only: Importance = field(repr=False)
    structure_effect: Estimate
    loop_context: Estimate
    pairing: Estimate
    loop_minus_stem: Estimate
    unpaired: dict[str, float] | None
    n_folded: int | None
    n_broken_folded: int | None
    n_designed: int
    fold_threshold: float
    verdict: str
    rule: str
    effect: Effect
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
        """Box-plot groups: the five embeddings, named by :data:`LABELS`."""
        return {LABELS[c]: getattr(self, c) for c in CONDITIONS}

    def to_record(self) -> dict:
        """Record of kind ``hairpin``: ``mean``, ``ci_low``, ``ci_high``, ``pvalue`` of the structure effect,
        its two contrasts, the folding checks, the verdict and rule, and the five importances."""
        se = self.structure_effect
        return make_record(
            "hairpin", mean=se.mean, ci_low=se.ci_low, ci_high=se.ci_high, pvalue=se.pvalue, n=self.in_loop.n,
            loop_context=self.loop_context, pairing=self.pairing, n_folded=self.n_folded,
            n_broken_folded=self.n_broken_folded, n_designed=self.n_designed, fold_threshold=self.fold_threshold,
            unpaired=self.unpaired, verdict=self.verdict, rule=self.rule, motif=self.motif,
            loop_start=self.loop_start, stem_start=self.stem_start, stem_range=self.stem, partner_range=self.partner,
            in_loop=self.in_loop, broken_loop=self.broken_loop, in_stem=self.in_stem,
            stem_unpaired=self.stem_unpaired, partner_only=self.partner_only, loop_minus_stem=self.loop_minus_stem,
            motif_effect=self.effect, alpha=self.alpha)


def _sessions(session: GIA, stem: tuple[int, int], partner: tuple[int, int]) -> tuple[GIA, GIA]:
    """Sessions on the designed stem-loops and on their broken twins (the given session's predictor and structure
    setting; nothing re-imposes pairing: each embedding writes exactly its patterns)."""
    kw = {"task": session.predict.task, "recompute_structure": session.recompute_structure,
          "chunk_size": session.chunk_size}
    looped = stem_loop_background(session.background, stem, partner)
    return (GIA(session.predict, looped, **kw),
            GIA(session.predict, broken_stem_background(looped, stem, partner), **kw))


def _folding(flat: GIA, broken: GIA, embeddings: dict[str, Any], threshold: float, stem: tuple[int, int],
             partner: tuple[int, int]) -> tuple[dict, int, int]:
    """The motif's unpaired probability in each embedding that holds it, and the designs that fold as intended."""
    session = {"broken_loop": broken}
    unpaired = {}
    for name, patterns in embeddings.items():
        motif, start = patterns[0]
        unpaired[name] = motif_unpaired(session.get(name, flat).embed(patterns), start, len(motif))
    n_folded = int(folded_as_designed(flat.background, stem, partner, threshold).sum())
    n_broken = int(folded_as_designed(broken.background, stem, partner, threshold).sum())
    return unpaired, n_folded, n_broken


def _verdict(est: Estimate, effect: Effect, unpaired: dict | None, n_folded: int | None, n: int,
             alpha: float) -> tuple[str, str]:
    few = rules.too_few(n, "hairpin_context", stacklevel=4)
    if few:
        return rules.UNDETERMINED, few
    if n_folded is not None and n_folded < 0.5 * n:
        return rules.UNDETERMINED, f"only {n_folded} of {n} designed stem-loops fold as designed"
    if unpaired is not None and unpaired["in_loop"] - unpaired["in_stem"] < DESIGN_CONTRAST:
        return rules.UNDETERMINED, (f"the motif is unpaired with probability {unpaired['in_loop']:.2f} in the loop and "
                                    f"{unpaired['in_stem']:.2f} in the stem: the design does not separate them "
                                    f"(needs {DESIGN_CONTRAST:g} more in the loop)")
    return rules.signed(est, effect, WORDS, alpha=alpha)


def hairpin_context(
    session: GIA,
    motif: str,
    loop_start: int = paper.HAIRPIN_LOOP_START,
    stem_start: int = paper.HAIRPIN_STEM_START,
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
    """The motif unpaired in a hairpin's loop against paired in its stem, sequence held fixed (module doc).

    Defaults follow the paper (VTS1, Fig 3c): stem 1-based 6-16 paired with 23-33, the motif in the
    loop at 1-based 17-22 and in the stem at 9-14. ``fold_check`` folds the embedded sequences and the
    designs (ViennaRNA, ~1 ms each) to report the motif's unpaired probability per embedding and how
    many designs fold as intended. For a model with structure inputs pass ``recompute_structure``
    (``True`` when the background carries the channels, else ``"pu"``/``"phime"``; ``None`` keeps the
    session's setting).
    """
    session = require_session(session, "hairpin_context")
    if session.stem_loop is not None:
        raise DataError("hairpin_context makes its own stem-loops; pass a session without stem_loop")
    if recompute_structure is not None:
        session = session.replace(recompute_structure=recompute_structure)
    motif = str(motif).upper().replace("T", "U")
    k, starts = len(motif), {"loop": int(loop_start), "stem": int(stem_start)}
    partner_start = partner_of(starts["stem"], k, stem, partner)
    flat, broken = _sessions(session, stem, partner)
    m_loop, m_stem = (motif, starts["loop"]), (motif, starts["stem"])
    complement = (motif.translate(_COMPLEMENT)[::-1], partner_start)  # pairs with the motif in the stem
    embeddings = {"in_loop": [m_loop], "broken_loop": [m_loop], "in_stem": [m_stem, complement],
                  "stem_unpaired": [m_stem], "partner_only": [complement]}
    local = np.concatenate([flat.local([embeddings["in_loop"]]), broken.local([embeddings["broken_loop"]]),
                            flat.local([embeddings[c] for c in CONDITIONS[2:]])])  # rows in CONDITIONS order
    imps = [importance(row) for row in local]
    boot = bootstrap_means(local, n_boot=n_boot, seed=seed)
    loop_context = contrast_estimate(flat, local, (1, -1, 0, 0, 0), boot)
    pairing = contrast_estimate(flat, local, (0, 0, 1, -1, -1), boot)
    structure = contrast_estimate(flat, local, (1, -1, -1, 1, 1), boot)
    naive = contrast_estimate(flat, local, (1, 0, -1, 0, 0), boot)
    held = {name: embeddings[name] for name in CONDITIONS[:4]}  # the embeddings that hold the motif
    unpaired, n_folded, n_broken = (_folding(flat, broken, held, fold_threshold, stem, partner)
                                    if fold_check else (None, None, None))
    effect = rules.motif_effect(imps[:4], rules.prediction_sd(flat.baseline))
    verdict, rule = _verdict(structure, effect, unpaired, n_folded, session.n, alpha)
    table = pd.DataFrame({"condition": list(CONDITIONS), "background": ["stem-loop", "broken"] + ["stem-loop"] * 3,
                          "start": [starts["loop"], starts["loop"], starts["stem"], starts["stem"], partner_start],
                          "motif unpaired": [(unpaired or {}).get(c, np.nan) for c in CONDITIONS]} | rows(imps))
    return Hairpin(table, *imps, structure_effect=structure, loop_context=loop_context, pairing=pairing,
                   loop_minus_stem=naive, unpaired=unpaired, n_folded=n_folded, n_broken_folded=n_broken,
                   n_designed=session.n, fold_threshold=float(fold_threshold), verdict=verdict, rule=rule,
                   effect=effect, motif=motif, loop_start=starts["loop"], stem_start=starts["stem"],
                   stem=(int(stem[0]), int(stem[1])), partner=(int(partner[0]), int(partner[1])), alpha=float(alpha))


__all__ = ["CONDITIONS", "DESIGN_CONTRAST", "LABELS", "Hairpin", "folded_as_designed", "hairpin_context",
           "motif_unpaired"]

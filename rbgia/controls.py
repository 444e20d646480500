"""Negative and positive controls of every verdict rule: toy predictors whose right answer is known.

Every verdict the book prints (a motif found, copies that add, a GC run that amplifies, a motif
that prefers a hairpin's loop, ...) comes from a rule of :mod:`rbgia.verdicts`. Here each rule is
run through models that cannot have the effect it claims (negative controls: a model that learnt
nothing, a structure-blind position weight matrix, a GC-content model, an additive motif model)
and through models built to have it (positive controls), each over many independent background
sets. :func:`run_controls` returns, per verdict type and model, how often the rule claims an effect
(negative controls: at most :data:`TARGET_NEGATIVE`) and how often it gives the right verdict
(positive controls: at least :data:`TARGET_POSITIVE`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import paper
from .background import dinuc_shuffle_background
from .experiments import multiplicity, spacing
from .gcbias import gc_bias
from .hairpin import hairpin_context
from .scan import adaptive_kmer_scan, standout
from .sequence import ALPHABET, SEQ_LEN, one_hot
from .session import GIA
from .simulate import sample_probes

TARGET_NEGATIVE = 0.05  # a negative control claims an effect in at most this share of background sets
TARGET_POSITIVE = 0.95  # a positive control gets the right verdict in at least this share
MOTIF = paper.RBFOX1_MOTIF  # the motif of the copy-number, spacing and GC controls
LOOP_MOTIF = "GCUGGC"  # VTS1's top 6-mer: the motif of the hairpin controls
#: Verdict types, in the order of the table.
VERDICTS = ("top k-mer", "multiplicity", "spacing", "GC 3' end", "GC biased end", "hairpin")
#: The words that claim nothing, per verdict type (the rest claim an effect).
NULL_WORDS: Mapping[str, tuple[str, ...]] = {
    "top k-mer": ("no motif",), "multiplicity": ("no effect", "additive", "additive, unequal copies"),
    "spacing": ("no effect", "additive"), "GC 3' end": ("no effect", "adds"),
    "GC biased end": ("no effect", "none"), "hairpin": ("no effect", "no structure effect"),
}
_CODE = {c: i for i, c in enumerate(ALPHABET)}


def _hits(x: np.ndarray, motif: str) -> np.ndarray:
    """``(N, windows)``: an exact copy of ``motif`` starts at each window (one-hot ``x``: a letter is where its
    channel exceeds 0.5; padding matches nothing)."""
    x4 = np.asarray(x)[..., :4]
    width = x4.shape[1] - len(motif) + 1
    if width < 1:
        return np.zeros((len(x4), 0), dtype=bool)
    # one comparison per motif letter over shifted columns: the toys run inside every GIA call of the controls
    out = x4[:, :width, _CODE[motif[0]]] > 0.5
    for j, c in enumerate(motif[1:], 1):
        out &= x4[:, j : j + width, _CODE[c]] > 0.5
    return out


def _count(motif: str) -> Callable[[np.ndarray], np.ndarray]:
    return lambda x: _hits(x, motif).sum(-1).astype(np.float64)


def _complement(motif: str) -> str:
    return motif.translate(str.maketrans("ACGU", "UGCA"))[::-1]


@dataclass(frozen=True)
class Control:
    """A toy predictor and the verdict each rule should give on it (``None``: not a control of that rule).

    ``negative`` verdict types expect no claim (any of :data:`NULL_WORDS`); the others name the right word.
    """

    name: str
    description: str
    build: Callable[[int], Callable[[np.ndarray], np.ndarray]]  # seed -> predict
    negative: tuple[str, ...] = ()
    positive: Mapping[str, str] | None = None


def _null(seed: int) -> Callable[[np.ndarray], np.ndarray]:
    rng = np.random.default_rng(seed)
    return lambda x: rng.normal(size=len(x))


def _linear(seed: int) -> Callable[[np.ndarray], np.ndarray]:
    w = np.random.default_rng(seed).normal(size=(SEQ_LEN, 4))
    return lambda x: np.einsum("nla,la->n", np.asarray(x)[:, : len(w), :4], w)


def _gc_content(seed: int) -> Callable[[np.ndarray], np.ndarray]:
    def f(x: np.ndarray) -> np.ndarray:
        x4 = np.asarray(x)[..., :4]
        return 5.0 * x4[..., 1:3].sum((1, 2)) / np.maximum(x4.sum((1, 2)), 1)

    return f


def _additive(seed: int) -> Callable[[np.ndarray], np.ndarray]:
    motif, gc = _count(MOTIF), _count(paper.GC_MOTIF)
    return lambda x: motif(x) + 0.5 * gc(x)


def _saturating(seed: int) -> Callable[[np.ndarray], np.ndarray]:
    motif = _count(MOTIF)
    return lambda x: np.minimum(motif(x), 1.0)


def _cooperative(seed: int) -> Callable[[np.ndarray], np.ndarray]:
    motif = _count(MOTIF)
    return lambda x: motif(x) ** 2


def _gc_amplifies(seed: int) -> Callable[[np.ndarray], np.ndarray]:
    motif, gc = _count(MOTIF), _count(paper.GC_MOTIF)
    start = paper.gc_ends()[1]
    return lambda x: motif(x) * (1.0 + (gc(np.asarray(x)[:, start:]) > 0))


def _unpaired(seed: int) -> Callable[[np.ndarray], np.ndarray]:
    motif, partner = _count(LOOP_MOTIF), _hits
    return lambda x: motif(x) * ~partner(x, _complement(LOOP_MOTIF)).any(1)


def _paired(seed: int) -> Callable[[np.ndarray], np.ndarray]:
    motif, partner = _count(LOOP_MOTIF), _hits
    return lambda x: motif(x) * partner(x, _complement(LOOP_MOTIF)).any(1)


ALL = tuple(VERDICTS)
#: The controls of :func:`run_controls`.
CONTROLS: tuple[Control, ...] = (
    Control("null model", "predictions are noise, whatever the sequence", _null, negative=ALL),
    Control("random PWM", "a random position weight matrix: additive per position, structure-blind", _linear,
            negative=("multiplicity", "spacing", "GC 3' end", "GC biased end", "hairpin")),
    Control("GC content", "5 x the G/C fraction of the probe: structure-blind", _gc_content, negative=ALL),
    Control("additive motif", f"copies of {MOTIF} plus half the copies of {paper.GC_MOTIF}: everything adds",
            _additive, negative=("multiplicity", "spacing", "GC 3' end", "GC biased end", "hairpin"),
            positive={"top k-mer": "motif found"}),
    Control("saturating", f"one {MOTIF} or more counts as one", _saturating,
            positive={"multiplicity": "sub-additive", "spacing": "hindrance"}),
    Control("cooperative", f"the square of the copies of {MOTIF}", _cooperative,
            positive={"multiplicity": "super-additive", "spacing": "synergy"}),
    Control("3' GC amplifies", f"copies of {MOTIF} doubled by a {paper.GC_MOTIF} at the 3' end", _gc_amplifies,
            negative=("multiplicity",), positive={"GC 3' end": "amplifies", "GC biased end": "3'"}),
    Control("unpaired motif", f"{LOOP_MOTIF} counts only where its complement, which could pair with it, is absent",
            _unpaired, positive={"hairpin": "prefers loop"}),
    Control("paired motif", f"{LOOP_MOTIF} counts only where its complement is present", _paired,
            positive={"hairpin": "prefers stem"}),
)


def control_backgrounds(n_sets: int, n: int, seed: int = 0) -> list[np.ndarray]:
    """``n_sets`` independent sets of ``n`` backgrounds: dinucleotide shuffles of simulated RNAcompete probes
    (their length and composition kept, planted sites broken)."""
    probes = one_hot(sample_probes(max(4 * n, 400), seed=seed))
    return [dinuc_shuffle_background(probes, n, seed=seed + 1 + i) for i in range(int(n_sets))]


def verdicts(predict: Any, background: np.ndarray, *, k: int = paper.KMER_LENGTH, n_boot: int = 500,
             fold_check: bool = True, seed: int = 0) -> dict[str, str]:
    """The verdict of every rule (:data:`VERDICTS`) on ``predict`` over one background set."""
    session = GIA(predict, background)
    top = adaptive_kmer_scan(session, k=k, n_screen=min(24, session.n - 1), seed=seed)
    kw = {"n_boot": n_boot, "seed": seed}
    spaced = spacing(session, MOTIF, on_conflict="skip", **kw)
    gc = gc_bias(session, MOTIF, **kw)
    return {"top k-mer": standout(top).verdict, "multiplicity": multiplicity(session, MOTIF, **kw).verdict,
            "spacing": spaced.verdicts[-1],  # the pair 3 nt apart: no overlap, no adjacency
            "GC 3' end": gc.verdict3, "GC biased end": gc.biased_end,
            "hairpin": hairpin_context(session, LOOP_MOTIF, fold_check=fold_check, **kw).verdict}


def _rows(control: Control, said: list[dict[str, str]]) -> list[dict[str, Any]]:
    rows = []
    for kind in VERDICTS:
        words = [s[kind] for s in said]
        expected = (control.positive or {}).get(kind)
        role = "positive" if expected else "negative" if kind in control.negative else None
        if role is None:
            continue
        claims = np.mean([w not in NULL_WORDS[kind] and w != "undetermined" for w in words])
        right = np.mean([w == expected for w in words]) if expected else 1 - claims
        rows.append({"verdict": kind, "control": control.name, "role": role,
                     "expected": expected or "no claim", "right": float(right), "claims": float(claims),
                     "undetermined": float(np.mean([w == "undetermined" for w in words])), "sets": len(words),
                     "meets target": bool(right >= TARGET_POSITIVE) if expected else bool(claims <= TARGET_NEGATIVE),
                     "verdicts": ", ".join(f"{w}: {words.count(w)}" for w in dict.fromkeys(words))})
    return rows


def run_controls(controls: Sequence[Control] = CONTROLS, *, n_sets: int = 20, n_background: int = 100,
                 k: int = paper.KMER_LENGTH, n_boot: int = 500, fold_check: bool = True, seed: int = 0
                 ) -> pd.DataFrame:
    """Every rule through every control over ``n_sets`` background sets (:func:`control_backgrounds`).

    Returns one row per verdict type and control: ``role`` (negative / positive), ``expected``, ``right``
    (share of sets with the right verdict), ``claims`` (share claiming an effect), ``undetermined``,
    ``sets``, ``meets target`` (negative: claims <= :data:`TARGET_NEGATIVE`; positive: right >=
    :data:`TARGET_POSITIVE`) and ``verdicts`` (the counts of each word).
    """
    sets = control_backgrounds(n_sets, n_background, seed)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a null model's scan may warn about its own noise
        for control in controls:
            said = [verdicts(control.build(seed + i), bg, k=k, n_boot=n_boot, fold_check=fold_check, seed=seed + i)
                    for i, bg in enumerate(sets)]
            rows += _rows(control, said)
    return pd.DataFrame(rows)


def control_for(verdict: str, table: pd.DataFrame) -> pd.DataFrame:
    """The rows of a :func:`run_controls` table that back ``verdict`` (a chapter links them)."""
    return table[table["verdict"] == verdict].reset_index(drop=True)


__all__ = ["CONTROLS", "LOOP_MOTIF", "MOTIF", "NULL_WORDS", "TARGET_NEGATIVE", "TARGET_POSITIVE", "VERDICTS", "Control",
           "control_backgrounds", "control_for", "run_controls", "verdicts"]

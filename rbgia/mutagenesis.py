"""In silico mutagenesis (ISM): the effect of every single-nucleotide variant.

For each sequence and position, the three variants that change the base are
predicted and compared with the wild type (paper Fig 2a, 3a). All variants of a
chunk of sequences are built by fancy indexing and predicted in one call of the
compiled predictor (:func:`rbgia.inference.as_predict`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import DataError
from .inference import as_predict
from .sequence import as_batch
from .stemloop import add_structure, structure_kind

_EYE = np.eye(4, dtype=np.float32)
DEFAULT_CHUNK = 65_536  # variant sequences per model call


def ism(
    predict: Any,
    x: np.ndarray,
    task: int | None = 0,
    batch_size: int | None = None,
    *,
    chunk_size: int = DEFAULT_CHUNK,
    recompute_structure: bool | str = False,
) -> np.ndarray:
    """Prediction change of every single-nucleotide variant of every sequence.

    Parameters
    ----------
    predict
        Keras model, callable or :class:`rbgia.inference.Predictor`.
    x
        One-hot ``(N, L, A)`` (or one sequence ``(L, A)``); channels beyond 4
        (structure) are carried untouched into every variant unless
        ``recompute_structure`` is set.
    task, batch_size
        Passed to :func:`rbgia.inference.as_predict`.
    chunk_size
        Variant sequences built per model call (bounds memory).
    recompute_structure
        ``False``: every variant keeps the wild type's structure channels. ``True``
        (6 channels -> PU, 9 -> PHIME) or ``"pu"`` / ``"phime"``: refold the wild
        type and every variant with ViennaRNA (as :func:`rbgia.gia.embed` does), so a
        variant that breaks a stem changes the structure input too (~1 ms per
        variant: meant for a few sequences).

    Returns
    -------
    numpy.ndarray
        ``(N, L, 4)`` float64: ``f(variant) - f(wild type)``; 0 at the wild-type
        base and 0 at positions without a base (padding, ``N``), which are not
        mutated. (A 2-D ``x`` gives ``(L, 4)``.)
    """
    x, single = as_batch(x, "ism")
    if x.shape[0] == 0:
        raise DataError("ism got 0 sequences; pass at least one sequence")
    f = as_predict(predict, task=task, batch_size=batch_size)
    kind = structure_kind(recompute_structure, x.shape[-1])
    x = np.ascontiguousarray(x if kind is None else add_structure(x, kind), dtype=np.float32)
    n, length, _ = x.shape
    wt_pred = f(x)

    present = x[..., :4].sum(-1) > 0
    wt = x[..., :4].argmax(-1)
    seq, pos = np.nonzero(present)  # row-major: variants of a sequence are contiguous
    shift = np.arange(1, 4)
    seq = np.repeat(seq, 3)
    pos = np.repeat(pos, 3)
    alt = (np.repeat(wt[present], 3) + np.tile(shift, present.sum())) % 4

    deltas = np.zeros((n, length, 4), dtype=np.float64)
    step = max(1, int(chunk_size))
    for i in range(0, seq.size, step):
        s, p, a = seq[i : i + step], pos[i : i + step], alt[i : i + step]
        variants = x[s]
        rows = np.arange(s.size)
        variants[rows, p, :4] = _EYE[a]
        if kind is not None:
            variants = add_structure(variants, kind)
        deltas[s, p, a] = f(variants) - wt_pred[s]
    return deltas[0] if single else deltas


def ism_l2(deltas: np.ndarray) -> np.ndarray:
    """Per-position L2 norm of the ISM deltas (the paper's logo heights).

    Parameters
    ----------
    deltas
        ``(..., L, 4)`` from :func:`ism`.

    Returns
    -------
    numpy.ndarray
        ``(..., L)``.
    """
    deltas = np.asarray(deltas, dtype=np.float64)
    return np.sqrt(np.nansum(deltas**2, axis=-1))


__all__ = ["ism", "ism_l2"]

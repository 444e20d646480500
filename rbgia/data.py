"""RNAcompete data: parsing, cleaning, transforms, one-hot encoding, splits.

One-hot arrays are ``(N, L, 4)`` float32 in alphabet ``ACGU``. Probes shorter
than the model length are zero-padded and centred, as the paper's code does.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .errors import DataError

ALPHABET = "ACGU"
SEQ_LEN = 41

# Byte lookup: A C G U -> 0..3, T read as U, N -> 4 (all-zero row), anything else -> -1.
_LUT = np.full(256, -1, dtype=np.int8)
for _i, _c in enumerate(ALPHABET):
    _LUT[ord(_c)] = _i
    _LUT[ord(_c.lower())] = _i
_LUT[ord("T")] = _LUT[ord("t")] = 3
_LUT[ord("N")] = _LUT[ord("n")] = 4


def pad_offset(length: int, target: int = SEQ_LEN) -> int:
    """Left padding that centres a probe of ``length`` in ``target`` positions."""
    return (target - length) // 2


def one_hot(seqs: Sequence[str], length: int = SEQ_LEN) -> np.ndarray:
    """One-hot encode RNA/DNA strings into ``(N, length, 4)`` float32, centred.

    ``T`` is read as ``U``; ``N`` gives an all-zero row, as does padding.

    Raises
    ------
    DataError
        On letters outside ``ACGUTN`` or a sequence longer than ``length``.
    """
    seqs = list(seqs)
    out = np.zeros((len(seqs), length, 4), dtype=np.float32)
    if not seqs:
        return out
    lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
    if lengths.max() > length:
        i = int(np.argmax(lengths))
        raise DataError(
            f"sequence {i} has {lengths[i]} nt, longer than the model length {length}; "
            f"trim the probes or pass a larger length"
        )
    codes = _LUT[np.frombuffer("".join(seqs).encode("latin-1", errors="replace"), dtype=np.uint8)]
    if (codes < 0).any():
        flat = int(np.argmax(codes < 0))
        row = int(np.searchsorted(np.cumsum(lengths), flat, side="right"))
        bad = sorted({c for c in seqs[row] if _LUT[ord(c) if ord(c) < 256 else 0] < 0})
        raise DataError(
            f"sequence {row} ({seqs[row][:50]!r}) has letters {bad} outside ACGUTN; "
            f"give RNA or DNA letters only"
        )
    rows = np.repeat(np.arange(len(seqs)), lengths)
    starts = np.cumsum(lengths) - lengths
    cols = np.arange(codes.size) - np.repeat(starts, lengths) + np.repeat((length - lengths) // 2, lengths)
    keep = codes < 4
    out[rows[keep], cols[keep], codes[keep]] = 1.0
    return out


def decode(x: np.ndarray, alphabet: str = ALPHABET) -> list[str]:
    """Decode one-hot ``(N, L, A>=4)`` back to strings; all-zero rows are dropped
    (padding) unless they sit between letters, where they read ``N``."""
    x = np.asarray(x)
    if x.ndim == 2:
        x = x[None]
    onehot = x[..., :4]
    present = onehot.sum(-1) > 0
    idx = onehot.argmax(-1)
    letters = np.array(list(alphabet + "N"))
    out = []
    for row_idx, row_present in zip(idx, present):
        where = np.flatnonzero(row_present)
        if where.size == 0:
            out.append("")
            continue
        lo, hi = where[0], where[-1] + 1
        codes = np.where(row_present[lo:hi], row_idx[lo:hi], 4)
        out.append("".join(letters[codes]))
    return out

"""Sequences: the alphabet, letter cleaning and lookup, padding, one-hot encoding and decoding.

The one place where letters become numbers. One-hot arrays are ``(N, L, 4)`` float32 in
alphabet ``ACGU``; ``T`` is read as ``U`` and ``N`` (any base) is an all-zero row. Probes
shorter than the model length ``L`` are zero-padded and centred (:func:`pad_offset`), as
the paper's code does. This module imports nothing else from rbgia but its errors, so
every other module (data, structure, simulate, motifs, GIA) can build on it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np

from .errors import DataError

__all__ = [
    "as_batch",
    "encode_joined",
    "ALPHABET",
    "SEQ_LEN",
    "N_CODE",
    "LETTER_INDEX",
    "VALID_LETTERS",
    "clean",
    "bad_letters",
    "letter_codes",
    "pad_offset",
    "one_hot",
    "decode",
]

ALPHABET = "ACGU"
SEQ_LEN = 41  # the RNAcompete probe length the models take
N_CODE = len(ALPHABET)  # code of N (any base): an all-zero one-hot row

#: Upper-case letter -> channel: ``A C G U`` -> 0..3 and ``T`` read as ``U``. ``N`` is not in it
#: (it has no channel); every other lookup below derives from this one.
LETTER_INDEX: Mapping[str, int] = MappingProxyType(
    {c: i for i, c in enumerate(ALPHABET)} | {"T": ALPHABET.index("U")}
)
#: Letters a sequence may hold (upper case): ``ACGUTN``.
VALID_LETTERS = frozenset(LETTER_INDEX) | {"N"}

# Byte -> code (either case): 0..3 for the letters, N_CODE for N, -1 for anything else.
_BYTE_CODES = np.full(256, -1, dtype=np.int8)
for _c, _i in (*LETTER_INDEX.items(), ("N", N_CODE)):
    _BYTE_CODES[ord(_c)] = _BYTE_CODES[ord(_c.lower())] = _i
_BYTE_CODES.flags.writeable = False


def clean(seq: str) -> str:
    """Upper case, ``T`` read as ``U``: the RNA spelling every module compares."""
    return str(seq).upper().replace("T", "U")


def bad_letters(seq: str) -> list[str]:
    """Letters of ``seq`` outside ``ACGUTN`` (either case), as written, sorted; empty when it is valid."""
    return sorted({c for c in str(seq) if c.upper() not in VALID_LETTERS})


def letter_codes(text: str) -> np.ndarray:
    """Per-character codes of ``text`` (int8): ``A C G U/T`` -> 0..3, ``N`` -> :data:`N_CODE`,
    anything else -> -1. Either case. Vectorised: pass many sequences joined into one string."""
    return _BYTE_CODES[np.frombuffer(str(text).encode("latin-1", errors="replace"), dtype=np.uint8)]


def encode_joined(seqs: Sequence[str]) -> tuple[np.ndarray, np.ndarray, int | None]:
    """Codes of all ``seqs`` joined (:func:`letter_codes`), their lengths, and the index of
    the first sequence with a letter outside ``ACGUTN`` (``None`` when all are valid)."""
    lengths = np.fromiter(map(len, seqs), dtype=np.int64, count=len(seqs))
    codes = letter_codes("".join(seqs))
    bad = codes < 0
    first = int(np.searchsorted(np.cumsum(lengths), int(np.argmax(bad)), side="right")) if bad.any() else None
    return codes, lengths, first


def as_batch(x: Any, what: str) -> tuple[np.ndarray, bool]:
    """``x`` as one-hot ``(N, L, A>=4)`` (a single ``(L, A)`` sequence gets a batch axis) and
    whether it was a single sequence; :class:`~rbgia.errors.DataError` naming ``what`` otherwise."""
    x = np.asarray(x)
    single = x.ndim == 2
    if single:
        x = x[None]
    if x.ndim != 3 or x.shape[-1] < 4:
        raise DataError(f"{what} needs one-hot sequences (N, L, A>=4); got shape {x.shape}")
    return x, single


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
    out = np.zeros((len(seqs), length, len(ALPHABET)), dtype=np.float32)
    if not seqs:
        return out
    codes, lengths, row = encode_joined(seqs)
    if lengths.max() > length:
        i = int(np.argmax(lengths))
        raise DataError(
            f"sequence {i} has {lengths[i]} nt, longer than the model length {length}; "
            f"trim the probes or pass a larger length"
        )
    if row is not None:
        raise DataError(
            f"sequence {row} ({seqs[row][:50]!r}) has letters {bad_letters(seqs[row])} outside ACGUTN; "
            f"give RNA or DNA letters only"
        )
    rows = np.repeat(np.arange(len(seqs)), lengths)
    starts = np.cumsum(lengths) - lengths
    cols = np.arange(codes.size) - np.repeat(starts, lengths) + np.repeat(pad_offset(lengths, length), lengths)
    keep = codes < N_CODE
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

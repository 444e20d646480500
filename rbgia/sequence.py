"""Sequences: the alphabet, letter cleaning and lookup, padding, one-hot encoding and decoding.

The one place where letters become numbers. One-hot arrays are ``(N, L, 4)`` float32 in
alphabet ``ACGU``; ``T`` is read as ``U`` and ``N`` (any base) is an all-zero row. Probes
shorter than the model length ``L`` are zero-padded and centred (:func:`pad_offset`), as
the paper's code does. It also holds the argument checks every sampler and GIA entry point
shares (:func:`check_one_hot`, :func:`check_integer`, :func:`check_seed`). This module imports
nothing else from rbgia but its errors, so every other module (data, structure, simulate, motifs,
GIA) can build on it.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np

from .errors import DataError

__all__ = [
    "as_batch",
    "check_integer",
    "check_one_hot",
    "check_seed",
    "encode_joined",
    "ALPHABET",
    "CHANNEL_COUNTS",
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
#: Channels an input may have: sequence, + PU, + PHIME (``rbgia.config.INPUT_CHANNELS``; a leaf cannot
#: import it, and ``tests/test_reliability_gia.py`` checks that the two agree).
CHANNEL_COUNTS = frozenset({4, 6, 9})

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


def check_one_hot(x: Any, what: str) -> np.ndarray:
    """``x`` as an array of one-hot sequences ``(N, L, A>=4)``; :class:`~rbgia.errors.DataError` naming
    ``what`` otherwise, and the fix when ``x`` looks transposed ``(N, A, L)`` (O(1): shapes only)."""
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[-1] < 4:
        raise DataError(f"{what} needs one-hot sequences (N, L, A>=4); got shape {x.shape}")
    if x.shape[1] in CHANNEL_COUNTS and x.shape[2] not in CHANNEL_COUNTS and x.shape[2] > x.shape[1]:
        length, a = x.shape[2], x.shape[1]
        raise DataError(
            f"{what} has shape (N, {a}, {length}): sequences of {a} nt with {length} channels, i.e. transposed; "
            f"one-hot sequences are (N, L, A) = (N, {length}, {a}): pass np.swapaxes(x, 1, 2)"
        )
    return x


def as_batch(x: Any, what: str) -> tuple[np.ndarray, bool]:
    """``x`` as one-hot ``(N, L, A>=4)`` (a single ``(L, A)`` sequence gets a batch axis) and
    whether it was a single sequence; :class:`~rbgia.errors.DataError` naming ``what`` otherwise."""
    x = np.asarray(x)
    single = x.ndim == 2
    return check_one_hot(x[None] if single else x, what), single


def check_integer(name: str, value: Any, low: int, high: int | None = None, error: type = DataError) -> int:
    """``value`` as an int in [low, high], or a one-line ``error`` naming the argument, what it is and the fix."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise error(f"{name}={value!r} is a {type(value).__name__}, not an integer; pass e.g. {name}={max(low, 6)}")
    if value < low or (high is not None and value > high):
        span = f"{low} <= {name} <= {high}" if high is not None else f"{name} >= {low}"
        raise error(f"{name}={value}; pass {span}")
    return int(value)


def check_seed(seed: Any, name: str = "seed") -> np.random.Generator:
    """The generator of ``seed`` (an int >= 0, a numpy ``Generator``/``SeedSequence``/bit generator, or
    ``None``): the one check every sampler runs, so a bad seed is one :class:`~rbgia.errors.DataError`
    naming it, never numpy's own error."""
    if seed is None or isinstance(seed, (np.random.Generator, np.random.SeedSequence, np.random.BitGenerator)):
        return np.random.default_rng(seed)
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        why = f"a {type(seed).__name__}, not an integer"
    elif seed < 0:
        why = "negative"
    else:
        return np.random.default_rng(int(seed))
    raise DataError(f"{name}={seed!r} is {why}; pass an int >= 0 (e.g. {name}=0), a numpy Generator or None")


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

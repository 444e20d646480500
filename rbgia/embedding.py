"""Patterns and embedding: parse ``(pattern, start)`` specs and write them into sequences.

Positions are 0-based starts; patterns are strings (``ACGU``, ``T`` read as ``U``,
``N`` keeps the background base) or ``(k, 4)`` matrices (an all-zero row keeps the
background base).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .errors import PatternError
from .sequence import ALPHABET, LETTER_INDEX, as_batch, bad_letters, clean
from .stemloop import add_structure, check_stem, structure_kind

EYE = np.eye(4, dtype=np.float32)


def pattern_rows(pattern: Any) -> tuple[np.ndarray, np.ndarray, str]:
    """(k, 4) float32 rows, (k,) bool 'write' mask and a printable label."""
    if isinstance(pattern, str):
        s = pattern.upper()
        bad = bad_letters(s)
        if bad:
            raise PatternError(
                f"pattern {pattern!r} has letters {bad} outside ACGUTN; use RNA/DNA letters (N keeps the background)"
            )
        if not s:
            raise PatternError("empty pattern ''; pass at least one letter")
        write = np.array([c != "N" for c in s])
        codes = np.array([LETTER_INDEX.get(c, 0) for c in s])
        rows = EYE[codes] * write[:, None]
        return rows, write, s
    mat = np.asarray(pattern, dtype=np.float32)
    if mat.ndim != 2 or mat.shape[1] != 4 or mat.shape[0] == 0:
        raise PatternError(f"pattern matrix has shape {mat.shape}; pass a string or a (k, 4) one-hot matrix over ACGU")
    write = mat.sum(1) != 0
    label = "".join(ALPHABET[i] if w else "N" for i, w in zip(mat.argmax(1), write))
    return mat, write, label


def _is_start(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _looks_like_start(value: Any) -> bool:
    # 17.0, "17", np.float64(17): meant as a start, of the wrong type
    if isinstance(value, (float, np.floating, bool, np.bool_)):
        return True
    return isinstance(value, str) and value.strip().lstrip("+-").isdigit()


def _is_pair_as_list(spec: Any) -> bool:
    """``['UGCAUG', 17]``: a (pattern, start) pair written as a list (e.g. read back from JSON)."""
    return (isinstance(spec, list) and len(spec) == 2 and isinstance(spec[0], (str, np.ndarray))
            and (_is_start(spec[1]) or _looks_like_start(spec[1])))


def _pair_as_list_error(spec: list) -> PatternError:
    pair = f"({spec[0]!r}, {spec[1]!r})" if isinstance(spec[0], str) else f"(matrix, {spec[1]!r})"
    label = f"[{spec[0]!r}, {spec[1]!r}]" if isinstance(spec[0], str) else f"[matrix {spec[0].shape}, {spec[1]!r}]"
    return PatternError(
        f"pattern spec {label} is a list, read as a list of patterns; a (pattern, start) pair is a tuple: "
        f"pass the tuple {pair}, or a list of tuples [{pair}]"
    )


def _check_spec(spec: Any) -> tuple[Any, int]:
    """One ``(pattern, start)``, with an error naming what is wrong with it."""
    if _is_pair_as_list(spec):
        raise _pair_as_list_error(spec)
    if isinstance(spec, str) or (isinstance(spec, np.ndarray) and spec.ndim == 2):
        label = spec if isinstance(spec, str) else f"matrix {spec.shape}"
        raise PatternError(
            f"pattern {label!r} is not (pattern, start): it has no start; pass a pair such as ('UGCAUG', 17) "
            "or a list of them"
        )
    if not (isinstance(spec, tuple) and len(spec) == 2):
        raise PatternError(f"pattern spec {spec!r} is not (pattern, start); pass e.g. ('UGCAUG', 17)")
    pattern, start = spec
    if not _is_start(start):
        label = pattern if isinstance(pattern, str) else "matrix"
        raise PatternError(
            f"start {start!r} of pattern {label!r} is a {type(start).__name__}, not an int; "
            "pass a 0-based int start, e.g. ('UGCAUG', 17)"
        )
    return pattern, start


def _as_specs(patterns: Any) -> list[tuple[Any, int]]:
    """Accept one ``(pattern, start)`` or a list of them."""
    if isinstance(patterns, tuple) and len(patterns) == 2 and isinstance(patterns[0], (str, np.ndarray)):
        if _is_start(patterns[1]) or _looks_like_start(patterns[1]):
            return [_check_spec(patterns)]
    if isinstance(patterns, str) or (isinstance(patterns, np.ndarray) and patterns.ndim == 2):
        _check_spec(patterns)  # a pattern without a start
    if _is_pair_as_list(patterns):
        raise _pair_as_list_error(patterns)
    try:
        specs = list(patterns)
    except TypeError:
        raise PatternError(
            f"patterns must be (pattern, start) or a list of them; got {type(patterns).__name__}"
        ) from None
    return [_check_spec(spec) for spec in specs]


def parse_patterns(patterns: Any, length: int) -> list[tuple[np.ndarray, np.ndarray, int, str]]:
    """Validate patterns against the sequence length: range, letters and overlaps."""
    parsed = []
    for pattern, start in _as_specs(patterns):
        rows, write, label = pattern_rows(pattern)
        k, start = rows.shape[0], int(start)
        if k > length:
            raise PatternError(
                f"pattern {label!r} has {k} nt, longer than the sequences ({length} nt); use a shorter pattern"
            )
        if start < 0 or start + k > length:
            raise PatternError(
                f"pattern {label!r} at start {start} covers [{start}, {start + k}), outside the sequence "
                f"[0, {length}); pass a start in 0..{length - k}"
            )
        parsed.append((rows, write, start, label))
    spans = sorted((s, s + r.shape[0], lab) for r, _, s, lab in parsed)
    for (s0, e0, l0), (s1, e1, l1) in zip(spans, spans[1:]):
        if s1 < e0:
            raise PatternError(
                f"patterns {l0!r} at [{s0}, {e0}) and {l1!r} at [{s1}, {e1}) overlap (sequence length {length}); "
                "move them apart or merge them into one pattern"
            )
    return parsed


def merge_copies(motif: str, starts: Sequence[int]) -> list[tuple[str, int]]:
    """Copies of ``motif`` at ``starts``; overlapping copies are merged into one
    pattern when their shared letters agree (e.g. UGCAUG at 16 and 20)."""
    motif = clean(motif)
    merged: list[list] = []  # [start, letters dict]
    for s in sorted(int(s) for s in starts):
        if merged and s < merged[-1][0] + len(merged[-1][1]):
            s0, letters = merged[-1]
            for j, c in enumerate(motif):
                p = s + j - s0
                if p < len(letters):
                    if letters[p] != c:
                        raise PatternError(
                            f"copies of {motif!r} at starts {s0} and {s} overlap with different letters at "
                            f"position {s + j}; "
                            "pick starts whose overlap agrees"
                        )
                else:
                    letters.append(c)
        else:
            merged.append([s, list(motif)])
    return [("".join(letters), s) for s, letters in merged]


def additive_parts(motif: str, starts: Sequence[int]) -> list[tuple[float, list[tuple[str, int]]]]:
    """What copies of ``motif`` at ``starts`` are made of, for their additive expectation: ``(weight, patterns)``.

    Each copy counts once (+1) and the letters two overlapping copies share once less (-1), so that for a
    model that adds one effect per position the weighted importances of the parts sum exactly to the
    importance of the copies together (:func:`merge_copies`). Letters shared by three copies raise
    :class:`~rbgia.errors.PatternError`.
    """
    motif, k = clean(motif), len(clean(motif))
    starts = sorted(int(s) for s in starts)
    merge_copies(motif, starts)  # the copies must agree where they overlap
    parts: list[tuple[float, list[tuple[str, int]]]] = [(1.0, [(motif, s)]) for s in starts]
    for i, a in enumerate(starts):
        for b in starts[i + 1:]:
            if b < a + k:
                parts.append((-1.0, [(motif[b - a:], b)]))
    covered = np.zeros(max(starts) + k, dtype=int)
    for s in starts:
        covered[s : s + k] += 1
    if (covered > 2).any():
        raise PatternError(f"copies of {motif!r} at {starts} overlap three deep; pass starts that overlap pairwise")
    return parts


def embed(
    x: np.ndarray,
    patterns: Any,
    *,
    stem_loop: tuple[tuple[int, int], tuple[int, int]] | None = None,
    recompute_structure: bool | str = False,
) -> np.ndarray:
    """Embed patterns into copies of ``x``.

    Parameters
    ----------
    x
        One-hot ``(N, L, A)`` (or one sequence ``(L, A)``).
    patterns
        ``(pattern, start)`` or a list of them; 0-based starts; a pattern is a
        string (``N`` keeps the background base, ``T`` read as ``U``) or a
        ``(k, 4)`` matrix (all-zero rows keep the background base).
    stem_loop
        ``(stem, partner)`` ranges: after embedding, re-impose Watson-Crick
        pairing: a paired position written by a pattern dictates its partner,
        otherwise the stem side dictates the partner side.
    recompute_structure
        ``False``: channels beyond 4 are carried untouched. ``True``: recompute
        them (6 channels -> PU, 9 -> PHIME). ``"pu"`` / ``"phime"``: output gets
        ``4 + 2`` / ``4 + 5`` channels computed from the embedded sequences.

    Returns
    -------
    numpy.ndarray
        A new float32 array (``x`` is not modified).

    Raises
    ------
    PatternError
        Out-of-range or overlapping patterns, bad letters, patterns longer than
        the sequence.
    """
    x, single = as_batch(x, "embed")
    parsed = parse_patterns(patterns, x.shape[1])
    out = np.array(x, dtype=np.float32, copy=True)
    written = np.zeros(x.shape[1], dtype=bool)
    for rows, write, start, _ in parsed:
        pos = start + np.flatnonzero(write)
        out[:, pos, :4] = rows[write]
        written[pos] = True
    if stem_loop is not None:
        i, j = check_stem(stem_loop[0], stem_loop[1], x.shape[1])
        from_i = ~written[j]  # partner free: the stem side dictates it
        from_j = written[j] & ~written[i]  # a pattern sits on the partner side
        out[:, j[from_i], :4] = out[:, i[from_i], 3::-1]
        out[:, i[from_j], :4] = out[:, j[from_j], 3::-1]
        # Both sides written by patterns: the patterns win, even if they do not pair.
    kind = structure_kind(recompute_structure, out.shape[-1])
    if kind is not None:
        out = add_structure(out, kind)
    return out[0] if single else out


__all__ = ["EYE", "embed", "merge_copies", "parse_patterns", "pattern_rows"]


def codes_to_kmers(codes: np.ndarray) -> np.ndarray:
    """k-mers ``(P,)`` (object strings) of base codes ``(P, k)`` (0..3 = ``ACGU``)."""
    letters = np.array(list(ALPHABET))
    return np.array(["".join(r) for r in letters[codes]], dtype=object)


def kmer_codes(kmers: Iterable[str], k: int | None = None) -> np.ndarray:
    """Base codes ``(P, k)`` (int64, ``ACGU`` = 0..3) of ``kmers``, all of one length (``k`` when given);
    :class:`~rbgia.errors.PatternError` for N or other letters, mixed lengths, another length than ``k``,
    no k-mers, or one string (its letters would be read as 1-mers)."""
    if isinstance(kmers, str):
        raise PatternError(f"kmers={kmers!r} is one string; pass a list of k-mers, e.g. kmers=[{kmers!r}]")
    rows = []
    for s in kmers:
        rows_, write, label = pattern_rows(s)
        if not write.all():
            raise PatternError(f"k-mer {s!r} contains N; scan only ACGU k-mers")
        rows.append(rows_.argmax(1))
    if not rows:
        raise PatternError("kmers is empty: no k-mers to scan; pass at least one, e.g. kmers=['UGCAUG']")
    lengths = {len(r) for r in rows}
    if len(lengths) > 1:
        raise PatternError(f"k-mers have lengths {sorted(lengths)}; pass k-mers of one length")
    if k is not None and lengths != {k}:
        (length,) = lengths
        raise PatternError(f"k={k} but kmers are {length}-mers; pass k={length} or leave k out")
    return np.array(rows, dtype=np.int64)

"""Stem-loop backgrounds and structure recomputation for GIA.

The paper (VTS1, Fig 3c) turns backgrounds into stem-loops by enforcing Watson-Crick
pairs between two ranges; a model with structure inputs needs its PU / PHIME channels
recomputed (ViennaRNA) after a pattern is embedded.
"""

from __future__ import annotations

import numpy as np

from .config import INPUT_KINDS, input_kind
from .errors import DataError, PatternError
from .paper import PAPER_PARTNER, PAPER_STEM
from .sequence import decode


def check_stem(stem: tuple[int, int], partner: tuple[int, int], length: int) -> tuple[np.ndarray, np.ndarray]:
    s0, s1 = int(stem[0]), int(stem[1])
    p0, p1 = int(partner[0]), int(partner[1])
    if s1 - s0 != p1 - p0 or s1 <= s0:
        raise PatternError(
            f"stem [{s0}, {s1}) and partner [{p0}, {p1}) must be non-empty and equally long; "
            "pass e.g. stem=(5, 16), partner=(22, 33)"
        )
    if min(s0, p0) < 0 or max(s1, p1) > length:
        raise PatternError(
            f"stem [{s0}, {s1}) or partner [{p0}, {p1}) falls outside the sequence [0, {length}); pass ranges inside it"
        )
    if s0 < p1 and p0 < s1:
        raise PatternError(f"stem [{s0}, {s1}) and partner [{p0}, {p1}) overlap; they must be disjoint")
    i = np.arange(s0, s1)
    j = np.arange(p1 - 1, p0 - 1, -1)  # partner pairs in reverse: i-th stem base with (p1-1-i)
    return i, j


def stem_loop_background(
    x: np.ndarray,
    stem: tuple[int, int] = PAPER_STEM,
    partner: tuple[int, int] = PAPER_PARTNER,
) -> np.ndarray:
    """Turn backgrounds into stem-loops: the partner becomes the reverse complement
    of the stem (Watson-Crick pairs A-U, G-C; no wobble).

    Parameters
    ----------
    x
        One-hot ``(N, L, A)``; extra channels are carried untouched.
    stem, partner
        0-based half-open ranges of equal length. The paper pairs 1-based 6-16
        with 23-33: ``stem=(5, 16), partner=(22, 33)`` (a 6-nt loop at 16..21).

    Returns
    -------
    numpy.ndarray
        A new float32 array; ``stem`` keeps its bases, ``partner`` is rewritten.
    """
    out = np.array(x, dtype=np.float32, copy=True)
    i, j = check_stem(stem, partner, out.shape[-2])
    # In ACGU order the complement is the reversed channel order (A<->U, C<->G).
    out[..., j, :4] = out[..., i, 3::-1]
    return out


def broken_stem_background(
    x: np.ndarray,
    stem: tuple[int, int] = PAPER_STEM,
    partner: tuple[int, int] = PAPER_PARTNER,
) -> np.ndarray:
    """The stem-loop's control: the partner becomes the stem's mirror image (each partner base equals the
    stem base it would pair with), so the arms cannot pair (A-A, C-C, G-G and U-U form no pair, wobble
    included) while the arm keeps the stem's G/C content. A new float32 array; only ``partner`` changes.
    """
    out = np.array(x, dtype=np.float32, copy=True)
    i, j = check_stem(stem, partner, out.shape[-2])
    out[..., j, :4] = out[..., i, :4]
    return out


def partner_of(start: int, k: int, stem: tuple[int, int] = PAPER_STEM, partner: tuple[int, int] = PAPER_PARTNER
               ) -> int:
    """0-based start, in the partner arm, of the bases that pair with ``[start, start + k)`` of the stem:
    there the reverse complement of a stem motif makes it paired (:class:`PatternError` outside the stem)."""
    s0, s1 = int(stem[0]), int(stem[1])
    if not (s0 <= start and start + k <= s1):
        raise PatternError(f"[{start}, {start + k}) is not inside the stem [{s0}, {s1}); pass a stem start in "
                           f"{s0}..{s1 - k}")
    return int(partner[1]) - k - (int(start) - s0)


def structure_kind(recompute: bool | str, channels: int) -> str | None:
    if recompute is False or recompute is None:
        return None
    if isinstance(recompute, str):
        kind = recompute.lower()
        if kind not in INPUT_KINDS or kind == "seq":
            raise DataError(f"recompute_structure={recompute!r}; use False, True, 'pu' or 'phime'")
        return kind
    kind = input_kind(channels)
    if kind in (None, "seq"):
        raise DataError(
            f"recompute_structure=True but the sequences have {channels} channels (not 6 = +PU or 9 = +PHIME); "
            "pass recompute_structure='pu' or 'phime'"
        )
    return kind


def add_structure(x: np.ndarray, kind: str) -> np.ndarray:
    """Replace (or add) the structure channels of ``x`` with ViennaRNA profiles.

    Sequences are decoded from the first 4 channels (padding stripped, then
    re-centred as in :func:`rbgia.data.one_hot`) and folded with
    :func:`rbgia.structure.structure_profile`.

    Returns
    -------
    numpy.ndarray
        ``(N, L, 4 + C)`` float32, C = 2 (``"pu"``) or 5 (``"phime"``).
    """
    from .structure import structure_profile  # noqa: PLC0415 (ViennaRNA only when needed)

    x = np.asarray(x, dtype=np.float32)
    prof = structure_profile(decode(x[..., :4]), kind=kind, length=x.shape[1])
    return np.concatenate([x[..., :4], prof], axis=-1)


__all__ = ["PAPER_PARTNER", "PAPER_STEM", "add_structure", "check_stem", "stem_loop_background", "structure_kind"]

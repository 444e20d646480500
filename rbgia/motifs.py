"""Motif utilities: k-mer alignment PFMs, information content, MEME I/O, similarity,
and motif sites in probes.

Matrices are ``(L, 4)`` float arrays over the alphabet ``ACGU`` (rows: positions,
columns: letters), the layout of one one-hot sequence. Nothing here calls a model;
these functions turn GIA outputs (top k-mers and their global importances) into
position frequency matrices and compare them with RNAcompete motifs, find the best
match of a motif in each probe (:func:`motif_matches`), summarise per-position
importance at those sites (:func:`site_importance`) and name the motif an
experiment is known for (:func:`known_motif`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from ._io import load_json, write_text
from .errors import DataError, PatternError
from .sequence import ALPHABET, LETTER_INDEX, SEQ_LEN, bad_letters, clean, pad_offset

__all__ = [
    "Motif",
    "KmerAlignment",
    "Similarity",
    "kmer_pfm",
    "pwm_from_kmer",
    "consensus",
    "align_kmers",
    "information_content",
    "ic_scaled",
    "read_meme",
    "write_meme",
    "motif_similarity",
    "best_matches",
    "motif_matches",
    "tied_windows",
    "kmer_matches",
    "site_importance",
    "known_motif",
]

@dataclass(frozen=True)
class Motif:
    """A position frequency matrix with its identifiers.

    Attributes
    ----------
    id : str
        Motif identifier (e.g. ``RNCMPT00001``).
    name : str
        Alternate name, usually the protein (e.g. ``A1CF``); ``""`` when absent.
    pfm : np.ndarray
        ``(w, 4)`` float64 letter probabilities in ``ACGU`` order; rows sum to 1.
    """

    id: str
    name: str
    pfm: np.ndarray = field(repr=False)

    @property
    def width(self) -> int:
        return int(self.pfm.shape[0])

    @property
    def consensus(self) -> str:
        return consensus(self.pfm)

#: The RNAcompete motifs of Ray et al. 2013 as shipped in ``data/reference`` (MEME v4).
RNACOMPETE_MEME = "ray2013_rnacompete_motifs.meme"


@dataclass(frozen=True)
class KmerAlignment:
    """Result of :func:`align_kmers`.

    Attributes
    ----------
    pfm : np.ndarray
        ``(L', 4)`` importance-weighted letter frequencies. With
        ``weighting="total"`` (default) every column is normalised by the total
        weight of all k-mers, those not covering it counting as uniform there, so
        a column's information grows with the importance that supports it; with
        ``"column"`` each column is normalised by its own coverage. Columns no
        positively weighted k-mer covers are uniform (0.25).
    counts : np.ndarray
        ``(L', 4)`` weighted letter sums before normalisation.
    coverage : np.ndarray
        ``(L',)`` total weight per column (``counts.sum(1)``); 0 where uncovered.
    support : np.ndarray
        ``(L',)`` fraction of the total weight that covers each column
        (``coverage / weights.sum()``; 0 where uncovered or when no weight is positive).
    weighting : str
        ``"total"`` or ``"column"``, as passed to :func:`align_kmers`.
    offsets : np.ndarray
        ``(n,)`` int, start of each k-mer in the aligned frame (columns of ``pfm``);
        after trimming, a zero-weight k-mer may overhang (offset < 0 or past the end).
    shifts : np.ndarray
        ``(n,)`` int, start of each k-mer relative to the reference (first) k-mer.
    kmers : tuple[str, ...]
        The k-mers, in input order (RNA letters).
    weights : np.ndarray
        ``(n,)`` the weights used (negative ones clipped to 0).
    """

    pfm: np.ndarray = field(repr=False)
    counts: np.ndarray = field(repr=False)
    coverage: np.ndarray = field(repr=False)
    offsets: np.ndarray
    shifts: np.ndarray
    kmers: tuple[str, ...]
    weights: np.ndarray
    support: np.ndarray = field(default=None, repr=False)
    weighting: str = "total"

    @property
    def consensus(self) -> str:
        return consensus(self.pfm, min_coverage=self.coverage)


class Similarity(NamedTuple):
    """Best ungapped match of two matrices (see :func:`motif_similarity`).

    ``offset`` is the position in ``a`` where ``b``'s first column lands
    (negative: ``b`` starts before ``a``); ``overlap`` is the number of shared columns.
    """

    r: float
    offset: int
    overlap: int


# ---------------------------------------------------------------------------
# k-mers and consensus


def kmer_pfm(kmer: str) -> np.ndarray:
    """One-hot ``(k, 4)`` float64 matrix of a k-mer (``T`` read as ``U``, ``N`` -> zeros).

    Raises
    ------
    DataError
        On an empty k-mer or letters outside ``ACGUTN``.
    """
    if not isinstance(kmer, str) or not kmer:
        raise DataError(f"k-mer {kmer!r} is empty or not a string; give a string of ACGU letters")
    upper = kmer.upper()
    bad = bad_letters(upper)
    if bad:
        raise DataError(f"k-mer {kmer!r} has letters {bad} outside ACGUTN; give RNA or DNA letters only")
    out = np.zeros((len(upper), 4))
    idx = [(i, LETTER_INDEX[c]) for i, c in enumerate(upper) if c != "N"]
    if idx:
        rows, cols = zip(*idx)
        out[list(rows), list(cols)] = 1.0
    return out


# The brief's name for the same thing.
pwm_from_kmer = kmer_pfm


def consensus(
    pfm: np.ndarray,
    alphabet: str = ALPHABET,
    min_coverage: np.ndarray | None = None,
) -> str:
    """Most probable letter per column; ``N`` for flat or empty columns.

    Parameters
    ----------
    pfm : np.ndarray
        ``(L, 4)`` matrix (probabilities, counts or importances).
    alphabet : str
        Letters of the columns.
    min_coverage : np.ndarray, optional
        ``(L,)`` coverage; columns with coverage 0 read ``N``.
    """
    pfm = _as_matrix(pfm, "pfm")
    letters = np.array(list(alphabet) + ["N"])
    idx = pfm.argmax(1)
    flat = np.isclose(pfm.max(1), pfm.min(1))
    if min_coverage is not None:
        flat |= np.asarray(min_coverage) <= 0
    idx = np.where(flat, len(alphabet), idx)
    return "".join(letters[idx])


def _shift_scores(ref: np.ndarray, other: np.ndarray, min_overlap: int) -> tuple[np.ndarray, np.ndarray]:
    """Cross-correlation of two one-hot matrices for every shift with enough overlap.

    ``shift`` s places ``other[j]`` under ``ref[j + s]``; the score is the number of
    matching letters (the sum of the elementwise product over the overlap).
    """
    la, lb = len(ref), len(other)
    # np.correlate per channel, summed: full mode covers shifts -(lb-1) .. la-1.
    full = sum(np.correlate(ref[:, c], other[:, c], mode="full") for c in range(ref.shape[1]))
    shifts = np.arange(-(lb - 1), la)
    overlap = np.minimum(la, shifts + lb) - np.maximum(0, shifts)
    keep = overlap >= min_overlap
    return shifts[keep], np.asarray(full)[keep]


def _checked_kmers(
    kmers: Sequence[str], weights: Sequence[float], top: int | None, weighting: str
) -> tuple[list[str], np.ndarray]:
    """The k-mers (as strings) and their weights (float, flat), cut to the first ``top``, checked."""
    if weighting not in ("total", "column"):
        raise DataError(f"weighting={weighting!r} is not an option; pass 'total' or 'column'")
    kmers = [str(k) for k in kmers]
    w = np.asarray(weights, dtype=float).ravel()
    if not kmers:
        raise DataError("no k-mers to align; pass at least one k-mer and its weight")
    if len(kmers) != w.size:
        raise DataError(f"{len(kmers)} k-mers but {w.size} weights; pass one weight per k-mer")
    if top is not None:
        kmers, w = kmers[:top], w[:top]
    if not np.isfinite(w).all():
        raise DataError("weights contain NaN or inf; drop those k-mers or fix the importances")
    return kmers, w


def _best_shifts(onehots: list[np.ndarray], min_overlap: int | None) -> np.ndarray:
    """``(n,)`` int shift of each one-hot k-mer against the first (0 for the first itself).

    The shift with the best cross-correlation among those overlapping at least ``min_overlap``
    columns (default ``ceil(k_ref / 2)``, at least 1, at most either length).
    """
    ref = onehots[0]
    if min_overlap is None:
        min_overlap = (len(ref) + 1) // 2
    min_overlap = int(max(1, min_overlap))
    shifts = np.zeros(len(onehots), dtype=int)
    for i, oh in enumerate(onehots[1:], start=1):
        cand, score = _shift_scores(ref, oh, min(min_overlap, len(oh), len(ref)))
        # best score, then smallest |shift|, then the leftmost: deterministic ties
        order = np.lexsort((cand, np.abs(cand), -score))
        shifts[i] = cand[order[0]]
    return shifts


def _aligned_counts(
    onehots: list[np.ndarray], shifts: np.ndarray, w_pos: np.ndarray, trim: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted letter sums ``(L', 4)`` in the aligned frame, their coverage ``(L',)`` and each k-mer's offset.

    With ``trim``, leading and trailing columns no positively weighted k-mer covers are dropped
    (and the offsets moved with them).
    """
    lengths = np.array([len(o) for o in onehots])
    left = int(shifts.min())
    width = int((shifts + lengths).max()) - left
    offsets = shifts - left
    counts = np.zeros((width, 4))
    for oh, off, wi in zip(onehots, offsets, w_pos):
        counts[off : off + len(oh)] += wi * oh
    coverage = counts.sum(1)
    if trim and (coverage > 0).any():
        cov = np.flatnonzero(coverage > 0)
        lo, hi = int(cov[0]), int(cov[-1]) + 1
        counts, coverage = counts[lo:hi], coverage[lo:hi]
        offsets = offsets - lo
    return counts, coverage, offsets


def _column_frequencies(counts: np.ndarray, coverage: np.ndarray, total: float, weighting: str) -> np.ndarray:
    """The PFM: columns normalised by the total weight (``"total"``) or by their own coverage (``"column"``).

    Uncovered columns are uniform (0.25); ``"total"`` with no positive weight falls back to ``"column"``.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        if weighting == "total" and total > 0:
            # a fully covered column's total - coverage is 0 up to round-off (-1e-17): clip, no negative PFM entry
            return (counts + np.maximum(total - coverage, 0.0)[:, None] / 4.0) / total
        return np.where(coverage[:, None] > 0, counts / coverage[:, None], 0.25)


def align_kmers(
    kmers: Sequence[str],
    weights: Sequence[float],
    top: int | None = None,
    min_overlap: int | None = None,
    trim: bool = True,
    weighting: str = "total",
) -> KmerAlignment:
    """Align k-mers to the first one and sum them, weighted, into a PFM (paper Fig 2e).

    Each k-mer is placed at the shift with the maximum cross-correlation of its
    one-hot matrix with the reference (the first k-mer, i.e. the top one of a scan
    sorted by importance); ties go to the smallest absolute shift. Shifts make the
    aligned frame wider than k. Each aligned one-hot is weighted by the k-mer's
    global importance (negative weights clipped to 0) and summed.

    Columns are then normalised by the total weight ``W`` of all k-mers
    (``weighting="total"``, the default): a k-mer that does not reach a column
    counts as a uniform letter there, so column ``j`` is ``(counts_j + (W -
    coverage_j) / 4) / W``. A flank only one of ten equally weighted k-mers covers
    then carries ~0.02 bits (a column of 0.325, 0.225, 0.225, 0.225), not the ~2 bits of a
    column normalised by its own coverage (``weighting="column"``, the behaviour before this
    option, which shows how the covering k-mers agree but not how many do). Columns every
    k-mer covers are the same under both.

    Parameters
    ----------
    kmers : Sequence[str]
        k-mers, best first (e.g. ``kmer_scan(...)["kmer"]``). Lengths may differ.
    weights : Sequence[float]
        Their global importances (e.g. ``kmer_scan(...)["mean"]``).
    top : int, optional
        Use only the first ``top`` k-mers (e.g. 10 as in the paper).
    min_overlap : int, optional
        Fewest overlapping columns a shift may have; default ``ceil(k_ref / 2)``.
    trim : bool
        Drop leading/trailing columns that no positively weighted k-mer covers.
    weighting : str
        ``"total"`` (columns weighted by the importance that covers them) or
        ``"column"`` (each column normalised by its own coverage).

    Returns
    -------
    KmerAlignment

    Raises
    ------
    DataError
        On empty input, mismatched lengths, non-finite weights or bad letters.
    """
    kmers, w = _checked_kmers(kmers, weights, top, weighting)
    onehots = [kmer_pfm(k) for k in kmers]
    kmers = [clean(k) for k in kmers]
    shifts = _best_shifts(onehots, min_overlap)
    w_pos = np.clip(w, 0.0, None)
    counts, coverage, offsets = _aligned_counts(onehots, shifts, w_pos, trim)
    total = float(w_pos.sum())
    support = coverage / total if total > 0 else np.zeros_like(coverage)
    pfm = _column_frequencies(counts, coverage, total, weighting)
    return KmerAlignment(
        pfm=pfm,
        counts=counts,
        coverage=coverage,
        offsets=offsets.astype(int),
        shifts=shifts,
        kmers=tuple(kmers),
        weights=w_pos,
        support=support,
        weighting=weighting,
    )


# ---------------------------------------------------------------------------
# information content


def _as_matrix(pfm: np.ndarray | pd.DataFrame, name: str) -> np.ndarray:
    arr = np.asarray(pfm, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise DataError(f"{name} has shape {arr.shape}, expected (L, 4); pass one matrix in ACGU column order")
    return arr


def _background(background: float | Sequence[float]) -> np.ndarray:
    bg = np.broadcast_to(np.asarray(background, dtype=float), (4,))
    if (bg <= 0).any():
        raise DataError(f"background {background!r} has non-positive entries; give probabilities > 0")
    return bg


def information_content(
    pfm: np.ndarray | pd.DataFrame,
    background: float | Sequence[float] = 0.25,
) -> np.ndarray:
    """Information content (bits) of each column: ``sum_b p_b log2(p_b / q_b)``.

    Columns are normalised to sum to 1 first; all-zero columns have IC 0. With a
    uniform background a uniform column has 0 bits and a one-hot column 2 bits.

    Parameters
    ----------
    pfm : np.ndarray
        ``(L, 4)`` probabilities or non-negative counts.
    background : float or Sequence[float]
        Background letter probabilities ``q`` (scalar or 4 values).

    Returns
    -------
    np.ndarray
        ``(L,)`` bits.
    """
    p = _as_matrix(pfm, "pfm")
    if (p < 0).any():
        raise DataError("pfm has negative entries; information content needs probabilities or counts")
    bg = _background(background)
    tot = p.sum(1, keepdims=True)
    p = np.divide(p, tot, out=np.zeros_like(p), where=tot > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log2(p / bg), 0.0)
    return terms.sum(1)


def ic_scaled(
    pfm: np.ndarray | pd.DataFrame,
    background: float | Sequence[float] = 0.25,
) -> np.ndarray:
    """``(L, 4)`` letter heights for an information logo: probabilities times column IC."""
    p = _as_matrix(pfm, "pfm")
    tot = p.sum(1, keepdims=True)
    p = np.divide(p, tot, out=np.zeros_like(p), where=tot > 0)
    return p * information_content(p, background)[:, None]


# ---------------------------------------------------------------------------
# MEME minimal format

_MATRIX_RE = re.compile(r"letter-probability matrix:(.*)", re.IGNORECASE)


def _meme_lines(path: Path, where: str) -> list[str]:
    """The lines of a MEME file, checked for a ``MEME version`` header (first 50 lines) and an ACGU/ACGT alphabet."""
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read MEME file {path} ({exc}); check the path") from exc
    if not any(ln.startswith("MEME version") for ln in lines[:50]):
        raise DataError(f"{where} has no 'MEME version' header; give a MEME v4 (minimal) motif file")
    for ln in lines:
        if ln.startswith("ALPHABET"):
            alpha = ln.split("=", 1)[-1].strip().upper()
            if alpha not in ("ACGU", "ACGT"):
                raise DataError(f"{where} has alphabet {alpha!r}; only ACGU or ACGT motifs are supported")
            break
    return lines


def _matrix_width(header: str, at_line: str, motif: str) -> int:
    """``w=`` of a ``letter-probability matrix:`` header (the text after the colon), refusing ``alength`` != 4.

    ``at_line`` and ``motif`` name the header's line and its motif in messages.
    """
    keys = dict(re.findall(r"(\w+)\s*=\s*(\S+)", header))
    try:
        w = int(keys["w"])
        alength = int(keys.get("alength", 4))
    except (KeyError, ValueError) as exc:
        raise DataError(f"{at_line}: matrix header lacks a valid 'w='; write 'alength= 4 w= <width>'") from exc
    if alength != 4:
        raise DataError(f"{motif}: alength={alength}; only 4-letter motifs are supported")
    return w


def _matrix_rows(lines: list[str], start: int, w: int, motif: str) -> tuple[np.ndarray, int]:
    """The ``w`` rows of a matrix from ``lines[start]`` on (blank lines skipped), renormalised to sum to 1
    exactly, and the index of the line after the last row. ``motif`` names the motif in messages."""
    rows: list[list[float]] = []
    j, n = start, len(lines)
    while len(rows) < w and j < n:
        text = lines[j].strip()
        j += 1
        if not text:
            continue
        try:
            vals = [float(v) for v in text.split()]
        except ValueError:
            vals = []
        if len(vals) != 4:
            raise DataError(
                f"{motif} line {j}: expected 4 numbers, got {text[:40]!r}; "
                f"the matrix is shorter than w={w} or corrupt"
            )
        rows.append(vals)
    if len(rows) < w:
        raise DataError(f"{motif}: file ends after {len(rows)} of w={w} rows; the file is truncated")
    pfm = np.array(rows)
    sums = pfm.sum(1)
    # 0.02: the rounding of published files
    if not np.isfinite(pfm).all() or (pfm < 0).any() or np.abs(sums - 1).max() > 0.02:
        raise DataError(
            f"{motif}: rows must be probabilities summing to 1 "
            f"(sums {sums.min():.3f}..{sums.max():.3f}); fix the matrix"
        )
    return pfm / sums[:, None], j


def read_meme(path: str | os.PathLike) -> dict[str, Motif]:
    """Read a MEME (v4 minimal format) motif file into ``{id: Motif}``.

    Accepts the ``ACGU`` or ``ACGT`` alphabet (DNA columns are read as RNA). Rows are
    checked to sum to 1 (within 0.02, the rounding of published files) and
    renormalised exactly.

    Raises
    ------
    DataError
        On a missing or unreadable file, no ``MEME version`` line, another alphabet,
        a matrix whose rows do not match ``w=``/``alength=``, bad numbers, rows that do
        not sum to 1, duplicate ids, or no motifs.
    """
    path = Path(path)
    where = f"MEME file {path}"
    lines = _meme_lines(path, where)
    motifs: dict[str, Motif] = {}
    i, n = 0, len(lines)
    current: tuple[str, str] | None = None
    while i < n:
        ln = lines[i].strip()
        if ln.startswith("MOTIF"):
            parts = ln.split()
            if len(parts) < 2:
                raise DataError(f"{where} line {i + 1}: MOTIF without an id; write 'MOTIF <id> [name]'")
            current = (parts[1], " ".join(parts[2:]))
            if current[0] in motifs:
                raise DataError(f"{where} line {i + 1}: duplicate motif id {current[0]!r}; make ids unique")
        elif (m := _MATRIX_RE.match(ln)) is not None:
            if current is None:
                raise DataError(f"{where} line {i + 1}: matrix before any MOTIF line; add 'MOTIF <id>' above it")
            motif = f"{where} motif {current[0]}"
            w = _matrix_width(m.group(1), f"{where} line {i + 1}", motif)
            pfm, i = _matrix_rows(lines, i + 1, w, motif)
            motifs[current[0]] = Motif(id=current[0], name=current[1], pfm=pfm)
            current = None
            continue  # i is already the line after the matrix
        i += 1
    if not motifs:
        raise DataError(f"{where} holds no 'letter-probability matrix' motifs; check the file format")
    return motifs


def write_meme(
    path: str | os.PathLike,
    motifs: Mapping[str, np.ndarray | Motif] | Sequence[Motif],
    nsites: int = 20,
) -> Path:
    """Write motifs to a MEME v4 minimal file (alphabet ACGU), atomically.

    ``motifs`` is a sequence of :class:`Motif` or a mapping ``id -> Motif | (w, 4)``.
    Columns are normalised to sum to 1; all-zero rows become uniform.
    """
    items: list[Motif] = []
    if isinstance(motifs, Mapping):
        for key, val in motifs.items():
            items.append(val if isinstance(val, Motif) else Motif(id=str(key), name="", pfm=np.asarray(val)))
    else:
        items = list(motifs)
    out = ["MEME version 4", "", "ALPHABET= ACGU", "", "strands: +", "",
           "Background letter frequencies", "A 0.25000 C 0.25000 G 0.25000 U 0.25000", ""]
    for mo in items:
        p = _as_matrix(mo.pfm, f"motif {mo.id}")
        tot = p.sum(1, keepdims=True)
        p = np.where(tot > 0, p / np.where(tot > 0, tot, 1), 0.25)
        out.append(f"MOTIF {mo.id} {mo.name}".rstrip())
        out.append("")
        out.append(f"letter-probability matrix: alength= 4 w= {len(p)} nsites= {nsites} E= 0")
        out.extend("  " + "\t  ".join(f"{v:.6f}" for v in row) + "\t" for row in p)
        out.append("")
    return write_text(path, "\n".join(out) + "\n")


# ---------------------------------------------------------------------------
# similarity


def motif_similarity(
    pfm_a: np.ndarray | Motif,
    pfm_b: np.ndarray | Motif,
    min_overlap: int | None = None,
) -> Similarity:
    """Best-offset Pearson correlation of two matrices (ungapped, forward strand only).

    For every relative offset with at least ``min_overlap`` shared columns the
    overlapping ``(overlap, 4)`` blocks are flattened and correlated; the best r is
    returned (ties: larger overlap, then smaller ``|offset|``). RNA is single-stranded,
    so no reverse complement is tried. Columns are normalised to sum to 1 first, so
    counts, PFMs and one-hot k-mers compare alike.

    Parameters
    ----------
    pfm_a, pfm_b : np.ndarray or Motif
        ``(La, 4)`` and ``(Lb, 4)`` matrices.
    min_overlap : int, optional
        Fewest shared columns; default ``min(4, La, Lb)``.

    Returns
    -------
    Similarity
        ``(r, offset, overlap)``; ``offset`` is where ``b`` starts in ``a``'s
        coordinates. r is NaN when every overlap is flat (e.g. uniform matrices).
    """
    a = _normalise(pfm_a.pfm if isinstance(pfm_a, Motif) else pfm_a, "pfm_a")
    b = _normalise(pfm_b.pfm if isinstance(pfm_b, Motif) else pfm_b, "pfm_b")
    la, lb = len(a), len(b)
    if min_overlap is None:
        min_overlap = min(4, la, lb)
    min_overlap = int(min_overlap)
    if not 1 <= min_overlap <= min(la, lb):
        raise DataError(
            f"min_overlap={min_overlap} but the motifs have {la} and {lb} columns; "
            f"pass 1 <= min_overlap <= {min(la, lb)}"
        )
    best = Similarity(float("nan"), 0, 0)
    best_key = (-np.inf, 0, 0)
    for off in range(-(lb - min_overlap), la - min_overlap + 1):
        a0, b0 = max(0, off), max(0, -off)
        ov = min(la - a0, lb - b0)
        xa, xb = a[a0 : a0 + ov].ravel(), b[b0 : b0 + ov].ravel()
        xa, xb = xa - xa.mean(), xb - xb.mean()
        den = np.sqrt((xa @ xa) * (xb @ xb))
        if den <= 1e-12:
            continue
        r = float(xa @ xb / den)
        key = (round(r, 12), ov, -abs(off))
        if key > best_key:
            best_key, best = key, Similarity(r, off, ov)
    return best


def _normalise(pfm: np.ndarray, name: str) -> np.ndarray:
    p = _as_matrix(pfm, name)
    tot = p.sum(1, keepdims=True)
    return np.where(tot != 0, p / np.where(tot != 0, tot, 1), 0.25)


def best_matches(
    pfm: np.ndarray | Motif,
    database: Mapping[str, Motif],
    min_overlap: int | None = None,
    top: int | None = None,
) -> pd.DataFrame:
    """Rank database motifs by :func:`motif_similarity` to ``pfm``.

    Returns
    -------
    pd.DataFrame
        Columns ``id, name, r, offset, overlap``, sorted by ``r`` descending
        (NaN last); the first ``top`` rows when given.
    """
    rows = []
    for key, mo in database.items():
        mo_pfm = mo.pfm if isinstance(mo, Motif) else np.asarray(mo)
        ov = None if min_overlap is None else min(min_overlap, len(mo_pfm), len(np.asarray(getattr(pfm, "pfm", pfm))))
        s = motif_similarity(pfm, mo_pfm, min_overlap=ov)
        rows.append({"id": getattr(mo, "id", key), "name": getattr(mo, "name", ""), "r": s.r,
                     "offset": s.offset, "overlap": s.overlap})
    df = pd.DataFrame(rows, columns=["id", "name", "r", "offset", "overlap"])
    df = df.sort_values("r", ascending=False, na_position="last", kind="stable").reset_index(drop=True)
    return df.head(top) if top is not None else df


# --------------------------------------------------------------------------- sites in probes


def motif_matches(seqs: Sequence[str], motif: str, length: int | None = None) -> pd.DataFrame:
    """Best match of ``motif`` in each probe: fewest mismatches over all windows.

    Parameters
    ----------
    seqs
        Probes (RNA or DNA letters).
    motif
        The motif (``N`` matches anything).
    length
        Model input length, for ``x_start`` (probes are centred as in :func:`rbgia.sequence.one_hot`);
        default :data:`rbgia.sequence.SEQ_LEN`, or the longest probe when that is longer.

    Returns
    -------
    pandas.DataFrame
        One row per probe: ``mismatches`` (of the best window), ``start`` (0-based in
        the probe, leftmost best), ``x_start`` (the same in the padded model input) and
        ``n_exact`` (exact occurrences). Probes shorter than the motif get
        ``mismatches = len(motif)``, ``start = -1``.
    """
    mism, lengths, offsets = _window_mismatches(seqs, motif, length)
    k = len(clean(motif))
    best = mism.min(1) if len(seqs) else np.zeros(0, int)
    start = mism.argmin(1) if len(seqs) else np.zeros(0, int)
    too_short = lengths < k
    best = np.where(too_short, k, best)
    start = np.where(too_short, -1, start)
    return pd.DataFrame({
        "mismatches": best.astype(int),
        "start": start.astype(int),
        "x_start": np.where(too_short, -1, start + offsets).astype(int),
        "n_exact": (mism == 0).sum(1).astype(int) if len(seqs) else np.zeros(0, int),
    })


def _window_mismatches(seqs: Sequence[str], motif: str, length: int | None) -> tuple[np.ndarray, np.ndarray,
                                                                                        np.ndarray]:
    """Mismatches of ``motif`` in every window ``(N, W)`` (``len(motif)`` past a probe's end), the probes'
    lengths and their offsets in the padded model input."""
    motif = clean(motif)
    if not motif or bad_letters(motif):
        raise PatternError(f"motif {motif!r} must be ACGU letters (N = any); give e.g. 'UGCAUG'")
    seqs = [clean(s) for s in seqs]
    k = len(motif)
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    if length is None:
        length = max(SEQ_LEN, int(lengths.max(initial=0)))
    width = max(int(lengths.max(initial=0)), k)
    codes = np.zeros((len(seqs), width), dtype=np.uint8)  # 0 = past the end: never matches
    for i, s in enumerate(seqs):
        codes[i, : len(s)] = np.frombuffer(s.encode("latin-1"), dtype=np.uint8)
    m = np.frombuffer(motif.encode(), dtype=np.uint8)
    windows = np.lib.stride_tricks.sliding_window_view(codes, k, axis=1)  # (N, W, k)
    mism = ((windows != m) & (m != ord("N"))).sum(-1)
    # A window must lie inside its probe (an N at the motif's end would match padding).
    mism[np.arange(windows.shape[1])[None, :] > (lengths - k)[:, None]] = k
    offsets = np.array([pad_offset(int(n), length) for n in lengths], dtype=np.int64)
    return mism, lengths, offsets


def tied_windows(seqs: Sequence[str], motif: str, length: int | None = None) -> list[np.ndarray]:
    """Every window tied at each probe's fewest mismatches to ``motif``, as ``x_start`` in the model input.

    :func:`motif_matches` keeps the leftmost of them; a figure that shades the match shades them all,
    so that a second site where the importance peaks is not left out. A probe shorter than the motif
    gets an empty array. ``length`` is as in :func:`motif_matches`.
    """
    mism, lengths, offsets = _window_mismatches(seqs, motif, length)
    k = len(clean(motif))
    return [np.flatnonzero(row == row.min()) + off if n >= k else np.zeros(0, np.int64)
            for row, n, off in zip(mism, lengths, offsets)]


def kmer_matches(kmer: str, motif: str, max_mismatch: int = 0) -> bool:
    """True when the shorter of ``kmer`` and ``motif`` fits inside the longer with at most
    ``max_mismatch`` mismatches (``N`` in the shorter matches anything; ``T`` reads ``U``).

    The one rule for "this k-mer is the motif" (k-mer rank plots, planted-truth checks);
    it is :func:`motif_matches` of the shorter string in the longer one.
    """
    a, b = clean(str(kmer)), clean(str(motif))
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if not short:
        return False
    best = motif_matches([long_], short, length=len(long_))["mismatches"].iloc[0]
    return bool(best <= int(max_mismatch))


def site_importance(
    scores: np.ndarray, x: np.ndarray, starts: Sequence[int], width: int
) -> pd.DataFrame:
    """Mean per-position importance inside a site window versus outside it.

    Parameters
    ----------
    scores
        ``(N, L)`` per-position importance (e.g. :func:`rbgia.mutagenesis.ism_l2`).
    x
        ``(N, L, A)`` the one-hot inputs (padding positions are left out).
    starts
        Window start per sequence in model coordinates (``-1``: no site).
    width
        Window width (the motif length).

    Returns
    -------
    pandas.DataFrame
        ``inside``, ``outside`` and ``ratio`` (inside / outside) per sequence; NaN
        where there is no site.
    """
    scores = np.asarray(scores, dtype=float)
    starts = np.asarray(starts, dtype=int)
    present = np.asarray(x)[..., :4].sum(-1) > 0
    rel = np.arange(scores.shape[1])[None, :] - starts[:, None]
    inside = (rel >= 0) & (rel < int(width)) & (starts[:, None] >= 0) & present
    outside = ~inside & present
    with np.errstate(invalid="ignore", divide="ignore"):
        ins = (scores * inside).sum(1) / inside.sum(1)
        out = (scores * outside).sum(1) / outside.sum(1)
        ratio = ins / out
    return pd.DataFrame({"inside": ins, "outside": out, "ratio": ratio})


def known_motif(
    data_dir: str | os.PathLike,
    experiment: str,
    reference_dir: str | os.PathLike | None = None,
) -> str | None:
    """The motif a chapter should look for when its ``motif`` parameter is ``None``.

    Simulated data: the planted motif in ``data_dir/truth.json``. Real data: the
    consensus of the experiment's RNAcompete motif in
    ``reference_dir/``:data:`RNACOMPETE_MEME` when that file has it. Else ``None``.
    """
    truth = Path(data_dir) / "truth.json"
    if truth.is_file():
        exp = load_json(truth).get("experiments", {}).get(str(experiment), {})
        return exp.get("motif")
    if reference_dir is not None:
        meme = Path(reference_dir) / RNACOMPETE_MEME
        if meme.is_file():
            found = read_meme(meme).get(str(experiment))
            if found is not None:
                return found.consensus.strip("N") or None
    return None

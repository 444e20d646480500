"""The paper's GIA positions and motifs in one place: its text, and the public code where they differ.

Koo et al. 2020 give positions 1-based and inclusive in the text; code here uses 0-based starts
(``start`` = 1-based first position - 1). Experiments default to the paper's TEXT; the public
code's positions are kept as named constants so that a chapter can run both (:func:`positions`)
and the methods page can list both. Sequence length and alphabet live in :mod:`rbgia.sequence`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .errors import DataError
from .sequence import SEQ_LEN

KMER_LENGTH = 6  # the scans' k

# k-mer scans, motif mutagenesis, the GC-bias motif, the spacing reference copy: 1-based 18-23.
MOTIF_START = 17
SPACING_REFERENCE = MOTIF_START

# Multiplicity (Fig 2b, 2c): 1-based 4-9, 11-16, 18-23 (text).
MULTIPLICITY_STARTS = (3, 10, 17)
# Public code: 0-based 4, 12, 20 = 1-based 5-10, 13-18, 21-26.
PUBLIC_CODE_MULTIPLICITY_STARTS = (4, 12, 20)

# Spacing (Fig 2d, public code): (16, 20) overlap (UGCAUGCAUG), (15, 21) adjacent, (13, 22) 3 nt apart;
# one copy at SPACING_REFERENCE as the reference. 1-based: 17/21, 16/22, 14/23.
SPACING_PAIRS = ((16, 20), (15, 21), (13, 22))

# GC bias (Fig 4c): a 6-nt GC run at the very 5' and 3' ends of a 41-nt probe,
# 1-based 1-6 and 36-41 (text). Other lengths: (0, length - k), see gc_ends().
GC_STARTS = (0, 35)
# Public code: 0-based 2 and 34 = 1-based 3-8 and 35-40 (not symmetric).
PUBLIC_CODE_GC_STARTS = (2, 34)
GC_MOTIF = "GCGCGC"

# VTS1 hairpin (Fig 3c): stem 1-based 6-16 paired with 23-33, a 6-nt loop at 1-based 17-22
# (0-based start 16) holding the top 6-mer; the stem position of the motif: 1-based 9-14.
PAPER_STEM = (5, 16)  # 0-based [5, 16) = 1-based 6-16
PAPER_PARTNER = (22, 33)  # 0-based [22, 33) = 1-based 23-33
HAIRPIN_LOOP_START = 16
HAIRPIN_STEM_START = 8

# RBFOX1 (Fig 2b, 2c): the optimal site and the sub-optimal one the paper embeds beside it.
RBFOX1_MOTIF = "UGCAUG"
PAPER_SUBOPTIMAL = {RBFOX1_MOTIF: "AGAAUG"}


def gc_ends(length: int = SEQ_LEN, k: int = KMER_LENGTH) -> tuple[int, int]:
    """0-based starts of a ``k``-nt run at the very 5' and 3' ends of ``length`` positions."""
    return 0, int(length) - int(k)


#: The battery's embedding positions as the paper's text gives them, and as its public code has them.
PAPER_POSITIONS: Mapping[str, Any] = {
    "kmer_start": MOTIF_START, "multiplicity_starts": MULTIPLICITY_STARTS, "gc_starts": GC_STARTS,
    "loop_start": HAIRPIN_LOOP_START, "stem_start": HAIRPIN_STEM_START,
}
PUBLIC_POSITIONS: Mapping[str, Any] = {**PAPER_POSITIONS, "multiplicity_starts": PUBLIC_CODE_MULTIPLICITY_STARTS,
                                       "gc_starts": PUBLIC_CODE_GC_STARTS}


POSITION_KINDS = ("paper", "public")


GC_END_KINDS = ("paper", "covered")


def covered_gc_starts(lengths: Any, length: int = SEQ_LEN, k: int = KMER_LENGTH) -> tuple[int, int]:
    """0-based starts of a ``k``-nt run at the 5' and 3' ends of the span that *every* probe covers, the probes
    (``lengths``: their lengths, or the probes themselves) centred in ``length`` positions as the data are
    (:func:`rbgia.sequence.pad_offset`).

    For 41-nt probes these are the very ends (0, 35); for the 29-39-nt 2009 probes, the paper's ends (1-based
    1-6 and 36-41) lie in padding for most probes, which training never filled, so the runs go where every
    training probe had letters.
    """
    from .sequence import pad_offset

    given = np.asarray(lengths).ravel()
    n = np.char.str_len(given.astype(str)) if given.dtype.kind in "USO" else given.astype(int)  # probes or lengths
    if n.size == 0 or (n < k).any() or (n > length).any():
        raise DataError(f"probe lengths must lie in [{k}, {length}] to place a {k}-nt run; got "
                        f"{int(n.min()) if n.size else 'none'}..{int(n.max()) if n.size else ''}")
    first = pad_offset(n, length)
    start5, end = int(np.max(first)), int(np.min(first + n))
    if end - start5 < 2 * k:
        raise DataError(f"the span every probe covers ({start5}..{end}) holds no two {k}-nt runs; use gc_ends='paper'")
    return start5, end - k


def positions(kind: str = "paper", gc_ends: str = "paper", lengths: Any = None) -> dict[str, Any]:
    """The multiplicity and GC starts of ``kind``: ``"paper"`` (its text: copies at 0-based 3, 10, 17; GC runs
    at the very ends) or ``"public"`` (the authors' code: 4, 12, 20; 2 and 34), as keywords of a battery.
    ``gc_ends="covered"``: the GC runs at the ends of the span every probe of ``lengths`` covers
    (:func:`covered_gc_starts`; the 2009 data) instead."""
    table = dict(zip(POSITION_KINDS, (PAPER_POSITIONS, PUBLIC_POSITIONS)))
    if kind not in table:
        raise DataError(f"positions={kind!r}; pass 'paper' (the paper's text) or 'public' (the authors' code)")
    if gc_ends not in GC_END_KINDS:
        raise DataError(f"gc_ends={gc_ends!r}; pass 'paper' (the probe's very ends) or 'covered' (the ends of the "
                        "span every probe covers)")
    out = {key: table[kind][key] for key in ("multiplicity_starts", "gc_starts")}
    if gc_ends == "covered":
        if lengths is None:
            raise DataError("gc_ends='covered' needs the probes' lengths; pass lengths=")
        out["gc_starts"] = covered_gc_starts(lengths)
    return out


def two_mismatch_variants(motif: str, alphabet: str = "ACGU") -> list[str]:
    """Every k-mer exactly 2 mismatches from ``motif`` (``C(k, 2) * 9`` of them for ACGU), in a fixed order."""
    out = []
    for i, j in itertools.combinations(range(len(motif)), 2):
        for a in alphabet:
            for b in alphabet:
                if a != motif[i] and b != motif[j]:
                    out.append(motif[:i] + a + motif[i + 1:j] + b + motif[j + 1:])
    return out


def suboptimal_motif(motif: str, kmers: Any, means: Any) -> str:
    """The sub-optimal motif embedded beside ``motif`` in the multiplicity test (Fig 2c), as the paper chose it:
    the highest-scoring k-mer exactly 2 mismatches from the top one (for RBFOX1's UGCAUG, AGAAUG). For UGCAUG the
    paper's own choice (:data:`PAPER_SUBOPTIMAL`) is kept, whatever the model scores.

    Parameters
    ----------
    motif
        The optimal motif (the battery's: the top k-mer unless one is given).
    kmers, means
        Candidate k-mers and their global importances, in any order (the battery scores every
        :func:`two_mismatch_variants`); those not 2 mismatches from ``motif`` are ignored.
    """
    kmers, means = [str(k) for k in kmers], [float(m) for m in means]
    if len(kmers) != len(means):
        raise DataError(f"{len(kmers)} k-mers with {len(means)} importances; pass one importance per k-mer")
    if motif in PAPER_SUBOPTIMAL:
        return PAPER_SUBOPTIMAL[motif]
    two = [(m, k) for k, m in zip(kmers, means)
           if len(k) == len(motif) and sum(a != b for a, b in zip(k, motif)) == 2 and math.isfinite(m)]
    if not two:
        raise DataError(f"no k-mer 2 mismatches from {motif} among the {len(kmers)} given; score "
                        f"rbgia.paper.two_mismatch_variants({motif!r})")
    return max(two)[1]


__all__ = [
    "GC_MOTIF",
    "GC_END_KINDS",
    "GC_STARTS",
    "HAIRPIN_LOOP_START",
    "HAIRPIN_STEM_START",
    "KMER_LENGTH",
    "MOTIF_START",
    "MULTIPLICITY_STARTS",
    "PAPER_PARTNER",
    "PAPER_POSITIONS",
    "PAPER_STEM",
    "PAPER_SUBOPTIMAL",
    "POSITION_KINDS",
    "PUBLIC_CODE_GC_STARTS",
    "PUBLIC_CODE_MULTIPLICITY_STARTS",
    "PUBLIC_POSITIONS",
    "RBFOX1_MOTIF",
    "SPACING_PAIRS",
    "SPACING_REFERENCE",
    "gc_ends",
    "positions",
    "covered_gc_starts",
    "suboptimal_motif",
    "two_mismatch_variants",
]

"""The paper's GIA positions in one place: its text, and the public code where they differ.

Koo et al. 2020 give positions 1-based and inclusive in the text; code here uses
0-based starts (``start`` = 1-based first position - 1). Experiments default to the
paper's TEXT; the public code's positions are kept as named constants so that a
chapter can run both and the methods page can list both.
"""

from __future__ import annotations

from .stemloop import PAPER_PARTNER, PAPER_STEM

SEQ_LENGTH = 41  # RNAcompete probes (shorter ones padded, centred)
KMER_LENGTH = 6  # the scans' k

# k-mer scans, motif mutagenesis, the GC-bias motif: 1-based 18-23.
MOTIF_START = 17

# Multiplicity (Fig 2b, 2c): 1-based 4-9, 11-16, 18-23 (text).
MULTIPLICITY_STARTS = (3, 10, 17)
# Public code: 0-based 4, 12, 20 = 1-based 5-10, 13-18, 21-26.
PUBLIC_CODE_MULTIPLICITY_STARTS = (4, 12, 20)

# Spacing (Fig 2d, public code): (16, 20) overlap (UGCAUGCAUG), (15, 21) adjacent, (13, 22) 3 nt apart;
# one copy at MOTIF_START as the reference. 1-based: 17/21, 16/22, 14/23.
SPACING_PAIRS = ((16, 20), (15, 21), (13, 22))

# GC bias (Fig 4c): a 6-nt GC run at the very 5' and 3' ends of a 41-nt probe,
# 1-based 1-6 and 36-41 (text). Other lengths: (0, length - k), see gc_ends().
GC_STARTS = (0, 35)
# Public code: 0-based 2 and 34 = 1-based 3-8 and 35-40 (not symmetric).
PUBLIC_CODE_GC_STARTS = (2, 34)
GC_MOTIF = "GCGCGC"

# VTS1 hairpin (Fig 3c): stem 1-based 6-16 paired with 23-33 (PAPER_STEM, PAPER_PARTNER),
# a 6-nt loop at 1-based 17-22 (0-based start 16) holding the top 6-mer.
HAIRPIN_LOOP_START = 16


def gc_ends(length: int = SEQ_LENGTH, k: int = KMER_LENGTH) -> tuple[int, int]:
    """0-based starts of a ``k``-nt run at the very 5' and 3' ends of ``length`` positions."""
    return 0, int(length) - int(k)


__all__ = [
    "GC_MOTIF",
    "GC_STARTS",
    "HAIRPIN_LOOP_START",
    "KMER_LENGTH",
    "MOTIF_START",
    "MULTIPLICITY_STARTS",
    "PAPER_PARTNER",
    "PAPER_STEM",
    "PUBLIC_CODE_GC_STARTS",
    "PUBLIC_CODE_MULTIPLICITY_STARTS",
    "SEQ_LENGTH",
    "SPACING_PAIRS",
    "gc_ends",
]

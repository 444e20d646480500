"""Global Importance Analysis (Koo et al. 2020): the public API in one namespace.

The global importance of a pattern ``p`` under a model ``f`` is the mean, over
background sequences ``x``, of the local importance ``f(x with p) - f(x)`` (Eq. 2 of
the paper). The code lives in rooms of one concern each; this module gathers their
public names so that ``from rbgia import gia; gia.kmer_scan(...)`` reads as the paper:

- :mod:`rbgia.embedding`: patterns and :func:`embed`
- :mod:`rbgia.stemloop`: stem-loop backgrounds and structure recomputation
- :mod:`rbgia.stats`: :class:`Importance`, :func:`compare` and the tests
- :mod:`rbgia.session`: the :class:`GIA` session and :func:`global_importance`
- :mod:`rbgia.scan`: k-mer scans (exhaustive and adaptive)
- :mod:`rbgia.experiments`: mutagenesis, multiplicity, spacing, position, GC bias, hairpins
"""

from __future__ import annotations

from .embedding import embed
from .experiments import (
    GCBias,
    Hairpin,
    MotifMutagenesis,
    Multiplicity,
    Positional,
    Spacing,
    gc_bias,
    hairpin_context,
    motif_mutagenesis,
    multiplicity,
    positional_scan,
    spacing,
)
from .paper import PAPER_PARTNER, PAPER_STEM
from .scan import AdaptiveScan, adaptive_kmer_scan, kmer_scan
from .session import GIA, global_importance
from .stats import Importance, compare
from .stemloop import add_structure, stem_loop_background

__all__ = [
    "PAPER_PARTNER",
    "PAPER_STEM",
    "AdaptiveScan",
    "GCBias",
    "GIA",
    "Hairpin",
    "Importance",
    "MotifMutagenesis",
    "Multiplicity",
    "Positional",
    "Spacing",
    "adaptive_kmer_scan",
    "add_structure",
    "compare",
    "embed",
    "gc_bias",
    "global_importance",
    "hairpin_context",
    "kmer_scan",
    "motif_mutagenesis",
    "multiplicity",
    "positional_scan",
    "spacing",
    "stem_loop_background",
]

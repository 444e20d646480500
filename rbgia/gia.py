"""Global Importance Analysis (Koo et al. 2020): the public API in one namespace.

The global importance of a pattern ``p`` under a model ``f`` is the mean, over
background sequences ``x``, of the local importance ``f(x with p) - f(x)`` (Eq. 2 of
the paper). The code lives in rooms of one concern each; this module gathers their
public names so that ``from rbgia import gia; gia.kmer_scan(...)`` reads as the paper:

- :mod:`rbgia.background`: backgrounds (profile, shuffles, quartiles)
- :mod:`rbgia.embedding`: patterns and :func:`embed`
- :mod:`rbgia.stemloop`: stem-loop backgrounds and structure recomputation
- :mod:`rbgia.stats`: :class:`Importance`, :func:`compare` and the tests
- :mod:`rbgia.session`: the :class:`GIA` session and :func:`global_importance`
- :mod:`rbgia.scan`: k-mer scans (exhaustive and adaptive)
- :mod:`rbgia.experiments`: mutagenesis, multiplicity, spacing, position;
  :mod:`rbgia.gcbias`: GC bias; :mod:`rbgia.hairpin`: hairpins
- :mod:`rbgia.verdicts`: the rules behind every verdict
"""

from __future__ import annotations

from .background import dinuc_shuffle_background, make_background, profile_background, shuffle_background
from .embedding import embed
from .experiments import (
    MotifMutagenesis,
    Multiplicity,
    Positional,
    Spacing,
    motif_mutagenesis,
    multiplicity,
    positional_scan,
    spacing,
)
from .gcbias import GCBias, gc_bias
from .hairpin import Hairpin, hairpin_context
from .paper import PAPER_PARTNER, PAPER_STEM
from .scan import AdaptiveScan, adaptive_kmer_scan, kmer_scan
from .session import GIA, global_importance
from .stats import Importance, compare
from .stemloop import add_structure, broken_stem_background, stem_loop_background
from .verdicts import ALPHA, ALPHA_EFFECT, MIN_BACKGROUNDS, MIN_EFFECT, TOLERANCE

__all__ = [
    "ALPHA",
    "ALPHA_EFFECT",
    "MIN_BACKGROUNDS",
    "MIN_EFFECT",
    "PAPER_PARTNER",
    "PAPER_STEM",
    "TOLERANCE",
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
    "broken_stem_background",
    "compare",
    "dinuc_shuffle_background",
    "embed",
    "gc_bias",
    "global_importance",
    "hairpin_context",
    "kmer_scan",
    "make_background",
    "motif_mutagenesis",
    "multiplicity",
    "positional_scan",
    "profile_background",
    "shuffle_background",
    "spacing",
    "stem_loop_background",
]

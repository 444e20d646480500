"""rbgia: ResidualBind and Global Importance Analysis (Koo et al. 2020) for RNA-binding proteins.

The library a user imports, one module per concern::

    from rbgia import GIA, load_rnacompete, make_background, train_or_load
    from rbgia import gia                     # the GIA namespace: gia.kmer_scan, gia.multiplicity, ...

    data = load_rnacompete("data/rnacompete2009", "VTS1")                 # RNAcompete -> splits (N, 41, 4)
    model, meta, data = train_or_load("data/rnacompete2009", "VTS1", epochs=10)   # ResidualBind, cached
    session = GIA(model, make_background("profile", data.train.x, n=300))        # f(x) computed once
    scan = gia.kmer_scan(session)                                          # every 6-mer at 1-based 18-23
    hairpin = gia.hairpin_context(session, "GCUGGC", 16, 8)               # motif in a loop vs a stem

Rooms: :mod:`~rbgia.sequence` (alphabet, one-hot), :mod:`~rbgia.data` (RNAcompete files, splits, caches),
:mod:`~rbgia.structure` (ViennaRNA profiles), :mod:`~rbgia.simulate` (data with planted truth),
:mod:`~rbgia.config` (the training configuration), :mod:`~rbgia.model` (ResidualBind),
:mod:`~rbgia.train` (the fit loop; :mod:`~rbgia.checkpoint` its format), :mod:`~rbgia.multitask` (one
trunk over several experiments of one array design), :mod:`~rbgia.model_cache` (trained models shared between
runs), :mod:`~rbgia.inference` (compiled batched prediction),
:mod:`~rbgia.gia` (backgrounds, embedding, sessions, scans, experiments, statistics),
:mod:`~rbgia.mutagenesis` (ISM), :mod:`~rbgia.motifs`, :mod:`~rbgia.plotting`, :mod:`~rbgia.paper`
(the paper's positions), :mod:`~rbgia.records` (the GIA record schema). The book built on it lives in
:mod:`rbgia.chapters` (each chapter's back-end) and :mod:`rbgia.book` (its orchestration); the library
never imports them.

Names are loaded on first use, so ``import rbgia`` stays cheap (TensorFlow is imported only by what
needs it).
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("rbgia")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

#: The library's rooms, importable as ``rbgia.<name>``.
MODULES = (
    "background", "baselines", "checkpoint", "config", "controls", "data", "download", "embedding", "errors",
    "evaluate", "experiments", "gcbias", "gia", "hairpin", "inference", "model", "model_cache", "motifs",
    "multitask", "mutagenesis", "paper", "plotting", "records", "scan", "sequence", "session", "simulate", "stats",
    "stemloop", "structure", "train", "verdicts",
)

#: The names a user needs most, ``name -> module`` (``from rbgia import GIA``).
NAMES = {
    "load_rnacompete": "data", "list_experiments": "data", "one_hot": "sequence", "structure_profile": "structure",
    "TrainConfig": "config", "residualbind": "model", "fit": "train", "train_or_load": "model_cache",
    "load_model": "model_cache", "as_predict": "inference", "make_background": "background",
    "GIA": "session", "global_importance": "session", "kmer_scan": "scan", "adaptive_kmer_scan": "scan",
    "ism": "mutagenesis", "RbgiaError": "errors", "DataError": "errors", "ModelError": "errors",
    "PatternError": "errors",
}

__all__ = ["__version__", *MODULES, *NAMES]


def __getattr__(name: str) -> Any:
    if name in NAMES:
        value = getattr(importlib.import_module(f".{NAMES[name]}", __name__), name)
    elif name in MODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'rbgia' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

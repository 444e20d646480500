"""Chapter 01 (RNAcompete data): the experiments the book trains on."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd


def data_table(data_dirs: Sequence[str | os.PathLike], seed: int = 0, max_probes: int | None = None) -> pd.DataFrame:
    """Every experiment of ``data_dirs``: probes per set, NaN scores dropped, and the train / validation / test
    split sizes the book trains on (:func:`rbgia.data.load_rnacompete`, log transform, cached)."""
    from ..data import list_experiments, load_rnacompete

    rows = []
    for folder in data_dirs:
        for exp in list_experiments(folder):
            d = load_rnacompete(folder, exp, seed=seed, max_probes=max_probes)
            rows.append({"dataset": Path(folder).name, "experiment": exp, "probes in set A": d.info["n_probes"]["A"],
                         "probes in set B": d.info["n_probes"]["B"],
                         "NaN scores dropped": sum(d.info["n_dropped"].values()), "training": len(d.train),
                         "validation": len(d.valid), "test (set B)": len(d.test)})
    return pd.DataFrame(rows)

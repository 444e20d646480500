"""Chapter 01 (RNAcompete data): the experiments the book trains on, the two score transforms, and the
structure profiles of a few probes; the chapter's record (kind ``data_overview``)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..data import RNAcompeteData, list_experiments, load_rnacompete
from ..structure import structure_profile
from .records import make_record

STEM = "01_data"  # the chapter's notebook: its record is named after it


def data_table(data_dirs: Sequence[str | os.PathLike], seed: int = 0, max_probes: int | None = None) -> pd.DataFrame:
    """Every experiment of ``data_dirs``: probes per set, NaN scores dropped, and the train / validation / test
    split sizes the book trains on (:func:`rbgia.data.load_rnacompete`, log transform, cached)."""
    rows = []
    for folder in data_dirs:
        for exp in list_experiments(folder):
            d = load_rnacompete(folder, exp, seed=seed, max_probes=max_probes)
            rows.append({"dataset": Path(folder).name, "experiment": exp, "probes in set A": d.info["n_probes"]["A"],
                         "probes in set B": d.info["n_probes"]["B"],
                         "NaN scores dropped": sum(d.info["n_dropped"].values()), "training": len(d.train),
                         "validation": len(d.valid), "test (set B)": len(d.test)})
    return pd.DataFrame(rows)


@dataclass(frozen=True, eq=False)
class Transforms:
    """One experiment loaded under both score transforms (paper Fig 1b-c): the log and clip datasets."""

    experiment: str
    log: RNAcompeteData
    clip: RNAcompeteData
    clip_rule: str

    @property
    def skewness(self) -> dict[str, float]:
        """Skewness of the training scores: raw, after the clip transform and after the log transform."""
        return {"raw": float(stats.skew(self.log.train.raw)), "clip": float(stats.skew(self.clip.train.y[:, 0])),
                "log": float(stats.skew(self.log.train.y[:, 0]))}

    @property
    def n_clipped(self) -> int:
        """Training probes above the clip threshold."""
        return int((self.clip.train.raw > self.clip.transform["clip"]).sum())


def transforms(data_dir: str | os.PathLike, experiment: str, *, inputs: str = "seq", seed: int = 0,
               clip_rule: str = "quantile", max_probes: int | None = None) -> Transforms:
    """``experiment`` loaded with the log and with the clip transform (same split, same probes)."""
    kw = {"inputs": inputs, "seed": seed, "max_probes": max_probes}
    return Transforms(experiment, load_rnacompete(data_dir, experiment, normalization="log", **kw),
                      load_rnacompete(data_dir, experiment, normalization="clip", clip_rule=clip_rule, **kw),
                      clip_rule)


@dataclass(frozen=True, eq=False)
class StructureExamples:
    """PU and PHIME profiles (ViennaRNA) of the probes drawn in the chapter."""

    probes: tuple[str, ...]
    pu: np.ndarray  # (n, 41, 2)
    phime: np.ndarray  # (n, 41, 5)

    @property
    def mean_unpaired(self) -> float:
        """Mean unpaired probability over the probes' positions (padding excluded)."""
        return float(self.pu[..., 1][self.pu.sum(-1) > 0].mean())

    @property
    def channel_sums_ok(self) -> bool:
        """Whether the PHIME channels sum to one at every position that is not padding."""
        sums = self.phime.sum(-1)
        return bool(np.allclose(sums[sums > 0], 1, atol=1e-3))


def structure_examples(data: RNAcompeteData, n: int = 3) -> StructureExamples:
    """The profiles of the ``n`` test probes with the highest raw scores."""
    probes = tuple(str(s) for s in data.test.seqs[np.argsort(data.test.raw)[::-1][:n]])
    return StructureExamples(probes, structure_profile(list(probes), "pu"), structure_profile(list(probes), "phime"))


@dataclass(frozen=True, eq=False)
class DataOverview:
    """What chapter 01 shows: the experiments, one experiment's transforms and structure profiles."""

    table: pd.DataFrame
    transforms: Transforms
    structure: StructureExamples

    def to_record(self) -> dict[str, Any]:
        """Record of kind ``data_overview``."""
        log, clip = self.transforms.log, self.transforms.clip
        return make_record(
            "data_overview", experiments=self.table["experiment"].tolist(), n_experiments=len(self.table),
            n_probes=log.info["n_probes"], n_dropped_nan=log.info["n_dropped"], n_train=len(log.train),
            n_valid=len(log.valid), n_test=len(log.test), skewness=self.transforms.skewness,
            clip={"rule": self.transforms.clip_rule, "threshold": clip.transform["clip"],
                  "n_clipped_train": self.transforms.n_clipped},
            log={k: log.transform[k] for k in ("min", "mean", "sd")}, transform_stats=log.transform["stats"],
            structure={"probes": list(self.structure.probes), "mean_unpaired": self.structure.mean_unpaired,
                       "channel_sums_ok": self.structure.channel_sums_ok})

    def finding(self) -> str:
        """The chapter's closing sentence, from the numbers above."""
        t, skew = self.transforms, self.transforms.skewness
        return (f"The book has {len(self.table)} real experiments ({self.table['training'].sum():,} training probes "
                f"in all). On {t.experiment}, {sum(t.log.info['n_dropped'].values())} NaN scores were dropped; the log "
                f"transform lowers the skewness of the training scores from {skew['raw']:.2f} to {skew['log']:.2f} "
                f"(clip: {skew['clip']:.2f}); the top {len(self.structure.probes)} test probes are unpaired at "
                f"{self.structure.mean_unpaired:.0%} of their positions on average.")

"""Shared fixtures: the real data shipped in data/, and a small simulated dataset."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def shipped_data() -> Path:
    """The repository's ``data/`` folder (``rbgia.data.REPO_DATA``): ``rnacompete2009/``,
    ``rnacompete2013_sample/`` and ``reference/``, shipped with the project (no ``../shared``)."""
    from rbgia.data import REPO_DATA, shipped_data_dir

    for name in ("rnacompete2009", "rnacompete2013_sample", "reference"):
        shipped_data_dir(name)  # a clear DataError if the checkout lacks one
    return REPO_DATA


@pytest.fixture(scope="session")
def sim_dir(tmp_path_factory) -> Path:
    """A small simulated RNAcompete dataset (DeepBind layout) written once per session."""
    from rbgia.simulate import write_rnacompete

    out = tmp_path_factory.mktemp("sim")
    write_rnacompete(out, n_a=3000, n_b=1500, seed=0)
    return out

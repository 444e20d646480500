"""Shared fixtures: the real data beside the checkout, and a small simulated dataset."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("RBGIA_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` beside the checkout (present in CI); tests that need it skip otherwise."""
    if not (SHARED / "data").is_dir():
        pytest.skip(f"real data not found at {SHARED}/data (set RBGIA_SHARED to its parent)")
    return SHARED


@pytest.fixture(scope="session")
def sim_dir(tmp_path_factory) -> Path:
    """A small simulated RNAcompete dataset (DeepBind layout) written once per session."""
    from rbgia.simulate import write_rnacompete

    out = tmp_path_factory.mktemp("sim")
    write_rnacompete(out, n_a=3000, n_b=1500, seed=0)
    return out

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
    ``rnacompete2013_sample/`` and ``reference/``, shipped with the project: a fresh clone has
    everything the tests need."""
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


@pytest.fixture(scope="session")
def tiny_book(tmp_path_factory, sim_dir) -> dict:
    """The whole book, executed once per session through the engine (Snakemake, as ``make book``)
    with ``tests/tiny_parameters.yml`` on the shipped data (and ``sim_dir`` for the simulated
    part), then rendered: the chapter tests, the record checks and the browser test share it.

    Returns ``{"root", "results", "runs", "html", "spec"}``; the copy of the repository lives in a
    temporary folder (notebooks, book pages, config; ``data/`` linked to the shipped data).
    """
    import shutil

    import yaml

    from rbgia import book

    root = tmp_path_factory.mktemp("tiny_book")
    for folder in ("notebooks", "book"):
        generated = shutil.ignore_patterns("executed", "_build", ".*", "mathjax", "download")
        shutil.copytree(REPO / folder, root / folder, ignore=generated)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(REPO / name, root / name)
    (root / "data").mkdir()
    for name in ("rnacompete2009", "rnacompete2013_sample", "reference"):
        (root / "data" / name).symlink_to(REPO / "data" / name)
    (root / "data" / "simulated").symlink_to(sim_dir)
    params_file = REPO / "tests" / "tiny_parameters.yml"
    results = root / "results"
    runs = book.run(root, params_file, str(results), data_dir=str(sim_dir), quiet=True)
    html = book.build(root)
    spec = yaml.safe_load(params_file.read_text())
    return {"root": root, "results": results, "runs": {r.name: r for r in runs}, "html": html, "spec": spec}

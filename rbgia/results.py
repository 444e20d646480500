"""Where notebooks and the workflow keep their key numbers, and how to read them back.

Every notebook writes one small JSON record per run::

    results_dir/<experiment>/<notebook>.json                      # per experiment
    results_dir/<experiment>/<notebook>.<config_tag>.json         # per training configuration
    results_dir/_all/<notebook>.json                              # across experiments

A record is a flat-ish dict of numbers plus ``experiment``, ``notebook`` and (when
given) ``config``. :func:`collect` turns all records of one notebook into a
DataFrame (one row per experiment and configuration, scalars only, nested keys
joined with ``.``): the workflow and the across-experiment notebooks read through it.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._io import load_json, save_json
from .config import TrainConfig
from .errors import DataError
from .paths import require_writable_dir, user_path

ALL = "_all"
CONFIG_KEYS = TrainConfig.field_names()


def config_dict(config: TrainConfig | Mapping[str, Any] | str | None = None, inputs: str | None = None,
                variant: str | None = None, seed: int | None = None, *,
                normalization: str | None = None) -> dict[str, Any]:
    """The training configuration as a plain dict (thin wrapper over :class:`rbgia.config.TrainConfig`).

    Called as before, ``config_dict("log", "seq", "paper", 0)`` or with keywords; a
    :class:`TrainConfig` or mapping is accepted as the first argument.
    """
    return _config(config, normalization, inputs, variant, seed).as_dict()


def config_tag(config: TrainConfig | Mapping[str, Any] | str | None = None, inputs: str | None = None,
               variant: str | None = None, seed: int | None = None, *,
               normalization: str | None = None) -> str:
    """File-name tag of a training configuration, e.g. ``"log-seq-paper-s0"`` (see :attr:`TrainConfig.tag`)."""
    return _config(config, normalization, inputs, variant, seed).tag


def _config(config: Any, normalization: str | None, inputs: str | None, variant: str | None,
            seed: int | None) -> TrainConfig:
    # Backward compatible: a first positional string is the normalization, as it used to be.
    if isinstance(config, str):
        config, normalization = None, config
    return TrainConfig.coerce(config, normalization=normalization, inputs=inputs, variant=variant, seed=seed)


def _tag(config: str | Mapping[str, Any] | TrainConfig | None) -> str | None:
    if config is None or isinstance(config, str):
        return config
    return TrainConfig.coerce(config).tag


def _stem(notebook: str) -> str:
    stem = Path(notebook).name
    return stem[: -len(".ipynb")] if stem.endswith(".ipynb") else stem


def results_path(
    results_dir: str | os.PathLike,
    experiment: str | None,
    notebook: str,
    config: str | Mapping[str, Any] | TrainConfig | None = None,
) -> Path:
    """Path of one record: ``results_dir/<experiment>/<notebook>[.<config_tag>].json``.

    Parameters
    ----------
    results_dir
        Root of all results (the notebooks' ``results_dir`` parameter).
    experiment
        Experiment id; ``None`` or ``"_all"`` for across-experiment records.
    notebook
        Notebook stem (``"02_residualbind"``); a path or ``.ipynb`` name is reduced to it.
    config
        Training configuration: a tag from :func:`config_tag` or a dict with keys in
        :data:`CONFIG_KEYS` (missing keys take the book's defaults).
    """
    experiment = ALL if experiment is None else str(experiment)
    if not experiment or "/" in experiment or experiment.startswith("."):
        raise DataError(f"experiment id {experiment!r} cannot be a folder name; pass the RNCMPT/simulated id")
    tag = _tag(config)
    name = _stem(notebook) + (f".{tag}" if tag else "") + ".json"
    return user_path(results_dir) / experiment / name


_NAN_FIX = "fix the computation, or pass allow_nan=True if it may be undefined (stored as null)"


def _check_finite(obj: Any, where: str = "record") -> None:
    # NaN/inf would silently turn into null in JSON; a notebook should say what went wrong.
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            _check_finite(v, f"{where}.{k}")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            _check_finite(v, f"{where}[{i}]")
    elif isinstance(obj, np.ndarray):
        if obj.dtype.kind == "f" and not np.isfinite(obj).all():
            raise DataError(f"{where} holds NaN/inf; {_NAN_FIX}")
    elif isinstance(obj, (float, np.floating)) and not math.isfinite(float(obj)):
        raise DataError(f"{where} is {obj} (NaN/inf); {_NAN_FIX}")


def write_results(
    results_dir: str | os.PathLike,
    experiment: str | None,
    notebook: str,
    record: Mapping[str, Any],
    config: str | Mapping[str, Any] | TrainConfig | None = None,
    *,
    allow_nan: bool = False,
) -> Path:
    """Write ``record`` atomically to :func:`results_path` and return the path.

    ``experiment``, ``notebook`` and ``config`` (as a dict when given as one) are
    added to the record. Values may be numpy scalars or arrays.

    Parameters
    ----------
    allow_nan
        JSON cannot hold NaN or inf. By default they raise
        :class:`~rbgia.errors.DataError`, so that a computation that went wrong is
        caught; pass ``True`` where a value can legitimately be undefined (a ratio
        over a zero effect, an R² of a flat response): every non-finite float, also
        inside lists, tuples and numpy arrays, is then stored as ``null``.
    """
    if not allow_nan:
        _check_finite(record)
    path = results_path(results_dir, experiment, notebook, config)
    require_writable_dir(path.parent, "results_dir")
    out: dict[str, Any] = {"experiment": ALL if experiment is None else str(experiment), "notebook": _stem(notebook)}
    if isinstance(config, (Mapping, TrainConfig)):
        out["config"] = TrainConfig.coerce(config).as_dict()
    elif isinstance(config, str):
        out["config_tag"] = config
    out.update(record)
    return save_json(path, out)


def read_results(
    results_dir: str | os.PathLike,
    experiment: str | None,
    notebook: str,
    config: str | Mapping[str, Any] | TrainConfig | None = None,
) -> dict[str, Any]:
    """Read one record written by :func:`write_results`.

    Raises
    ------
    DataError
        When the record is missing (with the notebook to run to make it).
    """
    path = results_path(results_dir, experiment, notebook, config)
    if not path.is_file():
        raise DataError(f"no results at {path}; run notebooks/{_stem(notebook)}.ipynb for this experiment first")
    return load_json(path)


def _flatten(obj: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, name + "."))
        elif value is None or isinstance(value, (bool, int, float, str)):
            flat[name] = value
        # lists (curves, logos) stay in the JSON; a table row holds scalars only
    return flat


def collect(results_dir: str | os.PathLike, notebook: str, on_error: str = "raise") -> pd.DataFrame:
    """All records of ``notebook`` under ``results_dir`` as one DataFrame.

    One row per file (experiment, and configuration where the notebook records one);
    nested dicts are flattened with ``.`` (``config.normalization``, ``pearson.test``),
    lists are dropped. The columns ``experiment``, ``notebook`` and, for configured
    records, ``normalization``, ``inputs``, ``variant``, ``seed`` always come first.
    Empty DataFrame (with those columns) when nothing is there yet.

    Parameters
    ----------
    on_error
        What an unreadable (truncated, damaged) record does: ``"raise"`` a
        :class:`~rbgia.errors.DataError` naming it, or ``"skip"`` it with a warning; the
        skipped paths are listed in ``df.attrs["skipped"]``.
    """
    if on_error not in ("raise", "skip"):
        raise DataError(f"on_error={on_error!r}; pass 'raise' or 'skip'")
    root = user_path(results_dir)
    stem = _stem(notebook)
    files = sorted(root.glob(f"*/{stem}.json")) + sorted(root.glob(f"*/{stem}.*.json"))
    rows = []
    skipped: list[str] = []
    for path in files:
        if path.name.startswith("."):
            continue  # a temporary file of an atomic write in progress
        fix = f"delete it and rerun notebooks/{stem}.ipynb for {path.parent.name}, or pass on_error='skip'"
        try:
            rec = load_json(path, fix=fix)
            if not isinstance(rec, Mapping):
                raise DataError(f"{path} holds a {type(rec).__name__}, not a record; {fix}")
        except DataError as exc:
            if on_error == "raise":
                raise
            warnings.warn(f"skipping record: {exc}", stacklevel=2)
            skipped.append(str(path))
            continue
        row = _flatten(rec)
        for key in CONFIG_KEYS:
            if f"config.{key}" in row:
                row[key] = row.pop(f"config.{key}")
        row["path"] = str(path)
        rows.append(row)
    lead = ["experiment", "notebook", *CONFIG_KEYS]
    if not rows:
        df = pd.DataFrame(columns=["experiment", "notebook"])
    else:
        df = pd.DataFrame(rows)
        cols = [c for c in lead if c in df.columns] + [c for c in df.columns if c not in lead]
        df = df[cols].sort_values([c for c in lead if c in df.columns]).reset_index(drop=True)
    df.attrs["skipped"] = skipped
    return df


# --------------------------------------------------------------------------- benchmark tables

BASELINE_LABELS = {"kmer_ridge": "k-mer ridge", "shallow_cnn": "shallow CNN"}
_REPORTED_INPUTS = {"sequence": "seq", "sequence+PU": "pu", "sequence+PHIME": "phime", "": "seq"}


def benchmark_grid(
    config: TrainConfig | Mapping[str, Any] | str | None = None,
    inputs: str | None = None,
    variant: str | None = None,
    seed: int | None = None,
    normalizations: Sequence[str] = ("log", "clip"),
    inputs_kinds: Sequence[str] = ("seq", "pu", "phime"),
    *,
    normalization: str | None = None,
) -> list[dict[str, Any]]:
    """The configurations a benchmark compares: the reference one (``config``, see
    :class:`rbgia.config.TrainConfig`) first, then the other ``normalizations`` (same
    inputs) and the other ``inputs_kinds`` (same normalization), as plain dicts."""
    ref = _config(config, normalization, inputs, variant, seed)
    grid = [ref, *(ref.replace(normalization=str(n)) for n in normalizations),
            *(ref.replace(inputs=str(k)) for k in inputs_kinds)]
    out: list[dict[str, Any]] = []
    for cfg in grid:
        if cfg.as_dict() not in out:
            out.append(cfg.as_dict())
    return out


def benchmark_table(records: pd.DataFrame) -> pd.DataFrame:
    """Long table of set-B Pearson r from :func:`collect` of the training notebook.

    One row per experiment, configuration and method: ``method`` is ``ResidualBind``
    or a baseline label (``k-mer ridge``, ``shallow CNN``) for the records that hold
    baselines. Columns: ``experiment``, ``normalization``, ``inputs``, ``variant``,
    ``seed``, ``epochs``, ``method``, ``pearson``, ``spearman``.
    """
    keys = ["experiment", *CONFIG_KEYS]
    cols = [*keys, "epochs", "method", "pearson", "spearman"]
    if records.empty:
        return pd.DataFrame(columns=cols)
    parts = [records.assign(method="ResidualBind", pearson=records["test_pearson"], spearman=records["test_spearman"])]
    for key, label in BASELINE_LABELS.items():
        col = f"baselines.{key}.test_pearson"
        if col in records.columns:
            sub = records[records[col].notna()]
            parts.append(sub.assign(method=label, pearson=sub[col], spearman=sub[f"baselines.{key}.test_spearman"]))
    long = pd.concat(parts, ignore_index=True)
    for c in cols:
        if c not in long.columns:
            long[c] = None
    return long[cols].reset_index(drop=True)


def read_reported(path: str | os.PathLike, dataset: str | None = "rnacompete2013") -> pd.DataFrame:
    """The paper's reported numbers (``reported_results.csv``) for one dataset (``None``: every dataset).

    Returns columns ``method``, ``inputs`` (``seq``/``pu``/``phime``), ``normalization``,
    ``mean``, ``sd`` (Pearson r over experiments, as published), then ``dataset``,
    ``source`` (paper text or public notebook) and ``figure``.

    Raises
    ------
    DataError
        When the file is missing (with where it is expected).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"reported results {path} not found; pass reference_dir pointing at the folder holding it")
    df = pd.read_csv(path, comment="#", dtype={"inputs": str}).fillna({"inputs": ""})
    df = df[((df["dataset"] == dataset) if dataset is not None else True) & (df["metric"] == "pearson")].copy()
    df["inputs"] = df["inputs"].map(lambda v: _REPORTED_INPUTS.get(str(v), str(v)))
    return df[["method", "inputs", "normalization", "mean", "sd", "dataset", "source", "figure"]].reset_index(drop=True)


def summarize(long: pd.DataFrame, reported: pd.DataFrame | None = None) -> pd.DataFrame:
    """Mean, sd and count of set-B Pearson r per method and configuration, beside the
    reported numbers (``reported_mean``, ``reported_sd``) where the paper has them.
    Missing values are ``None`` (JSON-ready)."""
    keys = ["method", "normalization", "inputs"]
    out = long.groupby(keys)["pearson"].agg(["mean", "std", "count"]).reset_index()
    if reported is not None and not reported.empty:
        rep = reported.rename(columns={"mean": "reported_mean", "sd": "reported_sd"})
        out = out.merge(rep, on=keys, how="left")
    out = out.astype(object)
    return out.where(out.notna(), None)

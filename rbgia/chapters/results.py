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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._io import load_json, save_json
from ..config import TrainConfig
from ..errors import DataError
from ..paths import require_writable_dir, user_path

ALL = "_all"
CONFIG_KEYS = TrainConfig.field_names()


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
        Training configuration: a tag (:attr:`rbgia.config.TrainConfig.tag`) or a dict with keys in
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


def find_results(
    results_dir: str | os.PathLike,
    experiment: str | None,
    notebook: str,
    config: str | Mapping[str, Any] | TrainConfig | None = None,
) -> dict[str, Any] | None:
    """The record :func:`read_results` would read, or ``None`` when there is none yet (or it is not a mapping)."""
    path = results_path(results_dir, experiment, notebook, config)
    record = load_json(path) if path.is_file() else None
    return record if isinstance(record, dict) else None


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



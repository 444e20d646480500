"""Metrics: Pearson and Spearman correlation of predictions with measured scores.

Plotting lives in :mod:`rbgia.plotting`; :func:`scatter_data` only returns the
table a predicted-vs-measured scatter draws.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .data import Split
from .errors import DataError, ModelError


def _pair(y: Any, p: Any) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    p = np.asarray(p, dtype=np.float64).reshape(-1)
    if y.shape != p.shape:
        raise DataError(f"{y.size} scores but {p.size} predictions; give one prediction per score")
    return y, p


def pearson(y: Any, p: Any) -> float:
    """Pearson r of ``y`` and ``p`` (flattened); NaN when either is constant or
    fewer than two values are finite."""
    y, p = _pair(y, p)
    ok = np.isfinite(y) & np.isfinite(p)
    if ok.sum() < 2 or np.ptp(y[ok]) == 0 or np.ptp(p[ok]) == 0:
        return float("nan")
    return float(stats.pearsonr(y[ok], p[ok])[0])


def spearman(y: Any, p: Any) -> float:
    """Spearman rho of ``y`` and ``p`` (flattened); NaN when undefined."""
    y, p = _pair(y, p)
    ok = np.isfinite(y) & np.isfinite(p)
    if ok.sum() < 2 or np.ptp(y[ok]) == 0 or np.ptp(p[ok]) == 0:
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.ConstantInputWarning)
        return float(stats.spearmanr(y[ok], p[ok])[0])


def _predictor(predict: Any, task: int) -> Callable[[np.ndarray], np.ndarray]:
    """``(N, L, A) -> (N,)`` from a Keras model or a callable (compiled and batched)."""
    from .inference import as_predict

    return as_predict(predict, task=task)


def _split_xy(split: Any, task: int) -> tuple[np.ndarray, np.ndarray]:
    x, y = Split.xy(split, task)  # duck-typed: any object with .x and .y
    if len(x) == 0:
        raise DataError("the split is empty; evaluate on a split with probes")
    return x, y


def _check_channels(predict: Any, x: np.ndarray) -> None:
    shape = getattr(predict, "input_shape", None)
    if isinstance(shape, tuple) and len(shape) == 3 and shape[-1] is not None and shape[-1] != x.shape[-1]:
        raise ModelError(
            f"the model expects {shape[-1]} input channels but the data has {x.shape[-1]}; "
            f"load the data with the inputs the model was trained on (4 = seq, 6 = pu, 9 = phime)"
        )


def evaluate(predict: Any, split: Any, task: int = 0) -> dict[str, float | int]:
    """Pearson r and Spearman rho of a model's predictions on a split.

    Parameters
    ----------
    predict
        A Keras model or a callable ``(N, L, A) -> (N,)`` or ``(N, T)``.
    split
        An :class:`rbgia.data.Split` (anything with ``.x`` and ``.y``).
    task
        Output column to score.

    Returns
    -------
    dict
        ``pearson``, ``spearman`` and ``n`` (number of probes).
    """
    x, y = _split_xy(split, task)
    _check_channels(predict, x)
    p = _predictor(predict, task)(x)
    return {"pearson": pearson(y, p), "spearman": spearman(y, p), "n": int(len(y))}


def scatter_data(
    predict: Any, split: Any, color: np.ndarray | None = None, task: int = 0
) -> pd.DataFrame:
    """The table behind a predicted-vs-measured scatter plot.

    Parameters
    ----------
    predict
        A Keras model or a callable ``(N, L, A) -> (N,)``.
    split
        An :class:`rbgia.data.Split`.
    color
        Optional per-probe value to colour points by (e.g. best motif match).
    task
        Output column.

    Returns
    -------
    pandas.DataFrame
        Columns ``y``, ``pred``, ``seq`` (when the split has ``.seqs``) and ``color``
        (when given), one row per probe.
    """
    x, y = _split_xy(split, task)
    _check_channels(predict, x)
    frame = pd.DataFrame({"y": y, "pred": _predictor(predict, task)(x)})
    seqs = getattr(split, "seqs", None)
    if seqs is not None and len(seqs) == len(frame):
        frame["seq"] = np.asarray(seqs).astype(str)
    if color is not None:
        color = np.asarray(color).reshape(-1)
        if len(color) != len(frame):
            raise DataError(f"color has {len(color)} values for {len(frame)} probes; give one per probe")
        frame["color"] = color
    return frame

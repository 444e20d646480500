"""The checkpoint format of :func:`rbgia.train.fit`: weights, optimizer state, best weights and the run's
state in one ``checkpoint.npz`` (written atomically every epoch), the history beside it as CSV."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._io import atomic_path, write_text
from .errors import ModelError

CHECKPOINT_FILE = "checkpoint.npz"


HISTORY_FILE = "history.csv"


CHECKPOINT_FORMAT = 1  # what _read_checkpoint accepts


def _write_checkpoint(ckdir: Path, model: Any, opt: Any, best: list[np.ndarray] | None, state: dict) -> None:
    arrays: dict[str, np.ndarray] = {}
    for i, v in enumerate(model.variables):
        arrays[f"model_{i}"] = np.asarray(v.numpy())
    for i, v in enumerate(opt.variables):
        arrays[f"opt_{i}"] = np.asarray(v.numpy())
    for i, w in enumerate(best or []):
        arrays[f"best_{i}"] = w
    arrays["state"] = np.frombuffer(json.dumps(state).encode(), dtype=np.uint8)
    with atomic_path(ckdir / CHECKPOINT_FILE) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
    history = pd.DataFrame(state["history"])
    write_text(ckdir / HISTORY_FILE, history.to_csv(index=False))


def _read_checkpoint(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    fix = f"delete {path.parent} or call fit with resume=False to start over"
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        state = json.loads(arrays.pop("state").tobytes().decode())
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise ModelError(f"checkpoint {path} is unreadable ({type(exc).__name__}: {exc}); {fix}") from exc
    if state.get("format") != CHECKPOINT_FORMAT:
        raise ModelError(f"checkpoint {path} has format {state.get('format')!r}, expected {CHECKPOINT_FORMAT}; {fix}")
    return state, arrays


def _restore(path: Path, arrays: dict, model: Any, opt: Any) -> list[np.ndarray] | None:
    fix = f"delete {path.parent} or call fit with resume=False to start over"
    groups = {"model": model.variables, "opt": opt.variables}
    for prefix, variables in groups.items():
        saved = [arrays.get(f"{prefix}_{i}") for i in range(len(variables))]
        extra = sum(1 for k in arrays if k.startswith(prefix + "_")) - len(variables)
        bad = [i for i, (v, a) in enumerate(zip(variables, saved)) if a is None or tuple(a.shape) != tuple(v.shape)]
        if bad or extra:
            raise ModelError(f"checkpoint {path} was written for a different model ({prefix} variables differ); {fix}")
    for prefix, variables in groups.items():
        for i, v in enumerate(variables):
            v.assign(arrays[f"{prefix}_{i}"])
    n_best = sum(1 for k in arrays if k.startswith("best_"))
    return [arrays[f"best_{i}"] for i in range(n_best)] if n_best else None

"""Atomic file writes and JSON helpers shared by the whole package.

Every file rbgia writes goes to a temporary file in the same directory first and
is renamed into place, so an interrupted run never leaves a half-written file.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success.

    The temporary file keeps the target's suffix (``suffix`` overrides it) because
    some writers (Keras, h5py) pick the format from the file name.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=(suffix if suffix is not None else "".join(path.suffixes)) + ".tmp"
    )
    os.close(fd)
    tmp_path = Path(tmp)
    # Writers such as Keras refuse a ".tmp" suffix: give them the real one last.
    real_tmp = tmp_path.with_name(tmp_path.name[: -len(".tmp")])
    tmp_path.unlink()
    try:
        yield real_tmp
        os.replace(real_tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            real_tmp.unlink()
        raise


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def _to_builtin(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _to_builtin(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_to_builtin(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _to_builtin(obj.tolist())
    if isinstance(obj, np.generic):
        return _to_builtin(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None  # JSON has no NaN/inf; None is explicit
    if isinstance(obj, Path):
        return str(obj)
    return obj


def save_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` (numpy values allowed) as indented JSON, atomically."""
    return write_text(path, json.dumps(_to_builtin(obj), indent=2, sort_keys=False) + "\n")


def load_json(path: str | os.PathLike) -> Any:
    """Read a JSON file."""
    with open(path) as fh:
        return json.load(fh)

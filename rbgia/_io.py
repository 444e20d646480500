"""Atomic file writes and JSON helpers shared by the whole package.

Every file rbgia writes goes to a temporary file in the same directory first and
is renamed into place, so an interrupted run never leaves a half-written file.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import json
import math
import os
import re
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DataError

_HOST = re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:32] or "host"
_DISK_FULL = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))  # disk full, quota exceeded
_STALE_SECONDS = 24 * 3600  # temporaries of another host (or an older rbgia) count as orphans after a day


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists, owned by someone else
        return True
    return True


def _clean_stale(path: Path) -> None:
    """Remove temporaries of ``path`` left by a writer that was killed (kill -9 skips its cleanup).

    A temporary is ``.<name>.<host>-<pid>-<random><suffix>``: an orphan when its process is gone on this
    host; temporaries of other hosts and of older writers (no host-pid) only once they are a day old.
    """
    now = time.time()
    for tmp in path.parent.glob(glob.escape(f".{path.name}.") + "*"):
        m = re.match(rf"^\.{re.escape(path.name)}\.(?P<host>[A-Za-z0-9]+)-(?P<pid>\d+)-", tmp.name)
        try:
            if m and m["host"] == _HOST:
                stale = int(m["pid"]) != os.getpid() and not _pid_alive(int(m["pid"]))
            else:
                stale = now - tmp.stat().st_mtime > _STALE_SECONDS
            if stale and tmp.is_file():
                tmp.unlink()
        except OSError:
            continue  # gone already, or not ours to remove


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success.

    The temporary file keeps the target's suffix (``suffix`` overrides it) because
    some writers (Keras, h5py) pick the format from the file name. Temporaries of the
    same target orphaned by a killed writer are removed first. A full disk (or quota) raises
    :class:`~rbgia.errors.DataError` naming ``path``, whose previous content is unchanged.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _clean_stale(path)
    fd, tmp = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.{_HOST}-{os.getpid()}-",
        suffix=(suffix if suffix is not None else "".join(path.suffixes)) + ".tmp",
    )
    os.close(fd)
    tmp_path = Path(tmp)
    # Writers such as Keras refuse a ".tmp" suffix: give them the real one last.
    real_tmp = tmp_path.with_name(tmp_path.name[: -len(".tmp")])
    tmp_path.unlink()
    try:
        yield real_tmp
        os.replace(real_tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            real_tmp.unlink()
        if isinstance(exc, OSError) and exc.errno in _DISK_FULL:
            raise _disk_full(path, exc) from exc
        raise


def _disk_full(path: Path, exc: OSError) -> DataError:
    """The one line for a write that ran out of space (the previous ``path``, if any, is unchanged)."""
    return DataError(f"no space left on the device writing {path} ({exc.strerror or exc}); free space on that disk "
                     f"(or write to another folder) and rerun: the previous {path.name}, if any, is unchanged")


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


def load_json(path: str | os.PathLike, fix: str | None = None) -> Any:
    """Read a JSON file; a truncated or damaged one raises :class:`~rbgia.errors.DataError` naming it.

    ``fix`` is what the message tells the user to do (default: delete the file and rerun what wrote it).
    """
    try:
        with open(path) as fh:
            return json.load(fh)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(
            f"{path} is not valid JSON (truncated or damaged: {exc}); "
            f"{fix or 'delete it and rerun the step that wrote it'}"
        ) from exc

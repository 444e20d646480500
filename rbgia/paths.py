"""Path arguments: ``~`` expansion and writability checks, shared by every module that takes a folder.

A user's path goes through :func:`user_path` once, at the public entry point, so ``"~/data"`` works
everywhere; a folder that will be written is checked with :func:`require_writable_dir` before any
work starts, so a read-only destination is named in one line instead of a PermissionError later.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import DataError, RbgiaError

__all__ = ["user_path", "is_writable_dir", "require_writable_dir"]


def user_path(path: str | os.PathLike, what: str = "path") -> Path:
    """``path`` as a :class:`~pathlib.Path` with a leading ``~`` (or ``~user``) expanded.

    Raises
    ------
    DataError
        When ``path`` is not a string or path-like (``what`` names the argument in the message).
    """
    try:
        return Path(os.path.expanduser(os.fspath(path)))
    except TypeError:
        kind = type(path).__name__
        raise DataError(f"{what} {path!r} is not a path (type {kind}); pass a str or pathlib.Path") from None


def is_writable_dir(path: str | os.PathLike) -> bool:
    """Whether files may be created in ``path`` (or, if absent, in its nearest existing parent).

    A folder whose permission bits forbid writing counts as read-only even for root, so shared
    read-only data folders are never written into.
    """
    d = user_path(path)
    while not d.exists():
        if d.parent == d:
            return False
        d = d.parent
    try:
        mode = d.stat().st_mode
    except OSError:
        return False
    return d.is_dir() and bool(mode & 0o222) and os.access(d, os.W_OK | os.X_OK)


def require_writable_dir(path: str | os.PathLike, what: str = "folder", error: type[RbgiaError] = DataError) -> Path:
    """Check that ``path`` is (or can be created as) a writable folder; return it, ``~`` expanded.

    Parameters
    ----------
    path
        The folder.
    what
        What the folder is for, for the message (``"download destination"``, ``"checkpoint_dir"``).
    error
        The :mod:`rbgia.errors` class to raise.

    Raises
    ------
    RbgiaError
        (``error``) when ``path`` is a file, or it or its nearest existing parent is not writable.
    """
    d = user_path(path)
    if d.exists() and not d.is_dir():
        raise error(f"{what} {d} is a file, not a folder; pass a folder")
    if not is_writable_dir(d):
        raise error(f"{what} {d} is not writable; pass a folder you can write to (or fix its permissions)")
    return d

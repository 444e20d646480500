"""The book's parameters file (``book/parameters.yml``) and its table of contents (``_toc.yml``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import RbgiaError

REPO = Path(__file__).resolve().parents[2]


EXECUTED = "notebooks/executed"


# A chapter's run writes here first; the page under EXECUTED is replaced only by a complete copy
# (rbgia.book.runner.promote), so a failed or killed run never takes the last good page with it.
STAGED = f"{EXECUTED}/.staged"


SOURCE = "notebooks"


PARAMETERS = "book/parameters.yml"


KERNEL_NAME = "python3"


SNAKEFILE = REPO / "workflow" / "Snakefile"


LOCAL_PROFILE = REPO / "workflow" / "profiles" / "local"


TIMINGS = f"{EXECUTED}/timings.json"


ALL = "_all"  # the experiment folder of runs without an experiment


_TOP_KEYS = ("defaults", "notebooks", "jobs")


_CHAPTER_KEYS = ("needs", "requires", "after_all")


_JOB_KEYS = ("notebook", "experiments", "configs", "parameters", "needs")


class BookError(RbgiaError, RuntimeError):
    """A notebook failed, the book's configuration is wrong, or the build failed.

    For a failed cell, ``cell`` holds ``{"index", "exec_count", "ename", "evalue"}`` and
    ``partial`` the path of the partially executed notebook (both None otherwise).
    """

    def __init__(self, message: str, *, cell: dict | None = None, partial: Path | None = None) -> None:
        super().__init__(message)
        self.cell = cell
        self.partial = partial


def _yaml():
    import yaml  # PyYAML comes with jupyter-book, papermill and snakemake

    return yaml


def read_spec(path: str | os.PathLike) -> dict[str, Any]:
    """The parameters file as a dict, checked for its shape (one-line :class:`BookError` naming the file)."""
    path = Path(path)
    if not path.is_file():
        raise BookError(f"parameters file {path} does not exist; pass an existing file (e.g. {PARAMETERS})")
    yaml = _yaml()
    try:
        spec = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise BookError(f"{path} is not valid YAML{where}: {problem}; fix the file") from None
    spec = {} if spec is None else spec
    if not isinstance(spec, Mapping):
        raise BookError(f"{path} holds a {type(spec).__name__}, not a mapping; give it {', '.join(_TOP_KEYS)}")
    unknown = sorted(set(spec) - set(_TOP_KEYS))
    if unknown:
        raise BookError(f"{path} has unknown top-level keys {unknown}; use only {list(_TOP_KEYS)}")
    for key in _TOP_KEYS:
        if spec.get(key) is not None and not isinstance(spec[key], Mapping):
            raise BookError(f"{path}: `{key}` is a {type(spec[key]).__name__}, not a mapping; fix the file")
    for name, own in (spec.get("notebooks") or {}).items():
        if own is not None and not isinstance(own, Mapping):
            raise BookError(f"{path}: notebooks.{name} is not a mapping of parameters; fix the file")
    for name, job in (spec.get("jobs") or {}).items():
        if not isinstance(job, Mapping) or "notebook" not in job:
            raise BookError(f"{path}: jobs.{name} needs at least `notebook: <stem>`; fix the file")
        bad = sorted(set(job) - set(_JOB_KEYS))
        if bad:
            raise BookError(f"{path}: jobs.{name} has unknown keys {bad}; use only {list(_JOB_KEYS)}")
    return dict(spec)


def load_parameters(
    root: str | os.PathLike = REPO,
    params_file: str | os.PathLike | None = None,
    data_dir: str | None = None,
    results_dir: str | None = None,
) -> dict[str, dict[str, Any]]:
    """Per-chapter parameters of a parameters file (before filtering by what each notebook declares).

    Returns
    -------
    dict
        ``{chapter: {"parameters": {...}, "own": {names}, "requires": [...], "needs": [...],
        "after_all": bool, "file": path}}`` plus ``"_defaults"``; ``data_dir``/``results_dir``
        given here override the defaults.
    """
    path = Path(params_file) if params_file else Path(root) / PARAMETERS
    spec = read_spec(path)
    defaults = dict(spec.get("defaults") or {})
    if data_dir is not None:
        defaults["data_dir"] = str(data_dir)
    if results_dir is not None:
        defaults["results_dir"] = str(results_dir)
    out: dict[str, dict[str, Any]] = {
        "_defaults": {"parameters": defaults, "own": set(), "requires": [], "needs": [], "after_all": False,
                      "file": str(path)}
    }
    for name, own in (spec.get("notebooks") or {}).items():
        own = dict(own or {})
        reserved = {k: own.pop(k) for k in _CHAPTER_KEYS if k in own}
        out[str(name)] = {
            "parameters": {**defaults, **own},
            "own": set(own),
            "requires": [str(p) for p in reserved.get("requires") or []],
            "needs": [str(p) for p in reserved.get("needs") or []],
            "after_all": bool(reserved.get("after_all", False)),
            "file": str(path),
        }
    return out


def toc_notebooks(root: str | os.PathLike = REPO) -> list[str]:
    """Names (``"01_data"``) of the chapters in ``_toc.yml`` under ``notebooks/executed/``, in order."""
    toc_path = Path(root) / "_toc.yml"
    if not toc_path.is_file():
        raise BookError(f"{toc_path} is missing; run from the repository root or pass --root")
    return [Path(f).name for f in _toc_files(Path(root)) if f.startswith(EXECUTED + "/")]


def _toc_files(root: Path) -> list[str]:
    files: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            for key in ("root", "file"):
                if isinstance(node.get(key), str):
                    files.append(node[key])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(_yaml().safe_load((root / "_toc.yml").read_text()))
    return [f.removesuffix(".ipynb").removesuffix(".md") for f in files]

"""The book's orchestration: its parameters, its Snakemake DAG, papermill runs, the Jupyter Book build.

Usage (what ``make book`` calls)::

    snakemake --profile workflow/profiles/local      # the book's jobs and chapters (the one engine)
    python -m rbgia.book build                       # render notebooks/executed/ with Jupyter Book 1.x

    python -m rbgia.book run [--parameters FILE] [--results-dir DIR] [--only 02_residualbind] [--dry-run]

``run`` is a thin front-end: it checks the parameters file and runs the same Snakemake
DAG (``workflow/Snakefile``, local profile) with it.

The parameters file (``book/parameters.yml``)
---------------------------------------------
::

    defaults: {...}          # offered to every notebook: each gets only the names its parameters cell declares
    notebooks:               # the chapters (keys: notebook stems in _toc.yml), rendered
      <chapter>: {<param>: value, needs: [<job or chapter>, ...], requires: [<path>, ...], after_all: false}
    jobs:                    # records made before the chapters: one notebook run per experiment (x config)
      <job>:
        notebook: 02_residualbind
        experiments: [VTS1, HuR]             # or "all": every experiment of the job's data_dir
        configs: [{inputs: seq}, {inputs: pu}]   # optional: one run per rbgia.config.TrainConfig, given to the
                                                 # notebook as one `config` tag (over defaults' `config`)
        parameters: {data_dir: data/rnacompete2009, epochs: 12}
        needs: [<job>, ...]                  # optional: jobs whose runs (same experiment) come first

A chapter runs after the jobs it ``needs``; ``requires`` lists paths without which it is
rendered as a note instead; ``after_all`` runs it last, after ``timings.json`` (an
appendix). Executed chapters go to ``notebooks/executed/<stem>.ipynb`` (what ``_toc.yml``
renders), job runs to ``<results_dir>/<experiment>/notebooks/<stem>.<config tag>.ipynb``.
Every run is validated before it starts (:func:`rbgia.params.validate`: types, ranges,
unknown names), written atomically, and post-processed so that the page hides the
``parameters`` and papermill's ``injected-parameters`` cells (the chapter shows its
parameters once, through :func:`rbgia.params.check`). A failing run keeps its partial copy
``<stem>.partial.ipynb`` and an ``<stem>.error.json`` naming the cell; :func:`run` raises
:class:`BookError` from it. ``notebooks/executed/timings.json`` holds the seconds of every
run (:func:`read_timings`).

Contract for every notebook (``notebooks/NN_name.ipynb``): committed without outputs, with
``kernelspec`` python3; the first code cell tagged ``parameters``; notebooks never run
other notebooks (a chapter reads the records of the jobs it ``needs`` through
:mod:`rbgia.results`). Paths are relative to the repository root (papermill's cwd).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._io import atomic_path, save_json
from .errors import RbgiaError
from .params import declared_parameters  # papermill's reading of a parameters cell

REPO = Path(__file__).resolve().parents[1]
EXECUTED = "notebooks/executed"
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


@dataclass(frozen=True)
class NotebookRun:
    """What ``run`` did with one chapter."""

    name: str
    status: str  # "executed" | "cached" | "skipped" | "planned" (dry run)
    output: Path
    parameters: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    note: str = ""


# --------------------------------------------------------------------------- the parameters file


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


def _filtered(source: Path, offered: Mapping[str, Any], own: Mapping[str, Any], file: str,
              over: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The parameters injected into ``source``: the declared names among ``offered``, then ``own``
    (which must all be declared), then ``over``; validated (:func:`rbgia.params.validate`)."""
    from . import params as rparams
    from .errors import DataError

    declared = declared_parameters(source)
    if not declared:
        raise BookError(f"{source} has no cell tagged 'parameters'; tag its first code cell 'parameters'")
    unknown = sorted(set(own) - set(declared))
    if unknown:
        raise BookError(
            f"{file} gives {source.stem} parameters {unknown} that its parameters cell does not declare; "
            f"fix the name or declare it in {source}"
        )
    chosen = {k: v for k, v in {**offered, **own, **(over or {})}.items() if k in declared}
    try:
        return dict(rparams.validate(chosen, source))
    except DataError as err:
        raise BookError(f"{file}, {source.stem}: {err}") from None


def notebook_parameters(name: str, source: Path, spec: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters to inject into chapter ``name``: the declared names among the defaults and its own."""
    entry = spec.get(name, spec["_defaults"])
    own = {k: v for k, v in entry["parameters"].items() if k in entry.get("own", ())}
    return _filtered(source, entry["parameters"], own, entry.get("file", PARAMETERS))


def toc_notebooks(root: str | os.PathLike = REPO) -> list[str]:
    """Names (``"01_data"``) of the chapters in ``_toc.yml`` under ``notebooks/executed/``, in order."""
    toc_path = Path(root) / "_toc.yml"
    if not toc_path.is_file():
        raise BookError(f"{toc_path} is missing; run from the repository root or pass --root")
    return [Path(f).name for f in _toc_files(Path(root)) if f.startswith(EXECUTED + "/")]


# --------------------------------------------------------------------------- the plan (the DAG's nodes)


@dataclass(frozen=True)
class Run:
    """One notebook run of the book's DAG: a chapter (rendered) or a job run (a record)."""

    kind: str  # "chapter" | "job"
    name: str  # the chapter's stem, or the job's name
    notebook: str  # source notebook path, relative to the root
    output: str  # executed copy, relative to the root (or absolute)
    log: str
    parameters: dict[str, Any]
    experiment: str | None = None
    tag: str | None = None
    needs: tuple[str, ...] = ()  # outputs of the runs this one reads
    requires: tuple[str, ...] = ()  # paths without which a chapter becomes a note
    prepare: str | None = None  # the prepare stamp this run waits for (structure inputs)
    after_all: bool = False


@dataclass
class Plan:
    """The book's DAG: every run, the datasets to prepare, and where things go (see :func:`plan`)."""

    root: Path
    file: str
    results_dir: str
    chapters: list[Run]
    jobs: list[Run]
    datasets: dict[str, str]  # prepare slug -> data_dir
    job_names: dict[str, list[Run]]

    def job(self, experiment: str, stem: str, tag: str) -> Run:
        for r in self.jobs:
            if (r.experiment or ALL, Path(r.notebook).stem, r.tag) == (experiment, stem, tag):
                return r
        raise BookError(f"no job run for {experiment}/{stem}.{tag} in {self.file}")

    def chapter(self, name: str) -> Run:
        for r in self.chapters:
            if r.name == name:
                return r
        raise BookError(f"{name} is not a chapter of this book ({[r.name for r in self.chapters]})")

    @property
    def runs(self) -> list[Run]:
        return [*self.jobs, *self.chapters]

    @property
    def timed(self) -> list[str]:
        """Outputs whose seconds go into timings.json (every run but the ``after_all`` chapters)."""
        return [r.output for r in self.runs if not r.after_all]


def _slug(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(path).strip("/")) or "data"


def _coerce(value: Any) -> Any:
    """``--config`` gives strings inside mappings: read them as YAML scalars ("100" -> 100)."""
    if isinstance(value, str):
        try:
            return _yaml().safe_load(value)
        except Exception:  # not YAML: keep the string
            return value
    return value


def _experiments(job: str, value: Any, data_dir: str, everything: bool, file: str, root: Path) -> list[str | None]:
    from . import data as rdata
    from .errors import DataError

    if value is None and not everything:
        return [None]
    folder = root / os.path.expanduser(data_dir)  # an absolute data_dir stays itself
    if everything or value == "all":
        if not folder.is_dir():
            raise BookError(f"{file}: jobs.{job} reads data_dir {data_dir!r}, which does not exist; fix data_dir")
        try:
            return [str(e) for e in rdata.list_experiments(folder)]
        except DataError as err:
            raise BookError(f"{file}: jobs.{job}: {err}") from None
    items = [str(e) for e in (value if isinstance(value, (list, tuple)) else [value])]
    bad = [e for e in items if not e or e.startswith(("_", ".")) or "/" in e]
    if bad:
        raise BookError(f"{file}: jobs.{job}: experiment ids {bad[:3]} cannot be folder names; rename them")
    if folder.is_dir():
        try:
            available = [str(e) for e in rdata.list_experiments(folder)]
        except DataError:
            available = None  # the job's notebook reports the data's problem
        unknown = sorted(set(items) - set(available or items))
        if unknown:
            raise BookError(
                f"{file}: jobs.{job}: experiments {unknown[:5]} are not in {data_dir} (it has {available[:4]}...); "
                f"fix the list or data_dir"
            )
    return items


def plan(
    root: str | os.PathLike = REPO,
    params_file: str | os.PathLike | None = None,
    *,
    results_dir: str | None = None,
    data_dir: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    all_experiments: bool = False,
    chapters: Sequence[str] | None = None,
    prepare: bool = False,
) -> Plan:
    """Every run of the book: the jobs (per experiment x configuration) and the chapters, validated.

    Parameters
    ----------
    root
        The repository root (or a copy): ``_toc.yml``, ``notebooks/``; paths are relative to it,
        and it must be the working directory when the runs start (Snakemake's ``--directory``).
    params_file
        The parameters file (default ``book/parameters.yml``).
    results_dir, data_dir
        Override ``defaults.results_dir`` / ``defaults.data_dir``.
    overrides
        Parameters given to every notebook that declares them, over everything else
        (the paper-scale config: ``{epochs: 100, num_background: 1000}``).
    all_experiments
        Every job runs over every experiment of its data_dir.
    chapters
        The chapters to plan (default: every chapter of ``_toc.yml``; ``[]``: none).
    prepare
        Fold the structure profiles of each data folder once (a ``prepare`` run, on a CPU node)
        before the jobs with structure inputs; without it each job folds what it reads.

    Raises
    ------
    BookError
        One line naming the file and the entry: unknown parameters or keys, bad values,
        unknown jobs in ``needs``, experiments not in the data, two runs writing one file.
    """
    from .config import TrainConfig
    from .errors import DataError

    root = Path(root).resolve()
    path = Path(params_file) if params_file else root / PARAMETERS
    file = str(path)
    spec = read_spec(path)
    over = {k: _coerce(v) for k, v in (overrides or {}).items()}
    defaults = dict(spec.get("defaults") or {})
    if data_dir is not None:
        defaults["data_dir"] = str(data_dir)
    if results_dir is not None:
        defaults["results_dir"] = str(results_dir)
    res = str(defaults.get("results_dir", "results")).rstrip("/") or "."
    known = set(toc_notebooks(root))
    for name in spec.get("notebooks") or {}:
        if str(name) not in known:
            raise BookError(f"{file}: notebooks.{name} is not a chapter of _toc.yml ({sorted(known)}); fix the name")

    def source_of(stem: str, where: str) -> Path:
        src = root / SOURCE / f"{stem}.ipynb"
        if not src.is_file():
            raise BookError(f"{where} names {stem} but {src} does not exist; add the notebook or fix the name")
        return src

    jobs: list[Run] = []
    by_job: dict[str, list[Run]] = {}
    datasets: dict[str, str] = {}
    seen: dict[str, str] = {}
    job_specs = {str(k): dict(v) for k, v in (spec.get("jobs") or {}).items()}
    for jname, job in job_specs.items():
        for need in job.get("needs") or []:
            if need not in job_specs or need == jname:
                raise BookError(f"{file}: jobs.{jname} needs {need!r}, which is not another job; fix `needs`")
    order = _job_order(job_specs, file)
    for jname in order:
        job = job_specs[jname]
        stem = str(job["notebook"]).removesuffix(".ipynb").split("/")[-1]
        src = source_of(stem, f"{file}: jobs.{jname}")
        own = dict(job.get("parameters") or {})
        merged = {**defaults, **own}
        jdata = str(merged.get("data_dir", "data"))
        everything = all_experiments and job.get("experiments") is not None
        exps = _experiments(jname, job.get("experiments"), jdata, everything, file, root)
        try:  # the base configuration: `config` (a tag) of the defaults / the job's parameters
            base_cfg = TrainConfig.coerce(merged.get("config")).as_dict()
        except DataError as err:
            raise BookError(f"{file}: jobs.{jname}: config: {err}") from None
        configs = job.get("configs") or [{}]
        if not isinstance(configs, list) or not all(isinstance(c, Mapping) for c in configs):
            raise BookError(f"{file}: jobs.{jname}.configs is a list of mappings such as {{inputs: pu}}; fix it")
        for c in configs:
            try:
                cfg = TrainConfig.from_dict({**base_cfg, **dict(c)})
            except DataError as err:
                raise BookError(f"{file}: jobs.{jname}.configs: {err}") from None
            for exp in exps:
                # the notebook gets the configuration as one value: its tag, as `config`
                offered = {**merged, "config": cfg.tag, **({"experiment": exp} if exp else {})}
                chosen_own = {**own, **({"config": cfg.tag} if c else {})}
                if exp:
                    chosen_own["experiment"] = exp
                params = _filtered(src, offered, chosen_own, f"{file}: jobs.{jname}", over)
                folder = exp or ALL
                out = f"{res}/{folder}/notebooks/{stem}.{cfg.tag}.ipynb"
                if out in seen:
                    raise BookError(f"{file}: jobs {seen[out]} and {jname} both write {out}; give one of them "
                                    f"other experiments or configs")
                seen[out] = jname
                prep = None
                if prepare and cfg.inputs != "seq":
                    slug = _slug(jdata)
                    datasets[slug] = jdata
                    prep = f"{res}/{ALL}/prepare/{slug}.{cfg.inputs}.json"
                needs: list[str] = []
                for need in job.get("needs") or []:
                    same = [r.output for r in by_job[need] if r.experiment == exp]
                    needs += same or [r.output for r in by_job[need]]
                run = Run("job", jname, str(src.relative_to(root)), out, f"{res}/{folder}/logs/{stem}.{cfg.tag}.log",
                          params, exp, cfg.tag, tuple(needs), (), prep)
                jobs.append(run)
                by_job.setdefault(jname, []).append(run)

    entries = load_parameters(root, path, data_dir, results_dir)
    names = toc_notebooks(root) if chapters is None else [str(c) for c in chapters]
    unknown = sorted(set(names) - known)
    if unknown:
        raise BookError(f"{unknown} are not chapters in _toc.yml; pick from {sorted(known)}")
    runs: list[Run] = []
    for name in names:
        src = source_of(name, "_toc.yml")
        entry = entries.get(name, entries["_defaults"])
        own = {k: v for k, v in entry["parameters"].items() if k in entry["own"]}
        params = _filtered(src, entry["parameters"], own, file, over)
        needs = []
        for need in entry["needs"]:
            if need in by_job:
                needs += [r.output for r in by_job[need]]
            elif need in names and need != name:  # another chapter (its records), run first
                needs.append(f"{EXECUTED}/{need}.ipynb")
            else:
                raise BookError(f"{file}: notebooks.{name} needs {need!r}, which is neither a job ({sorted(by_job)}) "
                                f"nor another planned chapter; fix `needs`")
        runs.append(Run("chapter", name, str(src.relative_to(root)), f"{EXECUTED}/{name}.ipynb",
                        f"{EXECUTED}/logs/{name}.log", params, None, None, tuple(needs),
                        tuple(entry["requires"]), None, entry["after_all"]))
    return Plan(root, file, res, runs, jobs, datasets, by_job)


def _job_order(jobs: Mapping[str, Mapping[str, Any]], file: str) -> list[str]:
    """Jobs in an order where each comes after the jobs it needs (a cycle is an error)."""
    done: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in done:
            return
        if name in visiting:
            raise BookError(f"{file}: jobs.{name} needs itself through `needs`; break the cycle")
        visiting.add(name)
        for need in jobs[name].get("needs") or []:
            visit(need)
        visiting.discard(name)
        done.append(name)

    for name in jobs:
        visit(name)
    return done


# --------------------------------------------------------------------------- one notebook


HIDDEN_TAGS = ("parameters", "injected-parameters")  # rendered once, by params.check's table instead


def hide_parameter_cells(nb: Any) -> int:
    """Tag the ``parameters`` and papermill's ``injected-parameters`` cells ``remove-cell``; return how many."""
    n = 0
    for cell in nb.cells:
        tags = list(cell.metadata.get("tags", []))
        if any(t in tags for t in HIDDEN_TAGS):
            if "remove-cell" not in tags:
                cell.metadata["tags"] = [*tags, "remove-cell"]
            n += 1
    return n


def error_path(output: str | os.PathLike) -> Path:
    """Where a failed run of ``output`` leaves its error (``<stem>.error.json``)."""
    output = Path(output)
    return output.with_name(output.name.removesuffix(".ipynb") + ".error.json")


def partial_path(output: str | os.PathLike) -> Path:
    """Where a failed run of ``output`` leaves its partially executed copy (``<stem>.partial.ipynb``)."""
    output = Path(output)
    return output.with_name(output.name.removesuffix(".ipynb") + ".partial.ipynb")


def execute(
    source: Path,
    output: Path,
    parameters: Mapping[str, Any],
    root: str | os.PathLike = REPO,
    log_output: bool = False,
    timeout: int | None = None,
) -> float:
    """Execute one notebook with papermill (cwd = ``root``), atomically; return seconds.

    The parameters are validated first (:func:`rbgia.params.validate`): a name the
    notebook's parameters cell does not declare (``num_backgroud``) or a bad value is an
    error before the kernel starts. The executed copy has its parameter cells tagged
    ``remove-cell`` (:func:`hide_parameter_cells`). On failure the partially executed copy
    stays at ``<stem>.partial.ipynb`` and :class:`BookError` names the notebook, the cell
    and the error.
    """
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from . import params as rparams
    from .errors import DataError

    root = Path(root)
    source, output = Path(source), Path(output)
    shown = source.relative_to(root) if source.is_absolute() and source.is_relative_to(root) else source
    try:
        rparams.validate(dict(parameters), source)
    except DataError as err:
        raise BookError(f"{shown}: {err}") from None
    ensure_kernel(root)
    # Figures must come back as inline images, even where MPLBACKEND=agg is set (CI).
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # what `make` exports; quiet when run by hand
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    partial = partial_path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(source),
            str(partial),
            parameters=dict(parameters),
            kernel_name=KERNEL_NAME,
            language="python",
            cwd=str(root),
            progress_bar=False,
            log_output=log_output,
            execution_timeout=timeout,
        )
    except PapermillExecutionError as err:
        evalue = str(err.evalue).splitlines()[0] if err.evalue else ""
        raise BookError(
            f"{shown} failed in cell {err.cell_index} (In [{err.exec_count}]): {err.ename}: {evalue[:300]}; "
            f"partially executed notebook: {partial}",
            cell={"index": err.cell_index, "exec_count": err.exec_count, "ename": err.ename, "evalue": evalue},
            partial=partial,
        ) from None
    nb = nbformat.read(partial, as_version=4)
    hide_parameter_cells(nb)
    with atomic_path(output) as tmp:
        nbformat.write(nb, tmp)
    partial.unlink(missing_ok=True)
    return time.perf_counter() - start


def run_one(source: str | os.PathLike, output: str | os.PathLike, parameters: Mapping[str, Any],
            root: str | os.PathLike = REPO, requires: Sequence[str] = (), log_output: bool = True) -> str:
    """One run of the DAG (what ``workflow/scripts/run_notebook.py`` calls): a placeholder note when
    ``requires`` paths are missing, else :func:`execute`; a failure leaves ``<stem>.error.json``.

    Returns ``"skipped"`` or ``"executed"``; raises :class:`BookError` on failure.
    """
    root = Path(root)
    source, output = Path(source), Path(output)
    err_file = error_path(output)
    err_file.unlink(missing_ok=True)
    missing = [p for p in requires if not (root / p).exists()]
    if missing:
        note = (
            f"This chapter was not built: it needs {', '.join(f'`{m}`' for m in missing)}, which is absent on the "
            f"machine that built this book. Put the files there (see *How to rerun*) and run `make book` again."
        )
        print(f"SKIP {source.stem}: required data missing: {', '.join(missing)}", file=sys.stderr, flush=True)
        _placeholder(root / source if not source.is_absolute() else source, output, note)
        return "skipped"
    try:
        execute(root / source if not source.is_absolute() else source, output, parameters, root=root,
                log_output=log_output)
    except BookError as err:
        save_json(err_file, {"notebook": str(source), "output": str(output), "message": str(err),
                             "cell": err.cell, "partial": str(err.partial) if err.partial else None})
        raise
    return "executed"


# --------------------------------------------------------------------------- the DAG, through Snakemake


def snakemake_command(
    root: str | os.PathLike = REPO,
    params_file: str | os.PathLike | None = None,
    results_dir: str | None = None,
    data_dir: str | None = None,
    targets: Sequence[str] = (),
    force: bool = False,
    cores: int | None = None,
    dry_run: bool = False,
    extra: Sequence[str] = (),
) -> list[str]:
    """The Snakemake command line that runs the book's DAG (what :func:`run` starts)."""
    root = Path(root).resolve()
    # targets first: --config takes every word after it
    cmd = [sys.executable, "-m", "snakemake", *targets, "-s", str(SNAKEFILE), "--directory", str(root),
           "--profile", str(LOCAL_PROFILE)]
    config = []
    if params_file is not None:
        config.append(f"parameters_file={Path(params_file).resolve()}")
    if results_dir is not None:
        config.append(f"results_dir={results_dir}")
    if data_dir is not None:
        config.append(f"data_dir={data_dir}")
    if config:
        cmd += ["--config", *config]
    if cores:
        cmd += ["--cores", str(int(cores))]
    if force:
        cmd += ["--forcerun", "chapter"]
    if dry_run:
        cmd += ["--dry-run"]
    return [*cmd, *extra]


def _mtime(path: Path) -> int | None:
    return path.stat().st_mtime_ns if path.is_file() else None


def _duration(path: Path) -> float:
    try:
        return float(json.loads(path.read_text()).get("metadata", {}).get("papermill", {}).get("duration") or 0.0)
    except (OSError, ValueError):
        return 0.0


def _skipped_note(path: Path) -> str:
    try:
        return str(json.loads(path.read_text()).get("metadata", {}).get("rbgia", {}).get("skipped") or "")
    except (OSError, ValueError):
        return ""


def run(
    root: str | os.PathLike = REPO,
    params_file: str | os.PathLike | None = None,
    results_dir: str | None = None,
    only: Sequence[str] | None = None,
    *,
    data_dir: str | None = None,
    force: bool = False,
    cores: int | None = None,
    dry_run: bool = False,
    quiet: bool = False,
) -> list[NotebookRun]:
    """Run the book's DAG through Snakemake (the one engine) and report each chapter.

    The parameters file is checked here first (one-line :class:`BookError`), then
    ``snakemake -s workflow/Snakefile --directory <root> --profile workflow/profiles/local``
    runs the jobs and chapters; it is resumable (a chapter whose notebook, parameters and
    inputs are unchanged is kept; ``force`` reruns the chapters).

    Parameters
    ----------
    root
        Repository root (papermill's cwd; paths in parameters are relative to it).
    params_file
        The parameters file (default ``book/parameters.yml``; the tests pass ``tests/tiny_parameters.yml``).
    results_dir
        Overrides ``defaults.results_dir`` (models, records, job runs).
    data_dir
        Overrides ``defaults.data_dir`` (the runs that do not name their own).
    only
        Run just these chapters (and the jobs they need).
    force
        Re-execute chapters that are up to date.
    cores
        Snakemake's ``--cores`` (default: the local profile's).
    dry_run
        List the jobs Snakemake would run; run nothing.

    Raises
    ------
    BookError
        Bad parameters file; a failed notebook (notebook, cell, error and partial copy named,
        from its ``.error.json``); Snakemake failing before any notebook ran.
    """
    root = Path(root).resolve()
    params_path = Path(params_file).resolve() if params_file else root / PARAMETERS
    # the whole plan is checked (one-line errors) before Snakemake starts
    the_plan = plan(root, params_path, results_dir=results_dir, data_dir=data_dir)
    names = [r.name for r in the_plan.chapters]
    if only:
        unknown = sorted(set(only) - set(names))
        if unknown:
            raise BookError(f"{unknown} are not chapters in _toc.yml; pick from {names}")
    chapters = [r for r in the_plan.chapters if not only or r.name in set(only)]
    targets = [r.output for r in chapters] if only else []
    cmd = snakemake_command(root, params_path, results_dir, data_dir, targets, force, cores, dry_run)
    before = {r.output: _mtime(root / r.output) for r in chapters}
    start = time.time()
    tail: deque[str] = deque(maxlen=30)
    env = {**os.environ, "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "tensorflow"),
           "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")}
    if not quiet:
        print("[rbgia.book] " + " ".join(cmd), flush=True)
    with subprocess.Popen(cmd, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env) as proc:
        for line in proc.stdout:  # type: ignore[union-attr]
            tail.append(line.rstrip())
            if not quiet:
                print(line, end="", flush=True)
        rc = proc.wait()
    if rc != 0:
        failures = []
        for r in the_plan.runs:
            f = root / error_path(r.output)
            if f.is_file() and f.stat().st_mtime >= start - 1:
                failures.append(json.loads(f.read_text()))
        if failures:
            first = failures[0]
            more = f" ({len(failures) - 1} more runs failed; see their .error.json)" if len(failures) > 1 else ""
            raise BookError(first["message"] + more, cell=first.get("cell"),
                            partial=Path(first["partial"]) if first.get("partial") else None)
        ours = [ln.split("error: ", 1)[1] for ln in tail if "error: " in ln]  # the Snakefile's one-line errors
        last = ours[-1] if ours else "; ".join(ln for ln in tail if ln.strip())[-600:]
        raise BookError(f"snakemake exited {rc} before a notebook failed: {last}")
    out = []
    for r in chapters:
        path = root / r.output
        if dry_run:
            out.append(NotebookRun(r.name, "planned", path, r.parameters))
            continue
        note = _skipped_note(path)
        status = "skipped" if note else ("cached" if _mtime(path) == before[r.output] else "executed")
        if status == "skipped" and not quiet:
            print(f"[rbgia.book] SKIP {r.name}: {note}", flush=True)
        out.append(NotebookRun(r.name, status, path, r.parameters, _duration(path), note))
    return out


# --------------------------------------------------------------------------- timings


def write_timings(path: str | os.PathLike, the_plan: Plan) -> dict[str, Any]:
    """Seconds of every run of ``the_plan`` (papermill's duration in each executed copy) -> ``path`` (JSON)."""
    rows = []
    for r in the_plan.runs:
        if r.after_all:
            continue
        executed = the_plan.root / r.output
        rows.append({
            "kind": r.kind, "name": r.name, "notebook": Path(r.notebook).stem, "experiment": r.experiment,
            "config": r.tag, "seconds": round(_duration(executed), 1),
            "status": "skipped" if _skipped_note(executed) else "executed", "output": r.output,
        })
    doc = {"runs": rows, "total_seconds": round(sum(r["seconds"] for r in rows), 1)}
    save_json(path, doc)
    return doc


def read_timings(path: str | os.PathLike | None = None, by: str | None = None):
    """The seconds of the book's runs (``notebooks/executed/timings.json``) as a DataFrame.

    Parameters
    ----------
    path
        The timings file, or a repository root holding ``notebooks/executed/timings.json``
        (default: the working directory's, else this checkout's).
    by
        None: one row per run (columns kind, name, notebook, experiment, config, seconds,
        status, output); ``"name"``: one row per chapter and per job (kind, name, runs, seconds).

    Raises
    ------
    BookError
        When the file is missing (run the book first) or not a timings file.
    """
    import pandas as pd

    if path is None:
        path = Path(TIMINGS) if Path(TIMINGS).is_file() else REPO / TIMINGS
    path = Path(path)
    if path.is_dir():
        path = path / TIMINGS
    if not path.is_file():
        raise BookError(f"no timings at {path}; run the book first (`make book` or `python -m rbgia.book run`)")
    try:
        rows = json.loads(path.read_text())["runs"]
    except (ValueError, KeyError, TypeError):
        raise BookError(f"{path} is not a timings file (no `runs`); rerun the book to rewrite it") from None
    cols = ["kind", "name", "notebook", "experiment", "config", "seconds", "status", "output"]
    df = pd.DataFrame(rows, columns=cols)
    if by is None:
        return df
    if by != "name":
        raise BookError(f"by={by!r}: pass None (one row per run) or 'name' (per chapter and job)")
    grouped = df.groupby(["kind", "name"], sort=False).agg(runs=("seconds", "size"), seconds=("seconds", "sum"))
    return grouped.reset_index()


# --------------------------------------------------------------------------- kernel


def ensure_kernel(root: str | os.PathLike = REPO) -> Path:
    """Make the ``python3`` kernel run this interpreter (the venv's), whatever else is installed.

    Writes a kernelspec naming ``sys.executable`` under ``<root>/_build/jupyter`` and
    puts that folder first on ``JUPYTER_PATH`` (highest priority for kernelspecs), so
    papermill's ``python3`` is this environment's Python, not a user-wide one.
    """
    base = Path(root) / "_build" / "jupyter"
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (rbgia)",
        "language": "python",
        "metadata": {"debugger": False},
    }
    save_json(base / "kernels" / KERNEL_NAME / "kernel.json", spec)
    paths = [str(base)] + [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p and p != str(base)]
    os.environ["JUPYTER_PATH"] = os.pathsep.join(paths)
    return base


# --------------------------------------------------------------------------- placeholder


def _placeholder(source: Path, output: Path, note: str) -> None:
    """An executed stand-in for a skipped notebook: its title and a rendered note."""
    import nbformat

    nb = nbformat.read(source, as_version=4)
    title = f"# {source.stem}"
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            heading = next((ln for ln in cell.source.splitlines() if ln.startswith("# ")), None)
            if heading:
                title = heading
                break
    out = nbformat.v4.new_notebook(metadata=nb.metadata)
    out.cells = [
        nbformat.v4.new_markdown_cell(title),
        nbformat.v4.new_markdown_cell(f"```{{note}}\n{note}\n```"),
    ]
    out.metadata["rbgia"] = {"skipped": note}
    with atomic_path(output) as tmp:
        nbformat.write(out, tmp)


# --------------------------------------------------------------------------- build


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


def check_notebook(path: Path) -> tuple[int, list[str]]:
    """Count figure outputs of an executed notebook and list its error outputs."""
    nb = json.loads(path.read_text())
    figures, errors = 0, []
    for i, cell in enumerate(nb.get("cells", [])):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                errors.append(f"cell {i}: {out.get('ename')}: {out.get('evalue')}")
            data = out.get("data", {})
            if any(k in data for k in ("image/png", "image/svg+xml", "image/jpeg")):
                figures += 1
    return figures, errors


def check_html(root: str | os.PathLike = REPO, html_dir: str | os.PathLike | None = None) -> list[str]:
    """Problems with the rendered book: missing pages, figures, error outputs. Empty = fine."""
    root = Path(root)
    html = Path(html_dir) if html_dir else root / "_build" / "html"
    problems = []
    for f in _toc_files(root):
        page = html / f"{f}.html"
        if not page.is_file():
            problems.append(f"page {page} missing")
            continue
        text = page.read_text(errors="replace")
        if 'class="output traceback' in text or "output error" in text:
            problems.append(f"{page} shows an error output")
        executed = root / f"{f}.ipynb"
        if executed.is_file() and f.startswith(EXECUTED):
            figures, errors = check_notebook(executed)
            problems += [f"{executed}: {e}" for e in errors]
            if figures and "<img" not in text and "<svg" not in text:
                problems.append(f"{page} has no figure although {executed.name} has {figures}")
    return problems


def build(root: str | os.PathLike = REPO, strict: bool = False) -> Path:
    """Render the executed notebooks and book pages with Jupyter Book 1.x into ``_build/html``.

    Jupyter Book 1.x exits 0 on many failures, so the pages are checked afterwards
    (:func:`check_html`); ``strict`` also turns Sphinx warnings into errors (``-W``).

    Raises
    ------
    BookError
        When jupyter-book fails, a chapter page or its figures are missing, or a page
        shows an error output.
    """
    root = Path(root).resolve()
    missing = [n for n in toc_notebooks(root) if not (root / EXECUTED / f"{n}.ipynb").is_file()]
    if missing:
        raise BookError(f"no executed copy of {missing}; run `python -m rbgia.book run` first")
    cmd = [sys.executable, "-c", "import sys; from jupyter_book.cli.main import main; sys.exit(main())",
           "build", str(root), "--keep-going"]
    if strict:
        cmd += ["-W", "-n"]
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    warnings = [ln for ln in (proc.stdout + proc.stderr).splitlines() if "WARNING" in ln or "ERROR" in ln]
    for ln in warnings:
        print(f"[rbgia.book] {ln.strip()}", flush=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-20:])
        raise BookError(f"jupyter-book build exited {proc.returncode}:\n{tail}")
    problems = check_html(root)
    if problems:
        raise BookError("the rendered book has problems:\n  " + "\n  ".join(problems))
    html = root / "_build" / "html"
    print(f"[rbgia.book] built {html / 'index.html'} ({len(warnings)} warnings)", flush=True)
    return html


# --------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m rbgia.book run|build|dry-run``; a user error ends with one ``error:`` line and exit code 2."""
    parser = argparse.ArgumentParser(prog="python -m rbgia.book", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="run the book's jobs and chapters (Snakemake) into notebooks/executed/")
    p_run.add_argument("--root", default=str(REPO), help="repository root (default: this checkout)")
    p_run.add_argument("--parameters", default=None, help=f"parameters file (default: {PARAMETERS})")
    p_run.add_argument("--results-dir", default=None, help="where models, records and job runs go (default: results)")
    p_run.add_argument("--data-dir", default=None, help="data of the runs that do not name their own")
    p_run.add_argument("--only", nargs="*", default=None, help="run only these chapters, e.g. 02_residualbind")
    p_run.add_argument("--force", action="store_true", help="re-execute chapters that are up to date")
    p_run.add_argument("--cores", type=int, default=None, help="Snakemake --cores (default: the local profile's)")
    p_run.add_argument("--dry-run", "-n", action="store_true", help="list the jobs; run nothing")
    p_build = sub.add_parser("build", help="render notebooks/executed/ and book/ into _build/html")
    p_build.add_argument("--root", default=str(REPO))
    p_build.add_argument("--strict", action="store_true", help="treat Sphinx warnings as errors")
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            runs = run(args.root, args.parameters, args.results_dir, args.only, data_dir=args.data_dir,
                       force=args.force, cores=args.cores, dry_run=args.dry_run)
            total = sum(r.seconds for r in runs if r.status == "executed")
            summary = ", ".join(f"{r.name}: {r.status}" + (f" {r.seconds:.0f}s" if r.seconds else "") for r in runs)
            print(f"[rbgia.book] {summary}; {total:.0f} s executing", flush=True)
        else:
            build(args.root, strict=args.strict)
    except RbgiaError as err:
        first, *details = str(err).splitlines() or [""]
        for line in details:  # e.g. the build's list of page problems, before the one error line
            print(line, file=sys.stderr)
        print(f"error: {first}", file=sys.stderr, flush=True)
        # a notebook that failed in a cell is not a usage error (1); everything else is the user's input (2)
        return 1 if isinstance(err, BookError) and err.cell is not None else 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The book's DAG: every notebook run (jobs per experiment x configuration, chapters), validated.

The parameters file format is described in :mod:`rbgia.book`; :func:`plan` turns it into
:class:`Run` nodes that ``workflow/Snakefile`` maps onto rules.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DataError
from .params import declared_parameters, validate
from .spec import (
    ALL,
    EXECUTED,
    PARAMETERS,
    REPO,
    SOURCE,
    STAGED,
    BookError,
    _yaml,
    load_parameters,
    read_spec,
    toc_notebooks,
)

# --------------------------------------------------------------------------- the parameters file


def _filtered(source: Path, offered: Mapping[str, Any], own: Mapping[str, Any], file: str,
              over: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The parameters injected into ``source``: the declared names among ``offered``, then ``own``
    (which must all be declared), then ``over``; validated (:func:`rbgia.book.params.validate`)."""

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
        return dict(validate(chosen, source))
    except DataError as err:
        raise BookError(f"{file}, {source.stem}: {err}") from None


# --------------------------------------------------------------------------- the plan (the DAG's nodes)


@dataclass(frozen=True)
class Run:
    """One notebook run of the book's DAG: a chapter (rendered) or a job run (a record).

    Runs are hashable (sets of runs, dict keys): by every field but ``parameters``, which they still compare.
    """

    kind: str  # "chapter" | "job"
    name: str  # the chapter's stem, or the job's name
    notebook: str  # source notebook path, relative to the root
    output: str  # executed copy, relative to the root (or absolute): a chapter's page
    log: str
    parameters: dict[str, Any] = field(hash=False)  # a dict (JSON, papermill); the output names the run anyway
    experiment: str | None = None
    tag: str | None = None
    needs: tuple[str, ...] = ()  # outputs of the runs this one reads
    requires: tuple[str, ...] = ()  # paths without which a chapter becomes a note
    prepare: str | None = None  # the prepare stamp this run waits for (structure inputs)
    after_all: bool = False
    staged: str | None = None  # a chapter's copy as its run writes it, promoted to `output` once complete


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
    from .. import data as rdata

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


class _Planner:
    """The runs :func:`plan` makes, as it makes them: the job runs (also by job), the data folders to prepare
    and which job writes each output; with what every run shares (the root, the file, the defaults, the
    results folder and the overrides)."""

    def __init__(self, root: Path, file: str, defaults: Mapping[str, Any], res: str, over: Mapping[str, Any]) -> None:
        self.root, self.file, self.defaults, self.res, self.over = root, file, defaults, res, over
        self.jobs: list[Run] = []
        self.by_job: dict[str, list[Run]] = {}
        self.datasets: dict[str, str] = {}  # prepare slug -> data_dir
        self.seen: dict[str, str] = {}  # output -> the job writing it

    def source(self, stem: str, where: str) -> Path:
        """The source notebook ``notebooks/<stem>.ipynb``, which must exist (``where`` names it)."""
        src = self.root / SOURCE / f"{stem}.ipynb"
        if not src.is_file():
            raise BookError(f"{where} names {stem} but {src} does not exist; add the notebook or fix the name")
        return src

    def add_jobs(self, job_specs: Mapping[str, Mapping[str, Any]], all_experiments: bool, prepare: bool) -> None:
        """Every job's runs, each job after the jobs it needs."""
        file = self.file
        for jname, job in job_specs.items():
            for need in job.get("needs") or []:
                if need not in job_specs or need == jname:
                    raise BookError(f"{file}: jobs.{jname} needs {need!r}, which is not another job; fix `needs`")
        for jname in _job_order(job_specs, file):
            self._add_job(jname, job_specs[jname], all_experiments, prepare)

    def _add_job(self, jname: str, job: Mapping[str, Any], all_experiments: bool, prepare: bool) -> None:
        """The runs of one job entry: one per configuration and experiment."""
        file = self.file
        stem = str(job["notebook"]).removesuffix(".ipynb").split("/")[-1]
        src = self.source(stem, f"{file}: jobs.{jname}")
        own = dict(job.get("parameters") or {})
        merged = {**self.defaults, **own}
        jdata = str(merged.get("data_dir", "data"))
        everything = all_experiments and job.get("experiments") is not None
        exps = _experiments(jname, job.get("experiments"), jdata, everything, file, self.root)
        for c, cfg in _job_configs(jname, job, merged, file):
            trunk: list[str] = []  # a multi-task job's first run of this configuration, which trains the trunk
            for exp in exps:
                # the notebook gets the configuration as one value: its tag, as `config`
                offered = {**merged, "config": cfg.tag, **({"experiment": exp} if exp else {})}
                chosen_own = {**own, **({"config": cfg.tag} if c else {})}
                if exp:
                    chosen_own["experiment"] = exp
                params = _filtered(src, offered, chosen_own, f"{file}: jobs.{jname}", self.over)
                folder = exp or ALL
                out = f"{self.res}/{folder}/notebooks/{stem}.{cfg.tag}.ipynb"
                if out in self.seen:
                    raise BookError(f"{file}: jobs {self.seen[out]} and {jname} both write {out}; give one of them "
                                    f"other experiments or configs")
                self.seen[out] = jname
                prep = self._prepare_stamp(jdata, cfg.inputs) if prepare and cfg.inputs != "seq" else None
                needs = [o for need in job.get("needs") or [] for o in self._outputs_of(need, exp)]
                if params.get("tasks") and not self._trained_before(job, params["tasks"]):
                    # the others load their outputs of it: waiting in the DAG, not on its lock, frees their slot
                    needs += trunk
                    trunk = trunk or [out]
                run = Run("job", jname, str(src.relative_to(self.root)), out,
                          f"{self.res}/{folder}/logs/{stem}.{cfg.tag}.log", params, exp, cfg.tag, tuple(needs), (),
                          prep)
                self.jobs.append(run)
                self.by_job.setdefault(jname, []).append(run)

    def _trained_before(self, job: Mapping[str, Any], tasks: Any) -> bool:
        """Whether a job that ``job`` needs trains the multi-task trunk of ``tasks`` (``job`` then loads it)."""
        return any(r.parameters.get("tasks") == tasks for need in job.get("needs") or [] for r in self.by_job[need])

    def _prepare_stamp(self, jdata: str, inputs: str) -> str:
        """The stamp of the ``prepare`` run folding ``inputs`` for the data folder ``jdata`` (noted to prepare)."""
        slug = _slug(jdata)
        self.datasets[slug] = jdata
        return f"{self.res}/{ALL}/prepare/{slug}.{inputs}.json"

    def _outputs_of(self, need: str, exp: str | None) -> list[str]:
        """The outputs of job ``need`` a run on ``exp`` waits for: its runs on ``exp``, else all of them."""
        same = [r.output for r in self.by_job[need] if r.experiment == exp]
        return same or [r.output for r in self.by_job[need]]

    def chapter_runs(self, names: Sequence[str], entries: Mapping[str, Mapping[str, Any]]) -> list[Run]:
        """One run per chapter in ``names``, with the parameters of its entry (or the defaults)."""
        runs: list[Run] = []
        for name in names:
            src = self.source(name, "_toc.yml")
            entry = entries.get(name, entries["_defaults"])
            own = {k: v for k, v in entry["parameters"].items() if k in entry["own"]}
            params = _filtered(src, entry["parameters"], own, self.file, self.over)
            needs = self._chapter_needs(name, entry["needs"], names)
            runs.append(Run("chapter", name, str(src.relative_to(self.root)), f"{EXECUTED}/{name}.ipynb",
                            f"{EXECUTED}/logs/{name}.log", params, None, None, tuple(needs),
                            tuple(entry["requires"]), None, entry["after_all"], f"{STAGED}/{name}.ipynb"))
        self._check_chapter_cycles(runs, entries)
        return runs

    def _check_chapter_cycles(self, runs: Sequence[Run], entries: Mapping[str, Mapping[str, Any]]) -> None:
        """Chapters that need each other (an ``after_all`` chapter comes after every other one) are an error
        naming the cycle, before Snakemake's CyclicGraphException."""
        names = {r.name for r in runs}
        graph = {r.name: [n for n in entries.get(r.name, entries["_defaults"])["needs"] if n in names]
                 for r in runs}
        for r in runs:
            if r.after_all:  # its input is timings.json, which waits for every other chapter
                graph[r.name] += [o.name for o in runs if not o.after_all]
        cycle = _cycle(graph)
        if cycle:
            last = [r.name for r in runs if r.after_all and r.name in cycle]
            why = f" ({', '.join(last)}: after_all, it runs after every other chapter)" if last else ""
            raise BookError(f"{self.file}: chapters {' -> '.join(cycle)} need each other through `needs`{why}; "
                            f"break the cycle")

    def _chapter_needs(self, name: str, wanted: Sequence[str], names: Sequence[str]) -> list[str]:
        """The outputs chapter ``name`` waits for: every run of a job it needs, another chapter's executed copy."""
        needs: list[str] = []
        for need in wanted:
            if need in self.by_job:
                needs += [r.output for r in self.by_job[need]]
            elif need in names and need != name:  # another chapter (its records), run first
                needs.append(f"{EXECUTED}/{need}.ipynb")
            else:
                raise BookError(f"{self.file}: notebooks.{name} needs {need!r}, which is neither a job "
                                f"({sorted(self.by_job)}) nor another planned chapter; fix `needs`")
        return needs


def _job_configs(jname: str, job: Mapping[str, Any], merged: Mapping[str, Any],
                 file: str) -> Iterator[tuple[Mapping[str, Any], Any]]:
    """``(entry, TrainConfig)`` of each of the job's ``configs`` (``{}``: the base one), read one at a time."""
    from ..config import TrainConfig

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
        yield c, cfg


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
    planner = _Planner(root, file, defaults, res, over)
    planner.add_jobs({str(k): dict(v) for k, v in (spec.get("jobs") or {}).items()}, all_experiments, prepare)

    entries = load_parameters(root, path, data_dir, results_dir)
    names = toc_notebooks(root) if chapters is None else [str(c) for c in chapters]
    unknown = sorted(set(names) - known)
    if unknown:
        raise BookError(f"{unknown} are not chapters in _toc.yml; pick from {sorted(known)}")
    runs = planner.chapter_runs(names, entries)
    return Plan(root, file, res, runs, planner.jobs, planner.datasets, planner.by_job)


def _cycle(graph: Mapping[str, Sequence[str]]) -> list[str] | None:
    """A cycle of ``graph`` (node -> the nodes it needs) as ``[a, b, ..., a]``, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in graph:
        if node not in state and (found := visit(node)):
            return found
    return None


def _job_order(jobs: Mapping[str, Mapping[str, Any]], file: str) -> list[str]:
    """Jobs in an order where each comes after the jobs it needs (a cycle is an error naming it)."""
    graph = {name: list(job.get("needs") or []) for name, job in jobs.items()}
    cycle = _cycle(graph)
    if cycle:
        raise BookError(f"{file}: jobs {' -> '.join(cycle)} need each other through `needs`; break the cycle")
    done: list[str] = []

    def visit(name: str) -> None:
        if name not in done:
            for need in graph[name]:
                visit(need)
            done.append(name)

    for name in jobs:
        visit(name)
    return done


# --------------------------------------------------------------------------- one notebook


# --------------------------------------------------------------------------- the DAG, through Snakemake


# --------------------------------------------------------------------------- timings


# --------------------------------------------------------------------------- kernel


# --------------------------------------------------------------------------- placeholder


# --------------------------------------------------------------------------- build


# --------------------------------------------------------------------------- CLI


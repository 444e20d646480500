"""Running the book: one notebook through papermill (atomic, failures named by cell), the whole DAG
through Snakemake, the seconds of every run, the kernel and the placeholder of a skipped chapter."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._io import atomic_path, save_json
from ..errors import DataError
from .params import validate
from .plan import Plan, Run, plan
from .spec import (
    KERNEL_NAME,
    LOCAL_PROFILE,
    PARAMETERS,
    REPO,
    SNAKEFILE,
    TIMINGS,
    BookError,
)


@dataclass(frozen=True)
class NotebookRun:
    """What ``run`` did with one chapter."""

    name: str
    status: str  # "executed" | "cached" | "skipped" | "planned" (dry run)
    output: Path
    parameters: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    note: str = ""


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
    *,
    partial: str | os.PathLike | None = None,
) -> float:
    """Execute one notebook with papermill (cwd = ``root``), atomically; return seconds.

    The parameters are validated first (:func:`rbgia.book.params.validate`): a name the
    notebook's parameters cell does not declare (``num_backgroud``) or a bad value is an
    error before the kernel starts. The executed copy has its parameter cells tagged
    ``remove-cell`` (:func:`hide_parameter_cells`). On failure the partially executed copy
    stays at ``partial`` (default ``<stem>.partial.ipynb`` beside ``output``) and
    :class:`BookError` names the notebook, the cell and the error.
    """
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    root = Path(root)
    source, output = Path(source), Path(output)
    shown = source.relative_to(root) if source.is_absolute() and source.is_relative_to(root) else source
    try:
        validate(dict(parameters), source)
    except DataError as err:
        raise BookError(f"{shown}: {err}") from None
    ensure_kernel(root)
    # Figures must come back as inline images, even where MPLBACKEND=agg is set (CI).
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # what `make` exports; quiet when run by hand
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    partial = Path(partial) if partial is not None else partial_path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
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
            root: str | os.PathLike = REPO, requires: Sequence[str] = (), log_output: bool = True, *,
            staged: str | os.PathLike | None = None) -> str:
    """One run of the DAG (what ``workflow/scripts/run_notebook.py`` calls): a placeholder note when
    ``requires`` paths are missing, else :func:`execute`; a failure leaves ``<stem>.error.json``.

    With ``staged`` (a chapter: the Snakefile's ``chapter`` rule output) the executed copy is written
    there and ``output`` (the page) is left alone: the ``page`` rule promotes a complete copy
    (:func:`promote`), so a failed or killed run keeps the last good page. The partial copy and the
    error file go beside ``output`` either way.

    Returns ``"skipped"`` or ``"executed"``; raises :class:`BookError` on failure.
    """
    root = Path(root)
    source, output = Path(source), Path(output)
    target = Path(staged) if staged is not None else output
    path = root / source if not source.is_absolute() else source
    err_file = error_path(output)
    err_file.unlink(missing_ok=True)
    missing = [p for p in requires if not (root / p).exists()]
    if missing:
        note = (
            f"This chapter was not built: it needs {', '.join(f'`{m}`' for m in missing)}, which is absent on the "
            f"machine that built this book. Put the files there (see *How to rerun*) and run `make book` again."
        )
        print(f"SKIP {source.stem}: required data missing: {', '.join(missing)}", file=sys.stderr, flush=True)
        _placeholder(path, target, note)
        return "skipped"
    try:
        execute(path, target, parameters, root=root, log_output=log_output, partial=partial_path(output))
    except BookError as err:
        save_json(err_file, {"notebook": str(source), "output": str(output), "message": str(err),
                             "cell": err.cell, "partial": str(err.partial) if err.partial else None})
        raise
    return "executed"


def promote(staged: str | os.PathLike, page: str | os.PathLike) -> Path:
    """Publish a complete ``staged`` copy at ``page`` in one step: a hard link to it (a copy, same mtime, where
    links fail) renamed over the page, so the page is always either the last good one or the new one, and
    its mtime is the staged copy's (Snakemake's rerun detection compares the two).

    Raises
    ------
    BookError
        When ``staged`` does not exist (its run failed or was cut short): the page is left as it is.
    """
    staged, page = Path(staged), Path(page)
    if not staged.is_file():
        raise BookError(f"{staged} does not exist, so {page} keeps its last good copy; rerun the chapter")
    with atomic_path(page) as tmp:
        try:
            os.link(staged, tmp)
        except OSError:  # no hard links here (another device, some network file systems)
            shutil.copy2(staged, tmp)
    return page


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


def _chapters_to_run(the_plan: Plan, only: Sequence[str] | None) -> list[Run]:
    """The planned chapters, or those in ``only`` (which must all be chapters)."""
    names = [r.name for r in the_plan.chapters]
    if only:
        unknown = sorted(set(only) - set(names))
        if unknown:
            raise BookError(f"{unknown} are not chapters in _toc.yml; pick from {names}")
    return [r for r in the_plan.chapters if not only or r.name in set(only)]


def _snakemake(cmd: list[str], root: Path, quiet: bool) -> tuple[int, deque[str]]:
    """Run ``cmd`` in ``root``, echoing its output unless ``quiet``; its exit status and last 30 lines."""
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
    return rc, tail


# --------------------------------------------------------------------------- Snakemake's locks

LOCKS = ".snakemake/locks"  # where Snakemake keeps the locks of a working directory


def _arg(args: Sequence[str], *flags: str) -> str | None:
    """The value of the last of ``flags`` in ``args`` (``--directory D`` or ``--directory=D``)."""
    found = None
    for i, a in enumerate(args):
        for f in flags:
            if a == f and i + 1 < len(args):
                found = args[i + 1]
            elif a.startswith(f + "="):
                found = a.split("=", 1)[1]
    return found


def live_snakemake(root: str | os.PathLike) -> list[int] | None:
    """Process ids of the live Snakemake runs working on ``root`` (their ``--directory``, else their working
    directory), read from ``/proc``; None where there is no ``/proc`` (then nobody can tell)."""
    proc, root = Path("/proc"), Path(root).resolve()
    if not (proc / "self").is_dir():
        return None
    pids = []
    for d in proc.iterdir():
        if not d.name.isdigit() or int(d.name) == os.getpid():
            continue
        try:
            args = [a.decode(errors="replace") for a in (d / "cmdline").read_bytes().split(b"\0") if a]
            cwd = Path(os.readlink(d / "cwd"))
        except OSError:  # gone, or not ours to read
            continue
        if not any(Path(a).name == "snakemake" for a in args[:3]):  # `snakemake ...` or `python -m snakemake`
            continue
        directory = _arg(args, "--directory", "-d")
        if (cwd / directory if directory else cwd).resolve() == root:
            pids.append(int(d.name))
    return sorted(pids)


def _lock_error(root: Path, tail: Sequence[str]) -> BookError | None:
    """Snakemake's refusal to lock ``root`` in its output ``tail``, said in one line: held by a live run
    (its pid), or stale (left by a killed run: ``--unlock``); None when the tail is about something else."""
    if not any("cannot be locked" in ln or "LockException" in ln for ln in tail):
        return None
    where = root / LOCKS
    pids = live_snakemake(root)
    if pids:
        return BookError(f"{where} is held by a live Snakemake run (pid {', '.join(map(str, pids))}) on this tree; "
                         f"wait for it to finish, or stop it (`kill {pids[0]}`) and rerun")
    if pids is None:
        return BookError(f"{where} may be held by another run on this tree (no /proc here to tell); if none is "
                         f"running, remove the lock with `python -m rbgia.book run --unlock` and rerun")
    return BookError(f"a stale Snakemake lock in {where} (no Snakemake process is running on this tree: a run was "
                     f"killed); remove it with `python -m rbgia.book run --unlock` and rerun")


def unlock(root: str | os.PathLike = REPO) -> int:
    """Remove the Snakemake locks of ``root`` left by a killed run (``python -m rbgia.book run --unlock``);
    return how many lock files went.

    Raises
    ------
    BookError
        When a live Snakemake run works on ``root``: its locks are not stale.
    """
    root = Path(root).resolve()
    pids = live_snakemake(root)
    if pids:
        raise BookError(f"Snakemake run {', '.join(map(str, pids))} on {root} is alive and holds its lock; "
                        f"wait for it or stop it first (`kill {pids[0]}`), then --unlock")
    locks = [p for p in (root / LOCKS).glob("*.lock") if p.is_file()]
    for p in locks:
        p.unlink(missing_ok=True)
    return len(locks)


def _failure(the_plan: Plan, root: Path, start: float, rc: int, tail: Sequence[str]) -> BookError:
    """Why Snakemake exited ``rc``: the first run that failed since ``start`` (its ``.error.json``), a lock it
    could not take (:func:`_lock_error`), else the last error in Snakemake's output ``tail``."""
    failures = []
    for r in the_plan.runs:
        f = root / error_path(r.output)
        if f.is_file() and f.stat().st_mtime >= start - 1:
            failures.append(json.loads(f.read_text()))
    if failures:
        first = failures[0]
        more = f" ({len(failures) - 1} more runs failed; see their .error.json)" if len(failures) > 1 else ""
        return BookError(first["message"] + more, cell=first.get("cell"),
                         partial=Path(first["partial"]) if first.get("partial") else None)
    locked = _lock_error(root, tail)
    if locked is not None:
        return locked
    ours = [ln.split("error: ", 1)[1] for ln in tail if "error: " in ln]  # the Snakefile's one-line errors
    last = ours[-1] if ours else "; ".join(ln for ln in tail if ln.strip())[-600:]
    return BookError(f"snakemake exited {rc} before a notebook failed: {last}")


def _report(chapters: Sequence[Run], root: Path, before: Mapping[str, int | None], dry_run: bool,
            quiet: bool) -> list[NotebookRun]:
    """What became of each chapter: planned (dry run), skipped (its note), cached (unchanged since ``before``),
    executed."""
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
        from its ``.error.json``); a Snakemake lock on ``root``, held by a live run (its pid) or stale
        (a killed run's: :func:`unlock`); Snakemake failing before any notebook ran.
    """
    root = Path(root).resolve()
    params_path = Path(params_file).resolve() if params_file else root / PARAMETERS
    # the whole plan is checked (one-line errors) before Snakemake starts
    the_plan = plan(root, params_path, results_dir=results_dir, data_dir=data_dir)
    chapters = _chapters_to_run(the_plan, only)
    targets = [r.output for r in chapters] if only else []
    cmd = snakemake_command(root, params_path, results_dir, data_dir, targets, force, cores, dry_run)
    before = {r.output: _mtime(root / r.output) for r in chapters}
    start = time.time()
    rc, tail = _snakemake(cmd, root, quiet)
    if rc != 0:
        raise _failure(the_plan, root, start, rc, tail)
    return _report(chapters, root, before, dry_run, quiet)


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

"""Run the book's notebooks with papermill and render them with Jupyter Book 1.x.

Usage (what ``make book`` calls)::

    python -m rbgia.book run --data-dir data/simulated --results-dir results
    python -m rbgia.book build

Contract for every notebook (``notebooks/NN_name.ipynb``)
---------------------------------------------------------
- Committed WITHOUT outputs, with ``kernelspec`` (``python3``) and ``language_info``
  (``python``) metadata.
- The first code cell is tagged ``parameters``. It declares, where they apply, the
  shared names with the book's defaults: ``data_dir = "data/simulated"``,
  ``results_dir = "results"``, ``experiment``, ``normalization = "log"``,
  ``inputs = "seq"``, ``variant = "paper"``, ``background = "profile"``,
  ``num_background``, ``epochs``, ``seed = 0``, then its own ones. Paths are relative
  to the repository root: papermill runs every notebook with cwd = repo root, so
  ``papermill notebooks/02_residualbind.ipynb out.ipynb -p data_dir /path/to/rnacompete
  -p experiment RNCMPT00168`` works from the repository root for real files in the
  documented DeepBind layout (run it from there, or pass ``--cwd .``).
- Cells hold narrative (markdown: what the figure shows, what the paper found, what
  we find), parameters and calls into rbgia. No function definitions, no copied
  blocks: missing logic goes into the library. Figures come from ``rbgia.plotting``
  (labelled axes) and get a markdown caption.
- Models are shared: ``rbgia.train.train_or_load`` reuses the model trained for the
  same (data_dir, experiment, normalization, inputs, variant, seed) under results_dir
  and trains it when missing.
- Key numbers go through :mod:`rbgia.results` (atomic JSON):
  ``results_dir/<experiment>/<notebook>.json``; per training configuration
  ``results_dir/<experiment>/<notebook>.<normalization>-<inputs>-<variant>-s<seed>.json``
  (the configuration is also in the record); across experiments
  ``results_dir/_all/<notebook>.json``. :func:`rbgia.results.collect` reads them back.
- ``book/parameters.yml`` gives the CPU-sized parameters used by ``make book`` and
  the data a notebook requires (it is skipped with a note when that data is absent);
  ``tests/test_notebooks.py`` runs every notebook with tiny parameters (one dict
  entry per notebook).

This module
-----------
``run`` executes each notebook listed in ``_toc.yml`` under ``notebooks/executed/`` in
order, writing the executed copy atomically to ``notebooks/executed/<name>.ipynb``
(Jupyter Book 1.x always excludes ``_build/``, so the executed copies cannot live
there). It is resumable: an executed copy newer than its notebook and the
parameter file, and run with the same parameters, is kept (``--force`` reruns).
A failing notebook stops the run with the notebook and cell named and the path of
the partially executed copy. ``build`` renders the executed copies into
``_build/html`` and checks that every chapter page exists, has its figures and no
error output.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from ._io import atomic_path, save_json
from .errors import RbgiaError

REPO = Path(__file__).resolve().parents[1]
EXECUTED = "notebooks/executed"
SOURCE = "notebooks"
PARAMETERS = "book/parameters.yml"
KERNEL_NAME = "python3"


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
    """What ``run`` did with one notebook."""

    name: str
    status: str  # "executed" | "cached" | "skipped"
    output: Path
    parameters: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    note: str = ""


# --------------------------------------------------------------------------- config


def _yaml():
    import yaml  # PyYAML comes with jupyter-book and papermill

    return yaml


def default_shared_dir(root: str | os.PathLike = REPO) -> Path:
    """``$RBGIA_SHARED`` when set, else ``../shared`` beside the checkout."""
    env = os.environ.get("RBGIA_SHARED")
    return Path(env) if env else Path(root).resolve().parent / "shared"


def toc_notebooks(root: str | os.PathLike = REPO) -> list[str]:
    """Names (``"01_data"``) of the chapters in ``_toc.yml`` under ``notebooks/executed/``, in order."""
    toc_path = Path(root) / "_toc.yml"
    if not toc_path.is_file():
        raise BookError(f"{toc_path} is missing; run from the repository root or pass --root")
    return [Path(f).name for f in _toc_files(Path(root)) if f.startswith(EXECUTED + "/")]


def _expand(value: Any, subs: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return re.sub(r"\{(\w+)\}", lambda m: subs.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [_expand(v, subs) for v in value]
    if isinstance(value, dict):
        return {k: _expand(v, subs) for k, v in value.items()}
    return value


def load_parameters(
    root: str | os.PathLike = REPO,
    params_file: str | os.PathLike | None = None,
    data_dir: str | None = None,
    results_dir: str | None = None,
    shared_dir: str | os.PathLike | None = None,
) -> dict[str, dict[str, Any]]:
    """Per-notebook parameters from ``book/parameters.yml``, expanded.

    The file has ``defaults`` (offered to every notebook; a notebook receives only the
    names its ``parameters`` cell declares) and ``notebooks: {name: {...}}`` (its own
    values; the key ``requires`` lists paths that must exist, else it is skipped).
    ``{shared}``, ``{data_dir}`` and ``{results_dir}`` in strings are replaced;
    ``data_dir``/``results_dir`` given here override the defaults (not a notebook's
    own ``data_dir``, e.g. the real data of 09).

    Returns
    -------
    dict
        ``{name: {"parameters": {...}, "requires": [...]}}`` plus the key ``"_defaults"``.
    """
    root = Path(root)
    path = Path(params_file) if params_file else root / PARAMETERS
    if not path.is_file():
        raise BookError(f"{path} is missing; it lists the book's parameters per notebook")
    spec = _yaml().safe_load(path.read_text()) or {}
    defaults = dict(spec.get("defaults") or {})
    if data_dir is not None:
        defaults["data_dir"] = str(data_dir)
    if results_dir is not None:
        defaults["results_dir"] = str(results_dir)
    if shared_dir is not None:
        shared = Path(shared_dir)
    elif os.environ.get("RBGIA_SHARED"):
        shared = Path(os.environ["RBGIA_SHARED"])
    else:
        shared = Path("..") / "shared"  # relative to the root (papermill's cwd): readable in the book
    subs = {
        "shared": str(shared),
        "data_dir": str(defaults.get("data_dir", "data/simulated")),
        "results_dir": str(defaults.get("results_dir", "results")),
    }
    out: dict[str, dict[str, Any]] = {"_defaults": {"parameters": _expand(defaults, subs), "requires": []}}
    for name, own in (spec.get("notebooks") or {}).items():
        own = dict(own or {})
        requires = own.pop("requires", []) or []
        out[str(name)] = {
            "parameters": _expand({**defaults, **own}, subs),
            "own": set(own),
            "requires": [str(p) for p in _expand(list(requires), subs)],
        }
    return out


def declared_parameters(notebook: str | os.PathLike) -> dict[str, Any]:
    """Names and defaults declared in a notebook's ``parameters`` cell."""
    import papermill

    params = papermill.inspect_notebook(str(notebook))
    return {name: p.get("default") for name, p in params.items()}


def notebook_parameters(name: str, source: Path, spec: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters to inject: the declared names among the defaults and the notebook's own."""
    declared = declared_parameters(source)
    if not declared:
        raise BookError(f"{source} has no cell tagged 'parameters'; tag its first code cell 'parameters'")
    entry = spec.get(name, spec["_defaults"])
    unknown = sorted(set(entry.get("own", ())) - set(declared))
    if unknown:
        raise BookError(
            f"book/parameters.yml gives {name} parameters {unknown} that its parameters cell does not declare; "
            f"fix the name or declare it in {source}"
        )
    return {k: v for k, v in entry["parameters"].items() if k in declared}


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


# --------------------------------------------------------------------------- run


def _missing(requires: Sequence[str], root: Path) -> list[str]:
    return [p for p in requires if not (root / p).exists()]  # absolute p ignores root


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


def _up_to_date(output: Path, source: Path, params_file: Path, parameters: Mapping[str, Any]) -> bool:
    if not output.is_file():
        return False
    mtime = output.stat().st_mtime
    if mtime < source.stat().st_mtime or mtime < params_file.stat().st_mtime:
        return False
    try:
        meta = json.loads(output.read_text()).get("metadata", {})
    except (OSError, ValueError):
        return False
    if "rbgia" in meta and meta["rbgia"].get("skipped"):
        return False  # the data may have arrived since
    used = meta.get("papermill", {}).get("parameters")
    return used == json.loads(json.dumps(dict(parameters)))


def execute(
    source: Path,
    output: Path,
    parameters: Mapping[str, Any],
    root: str | os.PathLike = REPO,
    log_output: bool = False,
    timeout: int | None = None,
) -> float:
    """Execute one notebook with papermill (cwd = ``root``), atomically; return seconds.

    On failure the partially executed copy stays at ``<output stem>.partial.ipynb`` and
    :class:`BookError` names the notebook, the cell and the error.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    root = Path(root)
    ensure_kernel(root)
    # Figures must come back as inline images, even where MPLBACKEND=agg is set (CI).
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # what `make` exports; quiet when run by hand
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    partial = output.with_name(output.stem + ".partial.ipynb")
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
            f"{source.relative_to(root) if source.is_relative_to(root) else source} failed in cell "
            f"{err.cell_index} (In [{err.exec_count}]): {err.ename}: {evalue[:300]}; "
            f"partially executed notebook: {partial}",
            cell={"index": err.cell_index, "exec_count": err.exec_count, "ename": err.ename, "evalue": evalue},
            partial=partial,
        ) from None
    os.replace(partial, output)
    return time.perf_counter() - start


def run(
    root: str | os.PathLike = REPO,
    data_dir: str | None = None,
    results_dir: str | None = None,
    shared_dir: str | os.PathLike | None = None,
    params_file: str | os.PathLike | None = None,
    only: Sequence[str] | None = None,
    force: bool = False,
    log_output: bool = False,
) -> list[NotebookRun]:
    """Execute the book's notebooks in ``_toc.yml`` order (see the module docstring).

    Parameters
    ----------
    root
        Repository root (papermill's cwd; paths in parameters are relative to it).
    data_dir, results_dir
        Override the defaults of ``book/parameters.yml``.
    shared_dir
        Folder holding ``data/`` and ``reference/`` (default ``$RBGIA_SHARED`` or ``../shared``).
    only
        Run just these notebooks (names like ``"02_residualbind"``), in toc order.
    force
        Re-execute notebooks whose executed copy is up to date.

    Raises
    ------
    BookError
        On a failing notebook (notebook, cell, error and the partial copy named), a
        notebook missing from ``notebooks/``, or bad parameters.
    """
    root = Path(root).resolve()
    params_path = Path(params_file) if params_file else root / PARAMETERS
    spec = load_parameters(root, params_path, data_dir, results_dir, shared_dir)
    names = toc_notebooks(root)
    if only:
        unknown = sorted(set(only) - set(names))
        if unknown:
            raise BookError(f"{unknown} are not chapters in _toc.yml; pick from {names}")
        names = [n for n in names if n in set(only)]
    runs: list[NotebookRun] = []
    timings_path = root / EXECUTED / "timings.json"
    timings = json.loads(timings_path.read_text()) if timings_path.is_file() else {}
    for name in names:
        source = root / SOURCE / f"{name}.ipynb"
        output = root / EXECUTED / f"{name}.ipynb"
        if not source.is_file():
            raise BookError(f"_toc.yml lists {name} but {source} does not exist; add the notebook or drop the entry")
        entry = spec.get(name, spec["_defaults"])
        missing = _missing(entry["requires"], root)
        if missing:
            note = (
                f"This chapter was not built: it needs {', '.join(f'`{m}`' for m in missing)}, which is absent on "
                f"the machine that built this book. Put the files there (see *How to rerun*) and run "
                f"`make book` again."
            )
            print(f"[rbgia.book] SKIP {name}: required data missing: {', '.join(missing)}", flush=True)
            _placeholder(source, output, note)
            runs.append(NotebookRun(name, "skipped", output, note=note))
            continue
        params = notebook_parameters(name, source, spec)
        if not force and _up_to_date(output, source, params_path, params):
            print(f"[rbgia.book] up to date: {name} ({output.relative_to(root)})", flush=True)
            runs.append(NotebookRun(name, "cached", output, params))
            continue
        print(f"[rbgia.book] running {name} with {params}", flush=True)
        seconds = execute(source, output, params, root=root, log_output=log_output)
        print(f"[rbgia.book] done {name} in {seconds:.0f} s -> {output.relative_to(root)}", flush=True)
        timings[name] = round(seconds, 1)
        save_json(timings_path, timings)
        runs.append(NotebookRun(name, "executed", output, params, seconds))
    return runs


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


# --------------------------------------------------------------------------- notebook parameters


def as_list(value: Any, default: Sequence[str] = ()) -> list[str]:
    """A notebook's list parameter: ``None`` -> ``default``; one string (``-p experiments
    RNCMPT00168``, or a comma-separated list) -> its items; a list -> itself."""
    if value is None or value == "":
        return [str(v) for v in default]
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


# --------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rbgia.book", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="execute the notebooks with papermill into notebooks/executed/")
    p_run.add_argument("--root", default=str(REPO), help="repository root (default: this checkout)")
    p_run.add_argument("--data-dir", default=None, help="data for the simulated chapters (default from book/parameters.yml)")
    p_run.add_argument("--results-dir", default=None, help="where models and results go (default: results)")
    p_run.add_argument("--shared-dir", default=None, help="folder with data/ and reference/ (default: $RBGIA_SHARED or ../shared)")
    p_run.add_argument("--parameters", default=None, help="parameter file (default: book/parameters.yml)")
    p_run.add_argument("--only", nargs="*", default=None, help="run only these notebooks, e.g. 02_residualbind")
    p_run.add_argument("--force", action="store_true", help="re-execute notebooks that are up to date")
    p_run.add_argument("--log-output", action="store_true", help="stream the notebooks' output")
    p_build = sub.add_parser("build", help="render notebooks/executed/ and book/ into _build/html")
    p_build.add_argument("--root", default=str(REPO))
    p_build.add_argument("--strict", action="store_true", help="treat Sphinx warnings as errors")
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            runs = run(args.root, args.data_dir, args.results_dir, args.shared_dir, args.parameters,
                       args.only, args.force, args.log_output)
            total = sum(r.seconds for r in runs)
            summary = ", ".join(f"{r.name}: {r.status}" + (f" {r.seconds:.0f}s" if r.seconds else "") for r in runs)
            print(f"[rbgia.book] {summary}; {total:.0f} s executing", flush=True)
        else:
            build(args.root, strict=args.strict)
    except BookError as err:
        print(f"[rbgia.book] ERROR: {err}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

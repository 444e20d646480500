"""Execute one notebook of the DAG with papermill, atomically, naming the failing cell.

Usage (what the Snakefile's ``job`` and ``chapter`` rules run; also handy by hand)::

    python workflow/scripts/run_notebook.py notebooks/05_gia.ipynb \
        results/SIMRBFOX1/notebooks/05_gia.log-seq-paper-s0.ipynb \
        --params '{"experiment": "SIMRBFOX1", "data_dir": "data/simulated"}' --threads 2

It runs the notebook through :func:`rbgia.book.run_one` (the kernel, environment,
parameter validation and atomic write of ``make book``): the executed notebook is written
beside the target and renamed on success, so an interrupted job never leaves a notebook
that looks finished. ``--requires '{"data/x": true}'`` (a chapter's required paths) turns a
run whose paths are missing into a rendered note. ``--staged PATH`` (a chapter) writes the executed
notebook there instead and leaves the target (the page) alone: the Snakefile's ``page`` rule
promotes a complete copy, so a failed or killed run keeps the last good page. On a failure the partly executed
notebook is kept as ``<target stem>.partial.ipynb``, ``<target stem>.error.json`` holds
the error, and the last line on stderr names the notebook, the cell and the exception,
so the rule's log (and Snakemake's ``--show-failed-logs``) says where it broke.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path


def _limit_threads(threads: int) -> None:
    # Inherited by the kernel: TensorFlow and BLAS stay inside the job's CPU share.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
        os.environ[var] = str(threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = str(min(threads, 2))


def _json_arg(text: str, flag: str, kind: type) -> object:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise SystemExit(f"error: {flag} is not JSON ({err}); pass a JSON {kind.__name__}") from None
    if not isinstance(value, kind):
        raise SystemExit(f"error: {flag} is a JSON {type(value).__name__}; pass a JSON {kind.__name__}")
    return value


def run_notebook(
    notebook: str | os.PathLike,
    output: str | os.PathLike,
    parameters: dict,
    threads: int = 1,
    cwd: str | os.PathLike = ".",
    requires: list[str] | None = None,
    staged: str | os.PathLike | None = None,
) -> str:
    """Execute ``notebook`` with ``parameters`` into ``output`` (:func:`rbgia.book.run_one`; into ``staged``
    when given, ``output`` being the page it is promoted to); return ``"executed"`` or ``"skipped"``
    (required paths missing: a note is written).

    Raises
    ------
    rbgia.book.BookError
        When a cell fails or the parameters are bad, after printing ``NOTEBOOK FAILED:
        <notebook>, cell In [n]: <error>`` to stderr.
    """
    from rbgia.book import BookError, run_one

    _limit_threads(threads)
    print(f"running {notebook} -> {output} with {json.dumps(parameters, sort_keys=True)}", file=sys.stderr, flush=True)
    try:
        status = run_one(notebook, output, parameters, root=Path(cwd), requires=requires or (), log_output=True,
                         staged=staged)
    except BookError as err:
        where = f"startup (kernel or parameters): {err}"
        if err.cell is not None:
            where = f"cell In [{err.cell['exec_count']}]: {err.cell['ename']}: {err.cell['evalue']}"
        print(f"NOTEBOOK FAILED: {notebook}, {where}", file=sys.stderr, flush=True)
        if err.partial is not None and Path(err.partial).exists():
            print(f"  partly executed notebook: {err.partial}", file=sys.stderr, flush=True)
        raise
    print(f"done {notebook}: {status}", file=sys.stderr, flush=True)
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", help="the notebook to run, e.g. notebooks/05_gia.ipynb")
    parser.add_argument("output", help="where the executed notebook goes")
    parser.add_argument("--params", default="{}", help="papermill parameters as a JSON object")
    parser.add_argument("--requires", default="{}", help="JSON object {path: exists}: paths the run needs")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads the kernel may use")
    parser.add_argument("--staged", default=None, help="write the executed notebook here; `output` is the page")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    try:
        params = _json_arg(args.params, "--params", dict)
        requires = list(_json_arg(args.requires, "--requires", dict))
    except SystemExit as err:
        print(err, file=sys.stderr)
        return 2
    from rbgia.book import BookError

    try:
        run_notebook(args.notebook, args.output, params, threads=args.threads, requires=requires, staged=args.staged)
    except BookError as err:  # the lines above name the cell; the traceback is already in the log
        print(f"error: {str(err).splitlines()[0]}", file=sys.stderr)
        return 1 if err.cell is not None else 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

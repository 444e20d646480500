"""Execute one notebook with papermill for the workflow, atomically, naming the failing cell.

Usage (what the Snakefile runs; also handy by hand)::

    python workflow/scripts/run_notebook.py notebooks/05_gia.ipynb \
        results/SIMRBFOX1/notebooks/05_gia.log-seq-paper-s0.ipynb \
        --params '{"experiment": "SIMRBFOX1", "data_dir": "data/simulated"}' --threads 2

It runs the notebook through :func:`rbgia.book.execute`, as ``make book`` does: the
executed notebook is written beside the target and renamed on success, so an
interrupted job never leaves a notebook that looks finished. On a failure the partly
executed notebook is kept as ``<target>.failed.ipynb`` and the last lines on stderr
name the notebook, the cell and the exception, so the rule's log (and Snakemake's
``--show-failed-logs``) says where it broke.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _limit_threads(threads: int) -> None:
    # Inherited by the kernel: TensorFlow and BLAS stay inside the job's CPU share.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
        os.environ[var] = str(threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = str(min(threads, 2))


def run_notebook(
    notebook: str | os.PathLike,
    output: str | os.PathLike,
    parameters: dict,
    threads: int = 1,
    cwd: str | os.PathLike = REPO,
) -> Path:
    """Execute ``notebook`` with ``parameters`` into ``output`` through
    :func:`rbgia.book.execute` (the kernel, environment and atomic write of
    ``make book``); return ``output``.

    Raises
    ------
    rbgia.book.BookError
        When a cell fails, after printing ``NOTEBOOK FAILED: <notebook>, cell In [n]:
        <error>`` to stderr and keeping the partial notebook as ``<output>.failed.ipynb``.
    """
    from rbgia.book import BookError, execute  # noqa: PLC0415 (slow import, only when running)

    _limit_threads(threads)
    output = Path(output)
    failed = output.with_name(f"{output.stem}.failed.ipynb")
    print(f"running {notebook} -> {output} with {json.dumps(parameters, sort_keys=True)}", file=sys.stderr, flush=True)
    try:
        seconds = execute(Path(notebook), output, parameters, root=Path(cwd), log_output=True)
    except BookError as err:
        where = "startup (kernel or parameters)"
        if err.cell is not None:
            where = f"cell In [{err.cell['exec_count']}]: {err.cell['ename']}: {err.cell['evalue']}"
        print(f"NOTEBOOK FAILED: {notebook}, {where}", file=sys.stderr, flush=True)
        if err.partial is not None and Path(err.partial).exists():
            os.replace(err.partial, failed)
            print(f"  partly executed notebook: {failed}", file=sys.stderr, flush=True)
        raise
    except BaseException as err:  # kernel start-up, missing parameters, interruption
        print(f"NOTEBOOK FAILED: {notebook}, startup (kernel or parameters): {type(err).__name__}: {err}",
              file=sys.stderr, flush=True)
        raise
    failed.unlink(missing_ok=True)
    print(f"done {notebook} in {seconds:.1f} s", file=sys.stderr, flush=True)
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", help="the notebook to run, e.g. notebooks/05_gia.ipynb")
    parser.add_argument("output", help="where the executed notebook goes")
    parser.add_argument("--params", default="{}", help="papermill parameters as a JSON object")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads the kernel may use")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    try:
        params = json.loads(args.params)
    except json.JSONDecodeError as err:
        print(f"--params is not JSON ({err}); pass a JSON object such as '{{\"seed\": 0}}'", file=sys.stderr)
        return 2
    try:
        run_notebook(args.notebook, args.output, params, threads=args.threads)
    except Exception:  # the message above names the cell; the traceback is already in the log
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

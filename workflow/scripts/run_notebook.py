"""Execute one notebook with papermill for the workflow, atomically, naming the failing cell.

Usage (what the Snakefile runs; also handy by hand)::

    python workflow/scripts/run_notebook.py notebooks/05_gia.ipynb \
        results/SIMRBFOX1/notebooks/05_gia.log-seq-paper-s0.ipynb \
        --params '{"experiment": "SIMRBFOX1", "data_dir": "data/simulated"}' --threads 2

The executed notebook is written to a temporary name beside the target and renamed
on success, so an interrupted job never leaves a notebook that looks finished. On a
failure the partly executed notebook is kept as ``<target>.failed.ipynb`` and the last
lines on stderr name the notebook, the cell and the exception, so the rule's log (and
Snakemake's ``--show-failed-logs``) says where it broke.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _limit_threads(threads: int) -> None:
    # Inherited by the kernel: TensorFlow and BLAS stay inside the job's CPU share.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
        os.environ[var] = str(threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = str(min(threads, 2))


def _failure_message(notebook: str, err: BaseException) -> str:
    """One paragraph that names the notebook, the cell and the exception."""
    ename = getattr(err, "ename", type(err).__name__)
    evalue = getattr(err, "evalue", str(err))
    count = getattr(err, "exec_count", None)
    source = str(getattr(err, "source", "") or "")
    first = next((line for line in source.splitlines() if line.strip()), "")
    where = f'cell In [{count}]' if count is not None else "startup (kernel or parameters)"
    msg = f"NOTEBOOK FAILED: {notebook}, {where}: {ename}: {evalue}"
    if first:
        msg += f"\n  cell starts with: {first[:120]}"
    return msg


def run_notebook(
    notebook: str | os.PathLike,
    output: str | os.PathLike,
    parameters: dict,
    threads: int = 1,
    cwd: str | os.PathLike = REPO,
) -> Path:
    """Execute ``notebook`` with ``parameters`` into ``output`` (atomic); return ``output``.

    Raises
    ------
    papermill.PapermillExecutionError
        When a cell fails (after printing which one to stderr).
    """
    import papermill as pm  # noqa: PLC0415 (slow import, only when running)

    _limit_threads(threads)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    for stale in output.parent.glob(f".{output.stem}.*.tmp.ipynb"):
        stale.unlink(missing_ok=True)  # left by a killed run (Snakemake runs one job per output)
    tmp = output.with_name(f".{output.stem}.{os.getpid()}.tmp.ipynb")
    failed = output.with_name(f"{output.stem}.failed.ipynb")
    start = time.time()
    print(f"running {notebook} -> {output} with {json.dumps(parameters, sort_keys=True)}", file=sys.stderr, flush=True)
    try:
        pm.execute_notebook(
            str(notebook),
            str(tmp),
            parameters=parameters,
            cwd=str(cwd),
            log_output=True,
            progress_bar=False,
        )
    except BaseException as err:
        if tmp.exists():
            os.replace(tmp, failed)
        print(str(err), file=sys.stderr)  # papermill's traceback of the cell
        print(_failure_message(str(notebook), err), file=sys.stderr, flush=True)
        if tmp.exists() or failed.exists():
            print(f"  partly executed notebook: {failed}", file=sys.stderr, flush=True)
        raise
    os.replace(tmp, output)
    failed.unlink(missing_ok=True)
    print(f"done {notebook} in {time.time() - start:.1f} s", file=sys.stderr, flush=True)
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

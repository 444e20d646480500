"""Prepare the data once per dataset and inputs kind, before any training job.

Runs ``python -m rbgia.data prepare`` (parse, split, encode, cache) and writes a small
JSON stamp the workflow's training jobs depend on. Structure profiles (``pu``,
``phime``) are cached by the data layer per sequence set: in the DeepBind layout all
experiments share their probes, so preparing one experiment folds them for all; in
the per-set layout every experiment has its own probes, so all are prepared here
(on CPU nodes, not in the GPU training jobs).

Usage::

    python workflow/scripts/prepare.py --data-dir DATA --inputs pu --threads 8 \
        --out results/_all/prepare.pu.json
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from rbgia import data
from rbgia._io import save_json
from rbgia.errors import RbgiaError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--inputs", default="seq", choices=("seq", "pu", "phime"))
    parser.add_argument("--normalization", default="log")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", required=True, help="the JSON stamp to write")
    parser.add_argument("--experiments", nargs="*", default=None, help="default: every experiment in data_dir")
    args = parser.parse_args(argv)
    try:
        experiments = args.experiments or data.list_experiments(args.data_dir)
    except RbgiaError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2

    start = time.time()
    per_set = not any((Path(args.data_dir) / f).is_file() for f in ("targets.tsv", "targets.tsv.gz"))
    # One experiment checks the layout (and folds DeepBind's shared probes); per-set
    # structure needs every experiment's own probes folded.
    todo = experiments if (per_set and args.inputs != "seq") else experiments[:1]
    cli = [
        "prepare", args.data_dir, *todo, "--inputs", args.inputs, "--normalization", args.normalization,
        "--seed", str(args.seed), "--n-jobs", str(args.threads),
    ]
    print("python -m rbgia.data " + " ".join(cli), flush=True)
    rc = data.main(cli)
    if rc != 0:  # rbgia.data printed its one `error:` line
        return rc
    save_json(
        args.out,
        {
            "data_dir": args.data_dir,
            "inputs": args.inputs,
            "layout": "per_set" if per_set else "deepbind",
            "n_experiments": len(experiments),
            "prepared": todo,
            "seconds": round(time.time() - start, 1),
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m rbgia.book run|build``: the book's command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..errors import RbgiaError
from .build import build
from .runner import LOCKS, run, unlock
from .spec import (
    PARAMETERS,
    REPO,
    BookError,
)


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
    p_run.add_argument("--unlock", action="store_true",
                       help=f"remove the stale Snakemake locks ({LOCKS}) of a killed run; run nothing")
    p_build = sub.add_parser("build", help="render notebooks/executed/ and book/ into _build/html")
    p_build.add_argument("--root", default=str(REPO))
    p_build.add_argument("--strict", action="store_true", help="treat Sphinx warnings as errors")
    args = parser.parse_args(argv)
    try:
        if args.command == "run" and args.unlock:
            n = unlock(args.root)
            print(f"[rbgia.book] removed {n} stale lock file(s) in {args.root}/{LOCKS}; rerun without --unlock",
                  flush=True)
        elif args.command == "run":
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

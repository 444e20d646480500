"""Adaptive vs exhaustive k-mer scan on trained models of the simulated experiments.

For each experiment: train (or reuse, via ``rbgia.train.train_or_load``) the book's
ResidualBind, draw the paper's 1,000 profile backgrounds, run the exhaustive 6-mer
scan and the adaptive scan on the same backgrounds, and report the model
evaluations of each and whether their top 10 k-mers agree (as a set and in order).
Prints JSON; ``--out`` also writes it atomically.

Usage::

    python benchmarks/bench_adaptive.py --data-dir data/simulated \
        --experiments SIMRBFOX1 SIMHUR --out benchmarks/out/bench_adaptive.json

About 5 minutes per experiment on 2 CPU cores (the exhaustive scan dominates).
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from rbgia import background, gia, train  # noqa: E402
from rbgia._io import save_json  # noqa: E402


def compare(data_dir: str, experiment: str, args: argparse.Namespace) -> dict:
    model, meta, data = train.train_or_load(
        data_dir, experiment, results_dir=args.results_dir, epochs=args.epochs, verbose=0
    )
    bg = background.profile_background(data.train.x, n=args.n_background, seed=args.seed)
    session = gia.GIA(model, bg)
    t0 = time.perf_counter()
    full = gia.kmer_scan(session, k=args.k, start=args.start)
    t_full = time.perf_counter() - t0
    t0 = time.perf_counter()
    fast = gia.adaptive_kmer_scan(session, k=args.k, start=args.start, n_screen=args.n_screen, seed=args.seed)
    t_fast = time.perf_counter() - t0
    top_full = full["kmer"].head(args.top).tolist()
    top_fast = fast.table["kmer"].head(args.top).tolist()
    return {
        "experiment": experiment,
        "test_pearson": meta["metrics"]["test_pearson"],
        "n_background": args.n_background,
        "exhaustive": {"evaluations": fast.n_exhaustive, "seconds": round(t_full, 1), "top": top_full},
        "adaptive": {"evaluations": fast.n_evaluations, "seconds": round(t_fast, 1), "top": top_fast,
                     "n_rescored": fast.n_rescored, "capped": fast.capped},
        "evaluation_ratio": fast.n_exhaustive / fast.n_evaluations,
        "same_top_set": set(top_full) == set(top_fast),
        "same_top_order": top_full == top_fast,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default="data/simulated")
    parser.add_argument("--results-dir", default="results")
    parser.add_argument("--experiments", nargs="+", default=["SIMRBFOX1", "SIMHUR"])
    parser.add_argument("--epochs", type=int, default=6, help="as the book (models are shared with it)")
    parser.add_argument("--n-background", type=int, default=1000)
    parser.add_argument("--n-screen", type=int, default=100)
    parser.add_argument("--k", type=int, default=6)
    parser.add_argument("--start", type=int, default=17)
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out")
    args = parser.parse_args()
    rows = [compare(args.data_dir, e, args) for e in args.experiments]
    report = {"load_average": os.getloadavg(), "results": rows}
    print(json.dumps(report, indent=2))
    if args.out:
        save_json(args.out, report)


if __name__ == "__main__":
    main()

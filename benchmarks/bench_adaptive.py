"""Adaptive vs exhaustive k-mer scan: model evaluations, wall time and top-10 agreement.

For each model: draw 1,000 profile backgrounds (the paper's), run the exhaustive
6-mer scan and :func:`rbgia.scan.adaptive_kmer_scan` on the same backgrounds (one
GIA session: ``f(x)`` is shared), and report the evaluations and seconds of each,
their ratio, and whether the top 10 agree as a set and in order. Prints JSON;
``--out`` also writes it atomically.

Models:

- ``toy``: the additive-PWM-plus-nonlinear-noise numpy model of ``tests/test_scan.py``
  on random probes (seconds; no training);
- ``real``: ResidualBind on the data shipped in ``data/`` (A1CF = RNCMPT00001 and
  ANKHD1 = RNCMPT00002 from ``rnacompete2013_sample``, VTS1 from ``rnacompete2009``);
- ``sim``: ResidualBind on the simulated experiments in ``--sim-dir`` (SIMRBFOX1,
  SIMHUR, SIMVTS1; written with ``rbgia.simulate`` when missing and ``--train``);
- ``DATA_DIR:EXPERIMENT``: any other experiment.

Trained models are taken from the book's cache (``--results-dir``, via
``rbgia.model_cache.train_or_load``); a model that is not cached is skipped unless
``--train`` is given, which trains it (``--epochs``, ``--max-probes`` keep that
tiny on a CPU).

Usage::

    python benchmarks/bench_adaptive.py --models toy
    python benchmarks/bench_adaptive.py --models real sim --results-dir results --train --epochs 3 \\
        --out benchmarks/out/bench_adaptive.json

On 2 CPU cores one exhaustive scan of ResidualBind takes ~2 minutes (4.1 M
predictions); the adaptive scan about a twentieth of that.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

from rbgia import background, scan  # noqa: E402
from rbgia._io import save_json  # noqa: E402
from rbgia.session import GIA  # noqa: E402

REAL = [("rnacompete2013_sample", "RNCMPT00001"), ("rnacompete2013_sample", "RNCMPT00002"), ("rnacompete2009", "VTS1")]
SIM = ["SIMRBFOX1", "SIMHUR", "SIMVTS1"]
NAMES = {"RNCMPT00001": "A1CF", "RNCMPT00002": "ANKHD1"}


def toy_model(length: int = 41):
    """The toy of tests/test_scan.py: additive PWM + sin of a random projection."""
    w = np.random.default_rng(0).normal(size=(length, 4))
    r = np.random.default_rng(1).normal(size=(length, 4))

    def toy(x: np.ndarray) -> np.ndarray:
        x = x[..., :4]
        return np.einsum("nla,la->n", x, w) + np.sin(2.0 * np.einsum("nla,la->n", x, r))

    return toy


def _toy_source(n: int = 300, length: int = 41) -> np.ndarray:
    from rbgia.data import one_hot

    rng = np.random.default_rng(2)
    return one_hot(["".join(rng.choice(list("ACGU"), length)) for _ in range(n)])


def _cached(results_dir: str, experiment: str) -> bool:
    from rbgia.config import TrainConfig

    tag = TrainConfig.coerce(None).tag
    path = Path(results_dir) / experiment / "models" / f"{tag}.keras"
    return path.is_file() and Path(f"{path}.json").is_file()


def _trained(data_dir: str, experiment: str, args: argparse.Namespace):
    from rbgia import model_cache

    if not (args.train or _cached(args.results_dir, experiment)):
        return None
    model, meta, data = model_cache.train_or_load(
        data_dir, experiment, results_dir=args.results_dir, epochs=args.epochs, max_probes=args.max_probes,
        verbose=0,
    )
    return model, meta.get("metrics", {}).get("test_pearson"), data.train.x


def _specs(args: argparse.Namespace) -> list[tuple[str, str | None, str]]:
    """(label, data_dir, experiment) per model; data_dir None = the toy."""
    from rbgia.data import shipped_data_dir

    out = []
    for item in args.models:
        if item == "toy":
            out.append(("toy", None, "toy"))
        elif item == "real":
            out += [(NAMES.get(e, e), str(shipped_data_dir(d)), e) for d, e in REAL]
        elif item == "sim":
            if not Path(args.sim_dir).is_dir() and args.train:
                from rbgia.simulate import write_rnacompete

                write_rnacompete(args.sim_dir, experiments=SIM, seed=0)
            out += [(e, args.sim_dir, e) for e in SIM]
        elif ":" in item:
            data_dir, experiment = item.rsplit(":", 1)
            out.append((experiment, data_dir, experiment))
        else:
            sys.exit(f"error: model {item!r} is not toy, real, sim or DATA_DIR:EXPERIMENT")
    return out


def compare(label: str, data_dir: str | None, experiment: str, args: argparse.Namespace) -> dict:
    if data_dir is None:
        predict, pearson, source = toy_model(), None, _toy_source()
    else:
        got = _trained(data_dir, experiment, args)
        if got is None:
            return {"model": label, "skipped": f"no cached model in {args.results_dir}; pass --train to train one"}
        predict, pearson, source = got
    bg = background.profile_background(source, n=args.n_background, seed=args.seed)
    session = GIA(predict, bg)
    _ = session.baseline  # compile / warm up outside both timings
    t0 = time.perf_counter()
    full = scan.kmer_scan(session, k=args.k, start=args.start)
    t_full = time.perf_counter() - t0
    t0 = time.perf_counter()
    fast = scan.adaptive_kmer_scan(session, k=args.k, start=args.start, n_screen=args.n_screen, seed=args.seed)
    t_fast = time.perf_counter() - t0
    top_full = full["kmer"].head(args.top).tolist()
    top_fast = fast.table["kmer"].head(args.top).tolist()
    gap = np.abs(fast.table["mean"].head(args.top).to_numpy() - full["mean"].head(args.top).to_numpy()).max()
    return {
        "model": label,
        "experiment": experiment,
        "data_dir": data_dir,
        "test_pearson": pearson,
        "n_background": args.n_background,
        "exhaustive": {"evaluations": fast.n_exhaustive, "seconds": round(t_full, 1), "top": top_full},
        "adaptive": {"evaluations": fast.n_evaluations, "seconds": round(t_fast, 1), "top": top_fast,
                     "n_rescored": fast.n_rescored, "capped": fast.capped,
                     "rounds": fast.rounds.to_dict(orient="records")},
        "evaluation_ratio": round(fast.speedup, 2),
        "time_ratio": round(t_full / t_fast, 2) if t_fast > 0 else None,
        "same_top_set": set(top_full) == set(top_fast),
        "same_top_order": top_full == top_fast,
        "max_abs_mean_difference_top": float(gap),
        "top_gap_10_11": float(full["mean"].iloc[args.top - 1] - full["mean"].iloc[args.top]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["toy", "real", "sim"],
                        help="toy, real, sim or DATA_DIR:EXPERIMENT (default: toy real sim)")
    parser.add_argument("--sim-dir", "--data-dir", dest="sim_dir", default="data/simulated",
                        help="folder of the simulated experiments (--data-dir: the Makefile's name)")
    parser.add_argument("--results-dir", default="results")
    parser.add_argument("--train", action="store_true", help="train models that are not cached")
    parser.add_argument("--epochs", type=int, default=6, help="as the book (models are shared with it)")
    parser.add_argument("--max-probes", type=int, default=None, help="subsample training probes (tiny models)")
    parser.add_argument("--n-background", type=int, default=1000)
    parser.add_argument("--n-screen", type=int, default=24, help="first-round backgrounds of the adaptive scan")
    parser.add_argument("--k", type=int, default=6)
    parser.add_argument("--start", type=int, default=17)
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out")
    args = parser.parse_args()
    rows = []
    for spec in _specs(args):
        rows.append(compare(*spec, args))
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)  # progress, one line per model
    report = {"load_average": os.getloadavg(), "results": rows}
    print(json.dumps(report, indent=2))
    if args.out:
        save_json(args.out, report)


if __name__ == "__main__":
    main()

"""Training cost on the shipped real data: seconds per epoch and Pearson r after each epoch.

What the book's training budget (``jobs:`` in book/parameters.yml) is sized from::

    .venv/bin/python benchmarks/bench_real.py VTS1 --epochs 4
    .venv/bin/python benchmarks/bench_real.py VTS1 --inputs pu --epochs 3
    .venv/bin/python benchmarks/bench_real.py RNCMPT00001 --data-dir data/rnacompete2013_sample --epochs 20 --patience 4

Loads the experiment (``rbgia.data.load_rnacompete``; structure profiles are folded once and cached), trains
ResidualBind with the paper's protocol (``rbgia.train.fit``, nothing cached) and prints one line per epoch
(elapsed seconds, loss, validation Pearson r, learning rate), then the test Pearson r of the best epoch.
"""

from __future__ import annotations

import argparse
import time

from rbgia import data as rdata
from rbgia.evaluate import evaluate
from rbgia.model import residualbind
from rbgia.train import fit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("experiment")
    parser.add_argument("--data-dir", default="data/rnacompete2009")
    parser.add_argument("--inputs", default="seq", choices=["seq", "pu", "phime"])
    parser.add_argument("--normalization", default="log", choices=["log", "clip"])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--patience", type=int, default=25)
    args = parser.parse_args()

    t0 = time.perf_counter()
    d = rdata.load_rnacompete(args.data_dir, args.experiment, normalization=args.normalization, inputs=args.inputs)
    print(f"{args.experiment} {args.inputs}: loaded in {time.perf_counter() - t0:.1f} s; "
          f"train / valid / test = {len(d.train)} / {len(d.valid)} / {len(d.test)}", flush=True)
    model = residualbind(d.train.x.shape[1:], "paper", seed=0)
    start = time.perf_counter()

    def report(epoch: int, logs: dict) -> None:
        print(f"epoch {epoch:3d}  {time.perf_counter() - start:7.1f} s  loss {logs['loss']:.4f}  "
              f"valid r {logs['valid_pearson']:.4f}  lr {logs['lr']:.2e}", flush=True)

    result = fit(model, d, epochs=args.epochs, patience=args.patience, seed=0, on_epoch_end=report, verbose=0)
    test = evaluate(model, d.test)
    print(f"{result.epochs_run} epochs in {time.perf_counter() - start:.1f} s "
          f"({(time.perf_counter() - start) / max(1, result.epochs_run):.1f} s per epoch); best epoch "
          f"{result.best_epoch} (valid r {result.best_valid_pearson:.4f}), stopped early: {result.stopped_early}; "
          f"test r {test['pearson']:.4f} on {test['n']} probes")


if __name__ == "__main__":
    main()

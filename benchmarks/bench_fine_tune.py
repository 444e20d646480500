"""Fine-tuning from the trunk: what a few single-task epochs add to each output of the book's 2009 trunk.

Trains (or loads, from ``--results-dir``) the book's multi-task trunk over ``--tasks`` exactly as the book's
``real_2009`` job does (:func:`rbgia.model_cache.train_tasks`: cap 30 epochs, patience 3, ``book-fast-decay``,
stop on plateau). Then, for each experiment of ``--experiments``, takes its output as a single-output
ResidualBind and trains it on that experiment's own data (:func:`rbgia.train.fit`, Adam ``--lr``, x0.3 after an
epoch without improvement, at most ``--epochs`` epochs, stopped after 2 without or on plateau, the best
validation epoch kept). Printed per experiment: set-B test r of the trunk's output
and of the fine-tuned model, the gain, the epochs and seconds the fine-tuning took; then the means.

The single-task validation split is drawn per experiment, the trunk's over the distinct probes of the array, so
some probes the fine-tuning validates on were trunk training probes: that can only flatter the fine-tuned model's
validation r, never its set-B test r (set B is held out of both).

Usage::

    python benchmarks/bench_fine_tune.py --inputs seq --out fine_tune.json
    python benchmarks/bench_fine_tune.py --quick          # 2,000 probes per set, 2 trunk epochs: a smoke run
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
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_time_to_accuracy import TRUNK_PROTOCOL  # noqa: E402  (the book's trunk protocol, named once)

TASKS = ["Fusip", "HuR", "PTB", "SF2", "SLM2", "U1A", "VTS1", "YB1"]


def fine_tune_rows(data_dir: str, results_dir: str, tasks: list[str], experiments: list[str], inputs: str, *,
                   trunk_epochs: int, epochs: int, lr: float, max_probes: int | None) -> list[dict]:
    """One row per experiment: its trunk output's test r, the fine-tuned model's, the epochs and seconds."""
    from rbgia import data as rdata
    from rbgia import model_cache
    from rbgia.evaluate import evaluate
    from rbgia.train import fit, protocol

    config = f"log-{inputs}-paper-s0"
    trunk = protocol(TRUNK_PROTOCOL)
    t0 = time.perf_counter()
    paths = model_cache.train_tasks(data_dir, tasks, config, results_dir=results_dir, epochs=trunk_epochs,
                                    patience=trunk.pop("patience"), max_probes=max_probes, fit_kwargs=trunk)
    print(f"trunk: {time.perf_counter() - t0:.0f} s (trained or loaded)", flush=True)
    rows = []
    for name in experiments:
        model, _ = model_cache.load_model(paths[name])
        dataset = rdata.load_rnacompete(data_dir, name, normalization="log", inputs=inputs, max_probes=max_probes)
        before = evaluate(model, dataset.test)["pearson"]
        t1 = time.perf_counter()
        result = fit(model, dataset, epochs=epochs, patience=2, lr=lr, decay_patience=1, stop_on_plateau=True,
                     verbose=0)
        after = evaluate(model, dataset.test)["pearson"]
        rows.append({"experiment": name, "trunk_test_r": round(before, 4), "fine_tuned_test_r": round(after, 4),
                     "gain": round(after - before, 4), "epochs": result.epochs_run, "best_epoch": result.best_epoch,
                     "seconds": round(time.perf_counter() - t1, 1)})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default="data/rnacompete2009")
    parser.add_argument("--results-dir", default="benchmarks/out/fine_tune", help="the trunk's cache")
    parser.add_argument("--inputs", default="seq", choices=["seq", "pu", "phime"])
    parser.add_argument("--tasks", nargs="+", default=TASKS, help="the trunk's experiments")
    parser.add_argument("--experiments", nargs="+", default=[t for t in TASKS if t != "VTS1"],
                        help="outputs to fine-tune (default: the seven the book takes from the trunk)")
    parser.add_argument("--trunk-epochs", type=int, default=30, help="the trunk's cap (the book's real_2009: 30)")
    parser.add_argument("--epochs", type=int, default=4, help="fine-tuning epochs at most")
    parser.add_argument("--lr", type=float, default=1e-4, help="fine-tuning learning rate")
    parser.add_argument("--max-probes", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="smoke run: 2,000 probes, 2 trunk epochs, 1 epoch")
    parser.add_argument("--out", type=Path, default=None, help="write the JSON here too (atomically)")
    args = parser.parse_args(argv)
    if missing := [e for e in args.experiments if e not in args.tasks]:
        parser.error(f"--experiments {missing} are not outputs of the trunk; add them to --tasks or drop them")
    if args.quick:
        args.max_probes, args.trunk_epochs, args.epochs = 2000, 2, 1
        args.experiments = args.experiments[:2]
    t0 = time.perf_counter()
    rows = fine_tune_rows(args.data_dir, args.results_dir, args.tasks, args.experiments, args.inputs,
                          trunk_epochs=args.trunk_epochs, epochs=args.epochs, lr=args.lr, max_probes=args.max_probes)
    mean = {k: round(sum(r[k] for r in rows) / len(rows), 4) for k in ("trunk_test_r", "fine_tuned_test_r", "gain")}
    report = {"benchmark": "fine_tune", "inputs": args.inputs, "lr": args.lr, "epochs": args.epochs,
              "cpus": os.cpu_count(), "load_at_end": os.getloadavg(),
              "wall_seconds": round(time.perf_counter() - t0, 1), "rows": rows, "mean": mean}
    print(f"mean over {len(rows)}: trunk {mean['trunk_test_r']}, fine-tuned {mean['fine_tuned_test_r']} "
          f"({mean['gain']:+.4f}); fine-tuning {sum(r['seconds'] for r in rows):.0f} s in all")
    if args.out is not None:
        from rbgia._io import write_text

        write_text(args.out, json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()

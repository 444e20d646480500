"""Time to accuracy: the book's training protocol against the paper's, on real 2009 RNAcompete RBPs.

For each experiment, one ResidualBind (log scores, sequence only, same initial weights) per protocol
(:data:`rbgia.train.PROTOCOLS`) is trained on this machine in one process. The protocols' epochs alternate
(one epoch of each in turn), so both see the same load. After each epoch the script records its wall time
(training and validation, the epoch's own seconds), the validation r, and the set-B test r of the weights the
run would keep (its best epoch so far), which it measures off the clock.

Printed per experiment: one row per protocol and epoch (cumulative seconds, valid r, test r), then a summary:
the test r each protocol reaches within the same wall time (the shorter of the two runs), and the seconds each
needs to reach the target: the paper's r where it reports one (VTS1: 0.698), else the best test r the paper
protocol reached in this run.

``--multitask`` adds the book's 2009 protocol, ``book-fast-decay multi-task``: one trunk over ``--tasks`` (the
eight 2009 RBPs, :mod:`rbgia.multitask`) under ``--trunk-protocol`` (the book's: ``book-fast-decay``), trained
after the single-task runs until every output stops, or for the single-task runs' total budget (``--seconds`` x the
experiments). Each of its rows is charged the trunk's whole wall time (``seconds``; it trains every task's model at
once), and also shows that time per task (``seconds_per_model``); its test r is that experiment's output at its own
best epoch so far. The table's "equal cost per model" column compares every protocol at the trunk's seconds per
task. ``--table FILE`` reprints the table of a saved JSON.

Usage::

    python benchmarks/bench_time_to_accuracy.py --out benchmarks/out/time_to_accuracy.json
    python benchmarks/bench_time_to_accuracy.py --experiments VTS1 U1A Fusip --seconds 300
    python benchmarks/bench_time_to_accuracy.py --quick      # U1A only, 60 s per protocol
    python benchmarks/bench_time_to_accuracy.py --protocols paper --multitask --seconds 240
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

# the paper's set-B Pearson r per 2009 RBP, where it reports one (Koo et al. 2020, Fig 1 text)
PAPER_R = {"VTS1": 0.698}


def _runs(data, protocols, seed):
    """One prepared training run per protocol (the same initial weights), compiled, ready for epochs."""
    from rbgia import train
    from rbgia.model import residualbind

    runs = {}
    for name in protocols:
        model = residualbind(data.train.x.shape[1:], "paper", seed=seed)
        settings = train.protocol(name)
        run = train._FitRun(model, train._checked_data(model, data), None, 0, seed=seed, min_delta=0.0,
                            **settings)
        run.start(False)
        run.compile(train._tf_settings(False, None), 1024)
        runs[name] = run
    return runs


def _test_r(run, x_test, y_test) -> float:
    """Set-B r of the weights the run keeps (the best epoch so far), off the clock; the run's weights restored."""
    from rbgia.evaluate import pearson

    now = [np.array(w) for w in run.model.get_weights()]
    if run.best is not None:
        run.model.set_weights(run.best)
    r = pearson(y_test, run.predict_valid(x_test))
    run.model.set_weights(now)
    return float(r)


def bench_experiment(data_dir: str, experiment: str, protocols: list[str], seconds: float, max_epochs: int,
                     seed: int) -> dict:
    from rbgia.data import load_rnacompete

    data = load_rnacompete(data_dir, experiment, normalization="log", inputs="seq")
    x_test, y_test = data.test.x, data.test.y[:, 0]
    runs = _runs(data, protocols, seed)
    rows, clock, t0 = [], dict.fromkeys(protocols, 0.0), time.perf_counter()
    live = list(protocols)
    while live:
        for name in list(live):
            run = runs[name]
            logs = run._epoch()
            clock[name] += logs["seconds"]
            rows.append({"experiment": experiment, "protocol": name, "epoch": logs["epoch"],
                         "seconds": round(clock[name], 2), "epoch_seconds": round(logs["seconds"], 2),
                         "valid_r": round(logs["valid_pearson"], 4), "best_epoch": run.state["best_epoch"],
                         "test_r": round(_test_r(run, x_test, y_test), 4), "lr": logs["lr"],
                         "wall": round(time.perf_counter() - t0, 1)})
            print(json.dumps(rows[-1]), flush=True)
            if clock[name] >= seconds or run.state["stopped_early"] or run.state["epoch"] >= max_epochs:
                live.remove(name)
    n_train = int(len(data.train.x))
    return {"experiment": experiment, "n_train": n_train, "n_test": int(len(x_test)),
            "rows": rows, "summary": summarize(rows, protocols, PAPER_R.get(experiment), n_train)}


TRUNK_PROTOCOL = "book-fast-decay"  # book/parameters.yml's real_2009 (decay_patience 2)


def multitask_name(trunk_protocol: str) -> str:
    """The table's name of a trunk trained under ``trunk_protocol``, as the book's records spell it."""
    from rbgia.train import MULTI_TASK_SUFFIX

    return f"{trunk_protocol}{MULTI_TASK_SUFFIX}"


def bench_multitask(data_dir: str, tasks: list[str], experiments: list[str], seconds: float, max_epochs: int,
                    seed: int, trunk_protocol: str = TRUNK_PROTOCOL) -> dict[str, list[dict]]:
    """The book's 2009 protocol: one multi-task trunk over ``tasks`` under ``trunk_protocol``; per-epoch rows for
    each of ``experiments``."""
    from rbgia import train
    from rbgia.data import load_rnacompete
    from rbgia.evaluate import pearson
    from rbgia.model import residualbind
    from rbgia.multitask import stack_tasks

    data = {t: load_rnacompete(data_dir, t, normalization="log", inputs="seq") for t in tasks}
    stack = stack_tasks(data, seed=0)
    model = residualbind(stack.train.x.shape[1:], "paper", seed=seed, outputs=len(tasks))
    run = train._FitRun(model, train._checked_data(model, stack), None, 0, seed=seed, min_delta=0.0,
                        **train.protocol(trunk_protocol))
    name = multitask_name(trunk_protocol)
    run.start(False)
    run.compile(train._tf_settings(False, None), 1024)
    rows: dict[str, list[dict]] = {e: [] for e in experiments}
    clock, t0 = 0.0, time.perf_counter()
    while clock < seconds and not run.state["stopped_early"] and run.state["epoch"] < max_epochs:
        logs = run._epoch()
        clock += logs["seconds"]
        now = [np.array(w) for w in model.get_weights()]
        for e in experiments:  # off the clock: each output's set-B r at its best epoch so far
            j = tasks.index(e)
            model.set_weights(run.task_best[j] if run.task_best[j] is not None else now)
            r = pearson(data[e].test.y[:, 0], run.predict_valid(data[e].test.x)[:, j])
            rows[e].append({"experiment": e, "protocol": name, "epoch": logs["epoch"],
                            "seconds": round(clock, 2), "seconds_per_model": round(clock / len(tasks), 2),
                            "epoch_seconds": round(logs["seconds"], 2), "valid_r": round(logs[f"valid_pearson_{j}"], 4),
                            "best_epoch": run.state["task_best_epoch"][j], "test_r": round(float(r), 4),
                            "lr": logs["lr"], "wall": round(time.perf_counter() - t0, 1),
                            "n_distinct_train": len(stack.train)})
            print(json.dumps(rows[e][-1]), flush=True)
        model.set_weights(now)
    return rows


def summarize(rows: list[dict], protocols: list[str], paper_r: float | None, n_train: int) -> list[dict]:
    """Per protocol: epochs, seconds, final test r, test r at the common wall time, seconds to the target."""
    by = {p: [r for r in rows if r["protocol"] == p] for p in protocols}
    common = min(r[-1]["seconds"] for r in by.values() if r)
    # equal cost per model: a trunk's seconds shared by its tasks, a single-task run's own seconds
    per_model = min(r[-1].get("seconds_per_model", r[-1]["seconds"]) for r in by.values() if r)
    base = protocols[0]
    target = paper_r if paper_r is not None else max(r["test_r"] for r in by[base])
    out = []
    for p, rs in by.items():
        within = [r for r in rs if r["seconds"] <= common + 1e-9]
        cheap = [r for r in rs if r.get("seconds_per_model", r["seconds"]) <= per_model + 1e-9]
        reach = next((r for r in rs if r["test_r"] >= target), None)
        per_epoch = rs[-1].get("n_distinct_train", n_train)  # a trunk's epoch: its distinct probes
        out.append({"protocol": p, "epochs": len(rs), "seconds": rs[-1]["seconds"],
                    "seconds_per_model": rs[-1].get("seconds_per_model", rs[-1]["seconds"]),
                    "probes_per_s": round(per_epoch * len(rs) / rs[-1]["seconds"]), "final_test_r": rs[-1]["test_r"],
                    "common_seconds": round(common, 1),
                    "test_r_at_common_seconds": within[-1]["test_r"] if within else None,
                    "per_model_seconds": round(per_model, 1),
                    "test_r_at_per_model_seconds": cheap[-1]["test_r"] if cheap else None,
                    "target": target, "target_is": "paper" if paper_r is not None else f"best r of {base} here",
                    "seconds_to_target": reach["seconds"] if reach else None,
                    "epoch_to_target": reach["epoch"] if reach else None})
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default="data/rnacompete2009")
    parser.add_argument("--experiments", nargs="+", default=["VTS1", "U1A", "Fusip"])
    parser.add_argument("--protocols", nargs="+", default=["paper", "book", "large-batch"],
                        help="names in rbgia.train.PROTOCOLS; the first is the reference")
    parser.add_argument("--seconds", type=float, default=300.0, help="wall-time budget per protocol and experiment")
    parser.add_argument("--max-epochs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="U1A only, 60 s per protocol")
    parser.add_argument("--multitask", action="store_true", help="add '<trunk protocol> multi-task': one trunk")
    parser.add_argument("--trunk-protocol", default=TRUNK_PROTOCOL, help="the trunk's rbgia.train.PROTOCOLS name")
    parser.add_argument("--tasks", nargs="+", default=["Fusip", "HuR", "PTB", "SF2", "SLM2", "U1A", "VTS1", "YB1"])
    parser.add_argument("--out", type=Path, default=None, help="write the JSON here too")
    parser.add_argument("--table", type=Path, default=None, help="reprint the table of a JSON this script wrote")
    args = parser.parse_args(argv)
    if args.table is not None:  # the summaries recomputed from the saved rows, nothing trained
        report = json.loads(args.table.read_text())
        for res in report["experiments"]:
            res["summary"] = summarize(res["rows"], report["protocols"], PAPER_R.get(res["experiment"]),
                                       res["n_train"])
        print_table(report["experiments"])
        return report
    if args.quick:
        args.experiments, args.seconds = ["U1A"], 60.0
    import tensorflow as tf

    t0 = time.perf_counter()
    results = [bench_experiment(args.data_dir, e, args.protocols, args.seconds, args.max_epochs, args.seed)
               for e in args.experiments]
    protocols = list(args.protocols)
    if args.multitask:
        budget = args.seconds * len(args.experiments)  # what the single-task runs cost together
        multi = bench_multitask(args.data_dir, args.tasks, args.experiments, budget, args.max_epochs, args.seed,
                                args.trunk_protocol)
        protocols.append(multitask_name(args.trunk_protocol))
        for res in results:
            res["rows"] += multi[res["experiment"]]
            res["summary"] = summarize(res["rows"], protocols, PAPER_R.get(res["experiment"]), res["n_train"])
    report = {"benchmark": "time_to_accuracy", "protocols": protocols, "seconds_budget": args.seconds,
              "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                          "gpus": len(tf.config.list_physical_devices("GPU")),
                          "load_at_end": os.getloadavg()},
              "wall_seconds": round(time.perf_counter() - t0, 1), "experiments": results}
    print_table(results)
    if args.out is not None:
        from rbgia._io import write_text

        write_text(args.out, json.dumps(report, indent=1))
    return report


def print_table(results: list[dict]) -> None:
    """The summary table (markdown) of :func:`summarize` per experiment."""
    print("\n| experiment | protocol | epochs | seconds (per model) | test r at the common time (s) | test r at equal "
          "cost per model (s) | final test r | target | seconds to target |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for res in results:
        for s in res["summary"]:
            print(f"| {res['experiment']} | {s['protocol']} | {s['epochs']} | {s['seconds']:.0f} "
                  f"({s['seconds_per_model']:.0f}) | "
                  f"{s['test_r_at_common_seconds']} ({s['common_seconds']:.0f}) | "
                  f"{s['test_r_at_per_model_seconds']} ({s['per_model_seconds']:.0f}) | {s['final_test_r']} | "
                  f"{s['target']:.3f} ({s['target_is']}) | "
                  f"{'not reached' if s['seconds_to_target'] is None else round(s['seconds_to_target'])} |")


if __name__ == "__main__":
    main()

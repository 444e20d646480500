"""Benchmark ResidualBind: compiled forward, rbgia.train.fit, and Keras model.fit.

Measures, in one process on one machine:

- ``forward_seq_per_s``: the compiled (XLA) forward at a large batch;
- ``fit_seq_per_s``: training throughput of :func:`rbgia.train.fit`, its per-epoch
  validation (compiled forward + Pearson r) included;
- ``keras_fit_seq_per_s``: plain ``model.fit`` (MSE, Adam) at the same batch size,
  no validation;
- ``fit_vs_keras``: the ratio of the two training throughputs (and of their CPU
  seconds per epoch, which other load on a shared machine disturbs less).

The two trainers' epochs alternate so both see the same load; the first epoch of
each (tracing) is run but not timed. Data are random
one-hot probes with a planted motif; throughput does not depend on the values.

Usage::

    python benchmarks/bench_train.py --out benchmarks/out/bench_train.json
    python benchmarks/bench_train.py --quick
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402


def _data(n: int, seed: int, channels: int) -> SimpleNamespace:
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 4, (n, 41))
    has = rng.random(n) < 0.3
    rows = np.flatnonzero(has)
    codes[rows[:, None], rng.integers(0, 36, rows.size)[:, None] + np.arange(6)] = [3, 2, 1, 0, 3, 2]
    x = np.eye(4, dtype=np.float32)[codes]
    if channels > 4:
        x = np.concatenate([x, rng.random((n, 41, channels - 4), dtype=np.float32)], -1)
    y = (2.0 * has + rng.normal(0, 0.5, n)).astype(np.float32)[:, None]
    return SimpleNamespace(x=x, y=y)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-train", type=int, default=20_000, help="training probes (default 20,000)")
    parser.add_argument("--n-valid", type=int, default=2_000,
                        help="validation probes (default 2,000, ~ the paper's 10%% ratio)")
    parser.add_argument("--epochs", type=int, default=5,
                        help="timed epochs per trainer, after one untimed warm-up epoch")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--forward-batch", type=int, default=2048)
    parser.add_argument("--forward-n", type=int, default=50_000, help="sequences pushed through the forward pass")
    parser.add_argument("--variant", default="paper", choices=["paper", "public"])
    parser.add_argument("--channels", type=int, default=4, choices=[4, 6, 9])
    parser.add_argument("--quick", action="store_true", help="smoke run: tiny sizes, one timed epoch")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here (atomically)")
    args = parser.parse_args(argv)
    if args.quick:
        args.n_train, args.n_valid, args.epochs, args.forward_n = 2_000, 200, 2, 5_000

    import keras
    import tensorflow as tf

    from rbgia._io import save_json
    from rbgia.model import residualbind
    from rbgia.train import _forward, fit

    load_before = os.getloadavg()
    train, valid = _data(args.n_train, 0, args.channels), _data(args.n_valid, 1, args.channels)
    data = SimpleNamespace(train=train, valid=valid)
    shape = (41, args.channels)

    # Compiled forward at a large batch.
    model = residualbind(shape, args.variant, seed=0)
    predict = _forward(model, args.forward_batch)
    xf = _data(args.forward_n, 2, args.channels).x
    predict(xf[: args.forward_batch])  # compile
    t = time.perf_counter()
    predict(xf)
    forward = args.forward_n / (time.perf_counter() - t)

    # Training, interleaved so both trainers see the same load: rbgia.train.fit runs
    # with an on_epoch_end hook that runs one epoch of plain Keras model.fit on a
    # twin model. Each trainer's first epoch (tracing) is dropped; medians are kept.
    keras_model = residualbind(shape, args.variant, seed=0)
    keras_model.compile(keras.optimizers.Adam(1e-3), "mse")
    keras_model.fit(train.x, train.y, batch_size=args.batch_size, epochs=1, verbose=0)
    times: dict[str, list[float]] = {"fit_wall": [], "fit_cpu": [], "keras_wall": [], "keras_cpu": []}
    last = [time.perf_counter(), time.process_time()]

    def keras_epoch(epoch: int, logs: dict) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        times["fit_wall"].append(wall - last[0])
        times["fit_cpu"].append(cpu - last[1])
        keras_model.fit(train.x, train.y, batch_size=args.batch_size, epochs=1, verbose=0, shuffle=True)
        wall2, cpu2 = time.perf_counter(), time.process_time()
        times["keras_wall"].append(wall2 - wall)
        times["keras_cpu"].append(cpu2 - cpu)
        last[:] = [wall2, cpu2]

    model = residualbind(shape, args.variant, seed=0)
    res = fit(model, data, epochs=1 + args.epochs, batch_size=args.batch_size, patience=10**6, verbose=0,
        on_epoch_end=keras_epoch)
    med = {k: float(np.median(v[1:])) for k, v in times.items()}
    fit_rate = args.n_train / med["fit_wall"]
    keras_rate = args.n_train / med["keras_wall"]
    valid_s = float(np.median(res.history["valid_seconds"].iloc[1:]))

    out = {
        "forward_seq_per_s": round(forward),
        "fit_seq_per_s": round(fit_rate),
        "keras_fit_seq_per_s": round(keras_rate),
        "fit_vs_keras": round(fit_rate / keras_rate, 3),
        "fit_vs_keras_cpu_time": round(med["keras_cpu"] / med["fit_cpu"], 3),
        "fit_valid_seconds_per_epoch": round(valid_s, 3),
        "fit_train_only_seq_per_s": round(args.n_train / (med["fit_wall"] - valid_s)),
        "epoch_seconds": {k: [round(t, 3) for t in v[1:]] for k, v in times.items()},
        "notes": "fit includes per-epoch validation of n_valid probes, keras_fit has none; epochs of the two "
        "alternate; seq/s from the median epoch wall time; fit_vs_keras_cpu_time = ratio of process CPU "
        "seconds per epoch (keras / fit), less sensitive to other load on the machine",
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "machine": {
            "cpus": os.cpu_count(),
            "gpus": [d.name for d in tf.config.list_logical_devices("GPU")],
            "loadavg_before": [round(v, 2) for v in load_before],
            "loadavg_after": [round(v, 2) for v in os.getloadavg()],
            "python": platform.python_version(),
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
        },
    }
    print(json.dumps(out, indent=2))
    if args.out is not None:
        save_json(args.out, out)
    return out


if __name__ == "__main__":
    main()

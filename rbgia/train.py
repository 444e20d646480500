"""The paper's training protocol, resumable checkpoints, and a shared model cache.

Protocol (Koo et al. 2020): MSE loss, Adam (lr 1e-3), batch 100; after each epoch
the validation Pearson r; learning rate x0.3 after 7 epochs without improvement;
stop after 25; keep the weights of the best epoch.

Reproducibility: the shuffle and the dropout streams of epoch ``e`` are derived
from ``(seed, e)``, so a run resumed from its checkpoint replays exactly what an
uninterrupted run would have done.
"""

from __future__ import annotations

import inspect
import json
import math
import numbers
import os
import time
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._io import _to_builtin, atomic_path, load_json, save_json, write_text
from .config import TrainConfig
from .data import Split
from .errors import DataError, ModelError, NonFiniteOutputError
from .evaluate import evaluate, pearson
from .paths import require_writable_dir, user_path
from .results import results_path, write_results

CHECKPOINT_FILE = "checkpoint.npz"
HISTORY_FILE = "history.csv"
_FORMAT = 1


@dataclass(frozen=True)
class FitResult:
    """What :func:`fit` did.

    Attributes
    ----------
    history
        One row per epoch: ``epoch`` (1-based), ``loss``, ``valid_mse``,
        ``valid_pearson``, ``lr``, ``seconds`` (the whole epoch), ``valid_seconds``
        (its validation part).
    best_epoch
        1-based epoch whose weights the model holds (0 if none improved).
    best_valid_pearson
        Validation Pearson r of that epoch.
    stopped_early
        Whether training stopped for lack of improvement.
    finished
        False when the call returned early (``max_epochs_this_call``) and the
        model holds the last epoch's weights, not the best ones.
    epochs_run
        Epochs done in total, over all calls.
    resumed_from
        Epochs already done when this call started (0 for a fresh run).
    seconds
        Wall time of this call.
    train_seq_per_s
        Training throughput of this call, per-epoch validation included.
    checkpoint_dir
        Where the checkpoint lives, if any.
    """

    history: pd.DataFrame
    best_epoch: int
    best_valid_pearson: float
    stopped_early: bool
    finished: bool
    epochs_run: int
    resumed_from: int
    seconds: float
    train_seq_per_s: float
    checkpoint_dir: Path | None = field(default=None)


# --------------------------------------------------------------------------- helpers


def _check_number(name: str, value: Any, *, integer: bool, low: float, high: float = math.inf,
                  low_open: bool = False) -> None:
    """One-line :class:`ModelError` for a numeric argument of the wrong type or out of range."""
    kind = numbers.Integral if integer else numbers.Real
    what = "an int" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ModelError(f"{name}={value!r} ({type(value).__name__}) is not {what}; pass {what}, e.g. {name}=10")
    lo = f"> {low:g}" if low_open else f">= {low:g}"
    rng = lo if high == math.inf else f"in ({low:g}, {high:g}]" if low_open else f"in [{low:g}, {high:g}]"
    if not (math.isfinite(float(value)) and (value > low if low_open else value >= low) and value <= high):
        raise ModelError(f"{name}={value!r} is out of range; pass {what} {rng}")


def _check_fit_args(**args: Any) -> None:
    """Check :func:`fit`'s numeric arguments (those given) before any work."""
    rules: dict[str, dict[str, Any]] = {
        "epochs": {"integer": True, "low": 0}, "batch_size": {"integer": True, "low": 1},
        "lr": {"integer": False, "low": 0, "low_open": True},
        "lr_decay": {"integer": False, "low": 0, "high": 1, "low_open": True},
        "decay_patience": {"integer": True, "low": 0}, "patience": {"integer": True, "low": 0},
        "min_delta": {"integer": False, "low": 0}, "seed": {"integer": True, "low": 0},
        "valid_batch_size": {"integer": True, "low": 1}, "max_epochs_this_call": {"integer": True, "low": 0},
    }
    for name, value in args.items():
        if name in rules and not (name == "max_epochs_this_call" and value is None):
            _check_number(name, value, **rules[name])


def _diverged(epoch: int, what: str, lr: float) -> ModelError:
    return ModelError(f"training diverged at epoch {epoch}: the {what} became non-finite (lr={lr:g}); "
                      f"lower the learning rate (e.g. lr={lr / 10:g}); nothing was saved for this epoch")


def check_inputs(model: Any, x: np.ndarray, what: str = "data") -> None:
    """Raise :class:`ModelError` when ``x`` does not fit the model's input."""
    x = np.asarray(x)
    if x.ndim != 3:
        raise ModelError(f"{what} has shape {x.shape}; give one-hot arrays (N, L, C)")
    shape = getattr(model, "input_shape", None)
    if not (isinstance(shape, tuple) and len(shape) == 3):
        return
    if shape[-1] is not None and shape[-1] != x.shape[-1]:
        raise ModelError(
            f"the model expects {shape[-1]} input channels but the {what} has {x.shape[-1]}; "
            f"load the data with the inputs the model was built for (4 = seq, 6 = pu, 9 = phime) "
            f"or build the model with input_shape=(L, {x.shape[-1]})"
        )
    if shape[1] is not None and shape[1] != x.shape[1]:
        raise ModelError(
            f"the model expects sequences of length {shape[1]} but the {what} has {x.shape[1]}; "
            f"pad or trim the probes to {shape[1]} nt"
        )


def _forward(model: Any, batch_size: int) -> Callable[[np.ndarray], np.ndarray]:
    """Compiled ``(N, L, C) -> (N,)`` for the first output (XLA programs cached per model)."""
    from .inference import as_predict

    return as_predict(model, task=0, batch_size=batch_size)


def _xy(split: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    x, y = Split.xy(split, None, f"data.{name}")  # every score column, as the model has outputs
    return x, y.astype(np.float32)


def _seed_states(model: Any) -> list[Any]:
    """The dropout layers' random-state variables (in ``variables``, not ``weights``)."""
    weights = {id(v) for v in model.weights}
    return [v for v in model.variables if id(v) not in weights]


def _epoch_rng(seed: int, epoch: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), int(epoch), 0x5EED])


def _set_epoch_seeds(states: list[Any], seed: int, epoch: int) -> None:
    if not states:
        return
    draws = np.random.default_rng([int(seed), int(epoch), 0xD50]).integers(1, 2**31 - 1, size=len(states))
    for var, s in zip(states, draws):
        value = np.zeros(var.shape, dtype=var.dtype)
        value.reshape(-1)[0] = s
        var.assign(value)


# ------------------------------------------------------------------ checkpoint I/O


def _write_checkpoint(ckdir: Path, model: Any, opt: Any, best: list[np.ndarray] | None, state: dict) -> None:
    arrays: dict[str, np.ndarray] = {}
    for i, v in enumerate(model.variables):
        arrays[f"model_{i}"] = np.asarray(v.numpy())
    for i, v in enumerate(opt.variables):
        arrays[f"opt_{i}"] = np.asarray(v.numpy())
    for i, w in enumerate(best or []):
        arrays[f"best_{i}"] = w
    arrays["state"] = np.frombuffer(json.dumps(state).encode(), dtype=np.uint8)
    with atomic_path(ckdir / CHECKPOINT_FILE) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
    history = pd.DataFrame(state["history"])
    write_text(ckdir / HISTORY_FILE, history.to_csv(index=False))


def _read_checkpoint(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    fix = f"delete {path.parent} or call fit with resume=False to start over"
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        state = json.loads(arrays.pop("state").tobytes().decode())
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise ModelError(f"checkpoint {path} is unreadable ({type(exc).__name__}: {exc}); {fix}") from exc
    if state.get("format") != _FORMAT:
        raise ModelError(f"checkpoint {path} has format {state.get('format')!r}, expected {_FORMAT}; {fix}")
    return state, arrays


def _restore(path: Path, arrays: dict, model: Any, opt: Any) -> list[np.ndarray] | None:
    fix = f"delete {path.parent} or call fit with resume=False to start over"
    groups = {"model": model.variables, "opt": opt.variables}
    for prefix, variables in groups.items():
        saved = [arrays.get(f"{prefix}_{i}") for i in range(len(variables))]
        extra = sum(1 for k in arrays if k.startswith(prefix + "_")) - len(variables)
        bad = [i for i, (v, a) in enumerate(zip(variables, saved)) if a is None or tuple(a.shape) != tuple(v.shape)]
        if bad or extra:
            raise ModelError(f"checkpoint {path} was written for a different model ({prefix} variables differ); {fix}")
    for prefix, variables in groups.items():
        for i, v in enumerate(variables):
            v.assign(arrays[f"{prefix}_{i}"])
    n_best = sum(1 for k in arrays if k.startswith("best_"))
    return [arrays[f"best_{i}"] for i in range(n_best)] if n_best else None


# ---------------------------------------------------------------------------- fit


def fit(
    model: Any,
    data: Any,
    *,
    epochs: int = 300,
    batch_size: int = 100,
    lr: float = 1e-3,
    lr_decay: float = 0.3,
    decay_patience: int = 7,
    patience: int = 25,
    min_delta: float = 0.0,
    checkpoint_dir: str | os.PathLike | None = None,
    resume: bool | None = None,
    seed: int = 0,
    deterministic: bool = False,
    jit_compile: bool | None = None,
    valid_batch_size: int = 1024,
    max_epochs_this_call: int | None = None,
    on_epoch_end: Callable[[int, dict], None] | None = None,
    verbose: int = 1,
) -> FitResult:
    """Train ``model`` on ``data.train``, selecting by Pearson r on ``data.valid``.

    Parameters
    ----------
    model
        A Keras model mapping ``(N, L, C)`` to ``(N, T)``; trained in place.
    data
        An :class:`rbgia.data.RNAcompeteData` (anything with ``.train`` and
        ``.valid`` having ``.x`` and ``.y``).
    epochs
        Maximum number of epochs (in total, over resumed calls).
    batch_size, lr
        Mini-batch size and Adam's initial learning rate.
    lr_decay, decay_patience
        Multiply the learning rate by ``lr_decay`` after ``decay_patience`` epochs
        without improvement of the validation Pearson r.
    patience
        Stop after this many epochs without improvement.
    min_delta
        Smallest increase of the validation Pearson r that counts as improvement.
    checkpoint_dir
        Directory for ``checkpoint.npz`` (weights, optimizer state, best weights,
        epoch, history, seeds; written atomically every epoch) and ``history.csv``.
    resume
        ``None``: resume when a checkpoint exists; ``True``: a checkpoint must exist;
        ``False``: start over (the checkpoint is overwritten).
    seed
        Shuffling and dropout of epoch ``e`` derive from ``(seed, e)``. The initial
        weights are the model's own (build it with ``seed=`` for reproducible runs).
    deterministic
        Call ``tf.config.experimental.enable_op_determinism()`` (process-wide, can't
        be undone; slows some GPU kernels). CPU runs are reproducible without it.
    jit_compile
        Compile the training step with XLA; ``None``: only on a GPU (on CPU XLA
        training measured 2.2x slower). Validation inference is always compiled.
    valid_batch_size
        Batch size of the compiled validation forward.
    max_epochs_this_call
        Return (``finished=False``) after this many epochs; the checkpoint lets a
        later call carry on. Simulates an interruption.
    on_epoch_end
        Called as ``on_epoch_end(epoch, logs)`` after each epoch's checkpoint is
        written (``epoch`` 1-based).
    verbose
        0 silent, 1 one line per epoch.

    Returns
    -------
    FitResult
        The model holds the best epoch's weights when ``finished``.

    Raises
    ------
    ModelError
        Input channels that don't fit the model, an empty validation set, an
        unreadable or mismatched checkpoint.
    """
    import keras
    import tensorflow as tf

    t_call = time.perf_counter()
    _check_fit_args(epochs=epochs, batch_size=batch_size, lr=lr, lr_decay=lr_decay, decay_patience=decay_patience,
                    patience=patience, min_delta=min_delta, seed=seed, valid_batch_size=valid_batch_size,
                    max_epochs_this_call=max_epochs_this_call)
    if checkpoint_dir is not None:
        checkpoint_dir = require_writable_dir(checkpoint_dir, "checkpoint_dir")
    if not (hasattr(data, "train") and hasattr(data, "valid")):
        raise DataError(f"data is a {type(data).__name__}; pass an rbgia.data.RNAcompeteData (with .train and .valid)")
    x_tr, y_tr = _xy(data.train, "train")
    x_va, y_va = _xy(data.valid, "valid")
    if len(x_va) == 0:
        raise ModelError("the validation set is empty (valid_frac too small for this dataset); "
                         "load the data with a larger valid_frac")
    if len(x_tr) == 0:
        raise ModelError("the training set is empty; load a dataset with probes in set A")
    for name, arr in (("training inputs", x_tr), ("training scores", y_tr), ("validation inputs", x_va),
                      ("validation scores", y_va)):
        if not np.isfinite(arr).all():
            raise DataError(f"the {name} hold NaN/inf; drop those probes or recompute the channels before training")
    check_inputs(model, x_tr, "training data")
    check_inputs(model, x_va, "validation data")
    n_out = model.output_shape[-1]
    if y_tr.shape[1] != n_out or y_va.shape[1] != n_out:
        raise ModelError(f"the model has {n_out} outputs but the data has {y_tr.shape[1]} score columns; "
                         f"build the model with {y_tr.shape[1]} outputs")
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    if jit_compile is None:
        from .inference import _has_gpu

        jit_compile = _has_gpu()

    params = {
        "batch_size": batch_size, "lr": lr, "lr_decay": lr_decay, "decay_patience": decay_patience,
        "patience": patience, "min_delta": min_delta, "seed": seed,
        "n_train": len(x_tr), "n_valid": len(x_va), "input_shape": list(x_tr.shape[1:]),
    }
    opt = keras.optimizers.Adam(learning_rate=lr)
    opt.build(model.trainable_variables)
    states = _seed_states(model)

    ckdir = Path(checkpoint_dir) if checkpoint_dir is not None else None
    ckpath = ckdir / CHECKPOINT_FILE if ckdir is not None else None
    state = {"format": _FORMAT, "params": params, "epoch": 0, "best_epoch": 0, "best_valid_pearson": None,
             "wait": 0, "wait_lr": 0, "stopped_early": False, "history": []}
    best: list[np.ndarray] | None = None
    if resume and (ckpath is None or not ckpath.exists()):
        raise ModelError(f"resume=True but there is no checkpoint at {ckpath}; "
                         "pass resume=None to start fresh when none exists")
    if resume is not False and ckpath is not None and ckpath.exists():
        saved, arrays = _read_checkpoint(ckpath)
        diff = {k: (saved["params"].get(k), v) for k, v in params.items() if saved["params"].get(k) != v}
        if diff:
            raise ModelError(
                f"checkpoint {ckpath} was written with other settings {diff} (saved, now); "
                f"use the same settings, or delete {ckdir} / pass resume=False to start over"
            )
        best = _restore(ckpath, arrays, model, opt)
        state = saved
        if verbose:
            print(f"resuming from {ckpath} after epoch {state['epoch']}")
    resumed_from = int(state["epoch"])

    loss_sum = tf.Variable(0.0, dtype=tf.float32, trainable=False)

    # As in Keras: one trace for full batches, one (relaxed) for the last partial batch.
    @tf.function(reduce_retracing=True, jit_compile=jit_compile)
    def train_step(xb: Any, yb: Any) -> None:
        with tf.GradientTape() as tape:
            pred = model(xb, training=True)
            loss = tf.reduce_mean(tf.square(pred - yb))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply(grads, model.trainable_variables)
        loss_sum.assign_add(loss * tf.cast(tf.shape(xb)[0], tf.float32))

    predict_valid = _forward(model, valid_batch_size)
    # Batches come from a tf.data pipeline (gather + prefetch on its own thread): on
    # the shared 2-core CPU it measured ~15% faster than numpy batches fed from
    # Python. The arrays stay on the host, as in Keras.
    with tf.device("/CPU:0"):
        x_const, y_const = tf.constant(x_tr), tf.constant(y_tr)

    def batches(perm: np.ndarray) -> Any:
        ds = tf.data.Dataset.from_tensor_slices(perm).batch(batch_size)
        ds = ds.map(lambda i: (tf.gather(x_const, i), tf.gather(y_const, i)))
        return ds.prefetch(2)

    n_tr = len(x_tr)
    seqs_done = 0
    done_this_call = 0
    best_r = state["best_valid_pearson"] if state["best_valid_pearson"] is not None else -math.inf

    while state["epoch"] < epochs and not state["stopped_early"]:
        if max_epochs_this_call is not None and done_this_call >= max_epochs_this_call:
            break
        epoch = state["epoch"]  # 0-based index of the epoch about to run
        t0 = time.perf_counter()
        _set_epoch_seeds(states, seed, epoch)
        perm = _epoch_rng(seed, epoch).permutation(n_tr)
        loss_sum.assign(0.0)
        for xb, yb in batches(perm):
            train_step(xb, yb)
        t_valid = time.perf_counter()
        loss = float(loss_sum.numpy()) / n_tr
        # Diverged: stop before this epoch reaches the checkpoint or the best weights.
        if not math.isfinite(loss):
            raise _diverged(epoch + 1, "training loss", lr)
        try:
            p_va = predict_valid(x_va)  # raises on non-finite outputs
        except NonFiniteOutputError as exc:
            raise _diverged(epoch + 1, "validation predictions", lr) from exc
        r = pearson(y_va[:, 0], p_va)
        logs = {
            "epoch": epoch + 1,
            "loss": loss,
            "valid_mse": float(np.mean((p_va - y_va[:, 0]) ** 2)),
            "valid_pearson": r,
            "lr": float(np.asarray(opt.learning_rate)),
            "seconds": time.perf_counter() - t0,
            "valid_seconds": time.perf_counter() - t_valid,
        }
        state["history"].append(logs)
        seqs_done += n_tr
        done_this_call += 1
        state["epoch"] = epoch + 1
        if np.isfinite(r) and r > best_r + min_delta:
            best_r = r
            state.update(best_epoch=epoch + 1, best_valid_pearson=r, wait=0, wait_lr=0)
            best = [np.array(w) for w in model.get_weights()]
        else:
            state["wait"] += 1
            state["wait_lr"] += 1
            if state["wait_lr"] >= decay_patience:
                opt.learning_rate.assign(float(np.asarray(opt.learning_rate)) * lr_decay)
                state["wait_lr"] = 0
            if state["wait"] >= patience:
                state["stopped_early"] = True
        if verbose:
            print(
                f"epoch {epoch + 1:3d}  loss {logs['loss']:.4f}  valid r {r:.4f}  "
                f"lr {logs['lr']:.2e}  {logs['seconds']:.1f}s" + ("  *" if state["best_epoch"] == epoch + 1 else ""),
                flush=True,
            )
        if ckdir is not None:
            _write_checkpoint(ckdir, model, opt, best, state)
        if on_epoch_end is not None:
            on_epoch_end(epoch + 1, logs)

    finished = state["epoch"] >= epochs or state["stopped_early"]
    if finished and best is not None:
        model.set_weights(best)
    seconds = time.perf_counter() - t_call
    history = pd.DataFrame(state["history"],
                           columns=["epoch", "loss", "valid_mse", "valid_pearson", "lr", "seconds", "valid_seconds"])
    return FitResult(
        history=history,
        best_epoch=int(state["best_epoch"]),
        best_valid_pearson=float("nan") if state["best_valid_pearson"] is None else float(state["best_valid_pearson"]),
        stopped_early=bool(state["stopped_early"]),
        finished=bool(finished),
        epochs_run=int(state["epoch"]),
        resumed_from=resumed_from,
        seconds=seconds,
        train_seq_per_s=seqs_done / seconds if seqs_done else float("nan"),
        checkpoint_dir=ckdir,
    )


# ----------------------------------------------------------------- saving, cache


def save_model(model: Any, path: str | os.PathLike, metadata: dict | None = None) -> Path:
    """Save ``model`` in native ``.keras`` format, with ``metadata`` as ``<path>.json``.

    Both files are written atomically (the model first, so metadata never
    describes a model that is not there).
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ModelError(f"model path {path} does not end in .keras; use the native .keras format")
    with atomic_path(path) as tmp:
        model.save(tmp)
    save_json(Path(f"{path}.json"), dict(metadata or {}))
    return path


def load_model(path: str | os.PathLike) -> tuple[Any, dict]:
    """Load a model saved by :func:`save_model`; returns ``(model, metadata)``."""
    import keras

    path = Path(path)
    if not path.exists():
        raise ModelError(f"no model at {path}; train one with rbgia.train.train_or_load or check the path")
    try:
        model = keras.saving.load_model(path, compile=False)
    except Exception as exc:  # Keras raises many kinds on a damaged archive
        raise ModelError(f"model file {path} is unreadable ({type(exc).__name__}); delete it and train again") from exc
    meta_path = Path(f"{path}.json")
    metadata = load_json(meta_path, fix=f"delete {path} and {meta_path} and train again") if meta_path.exists() else {}
    return model, metadata


def _jsonable(obj: Any) -> Any:
    """What the metadata reads like after a round trip through disk (NaN -> None)."""
    return json.loads(json.dumps(_to_builtin(obj), default=str))


# fit arguments that do not change which model comes out (or are train_or_load's own)
_NOT_IDENTITY = ("verbose", "on_epoch_end", "max_epochs_this_call", "valid_batch_size", "deterministic", "jit_compile")


def _fit_defaults() -> dict[str, Any]:
    """The training settings of :func:`fit` (not ``epochs``, ``patience``, ``seed``) with their defaults."""
    keep = ("batch_size", "lr", "lr_decay", "decay_patience", "min_delta")
    return {k: p.default for k, p in inspect.signature(fit).parameters.items() if k in keep}


def _say(message: str) -> None:
    """One line about what the model cache did: always shown (``verbose`` only governs per-epoch lines)."""
    print(f"rbgia.train: {message}", flush=True)


def _identity(params: Mapping[str, Any]) -> dict[str, Any]:
    """What makes two cached models the same model: every parameter but the epoch budget."""
    return {k: v for k, v in params.items() if k != "epochs"}


def _epochs_done(meta: Mapping[str, Any]) -> dict[str, Any]:
    """Epochs of a cached model: ``trained_for`` (its budget), ``run``, ``best``, ``stopped_early``."""
    metrics = meta.get("metrics") or {}
    run = int(metrics.get("epochs_run") or 0)
    return {"trained_for": int((meta.get("params") or {}).get("epochs") or run), "run": run,
            "best": metrics.get("best_epoch"), "stopped_early": bool(metrics.get("stopped_early"))}


def _with_request(meta: dict, epochs: int) -> dict:
    """``meta`` of a loaded model with this call's request in ``meta["epochs"]`` (the file is not changed)."""
    done = _epochs_done(meta)
    return {**meta, "epochs": {"requested": epochs, "trained_for": done["trained_for"], "run": done["run"],
                               "best": done["best"], "stopped_early": done["stopped_early"]}}


def train_or_load(
    data_dir: str | os.PathLike,
    experiment: str,
    config: TrainConfig | Mapping[str, Any] | str | None = None,
    *,
    normalization: str | None = None,
    inputs: str | None = None,
    variant: str | None = None,
    seed: int | None = None,
    results_dir: str | os.PathLike = "results",
    epochs: int = 300,
    patience: int = 25,
    valid_frac: float = 0.1,
    data_seed: int = 0,
    stats: str = "train",
    clip_rule: str = "quantile",
    max_probes: int | None = None,
    retrain: bool = False,
    verbose: int = 1,
    **fit_kwargs: Any,
) -> tuple[Any, dict, Any]:
    """The model cache notebooks share: load the dataset, then reuse or train ResidualBind.

    The model lives at ``results_dir/<experiment>/models/<config.tag>.keras`` with its metadata beside it
    (``.keras.json``) and its checkpoint under ``results_dir/<experiment>/checkpoints/<config.tag>/``. A cached
    model made from the same data files (fingerprint) and settings (everything but ``epochs``) is

    - loaded unchanged (files untouched) when ``epochs`` is no more than it was trained for, or it stopped early:
      a cached model is never replaced by a less-trained one unless ``retrain=True``;
    - trained on from its checkpoint when more ``epochs`` are asked for.

    Other settings or data train a new model. One line (shown whatever ``verbose``) says what was done and why.

    Parameters
    ----------
    data_dir, experiment, valid_frac, stats, clip_rule, max_probes
        Passed to :func:`rbgia.data.load_rnacompete` (with ``seed=data_seed``).
    config
        The training configuration (:class:`rbgia.config.TrainConfig`, a mapping or a tag);
        ``normalization``, ``inputs``, ``variant``, ``seed`` may be given as keywords instead.
        ``seed`` seeds the initial weights and the training run.
    results_dir
        Root of the cache.
    epochs, patience, **fit_kwargs
        Passed to :func:`fit` (checked before any work).
    retrain
        Ignore a cached model and its checkpoint: train from scratch, replacing them.
    verbose
        1: one line per epoch while training.

    Returns
    -------
    (keras.Model, dict, RNAcompeteData)
        The model, its metadata and the dataset. The metadata holds ``params``, ``config``, ``metrics``
        (``test_pearson``, ``best_epoch``, ``epochs_run``, ``stopped_early``, ...), ``history`` (the CSV path) and
        ``epochs``: ``requested`` (this call), ``trained_for`` (the model's epoch budget), ``run``, ``best``,
        ``stopped_early``.

    Raises
    ------
    ModelError
        A bad numeric argument, or a training that diverged (non-finite loss or predictions).
    DataError
        ``results_dir`` is not writable while a model must be trained; a truncated metadata or params file.
    """
    cfg = TrainConfig.coerce(config, normalization=normalization, inputs=inputs, variant=variant, seed=seed)
    _check_fit_args(epochs=epochs, patience=patience, **fit_kwargs)
    from . import data as rdata
    from .model import residualbind

    exp_dir = user_path(results_dir) / experiment
    path = exp_dir / "models" / f"{cfg.tag}.keras"
    meta_path = Path(f"{path}.json")
    ckdir = exp_dir / "checkpoints" / cfg.tag
    params_file = ckdir / "params.json"
    if not (path.is_file() and meta_path.is_file()):
        require_writable_dir(results_dir, "results_dir")  # training is certain: say so before loading data
    dataset = rdata.load_rnacompete(
        data_dir, experiment, normalization=cfg.normalization, inputs=cfg.inputs, valid_frac=valid_frac,
        seed=data_seed, stats=stats, clip_rule=clip_rule, max_probes=max_probes,
    )
    params = _jsonable({
        "data_dir": str(user_path(data_dir).resolve()), "experiment": experiment, **cfg.as_dict(),
        "valid_frac": valid_frac, "data_seed": data_seed, "stats": stats, "clip_rule": clip_rule,
        **({"max_probes": max_probes} if max_probes is not None else {}),
        "data_key": dataset.info.get("key") if hasattr(dataset, "info") else None,
        "epochs": epochs, "patience": patience,
        # fit's defaults spelled in, so a model trained with decay_patience=7 given matches one trained without
        **{k: fit_kwargs.get(k, v) for k, v in _fit_defaults().items()},
        **{k: v for k, v in sorted(fit_kwargs.items()) if k not in _NOT_IDENTITY},
    })
    retrain_fix = "pass retrain=True to train it again"
    resume: bool | None = None
    if retrain:
        resume, why = False, "retrain=True: training"
    elif path.is_file() and meta_path.is_file():
        old = load_json(meta_path, fix=f"delete {path} and {meta_path}, or {retrain_fix}")
        old_params = old.get("params") if isinstance(old, dict) else None
        diff = sorted(k for k in {*_identity(params), *_identity(old_params or {})}
                      if _identity(params).get(k) != _identity(old_params or {}).get(k))
        if not diff:
            done = _epochs_done(old)
            if epochs <= done["trained_for"] or done["stopped_early"]:
                # Never replace a cached model by a less-trained one: load it, files untouched.
                model, meta = load_model(path)
                check_inputs(model, dataset.test.x, "dataset")
                fewer = epochs < done["trained_for"] and not done["stopped_early"]
                _say(f"loaded {path}: trained for {done['trained_for']} epochs ({done['run']} run, best "
                     f"{done['best']}{', stopped early' if done['stopped_early'] else ''}), {epochs} requested"
                     + (f"; {retrain_fix} for {epochs} epochs" if fewer else ""))
                return model, _with_request(meta, epochs), dataset
            resume, why = (True if (ckdir / CHECKPOINT_FILE).is_file() else None), (
                f"{path} has {done['run']} epochs, {epochs} requested: resuming")
        else:
            resume, why = False, f"{path} was trained with other {', '.join(diff)}: training again"
    else:
        why = f"no model at {path}: training"
    if resume is None and params_file.is_file():
        saved = load_json(params_file, fix=f"delete {ckdir}, or {retrain_fix}")
        if _identity(saved if isinstance(saved, dict) else {}) != _identity(params):
            resume = False  # the checkpoint belongs to other settings
        elif (ckdir / CHECKPOINT_FILE).is_file():
            why += " (resuming its checkpoint)"
    require_writable_dir(results_dir, "results_dir")
    _say(f"{why} {cfg.tag} for {epochs} epochs")
    save_json(params_file, params)
    model = residualbind(dataset.train.x.shape[1:], cfg.variant, seed=cfg.seed)
    result = fit(model, dataset, epochs=epochs, patience=patience, seed=cfg.seed, checkpoint_dir=ckdir,
                 resume=resume, verbose=verbose, **fit_kwargs)
    epochs_meta = {"requested": epochs, "trained_for": epochs, "run": result.epochs_run, "best": result.best_epoch,
                   "stopped_early": result.stopped_early}
    if not result.finished:
        # An interrupted call (max_epochs_this_call): nothing to cache yet.
        return model, {"params": params, "finished": False, "epochs_run": result.epochs_run,
                       "epochs": epochs_meta}, dataset
    test = evaluate(model, dataset.test)
    import keras

    meta = _jsonable({
        "params": params,
        "experiment": experiment, **cfg.as_dict(), "config": cfg.as_dict(),
        "data_dir": params["data_dir"], "transform": getattr(dataset, "transform", None),
        "metrics": {
            "test_pearson": test["pearson"], "test_spearman": test["spearman"],
            "n_test": test["n"], "best_valid_pearson": result.best_valid_pearson,
            "best_epoch": result.best_epoch, "epochs_run": result.epochs_run, "stopped_early": result.stopped_early,
        },
        "epochs": epochs_meta,
        "n_params": int(model.count_params()),
        "history": str(ckdir / HISTORY_FILE),
        "versions": {"keras": keras.__version__, "numpy": np.__version__},
        "finished": True,
    })
    save_model(model, path, meta)
    _say(f"saved {path}: {result.epochs_run} epochs run, best {result.best_epoch}"
         f"{', stopped early' if result.stopped_early else ''} (test r = {meta['metrics']['test_pearson']})")
    return model, meta, dataset


# --------------------------------------------------------------------------- training records


@dataclass(frozen=True)
class TrainedConfig:
    """One training configuration of one experiment, evaluated and recorded.

    Attributes
    ----------
    record
        What was written to ``path`` (see :func:`train_and_record`).
    path
        The JSON record.
    model
        The ResidualBind Keras model (``None`` when the record was reused unloaded).
    data
        The :class:`rbgia.data.RNAcompeteData` it was trained on (``None`` likewise).
    history
        Per-epoch training history (``epoch``, ``loss``, ``valid_pearson``, ``lr``, ...),
        as :func:`rbgia.plotting.learning_curves` reads it.
    baselines
        Fitted baseline predictors by name (``kmer_ridge``, ``shallow_cnn``) when trained.
    """

    record: dict
    path: Path
    model: Any = None
    data: Any = None
    history: pd.DataFrame = field(default_factory=pd.DataFrame)
    baselines: dict = field(default_factory=dict)


TRAIN_NOTEBOOK = "02_residualbind"


def _history(meta: Mapping[str, Any]) -> pd.DataFrame:
    path = meta.get("history")
    if not path or not Path(path).is_file():
        return pd.DataFrame(columns=["epoch", "loss", "valid_pearson", "lr"])
    return pd.read_csv(path)


def _metrics(predict: Any, split: Any) -> dict[str, float]:
    m = evaluate(predict, split)
    return {"test_pearson": m["pearson"], "test_spearman": m["spearman"]}


def train_and_record(
    data_dir: str | os.PathLike,
    experiment: str,
    config: TrainConfig | Mapping[str, Any] | str | None = None,
    *,
    normalization: str | None = None,
    inputs: str | None = None,
    variant: str | None = None,
    seed: int | None = None,
    results_dir: str | os.PathLike = "results",
    epochs: int = 10,
    patience: int = 25,
    decay_patience: int = 7,
    max_probes: int | None = None,
    baselines: bool = True,
    kmer_k: Sequence[int] = (1, 2, 3, 4, 5, 6),
    kmer_alpha: Sequence[float] = (0.1, 1.0, 10.0, 100.0),
    cnn_epochs: int | None = None,
    reuse_record: bool = False,
    notebook: str = TRAIN_NOTEBOOK,
    verbose: int = 0,
) -> TrainedConfig:
    """Train (or load, via :func:`train_or_load`) ResidualBind for one
    configuration, fit the baselines on the same split, evaluate on set B and write
    the record ``results_dir/<experiment>/<notebook>.<config_tag>.json``.

    The record holds ``config``, ``data_dir``, ``n_train``/``n_valid``/``n_test``,
    ``test_pearson``, ``test_spearman``, ``valid_pearson`` (best epoch), the epochs used:
    ``epochs`` (requested by this call), ``epochs_trained_for`` (the model's budget: more
    when a longer-trained cached model was loaded), ``epochs_run``, ``best_epoch``,
    ``stopped_early``; ``patience``, ``decay_patience``, ``transform`` (fitted on the training split) and,
    with ``baselines``, ``baselines.kmer_ridge`` / ``baselines.shallow_cnn`` (each
    ``test_pearson``, ``test_spearman``) - the schema :func:`collect` flattens.

    Parameters
    ----------
    data_dir, experiment, config, normalization, inputs, variant, seed, results_dir, epochs, max_probes
        As in :func:`train_or_load` (the model cache is shared).
    patience, decay_patience
        Early stopping and learning-rate decay patience (epochs without improvement), passed to
        :func:`fit`; the record keeps them with ``stopped_early`` (early stopping reached).
    baselines
        Also fit ridge regression on k-mer counts (``kmer_k``, ``kmer_alpha`` chosen on
        validation) and a shallow DeepBind-like CNN (``cnn_epochs``, default ``epochs``).
    reuse_record
        Return an existing record without loading anything when it was made from the
        same data folder (with any ``epochs``: the record says which) and has baselines
        if asked for.
    verbose
        Passed to training (1: one line per epoch).
    """
    from .data import fingerprint

    cfg = TrainConfig.coerce(config, normalization=normalization, inputs=inputs, variant=variant, seed=seed)
    _check_fit_args(epochs=epochs, patience=patience, decay_patience=decay_patience)
    if cnn_epochs is not None:
        _check_number("cnn_epochs", cnn_epochs, integer=True, low=0)
    config = cfg.as_dict()
    path = results_path(results_dir, experiment, notebook, config)
    data_key = str(Path(data_dir).resolve())
    files_key = fingerprint(data_dir, experiment)
    if reuse_record and path.is_file():
        old = load_json(path)
        # Any epochs: a record from a longer run (the workflow's) is better, not stale;
        # but data files rewritten since make it stale.
        if (old.get("data_dir"), old.get("data_fingerprint")) == (data_key, files_key) and (
            not baselines or old.get("baselines")
        ):
            return TrainedConfig(old, path)
    require_writable_dir(path.parent, "results_dir")  # before training, not when the record is written
    model, meta, data = train_or_load(data_dir, experiment, cfg, results_dir=results_dir, epochs=int(epochs),
                                      patience=int(patience), decay_patience=int(decay_patience),
                                      max_probes=max_probes, verbose=verbose)
    metrics = meta.get("metrics", {})
    epochs_used = meta.get("epochs") or _with_request(meta, int(epochs))["epochs"]
    record: dict[str, Any] = {
        "data_dir": data_key,
        "data_fingerprint": files_key,
        "epochs": int(epochs),
        "n_train": len(data.train.x),
        "n_valid": len(data.valid.x),
        "n_test": len(data.test.x),
        "test_pearson": metrics.get("test_pearson"),
        "test_spearman": metrics.get("test_spearman"),
        "valid_pearson": metrics.get("best_valid_pearson"),
        "best_epoch": epochs_used["best"],
        "epochs_run": epochs_used["run"],
        "epochs_trained_for": epochs_used["trained_for"],
        "patience": int(patience),
        "decay_patience": int(decay_patience),
        "stopped_early": bool(epochs_used["stopped_early"]),
        "n_params": meta.get("n_params"),
        "transform": {k: data.transform.get(k)
                      for k in ("normalization", "stats", "clip_rule", "min", "clip", "mean", "sd")},
    }
    fitted: dict[str, Any] = {}
    if baselines:
        from .baselines import KmerRidge
        from .model import deepbind_cnn

        ridge = KmerRidge(k=tuple(kmer_k), alpha=list(kmer_alpha)).fit(data.train, data.valid)
        cnn = deepbind_cnn(data.train.x.shape[1:], seed=cfg.seed)
        cnn_fit = fit(cnn, data, epochs=int(cnn_epochs or epochs), seed=cfg.seed, verbose=0)
        fitted = {"kmer_ridge": ridge, "shallow_cnn": cnn}
        record["baselines"] = {
            "kmer_ridge": {**_metrics(ridge, data.test), "k": list(kmer_k), "alpha": ridge.alpha_},
            "shallow_cnn": {**_metrics(cnn, data.test), "epochs": cnn_fit.epochs_run,
                            "valid_pearson": cnn_fit.best_valid_pearson},
        }
    write_results(results_dir, experiment, notebook, record, config)
    return TrainedConfig(load_json(path), path, model, data, _history(meta), fitted)

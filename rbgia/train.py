"""The paper's training protocol: the fit loop, resumable from its checkpoints (:mod:`rbgia.checkpoint`).

Protocol (Koo et al. 2020): MSE loss, Adam (lr 1e-3), batch 100; after each epoch
the validation Pearson r; learning rate x0.3 after 7 epochs without improvement;
stop after 25; keep the weights of the best epoch.

Reproducibility: the shuffle and the dropout streams of epoch ``e`` are derived
from ``(seed, e)``, so a run resumed from its checkpoint replays exactly what an
uninterrupted run would have done.
"""

from __future__ import annotations

import difflib
import inspect
import math
import numbers
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .checkpoint import CHECKPOINT_FILE, CHECKPOINT_FORMAT, _read_checkpoint, _restore, _write_checkpoint
from .data import Split
from .errors import DataError, ModelError, NonFiniteOutputError
from .evaluate import pearson
from .paths import require_writable_dir


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
    task_best_epoch, task_best_valid_pearson, task_weights
        Multi-task runs (scores with several columns): per output, the 1-based epoch of its best validation r
        (0 if none), that r, and the model's weights at that epoch (``None`` where none improved); ``None`` for a
        one-output run. The model itself holds the epoch of the best mean r over the outputs.
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
    task_best_epoch: tuple[int, ...] | None = None
    task_best_valid_pearson: tuple[float, ...] | None = None
    task_weights: tuple[list[np.ndarray] | None, ...] | None = None

    @property
    def plateau(self) -> Plateau:
        """Whether this run's validation r has plateaued (:func:`plateau`)."""
        return plateau(self.history["valid_pearson"], self.stopped_early)


PLATEAU_WINDOW = 3  # epochs over which the best validation r must stop gaining
PLATEAU_GAIN = 0.003  # a gain of the best validation r below this over the window: plateaued


@dataclass(frozen=True)
class Plateau:
    """Whether a training run's validation Pearson r has plateaued (:func:`plateau`).

    Attributes
    ----------
    plateaued
        Early stopping was reached, or the best validation r gained less than ``min_gain`` over the last
        ``window`` epochs.
    gain
        The best validation r over all epochs minus the best before the last ``window`` ones (``None`` when
        there are too few epochs, or no finite r, to tell).
    epochs_run, stopped_early
        As in :class:`FitResult`.
    reason
        The rule's outcome in words, for a table or a caption.
    """

    plateaued: bool
    gain: float | None
    epochs_run: int
    stopped_early: bool
    reason: str

    @property
    def note(self) -> str:
        """``""`` for a plateaued run, else ``"not plateaued (...)"``, for a caption."""
        return "" if self.plateaued else f"not plateaued ({self.reason})"


def plateau(valid_pearson: Any, stopped_early: bool = False, *, window: int = PLATEAU_WINDOW,
            min_gain: float = PLATEAU_GAIN) -> Plateau:
    """Whether the validation r of a run (one value per epoch, in order) has plateaued.

    A run has plateaued when early stopping was reached, or when the best validation r of all its epochs is
    less than ``min_gain`` above the best of the epochs before its last ``window``. A run of ``window`` epochs
    or fewer cannot tell, and has not plateaued. NaN epochs count as no improvement.
    """
    r = np.asarray(valid_pearson, dtype=np.float64).ravel()
    n = int(r.size)
    if stopped_early:
        return Plateau(True, None, n, True, "early stopping reached")
    if n <= window:
        return Plateau(False, None, n, False, f"{n} epoch{'s' * (n != 1)} run: too few to tell, it takes more "
                                              f"than {window}")
    r = np.where(np.isfinite(r), r, -np.inf)
    before, best = float(r[:-window].max()), float(r.max())
    if not np.isfinite(best):
        return Plateau(False, None, n, False, "no finite validation r")
    gain = best - before if np.isfinite(before) else math.inf
    if gain < min_gain:
        return Plateau(True, gain, n, False, f"validation r gained {gain:+.4f} over its last {window} epochs, "
                                             f"under {min_gain:g}")
    return Plateau(False, gain, n, False, f"validation r still gained {gain:+.3f} over its last {window} of "
                                          f"{n} epochs")


#: Training protocols: :func:`fit` settings by name (:func:`protocol`). ``paper`` is Koo et al.'s: Adam 1e-3, batch
#: 100, learning rate x0.3 after 7 epochs without improvement, stop after 25. ``book`` is the paper's optimizer and
#: schedule with the stops a 2-core CPU affords: after 3 epochs without improvement, or once the plateau rule holds
#: (:func:`plateau`); until it stops, its epochs are the paper protocol's. ``large-batch`` (5x the batch, the rate
#: scaled after a one-epoch warm-up) is a measured alternative: on 2 CPU cores it was ~10% faster per epoch and
#: less accurate per epoch (``benchmarks/bench_time_to_accuracy.py``), so the book does not use it.
#: ``book-fast-decay`` is ``book`` with the rate x0.3 after 2 epochs without improvement, for multi-task trunks
#: (:mod:`rbgia.multitask`): the rate follows the outputs' mean validation r, which creeps up without ever stalling
#: for 7 epochs, so under ``book`` it never fell and the noisiest outputs were still gaining at the cap. (A
#: single-task ``book`` run stops after 3 epochs without improvement, before its 7-epoch decay can fire.)
_BOOK: dict[str, Any] = {"batch_size": 100, "lr": 1e-3, "lr_decay": 0.3, "decay_patience": 7, "patience": 3,
                         "stop_on_plateau": True}
PROTOCOLS: dict[str, dict[str, Any]] = {
    "paper": {"batch_size": 100, "lr": 1e-3, "lr_decay": 0.3, "decay_patience": 7, "patience": 25},
    "book": _BOOK,
    "book-fast-decay": {**_BOOK, "decay_patience": 2},
    "large-batch": {"batch_size": 500, "lr": 2e-3, "warmup_epochs": 1, "lr_decay": 0.3, "decay_patience": 2,
                    "patience": 6, "stop_on_plateau": True},
}


def protocol(name: str, **changes: Any) -> dict[str, Any]:
    """The :func:`fit` settings of protocol ``name`` (:data:`PROTOCOLS`), with ``changes`` (fit's names) applied.

    >>> protocol("paper")["batch_size"]
    100
    """
    if name not in PROTOCOLS:
        close = difflib.get_close_matches(str(name), list(PROTOCOLS), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ModelError(f"unknown training protocol {name!r}; {hint}use one of {list(PROTOCOLS)}")
    settings = {**PROTOCOLS[name], **changes}
    check_fit_args(**settings)
    return settings


def protocol_name(settings: Mapping[str, Any]) -> str:
    """The name in :data:`PROTOCOLS` whose settings ``settings`` (fit's names; missing ones take fit's defaults,
    ``stop_on_plateau`` and ``warmup_epochs`` off) are, else ``"custom"``."""
    defaults = {k: v.default for k, v in inspect.signature(fit).parameters.items()
                if k in {"batch_size", "lr", "lr_decay", "decay_patience", "patience", "warmup_epochs",
                         "stop_on_plateau"}}
    given = {**defaults, **{k: settings[k] for k in defaults if k in settings}}
    for name, p in PROTOCOLS.items():
        if {**defaults, **p} == {k: (bool(v) if k == "stop_on_plateau" else v) for k, v in given.items()}:
            return name
    return "custom"


#: What ends the protocol name of a model that is one output of a multi-task trunk (:mod:`rbgia.multitask`).
MULTI_TASK_SUFFIX = " multi-task"


def describe_protocol(name: str) -> str:
    """One line for a table: ``"paper (batch 100, Adam 0.001, x0.3 after 7, patience 25)"``; a name ending in
    ``" multi-task"`` (a training record's, :mod:`rbgia.multitask`) adds the shared trunk and its stop rule."""
    if name.endswith(MULTI_TASK_SUFFIX):
        base = describe_protocol(name.removesuffix(MULTI_TASK_SUFFIX)).removesuffix(")")
        return (f"{name}{base[base.index(' ('):]}; one ResidualBind trunk over several experiments, an output each, "
                "each output stopped and kept at its own best epoch)")
    p = protocol(name)
    words = [f"batch {p['batch_size']}", f"Adam {p['lr']:g}"]
    if p.get("warmup_epochs"):
        words.append(f"{p['warmup_epochs']}-epoch warm-up")
    words += [f"x{p['lr_decay']:g} after {p['decay_patience']}", f"patience {p['patience']}"]
    if p.get("stop_on_plateau"):
        words.append("stop on plateau")
    return f"{name} ({', '.join(words)})"


# --------------------------------------------------------------------------- helpers


def check_number(name: str, value: Any, *, integer: bool, low: float, high: float = math.inf,
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


# names users reach for that fit spells otherwise (Keras' own spelling first)
_FIT_ALIASES = {"learning_rate": "lr", "lr_patience": "decay_patience", "early_stopping_patience": "patience",
                "max_epochs": "epochs", "batch": "batch_size"}


def _unknown_setting(name: str, known: list[str]) -> ModelError:
    close = [_FIT_ALIASES[name]] if name in _FIT_ALIASES else difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    return ModelError(f"unknown training setting {name}=...; {hint}fit takes {', '.join(known)}")


def check_fit_args(**args: Any) -> None:
    """Check :func:`fit`'s arguments (those given) before any work: every name is one of fit's, every number
    in range (``epochs`` >= 1: zero epochs would leave an untrained model that reads as finished)."""
    known = [k for k in inspect.signature(fit).parameters if k not in ("model", "data")]
    for name in args:
        if name not in known:
            raise _unknown_setting(name, known)
    rules: dict[str, dict[str, Any]] = {
        "epochs": {"integer": True, "low": 1}, "batch_size": {"integer": True, "low": 1},
        "lr": {"integer": False, "low": 0, "low_open": True},
        "lr_decay": {"integer": False, "low": 0, "high": 1, "low_open": True},
        "decay_patience": {"integer": True, "low": 0}, "patience": {"integer": True, "low": 0},
        "min_delta": {"integer": False, "low": 0}, "seed": {"integer": True, "low": 0},
        "valid_batch_size": {"integer": True, "low": 1}, "max_epochs_this_call": {"integer": True, "low": 0},
        "warmup_epochs": {"integer": True, "low": 0},
    }
    for name, value in args.items():
        if name in rules and not (name == "max_epochs_this_call" and value is None):
            check_number(name, value, **rules[name])


# A loss this many times that of predicting 0 (or of the first epoch) is an explosion, not learning.
_EXPLODED = 1e3


def _diverged(epoch: int, what: str, lr: float) -> ModelError:
    """``what`` says what went wrong (``"the training loss became non-finite"``); ``lr`` is the current rate."""
    return ModelError(f"training diverged at epoch {epoch}: {what} (lr={lr:g}); "
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


def _forward_all(model: Any, batch_size: int) -> Callable[[np.ndarray], np.ndarray]:
    """``(N, L, C) -> (N, T)`` float64, every output (a multi-task model's validation); raises
    :class:`NonFiniteOutputError` on NaN or inf."""
    import tensorflow as tf

    call = tf.function(lambda x: model(x, training=False), reduce_retracing=True)

    def predict(x: np.ndarray) -> np.ndarray:
        out = np.concatenate([np.asarray(call(tf.constant(x[i:i + batch_size])))
                              for i in range(0, len(x), batch_size)]).astype(np.float64)
        if not np.isfinite(out).all():
            raise NonFiniteOutputError("the model returned NaN or inf")
        return out

    return predict


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


# ---------------------------------------------------------------------------- fit


def _checked_data(model: Any, data: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(x_train, y_train, x_valid, y_valid)`` of ``data``, checked against each other and the model."""
    if not (hasattr(data, "train") and hasattr(data, "valid")):
        raise DataError(f"data is a {type(data).__name__}; pass an rbgia.data.RNAcompeteData (with .train and .valid)")
    x_tr, y_tr = _xy(data.train, "train")
    x_va, y_va = _xy(data.valid, "valid")
    if len(x_va) == 0:
        raise ModelError("the validation set is empty (valid_frac too small for this dataset); "
                         "load the data with a larger valid_frac")
    if len(x_tr) == 0:
        raise ModelError("the training set is empty; load a dataset with probes in set A")
    masked = y_tr.shape[1] > 1  # several experiments' scores: NaN is a probe one did not measure, masked out
    for name, arr in (("training inputs", x_tr), ("training scores", y_tr), ("validation inputs", x_va),
                      ("validation scores", y_va)):
        bad = np.isinf(arr).any() if masked and "scores" in name else not np.isfinite(arr).all()
        if bad:
            raise DataError(f"the {name} hold NaN/inf; drop those probes or recompute the channels before training")
    if masked:
        for name, arr in (("training", y_tr), ("validation", y_va)):
            few = [j for j in range(arr.shape[1]) if np.isfinite(arr[:, j]).sum() < 2]
            if few:
                raise DataError(f"score columns {few} have fewer than 2 {name} scores; drop those experiments or "
                                "load them with more probes")
    check_inputs(model, x_tr, "training data")
    check_inputs(model, x_va, "validation data")
    n_out = model.output_shape[-1]
    if y_tr.shape[1] != n_out or y_va.shape[1] != n_out:
        raise ModelError(f"the model has {n_out} outputs but the data has {y_tr.shape[1]} score columns; "
                         f"build the model with {y_tr.shape[1]} outputs")
    return x_tr, y_tr, x_va, y_va


def _tf_settings(deterministic: bool, jit_compile: bool | None) -> bool:
    """Turn on op determinism if asked; whether to compile the training step with XLA."""
    from .model import require_tensorflow_backend

    require_tensorflow_backend()  # the training step is TensorFlow's: a model on another backend cannot take it
    import tensorflow as tf

    if deterministic:
        tf.config.experimental.enable_op_determinism()
    if jit_compile is None:
        from .inference import _has_gpu

        jit_compile = _has_gpu()
    return jit_compile


_HISTORY_COLUMNS = ["epoch", "loss", "valid_mse", "valid_pearson", "lr", "seconds", "valid_seconds"]


class _FitRun:
    """One call of :func:`fit`: the model, its optimizer and the data, and the run's state.

    ``state`` is what the checkpoint holds besides the weights (epoch done, best epoch and its r, the two patience
    counters, whether it stopped early, the history); ``best`` the best epoch's weights.
    """

    def __init__(self, model: Any, arrays: tuple[np.ndarray, ...], ckdir: Path | None, verbose: int, *,
                 batch_size: int, lr: float, lr_decay: float, decay_patience: int, patience: int, min_delta: float,
                 seed: int, warmup_epochs: int = 0, stop_on_plateau: bool = False) -> None:
        import keras

        self.model, self.ckdir, self.verbose = model, ckdir, verbose
        self.x_tr, self.y_tr, self.x_va, self.y_va = arrays
        # several score columns: a multi-task trunk, its loss masked where an experiment has no score
        self.n_tasks = int(self.y_tr.shape[1])
        self.masked = self.n_tasks > 1
        self.n_obs = int(np.isfinite(self.y_tr).sum()) if self.masked else len(self.x_tr)
        # the losses of predicting 0, what an exploded run is measured against (floored: constant-0 scores)
        self.zero_loss = max(float(np.nanmean(self.y_tr.astype(np.float64) ** 2)), 1e-6)
        y_va = self.y_va if self.masked else self.y_va[:, 0]
        self.zero_valid = max(float(np.nanmean(y_va.astype(np.float64) ** 2)), 1e-6)
        self.batch_size, self.lr, self.lr_decay, self.seed = batch_size, lr, lr_decay, seed
        self.decay_patience, self.patience, self.min_delta = decay_patience, patience, min_delta
        self.warmup_epochs, self.stop_on_plateau = warmup_epochs, stop_on_plateau
        # what a checkpoint must have been written with to be resumed
        self.params = {
            "batch_size": batch_size, "lr": lr, "lr_decay": lr_decay, "decay_patience": decay_patience,
            "patience": patience, "min_delta": min_delta, "seed": seed,
            **({"warmup_epochs": warmup_epochs} if warmup_epochs else {}),
            "n_train": len(self.x_tr), "n_valid": len(self.x_va), "input_shape": list(self.x_tr.shape[1:]),
            **({"n_tasks": self.n_tasks} if self.masked else {}),
        }
        self.opt = keras.optimizers.Adam(learning_rate=lr)
        self.opt.build(model.trainable_variables)
        self.states = _seed_states(model)
        self.state: dict[str, Any] = {
            "format": CHECKPOINT_FORMAT, "params": self.params, "epoch": 0, "best_epoch": 0,
            "best_valid_pearson": None, "wait": 0, "wait_lr": 0, "stopped_early": False, "history": [],
            **({"task_best_epoch": [0] * self.n_tasks, "task_best_valid_pearson": [None] * self.n_tasks}
               if self.masked else {})}
        self.best: list[np.ndarray] | None = None
        self.task_best: list[list[np.ndarray] | None] = [None] * self.n_tasks
        self.best_r = -math.inf
        self.resumed_from = self.seqs_done = self.done_this_call = 0

    def start(self, resume: bool | None) -> None:
        """Carry on from the checkpoint (written with the same settings) or from scratch, as ``resume`` says."""
        ckpath = self.ckdir / CHECKPOINT_FILE if self.ckdir is not None else None
        if resume and ckpath is None:
            raise ModelError("resume=True needs a checkpoint_dir (the folder of checkpoint.npz); pass checkpoint_dir=, "
                             "or resume=None to start fresh")
        if resume and not ckpath.exists():
            raise ModelError(f"resume=True but there is no checkpoint at {ckpath}; "
                             "pass resume=None to start fresh when none exists")
        if resume is not False and ckpath is not None and ckpath.exists():
            saved, arrays = _read_checkpoint(ckpath)
            diff = {k: (saved["params"].get(k), v) for k, v in self.params.items() if saved["params"].get(k) != v}
            if diff:
                raise ModelError(
                    f"checkpoint {ckpath} was written with other settings {diff} (saved, now); "
                    f"use the same settings, or delete {self.ckdir} / pass resume=False to start over"
                )
            self.state = saved
            self._split_best(_restore(ckpath, arrays, self.model, self.opt))
            if self.verbose:
                print(f"resuming from {ckpath} after epoch {self.state['epoch']}", file=sys.stderr)
        self.resumed_from = int(self.state["epoch"])
        if self.state["best_valid_pearson"] is not None:
            self.best_r = self.state["best_valid_pearson"]

    def _split_best(self, arrays: list[np.ndarray] | None) -> None:
        """The best weights a checkpoint holds: the run's, then (multi-task) each output's that has a best epoch."""
        if not self.masked or not arrays:
            self.best = arrays
            return
        n = len(self.model.get_weights())
        chunks = [arrays[i:i + n] for i in range(0, len(arrays), n)]
        self.best = chunks.pop(0) if self.state["best_epoch"] else None
        self.task_best = [chunks.pop(0) if e else None for e in self.state["task_best_epoch"]]

    def _best_arrays(self) -> list[np.ndarray] | None:
        """What :meth:`_split_best` reads back."""
        heads = [w for ws in self.task_best if ws is not None for w in ws]
        return [*(self.best or []), *heads] or None

    def compile(self, jit_compile: bool, valid_batch_size: int) -> None:
        """The training step, the compiled validation forward and the training arrays as host tensors."""
        import tensorflow as tf

        model, opt = self.model, self.opt
        loss_sum = self.loss_sum = tf.Variable(0.0, dtype=tf.float32, trainable=False)

        # As in Keras: one trace for full batches, one (relaxed) for the last partial batch.
        @tf.function(reduce_retracing=True, jit_compile=jit_compile)
        def train_step(xb: Any, yb: Any) -> None:
            with tf.GradientTape() as tape:
                pred = model(xb, training=True)
                loss = tf.reduce_mean(tf.square(pred - yb))
            grads = tape.gradient(loss, model.trainable_variables)
            opt.apply(grads, model.trainable_variables)
            loss_sum.assign_add(loss * tf.cast(tf.shape(xb)[0], tf.float32))

        # A multi-task step: the mean squared error over the scores a batch has (mask 1), not over the NaNs.
        @tf.function(reduce_retracing=True, jit_compile=jit_compile)
        def masked_step(xb: Any, yb: Any, mb: Any) -> None:
            with tf.GradientTape() as tape:
                pred = model(xb, training=True)
                n = tf.maximum(tf.reduce_sum(mb), 1.0)
                loss = tf.reduce_sum(mb * tf.square(pred - yb)) / n
            grads = tape.gradient(loss, model.trainable_variables)
            opt.apply(grads, model.trainable_variables)
            loss_sum.assign_add(loss * n)

        self.train_step = masked_step if self.masked else train_step
        self.predict_valid = _forward_all(model, valid_batch_size) if self.masked else _forward(model, valid_batch_size)
        # Batches come from a tf.data pipeline (gather + prefetch on its own thread): on
        # the shared 2-core CPU it measured ~15% faster than numpy batches fed from
        # Python. The arrays stay on the host, as in Keras.
        with tf.device("/CPU:0"):
            seen = np.isfinite(self.y_tr)
            self.x_const, self.y_const = tf.constant(self.x_tr), tf.constant(np.where(seen, self.y_tr, 0.0))
            self.m_const = tf.constant(seen.astype(np.float32)) if self.masked else None

    def _batches(self, perm: np.ndarray) -> Any:
        import tensorflow as tf

        x_const, y_const, m_const = self.x_const, self.y_const, self.m_const
        ds = tf.data.Dataset.from_tensor_slices(perm).batch(self.batch_size)
        if m_const is None:
            ds = ds.map(lambda i: (tf.gather(x_const, i), tf.gather(y_const, i)))
        else:
            ds = ds.map(lambda i: (tf.gather(x_const, i), tf.gather(y_const, i), tf.gather(m_const, i)))
        return ds.prefetch(2)

    def run(self, epochs: int, max_epochs_this_call: int | None,
            on_epoch_end: Callable[[int, dict], None] | None) -> None:
        """Epochs until ``epochs`` in all, early stopping, or ``max_epochs_this_call`` in this call."""
        while self.state["epoch"] < epochs and not self.state["stopped_early"]:
            if max_epochs_this_call is not None and self.done_this_call >= max_epochs_this_call:
                break
            logs = self._epoch()
            if on_epoch_end is not None:
                on_epoch_end(logs["epoch"], logs)

    def _epoch(self) -> dict[str, Any]:
        """One epoch: train under its seeds, validate, keep the best weights or wait, print, checkpoint."""
        epoch = self.state["epoch"]  # 0-based index of the epoch about to run
        t0 = time.perf_counter()
        _set_epoch_seeds(self.states, self.seed, epoch)
        perm = _epoch_rng(self.seed, epoch).permutation(len(self.x_tr))
        self.loss_sum.assign(0.0)
        warm = epoch < self.warmup_epochs
        steps = -(-len(self.x_tr) // self.batch_size)
        for i, batch in enumerate(self._batches(perm)):
            if warm:  # linear warm-up over the first epochs' steps (Goyal et al. 2017), set from the step index
                self.opt.learning_rate.assign(self.lr * (epoch * steps + i + 1) / (self.warmup_epochs * steps))
            self.train_step(*batch)
        logs = self._validate(epoch, t0, time.perf_counter())
        self.state["history"].append(logs)
        self.seqs_done += len(self.x_tr)
        self.done_this_call += 1
        self.state["epoch"] = epoch + 1
        self._keep_best_or_wait(epoch + 1, logs["valid_pearson"])
        if self.verbose:
            star = "  *" if self.state["best_epoch"] == epoch + 1 else ""
            print(f"epoch {epoch + 1:3d}  loss {logs['loss']:.4f}  valid r {logs['valid_pearson']:.4f}  "
                  f"lr {logs['lr']:.2e}  {logs['seconds']:.1f}s{star}", file=sys.stderr, flush=True)
        if self.ckdir is not None:
            _write_checkpoint(self.ckdir, self.model, self.opt, self._best_arrays(), self.state)
        return logs

    def _validate(self, epoch: int, t0: float, t_valid: float) -> dict[str, Any]:
        """The logs of the epoch just trained (0-based ``epoch``, begun at ``t0``, validated from ``t_valid``)."""
        loss = float(self.loss_sum.numpy()) / self.n_obs
        lr = float(np.asarray(self.opt.learning_rate))
        # Diverged: stop before this epoch reaches the checkpoint or the best weights.
        if not math.isfinite(loss):
            raise _diverged(epoch + 1, "the training loss became non-finite", lr)
        try:
            p_va = self.predict_valid(self.x_va)  # raises on non-finite outputs
        except NonFiniteOutputError as exc:
            raise _diverged(epoch + 1, "the validation predictions became non-finite", lr) from exc
        per_task: dict[str, float] = {}
        if self.masked:  # each output on the probes its experiment measured; the run's r: their mean
            seen = np.isfinite(self.y_va)
            valid_mse = float(np.mean((p_va[seen] - self.y_va[seen]) ** 2))
            per_task = {f"valid_pearson_{j}": pearson(self.y_va[seen[:, j], j], p_va[seen[:, j], j])
                        for j in range(self.n_tasks)}
            r = float(np.nanmean(list(per_task.values())))
        else:
            valid_mse = float(np.mean((p_va - self.y_va[:, 0]) ** 2))
            r = pearson(self.y_va[:, 0], p_va)
        self._check_exploded(epoch + 1, loss, valid_mse, lr)
        return {
            "epoch": epoch + 1,
            "loss": loss,
            "valid_mse": valid_mse,
            "valid_pearson": r,
            "lr": lr,
            "seconds": time.perf_counter() - t0,
            "valid_seconds": time.perf_counter() - t_valid,
            **per_task,
        }

    def _check_exploded(self, epoch: int, loss: float, valid_mse: float, lr: float) -> None:
        """Finite but exploded: a training loss far above that of predicting 0 or of the first epoch, or a
        validation MSE far above that of predicting 0, is divergence (a useless model must not be kept)."""
        history = self.state["history"]
        ref = min([self.zero_loss, *([history[0]["loss"]] if history else [])])
        if loss > _EXPLODED * ref:
            raise _diverged(epoch, f"the training loss {loss:.3g} is over {_EXPLODED:g}x {ref:.3g} (that of "
                                   "predicting 0, or of the first epoch)", lr)
        if valid_mse > _EXPLODED * self.zero_valid:
            raise _diverged(epoch, f"the validation MSE {valid_mse:.3g} is over {_EXPLODED:g}x {self.zero_valid:.3g}"
                                   " (that of predicting 0)", lr)

    def _keep_best_or_wait(self, epoch: int, r: float) -> None:
        """Keep the weights of an improved (1-based) ``epoch``; else count it, decaying the LR or stopping. With
        ``stop_on_plateau``, stop once the plateau rule holds (:func:`plateau`), improved or not."""
        state = self.state
        if np.isfinite(r) and r > self.best_r + self.min_delta:
            self.best_r = r
            state.update(best_epoch=epoch, best_valid_pearson=r, wait=0, wait_lr=0)
            self.best = [np.array(w) for w in self.model.get_weights()]
        else:
            state["wait"] += 1
            state["wait_lr"] += 1
            if state["wait_lr"] >= self.decay_patience and epoch > self.warmup_epochs:
                self.opt.learning_rate.assign(float(np.asarray(self.opt.learning_rate)) * self.lr_decay)
                state["wait_lr"] = 0
            if state["wait"] >= self.patience and not self.masked:
                state["stopped_early"] = True
        if self.masked:  # each output stops on its own: `patience` epochs without improving, or its plateau
            self._keep_task_bests(epoch)
            done = [epoch - e >= self.patience or (self.stop_on_plateau and plateau(c).plateaued)
                    for e, c in zip(state["task_best_epoch"], self._curves())]
            state["stopped_early"] = all(done)
        elif self.stop_on_plateau and plateau(self._curves()[0]).plateaued:
            state["stopped_early"] = True  # the plateau rule (chapter 03's): more epochs would buy under its gain

    def _curves(self) -> list[list[float]]:
        """The validation r per epoch the stop rules read: the run's, or (multi-task) each output's."""
        return [[h[c] for h in self.state["history"]] for c in self._curve_names()]

    def _curve_names(self) -> list[str]:
        """The history columns the plateau stop reads: the run's r, or (multi-task) each output's."""
        return [f"valid_pearson_{j}" for j in range(self.n_tasks)] if self.masked else ["valid_pearson"]

    def _keep_task_bests(self, epoch: int) -> None:
        """Multi-task: keep the weights of (1-based) ``epoch`` for each output whose validation r it improved."""
        state, logs = self.state, self.state["history"][-1]
        improved = []
        for j in range(self.n_tasks):
            r, best = logs[f"valid_pearson_{j}"], state["task_best_valid_pearson"][j]
            if np.isfinite(r) and (best is None or r > best + self.min_delta):
                state["task_best_valid_pearson"][j], state["task_best_epoch"][j] = r, epoch
                improved.append(j)
        if improved:
            weights = [np.array(w) for w in self.model.get_weights()]
            for j in improved:
                self.task_best[j] = weights

    def result(self, epochs: int, t_call: float) -> FitResult:
        """What the call begun at ``t_call`` did; a finished run's model gets the best weights back first."""
        state = self.state
        finished = state["epoch"] >= epochs or state["stopped_early"]
        if finished and self.best is not None:
            self.model.set_weights(self.best)
        seconds = time.perf_counter() - t_call
        best_r = state["best_valid_pearson"]
        columns = _HISTORY_COLUMNS + (self._curve_names() if self.masked else [])
        tasks = {}
        if self.masked:
            tasks = {"task_best_epoch": tuple(int(e) for e in state["task_best_epoch"]),
                     "task_best_valid_pearson": tuple(float("nan") if r is None else float(r)
                                                      for r in state["task_best_valid_pearson"]),
                     "task_weights": tuple(self.task_best)}
        return FitResult(
            history=pd.DataFrame(state["history"], columns=columns),
            best_epoch=int(state["best_epoch"]),
            best_valid_pearson=float("nan") if best_r is None else float(best_r),
            stopped_early=bool(state["stopped_early"]),
            finished=bool(finished),
            epochs_run=int(state["epoch"]),
            resumed_from=self.resumed_from,
            seconds=seconds,
            train_seq_per_s=self.seqs_done / seconds if self.seqs_done else float("nan"),
            checkpoint_dir=self.ckdir,
            **tasks,
        )


def fit(model: Any, data: Any, *, epochs: int = 300, batch_size: int = 100, lr: float = 1e-3, lr_decay: float = 0.3,
        decay_patience: int = 7, patience: int = 25, min_delta: float = 0.0,
        checkpoint_dir: str | os.PathLike | None = None, resume: bool | None = None, seed: int = 0,
        deterministic: bool = False, jit_compile: bool | None = None, valid_batch_size: int = 1024,
        max_epochs_this_call: int | None = None, on_epoch_end: Callable[[int, dict], None] | None = None,
        warmup_epochs: int = 0, stop_on_plateau: bool = False, verbose: int = 1) -> FitResult:
    """Train ``model`` on ``data.train``, selecting by Pearson r on ``data.valid``.

    Parameters
    ----------
    model
        A Keras model mapping ``(N, L, C)`` to ``(N, T)``; trained in place.
    data
        An :class:`rbgia.data.RNAcompeteData` (anything with ``.train`` and ``.valid`` having ``.x`` and ``.y``).
        ``T > 1`` score columns train a multi-task model, NaN masked out of the loss (:mod:`rbgia.multitask`).
    epochs
        Maximum number of epochs (in total, over resumed calls); at least 1.
    batch_size, lr, lr_decay, decay_patience
        Mini-batch size, Adam's initial rate, multiplied by ``lr_decay`` after ``decay_patience`` epochs without
        improvement.
    patience
        Stop after this many epochs without improvement.
    min_delta
        Smallest increase of the validation Pearson r that counts as improvement.
    checkpoint_dir
        Directory for ``checkpoint.npz`` (weights, optimizer state, best weights, epoch, history, seeds; written
        atomically every epoch) and ``history.csv``.
    resume
        ``None``: resume when a checkpoint exists; ``True``: one must exist; ``False``: start over.
    seed
        Shuffling and dropout of epoch ``e`` derive from ``(seed, e)``; the initial weights are the model's own.
    deterministic
        Call ``tf.config.experimental.enable_op_determinism()`` (process-wide, can't be undone; slows some GPU
        kernels). CPU runs are reproducible without it.
    jit_compile
        Compile the training step with XLA; ``None``: only on a GPU (on CPU XLA training measured 2.2x slower).
    valid_batch_size
        Batch size of the compiled validation forward.
    max_epochs_this_call
        Return (``finished=False``) after this many epochs; the checkpoint lets a later call carry on.
    on_epoch_end
        Called as ``on_epoch_end(epoch, logs)`` after each epoch's checkpoint is written (``epoch`` 1-based).
    warmup_epochs
        Raise the rate linearly to ``lr`` over the steps of the first ``warmup_epochs`` epochs (large batches,
        Goyal et al. 2017); it decays only after them. 0 (the paper): none.
    stop_on_plateau
        Also stop (``stopped_early``) once the validation r has plateaued (:func:`plateau`); the paper stops on
        ``patience`` alone. A stop rule, like ``epochs``: a checkpoint resumes under either value.
    verbose
        0 silent, 1 one line per epoch (on stderr: progress for a log, not a page).

    Returns
    -------
    FitResult
        The model holds the best epoch's weights when ``finished``.

    Raises
    ------
    ModelError
        An unknown or out-of-range argument, input channels that don't fit the model, an empty validation set,
        an unreadable or mismatched checkpoint, ``resume=True`` without one; a training that diverged: a
        non-finite loss or prediction, or a finite one exploded (training loss over 1000x that of predicting 0
        or of the first epoch, validation MSE over 1000x that of predicting 0), before that epoch is saved.
    DataError
        The disk is full while the checkpoint is written (the previous one is kept).
    """
    t_call = time.perf_counter()
    check_fit_args(epochs=epochs, batch_size=batch_size, lr=lr, lr_decay=lr_decay, decay_patience=decay_patience,
                    patience=patience, min_delta=min_delta, seed=seed, valid_batch_size=valid_batch_size,
                    max_epochs_this_call=max_epochs_this_call, warmup_epochs=warmup_epochs)
    ckdir = None if checkpoint_dir is None else Path(require_writable_dir(checkpoint_dir, "checkpoint_dir"))
    arrays = _checked_data(model, data)
    jit_compile = _tf_settings(deterministic, jit_compile)
    run = _FitRun(model, arrays, ckdir, verbose, batch_size=batch_size, lr=lr, lr_decay=lr_decay,
                  decay_patience=decay_patience, patience=patience, min_delta=min_delta, seed=seed,
                  warmup_epochs=warmup_epochs, stop_on_plateau=bool(stop_on_plateau))
    run.start(resume)
    run.compile(jit_compile, valid_batch_size)
    run.run(epochs, max_epochs_this_call, on_epoch_end)
    return run.result(epochs, t_call)


# ----------------------------------------------------------------- saving, cache


# --------------------------------------------------------------------------- training records



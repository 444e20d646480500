"""Multi-task ResidualBind: one trunk over several experiments of one array design, one linear output each.

The 2009 RNAcompete experiments measured subsets of one probe design (Ray et al. 2009): their ~350k set-A
rows are ~76k distinct probes. One trunk trained over the distinct probes, with a loss masked where an
experiment has no score, sees every experiment's data in an epoch that costs what one single-task epoch of
the largest experiment costs (MultiRBP, Karin et al. 2021, trains one such model over 2013 RNAcompete).
Each output is then exported as a plain single-output ResidualBind (:func:`head_model`), with its own
validation curve, best epoch and plateau (:func:`head_summary`), so everything downstream (GIA, ISM, the
model cache, the records) reads it as any other model.

:func:`rbgia.train.fit` trains it when the scores have several columns: NaN (not measured) is masked out of the
loss, each output is validated on its own probes and keeps the weights of its own best epoch
(:attr:`FitResult.task_weights`), and the run stops once every output has gone ``patience`` epochs without
improving or (``stop_on_plateau``) has plateaued; the learning-rate decay reads the mean r of the outputs.

The validation split is one for all experiments: a distinct probe is held out for every experiment or for
none (:func:`stack_tasks`), so no experiment's validation probe is trained on under another's score.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import DataError, ModelError
from .train import FitResult, Plateau, fit, plateau


@dataclass(frozen=True)
class TaskSplit:
    """The distinct probes of one split: ``x`` (N, L, C) float32, ``y`` (N, T) float32 with NaN where an
    experiment has no score, ``seqs`` (N,) str."""

    x: np.ndarray
    y: np.ndarray
    seqs: np.ndarray

    def __len__(self) -> int:
        return int(self.x.shape[0])


@dataclass(frozen=True)
class TaskData:
    """Several experiments stacked over their distinct set-A probes (:func:`stack_tasks`), as :func:`fit` takes
    them; ``n_train`` / ``n_valid``: each experiment's scores in each split."""

    tasks: tuple[str, ...]
    train: TaskSplit
    valid: TaskSplit
    n_train: dict[str, int]
    n_valid: dict[str, int]


def held_out(seqs: Sequence[str], valid_frac: float, seed: int = 0) -> np.ndarray:
    """Whether each probe is a validation probe: a fixed function of its sequence and ``seed`` (a sha256 draw
    below ``valid_frac``), so one probe is held out in every experiment that measured it or in none."""
    if not 0 < float(valid_frac) < 1:
        raise DataError(f"valid_frac={valid_frac!r} is not a fraction; pass a number in (0, 1), e.g. 0.1")
    draws = [int.from_bytes(hashlib.sha256(f"{int(seed)}:{s}".encode()).digest()[:8], "big") / 2.0 ** 64
             for s in seqs]
    return np.asarray(draws, dtype=np.float64) < float(valid_frac)


def stack_tasks(datasets: Mapping[str, Any], *, valid_frac: float = 0.1, seed: int = 0) -> TaskData:
    """Stack experiments (``{name: RNAcompeteData}``, one input kind) over their distinct set-A probes.

    Each experiment's set A (its ``train`` and ``valid`` splits) is re-split by :func:`held_out`; a probe an
    experiment measured twice gets the mean of its scores. The scores stay as each experiment's loading
    transformed them, so its set-B test is the same as its single-task model's. Set B is not used.
    """
    if len(datasets) < 2:
        raise DataError(f"a multi-task model needs at least 2 experiments, got {list(datasets)}; pass more, or "
                        "train a single-task model (rbgia.train.fit)")
    tasks = tuple(datasets)
    shapes = {name: d.train.x.shape[1:] for name, d in datasets.items()}
    if len(set(shapes.values())) > 1:
        raise DataError(f"the experiments have different input shapes {shapes}; load them with the same inputs")
    index: dict[str, int] = {}
    xs: list[np.ndarray] = []
    rows: list[tuple[np.ndarray, np.ndarray]] = []
    for d in datasets.values():
        seqs = np.concatenate([d.train.seqs, d.valid.seqs])
        x = np.concatenate([d.train.x, d.valid.x])
        y = np.concatenate([np.asarray(d.train.y, np.float64)[:, 0], np.asarray(d.valid.y, np.float64)[:, 0]])
        at = np.empty(len(seqs), dtype=np.int64)
        for i, s in enumerate(seqs):
            if s not in index:
                index[s] = len(xs)
                xs.append(x[i])
            at[i] = index[s]
        rows.append((at, y))
    total, count = np.zeros((len(xs), len(tasks))), np.zeros((len(xs), len(tasks)))
    for j, (at, y) in enumerate(rows):
        np.add.at(total[:, j], at, y)
        np.add.at(count[:, j], at, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        y_all = np.where(count > 0, total / count, np.nan).astype(np.float32)
    x_all, seqs_all = np.stack(xs).astype(np.float32), np.array(list(index), dtype=object)
    valid = held_out(seqs_all, valid_frac, seed)
    split = {name: TaskSplit(x_all[m], y_all[m], seqs_all[m]) for name, m in (("train", ~valid), ("valid", valid))}
    counts = {name: {t: int(np.isfinite(s.y[:, j]).sum()) for j, t in enumerate(tasks)} for name, s in split.items()}
    return TaskData(tasks, split["train"], split["valid"], counts["train"], counts["valid"])


@dataclass(frozen=True)
class MultiTaskFit:
    """What :func:`fit_tasks` did: the multi-output ``model``, :func:`fit`'s ``result`` and the ``data``."""

    model: Any
    result: FitResult
    data: TaskData


def fit_tasks(data: TaskData, *, variant: str = "paper", seed: int = 0, num_filters: int = 96, dense_units: int = 256,
              **fit_kwargs: Any) -> MultiTaskFit:
    """Train one ResidualBind with an output per experiment of ``data`` (:func:`rbgia.train.fit`'s masked
    multi-task loss; ``fit_kwargs`` are fit's, ``seed`` seeds the weights and the run; the widths as in
    :func:`rbgia.model.residualbind`)."""
    from .model import residualbind

    model = residualbind(data.train.x.shape[1:], variant, seed=seed, outputs=len(data.tasks),
                         num_filters=num_filters, dense_units=dense_units)
    result = fit(model, data, seed=seed, **fit_kwargs)
    return MultiTaskFit(model, result, data)


def head_model(model: Any, task: int, *, variant: str = "paper", weights: Sequence[np.ndarray] | None = None) -> Any:
    """Output ``task`` of a multi-task ResidualBind as a single-output ResidualBind (``variant`` as built) that
    predicts exactly that output; ``weights``: the multi-task model's weights to take (e.g. that output's best
    epoch, :attr:`FitResult.task_weights`), else its current ones."""
    from .model import residualbind

    weights = [np.asarray(w) for w in (model.get_weights() if weights is None else weights)]
    n_out = int(model.output_shape[-1])
    if not 0 <= int(task) < n_out:
        raise ModelError(f"task {task} is out of range for a model with {n_out} outputs; pass 0 to {n_out - 1}")
    kernel, bias = weights[-2], weights[-1]
    # the widths, read from the weights: the first conv's filters, the output layer's inputs
    single = residualbind(tuple(model.input_shape[1:]), variant, num_filters=int(weights[0].shape[-1]),
                          dense_units=int(kernel.shape[0]))
    if kernel.shape[-1] != n_out or len(single.get_weights()) != len(weights):
        raise ModelError(f"the weights do not fit a ResidualBind {variant!r} with {n_out} outputs; pass that "
                         "model's own weights and variant")
    single.set_weights([*weights[:-2], kernel[:, task:task + 1], bias[task:task + 1]])
    return single


@dataclass(frozen=True)
class HeadSummary:
    """One output of a multi-task run, as its exported model's metadata tells it: its validation ``curve``, its
    ``best_epoch`` and r, whether early stopping counts as reached for it, and its :class:`Plateau`."""

    task: str
    curve: list[float]
    best_epoch: int
    best_valid_pearson: float
    stopped_early: bool
    plateau: Plateau


def head_summary(result: FitResult, tasks: Sequence[str], task: int, patience: int) -> HeadSummary:
    """Output ``task``'s summary. Early stopping counts as reached for it when it went ``patience`` epochs without
    improving (the run stops once every output has, or has plateaued); else its own curve decides its plateau."""
    curve = result.history[f"valid_pearson_{task}"].astype(float).tolist()
    best = int(result.task_best_epoch[task]) if result.task_best_epoch else 0
    stopped = bool(result.epochs_run - best >= patience)
    return HeadSummary(str(tasks[task]), curve, best, float(result.task_best_valid_pearson[task]), stopped,
                       plateau(curve, stopped))

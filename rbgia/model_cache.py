"""The model cache the notebooks share: a trained ResidualBind per experiment, configuration and settings under
``results_dir/<experiment>/models/<tag>.<key>.keras`` with its metadata, reused, trained on or trained anew
(:func:`train_or_load`); ``<tag>.keras`` names the configuration's latest model; :func:`save_model` /
:func:`load_model` for the files."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import inspect
import json
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from . import data as rdata
from ._io import _to_builtin, atomic_path, load_json, save_json, write_text
from .checkpoint import CHECKPOINT_FILE, HISTORY_FILE
from .config import TrainConfig
from .data import RNAcompeteData
from .errors import DataError, ModelError
from .evaluate import evaluate
from .paths import require_writable_dir, user_path
from .train import Plateau, check_fit_args, check_inputs, fit, plateau


class TrainedModel(NamedTuple):
    """What :func:`train_or_load` returns: the Keras model, its metadata and the dataset it was trained on
    (a tuple too: ``model, meta, data = train_or_load(...)``)."""

    model: Any
    meta: dict
    data: RNAcompeteData

    @property
    def plateau(self) -> Plateau:
        """Whether the model's validation r had plateaued when training ended (:func:`plateau_of`)."""
        return plateau_of(self.meta)


def plateau_of(meta: Mapping[str, Any]) -> Plateau:
    """Whether a cached model's validation r had plateaued (:func:`rbgia.train.plateau`), from its metadata's
    per-epoch validation r (or, for a model cached before it was recorded, its ``history.csv``)."""
    metrics = meta.get("metrics") or {}
    curve = metrics.get("valid_pearson_curve")
    history = meta.get("history")
    if curve is None and history and Path(history).is_file():
        curve = pd.read_csv(history)["valid_pearson"].to_numpy(float)
    stopped = bool(metrics.get("stopped_early"))
    if curve is None:
        run = int(metrics.get("epochs_run") or 0)
        return (plateau([np.nan] * run, True) if stopped
                else Plateau(False, None, run, False, "no per-epoch validation r recorded"))
    return plateau(curve, stopped)


def require_plateaued(trained: TrainedModel | Mapping[str, Any], *, allow: bool = False,
                      analysis: str = "GIA") -> Plateau:
    """Refuse an ``analysis`` on a model whose validation r has not plateaued (:func:`plateau_of`).

    Returns the model's :class:`~rbgia.train.Plateau`. Raises :class:`ModelError` (one line naming the model and
    the budget to raise) when it has not plateaued, unless ``allow`` (a quick run; its captions say so through
    :attr:`Plateau.note`).
    """
    meta = trained.meta if isinstance(trained, TrainedModel) else trained
    state = plateau_of(meta)
    if state.plateaued or allow:
        return state
    params = meta.get("params") or {}
    name = f"{meta.get('experiment', params.get('experiment', '?'))} {TrainConfig.coerce(meta.get('config')).tag}"
    budget = (meta.get("epochs") or {}).get("trained_for", params.get("epochs"))
    raise ModelError(f"{analysis} refused: the model of {name} has not plateaued ({state.reason}); raise its epoch "
                     f"budget (epochs={budget} now; in the book, the job that trains it in book/parameters.yml) or "
                     f"pass allow_unplateaued=True for a quick run, which its captions then say")


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
    from .model import keras  # Keras on its tensorflow backend (rbgia.model checks it)

    path = Path(path)
    if not path.exists():
        raise ModelError(f"no model at {path}; train one with rbgia.model_cache.train_or_load or check the path")
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
# not what makes a model: how it runs, and the stop rules that end it (epochs, stop_on_plateau: a model that
# stopped on its plateau stands for one asked to run on, as one that stopped early does)
_NOT_IDENTITY = ("verbose", "on_epoch_end", "max_epochs_this_call", "valid_batch_size", "deterministic", "jit_compile",
                 "stop_on_plateau")


def _fit_defaults() -> dict[str, Any]:
    """The training settings of :func:`fit` (not ``epochs``, ``patience``, ``seed``) with their defaults."""
    keep = ("batch_size", "lr", "lr_decay", "decay_patience", "min_delta")
    return {k: p.default for k, p in inspect.signature(fit).parameters.items() if k in keep}


def _say(message: str) -> None:
    """One line about what the model cache did: always shown (``verbose`` only governs per-epoch lines), on stderr:
    a progress line for the log, not a result for the page (the book drops stderr)."""
    print(f"rbgia.train: {message}", file=sys.stderr, flush=True)


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
                               "best": done["best"], "stopped_early": done["stopped_early"],
                               "stop_on_plateau": bool((meta.get("epochs") or {}).get("stop_on_plateau", False))}}


@dataclass(frozen=True)
class _CachePaths:
    """Where the cache keeps one model: the ``.keras`` file, its metadata, its checkpoint folder and the
    parameters that checkpoint was started with; ``alias``: the configuration's name for its latest model."""

    model: Path
    meta: Path
    ckdir: Path
    params: Path
    alias: Path

    @property
    def cached(self) -> bool:
        """Whether a model and its metadata are there."""
        return self.model.is_file() and self.meta.is_file()


def _settings_key(params: Mapping[str, Any]) -> str:
    """The key of a model's settings (all of :func:`_identity` but the data files' fingerprint: a model of data
    since rewritten is stale, and is replaced in place)."""
    settings = {k: v for k, v in _identity(params).items() if k != "data_key"}
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:10]


def _cache_paths(results_dir: str | os.PathLike, experiment: str, tag: str, key: str) -> _CachePaths:
    """``results_dir/<experiment>/models/<tag>.<key>.keras`` (``.keras.json``),
    ``.../checkpoints/<tag>.<key>/params.json`` and the alias ``.../models/<tag>.keras``."""
    exp_dir = user_path(results_dir) / experiment
    path = exp_dir / "models" / f"{tag}.{key}.keras"
    ckdir = exp_dir / "checkpoints" / f"{tag}.{key}"
    return _CachePaths(path, Path(f"{path}.json"), ckdir, ckdir / "params.json", exp_dir / "models" / f"{tag}.keras")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them is missing
        return False


def _publish(paths: _CachePaths) -> None:
    """Point the configuration's name (``<tag>.keras`` and its ``.json``, what the book's pages load) at this
    model: hard links (copies where the file system has none), each replaced atomically, the model first."""
    for src, dst in ((paths.model, paths.alias), (paths.meta, Path(f"{paths.alias}.json"))):
        if _same_file(src, dst):
            continue  # already this model's: the files stay untouched
        with atomic_path(dst) as tmp:
            try:
                os.link(src, tmp)
            except OSError:
                shutil.copyfile(src, tmp)


def _model_params(data_dir: str | os.PathLike, experiment: str, cfg: TrainConfig, data_key: str | None, *,
                  valid_frac: float, data_seed: int, stats: str, clip_rule: str, max_probes: int | None, epochs: int,
                  patience: int, fit_kwargs: Mapping[str, Any], tasks: Sequence[str] | None = None) -> dict[str, Any]:
    """The parameters of a model (all but ``epochs`` identify it, :func:`_identity`), as they read back from disk;
    ``data_key``: the loaded dataset's ``info["key"]``; ``tasks``: the experiments of its multi-task trunk."""
    return _jsonable({
        **({"tasks": list(tasks)} if tasks is not None else {}),
        "data_dir": str(user_path(data_dir).resolve()), "experiment": experiment, **cfg.as_dict(),
        "valid_frac": valid_frac, "data_seed": data_seed, "stats": stats, "clip_rule": clip_rule,
        **({"max_probes": max_probes} if max_probes is not None else {}),
        "data_key": data_key,
        "epochs": epochs, "patience": patience,
        # fit's defaults spelled in, so a model trained with decay_patience=7 given matches one trained without
        **{k: fit_kwargs.get(k, v) for k, v in _fit_defaults().items()},
        **{k: v for k, v in sorted(fit_kwargs.items()) if k not in _NOT_IDENTITY},
    })


_RETRAIN_FIX = "pass retrain=True to train it again"
# fit arguments the cache sets itself
_CACHE_OWN = {"checkpoint_dir": "results_dir/<experiment>/checkpoints/<tag>.<key>", "resume": "the cached epochs"}


def _check_own_kwargs(fit_kwargs: Mapping[str, Any]) -> None:
    """Refuse the :func:`fit` arguments the cache chooses itself, before any output or file."""
    for name, by in _CACHE_OWN.items():
        if name in fit_kwargs:
            raise ModelError(f"{name} is chosen by the model cache (from {by}); drop {name}=, pass retrain=True to "
                             "start over, or call rbgia.train.fit for a run of your own")


class _Decision(NamedTuple):
    """What :func:`train_or_load` does: ``action`` ``"load"`` (``why`` is the line to say) or ``"train"``, with
    :func:`fit`'s ``resume`` and the reason (``why``)."""

    action: str
    resume: bool | None
    why: str


def _decide(paths: _CachePaths, params: Mapping[str, Any], epochs: int, retrain: bool) -> _Decision:
    """Load the cached model, train it on from its checkpoint, or train anew (see :func:`train_or_load`)."""
    if retrain:
        return _Decision("train", False, "retrain=True: training")
    resume: bool | None = None
    if paths.cached:
        old = load_json(paths.meta, fix=f"delete {paths.model} and {paths.meta}, or {_RETRAIN_FIX}")
        old_params = old.get("params") if isinstance(old, dict) else None
        diff = sorted(k for k in {*_identity(params), *_identity(old_params or {})}
                      if _identity(params).get(k) != _identity(old_params or {}).get(k))
        if diff:
            return _Decision("train", False, f"{paths.model} was trained with other {', '.join(diff)}: training again")
        done = _epochs_done(old)
        if epochs <= done["trained_for"] or done["stopped_early"]:
            # Never replace a cached model by a less-trained one: load it, files untouched.
            fewer = epochs < done["trained_for"] and not done["stopped_early"]
            return _Decision("load", None, (
                f"loaded {paths.model}: trained for {done['trained_for']} epochs ({done['run']} run, best "
                f"{done['best']}{', stopped early' if done['stopped_early'] else ''}), {epochs} requested"
                + (f"; {_RETRAIN_FIX} for {epochs} epochs" if fewer else "")))
        if not (paths.ckdir / CHECKPOINT_FILE).is_file():  # deleted: say what really happens
            gone = paths.ckdir / CHECKPOINT_FILE
            return _Decision("train", False, f"{paths.model} has {done['run']} epochs, {epochs} requested, but its "
                                             f"checkpoint {gone} is gone: training from scratch")
        resume = True
        why = f"{paths.model} has {done['run']} epochs, {epochs} requested: resuming"
    else:
        why = f"no model at {paths.model}: training"
    if resume is None and paths.params.is_file():
        saved = load_json(paths.params, fix=f"delete {paths.ckdir}, or {_RETRAIN_FIX}")
        if _identity(saved if isinstance(saved, dict) else {}) != _identity(params):
            resume = False  # the checkpoint belongs to other settings
        elif (paths.ckdir / CHECKPOINT_FILE).is_file():
            why += " (resuming its checkpoint)"
    return _Decision("train", resume, why)


def _metadata(model: Any, dataset: Any, result: Any, params: Mapping[str, Any], experiment: str, cfg: TrainConfig,
              epochs_meta: Mapping[str, Any], history: Path) -> dict[str, Any]:
    """What is saved beside a trained model, its set-B metrics included."""
    import keras

    test = evaluate(model, dataset.test)
    return _jsonable({
        "params": params,
        "experiment": experiment, **cfg.as_dict(), "config": cfg.as_dict(),
        "data_dir": params["data_dir"], "transform": getattr(dataset, "transform", None),
        "metrics": {
            "test_pearson": test["pearson"], "test_spearman": test["spearman"],
            "n_test": test["n"], "best_valid_pearson": result.best_valid_pearson,
            "best_epoch": result.best_epoch, "epochs_run": result.epochs_run, "stopped_early": result.stopped_early,
            "valid_pearson_curve": result.history["valid_pearson"].tolist(), "plateaued": result.plateau.plateaued,
        },
        "epochs": epochs_meta,
        "n_params": int(model.count_params()),
        "history": str(history),
        "versions": {"keras": keras.__version__, "numpy": np.__version__},
        "finished": True,
    })


def _train_and_save(paths: _CachePaths, cfg: TrainConfig, params: dict[str, Any], dataset: Any, experiment: str, *,
                    epochs: int, patience: int, resume: bool | None, verbose: int,
                    fit_kwargs: Mapping[str, Any]) -> tuple[Any, dict]:
    """Train ResidualBind (from its checkpoint as ``resume`` says) and cache it with its metadata; a call that
    returned unfinished (``max_epochs_this_call``) caches nothing."""
    from .model import residualbind

    model = residualbind(dataset.train.x.shape[1:], cfg.variant, seed=cfg.seed)
    result = fit(model, dataset, epochs=epochs, patience=patience, seed=cfg.seed, checkpoint_dir=paths.ckdir,
                 resume=resume, verbose=verbose, **fit_kwargs)
    epochs_meta = {"requested": epochs, "trained_for": epochs, "run": result.epochs_run, "best": result.best_epoch,
                   "stopped_early": result.stopped_early,
                   "stop_on_plateau": bool(fit_kwargs.get("stop_on_plateau", False))}
    if not result.finished:
        return model, {"params": params, "finished": False, "epochs_run": result.epochs_run, "epochs": epochs_meta}
    meta = _metadata(model, dataset, result, params, experiment, cfg, epochs_meta, paths.ckdir / HISTORY_FILE)
    save_model(model, paths.model, meta)
    _publish(paths)
    _say(f"saved {paths.model}: {result.epochs_run} epochs run, best {result.best_epoch}"
         f"{', stopped early' if result.stopped_early else ''} (test r = {meta['metrics']['test_pearson']:.3f})")
    return model, meta


def _load_cached(paths: _CachePaths, dataset: Any, why: str, epochs: int) -> TrainedModel:
    """The cached model (files untouched), checked against ``dataset``; the configuration's name now points at it."""
    model, meta = load_model(paths.model)
    check_inputs(model, dataset.test.x, "dataset")
    _say(why)
    with contextlib.suppress(OSError, DataError):  # a read-only or full cache still loads, the name unmoved
        _publish(paths)
    return TrainedModel(model, _with_request(meta, epochs), dataset)


def train_or_load(
    data_dir: str | os.PathLike, experiment: str, config: TrainConfig | Mapping[str, Any] | str | None = None, *,
    normalization: str | None = None, inputs: str | None = None, variant: str | None = None, seed: int | None = None,
    results_dir: str | os.PathLike = "results", epochs: int = 300, patience: int = 25, valid_frac: float = 0.1,
    data_seed: int = 0, stats: str = "train", clip_rule: str = "quantile", max_probes: int | None = None,
    retrain: bool = False, verbose: int = 1, tasks: Sequence[str] | None = None, **fit_kwargs: Any,
) -> TrainedModel:
    """The model cache notebooks share: load the dataset, then reuse or train ResidualBind.

    The model lives at ``results_dir/<experiment>/models/<config.tag>.<key>.keras`` with its metadata beside it
    (``.keras.json``) and its checkpoint under ``results_dir/<experiment>/checkpoints/<config.tag>.<key>/``, where
    ``key`` is a digest of every setting but ``epochs`` (data folder, split, ``max_probes``, ``patience``, ``lr``,
    ...): models of other settings are kept side by side, so alternating settings load rather than retrain.
    ``models/<config.tag>.keras`` (and ``.json``) names the configuration's model last trained or loaded (what the
    book's pages read). A cached model of these settings, made from the same data files (fingerprint), is

    - loaded unchanged (files untouched) when ``epochs`` is no more than it was trained for, or it stopped early:
      a cached model is never replaced by a less-trained one unless ``retrain=True``;
    - trained on from its checkpoint when more ``epochs`` are asked for (from scratch if the checkpoint is gone).

    Data files rewritten since replace it (it is stale). One line (whatever ``verbose``) says what was done, why.

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
        Passed to :func:`fit` (names and values checked before any output or file; ``checkpoint_dir`` and
        ``resume`` are the cache's own).
    retrain, verbose, tasks
        Ignore a cached model and its checkpoint (train anew); 1: a line per epoch; the experiments of one
        multi-task trunk (:func:`train_tasks`), the model being its output for ``experiment``.

    Returns
    -------
    TrainedModel
        ``model``, ``meta`` and ``data``: the model, its metadata and the dataset. The metadata holds ``params``,
        ``config``, ``metrics`` (``test_pearson``, ``best_epoch``, ``epochs_run``, ``stopped_early``, ...),
        ``history`` (the CSV path) and ``epochs``: ``requested`` (this call), ``trained_for`` (the model's epoch
        budget), ``run``, ``best``, ``stopped_early``.

    Raises
    ------
    ModelError
        An unknown or bad argument, or a training that diverged (non-finite or exploded loss or predictions).
    DataError
        ``results_dir`` is not writable while a model must be trained; a truncated metadata or params file.
    """
    cfg = TrainConfig.coerce(config, normalization=normalization, inputs=inputs, variant=variant, seed=seed)
    check_fit_args(epochs=epochs, patience=patience, **fit_kwargs)
    _check_own_kwargs(fit_kwargs)
    tasks = None if tasks is None else _task_list(experiment, tasks, fit_kwargs)
    settings = dict(valid_frac=valid_frac, data_seed=data_seed, stats=stats, clip_rule=clip_rule, max_probes=max_probes,
                    epochs=epochs, patience=patience, fit_kwargs=fit_kwargs, tasks=tasks)
    paths = _cache_paths(results_dir, experiment, cfg.tag,
                         _settings_key(_model_params(data_dir, experiment, cfg, None, **settings)))
    if not paths.cached:
        require_writable_dir(results_dir, "results_dir")  # training is certain: say so before loading data
    dataset = rdata.load_rnacompete(data_dir, experiment, normalization=cfg.normalization, inputs=cfg.inputs,
                                    valid_frac=valid_frac, seed=data_seed, stats=stats, clip_rule=clip_rule,
                                    max_probes=max_probes)
    params = _model_params(data_dir, experiment, cfg, getattr(dataset, "info", {}).get("key"), **settings)
    decision = _decide(paths, params, epochs, retrain)
    if decision.action == "load":
        return _load_cached(paths, dataset, decision.why, epochs)
    require_writable_dir(results_dir, "results_dir")
    if tasks is not None:
        return _train_as_task(data_dir, experiment, cfg, dataset, paths, results_dir=results_dir, retrain=retrain,
                              verbose=verbose, settings=settings)
    _say(f"{decision.why} {cfg.tag} for {epochs} epochs")
    save_json(paths.params, params)
    model, meta = _train_and_save(paths, cfg, params, dataset, experiment, epochs=epochs, patience=patience,
                                  resume=decision.resume, verbose=verbose, fit_kwargs=fit_kwargs)
    return TrainedModel(model, meta, dataset)


# ------------------------------------------------------------------------------------------- multi-task trunks

MULTITASK_DIR = "_multitask"  # results_dir/_multitask/checkpoints/<tag>.<key>/: a trunk's checkpoint and lock


def _task_list(experiment: str, tasks: Sequence[str], fit_kwargs: Mapping[str, Any]) -> list[str]:
    """``tasks`` as a list of distinct experiment names with ``experiment`` among them (one-line errors)."""
    if isinstance(tasks, str) or not all(isinstance(t, str) and t for t in tasks):
        raise ModelError(f"tasks={tasks!r} is not a list of experiment names; pass e.g. tasks=['HuR', 'PTB']")
    names = list(tasks)
    if len(names) < 2 or len(set(names)) != len(names):
        raise ModelError(f"tasks={names} must name at least 2 distinct experiments; pass more, or tasks=None for a "
                         "single-task model")
    if experiment not in names:
        raise ModelError(f"tasks={names} does not include the experiment {experiment!r}; add it, or pass tasks=None")
    if fit_kwargs.get("max_epochs_this_call") is not None:
        raise ModelError("max_epochs_this_call cannot cut a multi-task trunk's run; drop it (the trunk resumes from "
                         "its checkpoint when more epochs are asked for)")
    return names


def _train_as_task(data_dir: str | os.PathLike, experiment: str, cfg: TrainConfig, dataset: RNAcompeteData,
                   paths: _CachePaths, *, results_dir: str | os.PathLike, retrain: bool, verbose: int,
                   settings: Mapping[str, Any]) -> TrainedModel:
    """:func:`train_or_load`'s multi-task path: train the trunk of ``settings["tasks"]``, load this output."""
    tasks, epochs = settings["tasks"], settings["epochs"]
    why = ("retrain=True" if retrain else f"no model at {paths.model}" if not paths.cached
           else f"{paths.model} has other settings or fewer than {epochs} epochs")
    _say(f"{why}: training {cfg.tag} as one output of a multi-task model over {', '.join(tasks)} for {epochs} epochs")
    train_tasks(data_dir, tasks, cfg, results_dir=results_dir, retrain=retrain, verbose=verbose,
                loaded={experiment: dataset}, **{k: v for k, v in settings.items() if k != "tasks"})
    return _load_cached(paths, dataset, f"loaded {paths.model}: the multi-task output of {experiment}", epochs)


@contextlib.contextmanager
def _locked(path: Path) -> Any:
    """An exclusive lock on ``path`` (created) for the block: one process trains a trunk, the others wait and
    then load its outputs."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _head_result(result: Any, head: Any) -> Any:
    """``result`` as one output's own run: its validation curve, best epoch and r, and its early stopping."""
    history = result.history[[c for c in result.history.columns if not c.startswith("valid_pearson_")]].copy()
    history["valid_pearson"] = head.curve
    return dataclasses.replace(result, history=history, best_epoch=head.best_epoch,
                               best_valid_pearson=head.best_valid_pearson, stopped_early=head.stopped_early)


def train_tasks(data_dir: str | os.PathLike, tasks: Sequence[str], config: TrainConfig | Mapping[str, Any] | str, *,
                results_dir: str | os.PathLike = "results", epochs: int, patience: int, valid_frac: float = 0.1,
                data_seed: int = 0, stats: str = "train", clip_rule: str = "quantile", max_probes: int | None = None,
                fit_kwargs: Mapping[str, Any] | None = None, retrain: bool = False, verbose: int = 1,
                loaded: Mapping[str, RNAcompeteData] | None = None) -> dict[str, Path]:
    """Train one multi-task ResidualBind over ``tasks`` (:mod:`rbgia.multitask`) and cache each experiment's
    output where :func:`train_or_load` with the same ``tasks`` finds it; returns ``{experiment: model path}``.

    The trunk checkpoints every epoch under ``results_dir/_multitask/checkpoints/<tag>.<key>/`` (a later call with
    more ``epochs`` resumes it) and trains under a lock there: a second process waits, then finds every output
    cached (``<tag>.keras``, the configuration's name, moves to an output only when that output is loaded: VTS1's
    stays its single-task model). Each output is saved with its own validation curve, best epoch (whose weights
    it holds), early stopping and set-B metrics, and ``meta["multitask"]`` (the experiments, its training and
    validation counts).
    """
    from .multitask import fit_tasks, head_model, head_summary, stack_tasks

    cfg, fit_kwargs = TrainConfig.coerce(config), dict(fit_kwargs or {})
    tasks = list(tasks)
    settings = dict(valid_frac=valid_frac, data_seed=data_seed, stats=stats, clip_rule=clip_rule, max_probes=max_probes,
                    epochs=epochs, patience=patience, fit_kwargs=fit_kwargs, tasks=tasks)
    load = dict(normalization=cfg.normalization, inputs=cfg.inputs, valid_frac=valid_frac, seed=data_seed,
                stats=stats, clip_rule=clip_rule, max_probes=max_probes)
    datasets = {t: (loaded or {}).get(t) or rdata.load_rnacompete(data_dir, t, **load) for t in tasks}
    params = {t: _model_params(data_dir, t, cfg, datasets[t].info.get("key"), **settings) for t in tasks}
    paths = {t: _cache_paths(results_dir, t, cfg.tag, _settings_key(params[t])) for t in tasks}
    trunk = _model_params(data_dir, MULTITASK_DIR, cfg, "+".join(str(p["data_key"]) for p in params.values()),
                          **settings)
    ckdir = user_path(results_dir) / MULTITASK_DIR / "checkpoints" / f"{cfg.tag}.{_settings_key(trunk)}"
    with _locked(ckdir.parent / f"{ckdir.name}.lock"):
        if not retrain and all(_decide(paths[t], params[t], epochs, False).action == "load" for t in tasks):
            return {t: p.model for t, p in paths.items()}  # another process trained it meanwhile
        resume: bool | None = False if retrain else None
        saved = load_json(ckdir / "params.json") if (ckdir / "params.json").is_file() else None
        if saved is not None and _identity(saved) != _identity(trunk):
            resume = False  # a checkpoint of other settings or data
        save_json(ckdir / "params.json", trunk)
        if resume is None and (ckdir / CHECKPOINT_FILE).is_file():
            _say(f"resuming the multi-task trunk from its checkpoint {ckdir / CHECKPOINT_FILE}")
        stack = stack_tasks(datasets, valid_frac=valid_frac, seed=data_seed)
        run = fit_tasks(stack, variant=cfg.variant, seed=cfg.seed, epochs=epochs, patience=patience,
                        checkpoint_dir=ckdir, resume=resume, verbose=verbose, **fit_kwargs)
        for j, t in enumerate(tasks):
            head = head_summary(run.result, tasks, j, patience)
            own = _head_result(run.result, head)  # this output's run: its curve, best epoch, early stopping
            model = head_model(run.model, j, variant=cfg.variant, weights=run.result.task_weights[j])
            history = paths[t].ckdir / HISTORY_FILE
            write_text(history, own.history.to_csv(index=False))
            epochs_meta = {"requested": epochs, "trained_for": epochs, "run": run.result.epochs_run,
                           "best": head.best_epoch, "stopped_early": head.stopped_early,
                           "stop_on_plateau": bool(fit_kwargs.get("stop_on_plateau", False))}
            meta = _metadata(model, datasets[t], own, params[t], t, cfg, epochs_meta, history)
            meta["multitask"] = {"tasks": tasks, "task": j, "n_train": stack.n_train[t], "n_valid": stack.n_valid[t],
                                 "n_distinct_train": len(stack.train), "checkpoint_dir": str(ckdir),
                                 "seconds": run.result.seconds}
            save_model(model, paths[t].model, meta)  # the alias <tag>.keras moves only when the output is loaded
            _say(f"saved {paths[t].model}: output {j + 1} of {len(tasks)} of a multi-task model, "
                 f"{run.result.epochs_run} epochs run, best {head.best_epoch} (test r = "
                 f"{meta['metrics']['test_pearson']:.3f}; {head.plateau.note or 'plateaued'})")
    return {t: p.model for t, p in paths.items()}

"""Chapter 02 (ResidualBind on one experiment): one training configuration trained (or loaded from the model
cache), its baselines fitted on the same split, and the record the chapter writes; the models other chapters
load."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._io import load_json
from ..config import INPUT_KINDS, TrainConfig
from ..evaluate import evaluate
from ..model_cache import TrainedModel, plateau_of, train_or_load
from ..paths import require_writable_dir
from ..train import MULTI_TASK_SUFFIX, check_fit_args, check_number, fit
from .records import SCHEMAS, make_record
from .results import find_results, results_path, write_results


def load_models(data_dir: str | os.PathLike, experiment: str, inputs: Sequence[str], **train_kw: Any
                ) -> dict[str, TrainedModel]:
    """``{inputs: TrainedModel}`` (``.model``, ``.meta``, ``.data``) from the shared model cache
    (:func:`rbgia.model_cache.train_or_load`).

    ``inputs`` items are input kinds (``"pu"``, the rest of the configuration from ``train_kw``) or whole
    configurations (tags such as ``"log-pu-paper-s0"``, :class:`rbgia.config.TrainConfig`), keyed by their inputs.
    """
    out = {}
    for item in inputs:
        if isinstance(item, str) and item in INPUT_KINDS:
            out[item] = train_or_load(data_dir, experiment, inputs=item, verbose=0, **train_kw)
        else:
            cfg = TrainConfig.coerce(item)
            out[cfg.inputs] = train_or_load(data_dir, experiment, cfg, verbose=0, **train_kw)
    return out


def run_budget(record: Mapping[str, Any]) -> pd.DataFrame:
    """One row: the protocol, the epochs allowed and run, the best epoch, the patience, whether early stopping
    was reached and whether the validation r had plateaued."""
    stopped = record.get("stopped_early")
    return pd.DataFrame([{
        # the model's cap: a cached model loaded for fewer epochs keeps its own
        "protocol": record.get("protocol") or "not recorded",
        "epoch cap": record.get("epochs_trained_for") or record.get("epochs"),
        "epochs run": record.get("epochs_run"),
        "best epoch": record.get("best_epoch"), "early-stopping patience": record.get("patience"),
        "LR-decay patience": record.get("decay_patience"),
        "early stopping reached": "yes" if stopped else "no (epoch cap)",
        "plateaued": plateau_word(record.get("plateaued"), record.get("plateau")),
        "training probes": record.get("n_train"), "validation Pearson r": record.get("valid_pearson"),
    }])


def plateau_word(plateaued: Any, reason: Any) -> str:
    """``"yes (...)"`` / ``"no (...)"``: :func:`rbgia.train.plateau`'s outcome as a training record holds it
    (``plateaued``, ``plateau``); ``"not recorded"`` for a record of an older rbgia (None or NaN)."""
    if plateaued is None or (isinstance(plateaued, float) and np.isnan(plateaued)):
        return "not recorded"
    return f"{'yes' if bool(plateaued) else 'no'} ({reason})"


def run_table(record: Mapping[str, Any]) -> pd.DataFrame:
    """Set-B Pearson r and Spearman rho of ResidualBind and the baselines of one training record."""
    rows = [{"method": "ResidualBind", "test_pearson": record["test_pearson"],
             "test_spearman": record["test_spearman"]}]
    for key, m in (record.get("baselines") or {}).items():
        rows.append({"method": BASELINE_LABELS.get(key, key), "test_pearson": m["test_pearson"],
                     "test_spearman": m["test_spearman"]})
    return pd.DataFrame(rows)


def unplateaued_note(results_dir: str | os.PathLike, experiments: Sequence[str],
                     config: TrainConfig | str = "log-seq-paper-s0", *, clause: bool = False) -> str:
    """For a caption or a chapter's head: ``""`` when the model of every experiment (its training record, the
    model GIA ran on) had plateaued, else ``"models not plateaued: A, B (reason); C (reason)"`` (``clause``:
    with ``"; "`` before it, to append to a caption's data). An experiment without a training record is named
    as such."""
    tag = TrainConfig.coerce(config).tag
    by_reason: dict[str, list[str]] = {}
    for exp in experiments:
        rec = find_results(results_dir, exp, TRAIN_NOTEBOOK, tag)
        if rec is None:
            by_reason.setdefault("no training record", []).append(exp)
        elif not rec.get("plateaued"):
            by_reason.setdefault(str(rec.get("plateau") or "not recorded"), []).append(exp)
    parts = [f"{', '.join(exps)} ({why})" for why, exps in by_reason.items()]
    note = f"models not plateaued: {'; '.join(parts)}" if parts else ""
    return f"; {note}" if clause and note else note


def scatter_panel(experiment: str, normalization: str) -> str:
    """The paper panel of chapter 02's predicted-vs-measured scatter: VTS1's is Fig 3a's scatter (coloured by
    mismatches to GCUGG); another experiment's is one transform of Fig 1b-c (b: clip, c: log)."""
    if experiment == "VTS1":
        return "Fig 3a (scatter)"
    return {"clip": "Fig 1b (clip panel)", "log": "Fig 1c (log panel)"}.get(normalization, "Fig 1b-c")


def mismatches(seqs: Sequence[str], motif: str | None) -> np.ndarray | None:
    """Mismatches of each probe's best match to ``motif`` (``None`` without a motif)."""
    if not motif:
        return None
    from ..motifs import motif_matches

    return motif_matches(seqs, motif)["mismatches"].to_numpy()


def scatter_summary(frame: pd.DataFrame, motif: str | None) -> dict[str, Any]:
    """What a predicted-vs-measured scatter shows, for the record: Pearson r and, with a motif, the mean
    prediction per number of mismatches to it."""
    from ..evaluate import pearson

    out: dict[str, Any] = {"motif": motif, "pearson": pearson(frame["y"], frame["pred"])}
    if motif and "color" in frame.columns:
        means = frame.groupby("color")["pred"].mean()
        out["mean_pred_by_mismatches"] = {str(int(k)): float(v) for k, v in means.items()}
    return out


def run_finding(record: Mapping[str, Any], experiment: str) -> str:
    """The closing sentence of a training page, from the record's numbers."""
    base = record.get("baselines") or {}
    vs = ", ".join(f"{BASELINE_LABELS.get(k, k)} {m['test_pearson']:.3f}" for k, m in base.items())
    stop = ("early stopping was reached" if record.get("stopped_early")
            else f"training stopped at the epoch cap ({record.get('epochs_trained_for') or record.get('epochs')}) "
                 "before early stopping")
    flat = plateau_word(record.get("plateaued"), record.get("plateau"))
    return (f"On {experiment} ({record.get('n_train')} training probes), ResidualBind reached set-B Pearson r = "
            f"{record['test_pearson']:.3f} (best epoch {record.get('best_epoch')} of {record.get('epochs_run')} run; "
            f"{stop}, patience {record.get('patience')}; plateaued: {flat})"
            + (f"; the baselines on the same split: {vs}." if vs else "."))


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

    def to_record(self, scatter: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The ``training`` record, with what the page's scatter shows (:func:`scatter_summary`) when given."""
        fields = {k: self.record[k] for k in SCHEMAS["training"] if k != "kind"}
        return make_record("training", **(fields | ({"scatter": dict(scatter)} if scatter is not None else {})))


TRAIN_NOTEBOOK = "02_residualbind"
MULTI_TASK = MULTI_TASK_SUFFIX.strip()  # a record's protocol ends in it when its model is a multi-task output
BASELINE_LABELS = {"kmer_ridge": "k-mer ridge", "shallow_cnn": "shallow CNN"}


def _history(meta: Mapping[str, Any]) -> pd.DataFrame:
    path = meta.get("history")
    if not path or not Path(path).is_file():
        return pd.DataFrame(columns=["epoch", "loss", "valid_pearson", "lr"])
    return pd.read_csv(path)


def _metrics(predict: Any, split: Any) -> dict[str, float]:
    m = evaluate(predict, split)
    return {"test_pearson": m["pearson"], "test_spearman": m["spearman"]}


def _record_request(*, max_probes: int | None, patience: int, decay_patience: int, epochs: int, baselines: bool,
                    kmer_k: Sequence[int], kmer_alpha: Sequence[float], cnn_epochs: int | None,
                    stop_on_plateau: bool = False, tasks: Sequence[str] | None = None) -> dict[str, Any]:
    """Every input of :func:`train_and_record` that changes its record (but the data and the configuration,
    which the record and its path hold), as it reads back from JSON."""
    return {"max_probes": max_probes, "patience": int(patience), "decay_patience": int(decay_patience),
            "epochs": int(epochs), "stop_on_plateau": bool(stop_on_plateau), "baselines": bool(baselines),
            "kmer_k": [int(k) for k in kmer_k],
            "kmer_alpha": [float(a) for a in kmer_alpha],
            "cnn_epochs": int(epochs if cnn_epochs is None else cnn_epochs),
            **({"tasks": [str(t) for t in tasks]} if tasks is not None else {})}


def _reusable(path: Path, data_key: str, files_key: str, request: Mapping[str, Any]) -> dict | None:
    """The record at ``path`` when it can stand for this call's (see ``reuse_record``), else ``None``."""
    if not path.is_file():
        return None
    old = load_json(path)
    if not isinstance(old, dict) or (old.get("data_dir"), old.get("data_fingerprint")) != (data_key, files_key):
        return None  # other data, or data files rewritten since: stale
    was = old.get("request")
    if not set(SCHEMAS["training"]) <= set(old):
        return None  # a record of an older rbgia lacks fields of today's
    if not isinstance(was, dict):
        return None  # a record from before the request was kept: its inputs are unknown
    # Epochs: a record of a longer run (the workflow's) is better, not stale; a shorter one is not enough.
    if int(old.get("epochs_trained_for") or 0) < request["epochs"] and not old.get("stopped_early"):
        return None
    same = ["max_probes", "patience", "decay_patience", "stop_on_plateau", "tasks"]
    if request["baselines"]:  # a record with baselines stands for a call without them, not the reverse
        same += ["kmer_k", "kmer_alpha"]
        cnn_enough = int(was.get("cnn_epochs") or 0) >= request["cnn_epochs"]  # a longer CNN run is better too
        if not (old.get("baselines") and was.get("baselines") and cnn_enough):
            return None
    return old if all(was.get(k) == request.get(k) for k in same) else None  # "tasks": absent for a single task


def _record(meta: Mapping[str, Any], data: Any, data_key: str, files_key: str, *, epochs: int, patience: int,
            decay_patience: int) -> dict[str, Any]:
    from ..train import protocol_name

    """The record's fields but the baselines, from the model cache's metadata and the dataset."""
    metrics = meta.get("metrics", {})
    epochs_used = meta["epochs"]
    plateau = plateau_of(meta)
    shared = meta.get("multitask") or {}  # a multi-task output: the trunk's split of this experiment's set A
    protocol = protocol_name({**(meta.get("params") or {}),
                              "stop_on_plateau": epochs_used.get("stop_on_plateau", False)})
    return {
        "data_dir": data_key,
        "data_fingerprint": files_key,
        "epochs": epochs,
        "n_train": shared.get("n_train", len(data.train.x)),
        "n_valid": shared.get("n_valid", len(data.valid.x)),
        "n_test": len(data.test.x),
        "test_pearson": metrics.get("test_pearson"),
        "test_spearman": metrics.get("test_spearman"),
        "valid_pearson": metrics.get("best_valid_pearson"),
        "best_epoch": epochs_used["best"],
        "epochs_run": epochs_used["run"],
        "epochs_trained_for": epochs_used["trained_for"],
        "patience": patience,
        "decay_patience": decay_patience,
        "stopped_early": bool(epochs_used["stopped_early"]),
        "stop_on_plateau": bool(epochs_used.get("stop_on_plateau", False)),
        # the protocol whose settings trained the model (rbgia.train.PROTOCOLS), else "custom"; "... multi-task"
        "protocol": f"{protocol} {MULTI_TASK}" if shared else protocol,
        "plateaued": plateau.plateaued,
        "plateau": plateau.reason,
        "n_params": meta.get("n_params"),
        "transform": {k: data.transform.get(k)
                      for k in ("normalization", "stats", "clip_rule", "min", "clip", "mean", "sd")},
    }


def _fit_baselines(data: Any, seed: int, kmer_k: Sequence[int], kmer_alpha: Sequence[float],
                   cnn_epochs: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The baselines fitted on ``data``'s split: ``(predictors by name, the record's baselines)``."""
    from ..baselines import KmerRidge
    from ..model import deepbind_cnn

    ridge = KmerRidge(k=tuple(kmer_k), alpha=list(kmer_alpha)).fit(data.train, data.valid)
    cnn = deepbind_cnn(data.train.x.shape[1:], seed=seed)
    cnn_fit = fit(cnn, data, epochs=cnn_epochs, seed=seed, verbose=0)
    return {"kmer_ridge": ridge, "shallow_cnn": cnn}, {
        "kmer_ridge": {**_metrics(ridge, data.test), "k": list(kmer_k), "alpha": ridge.alpha_},
        "shallow_cnn": {**_metrics(cnn, data.test), "epochs": cnn_fit.epochs_run,
                        "valid_pearson": cnn_fit.best_valid_pearson},
    }


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
    stop_on_plateau: bool = False,
    max_probes: int | None = None,
    baselines: bool = True,
    kmer_k: Sequence[int] = (1, 2, 3, 4, 5, 6),
    kmer_alpha: Sequence[float] = (0.1, 1.0, 10.0, 100.0),
    cnn_epochs: int | None = None,
    reuse_record: bool = False,
    notebook: str = TRAIN_NOTEBOOK,
    verbose: int = 0, tasks: Sequence[str] | None = None,
) -> TrainedConfig:
    """Train (or load, via :func:`train_or_load`) ResidualBind for one configuration, fit the baselines on the
    same split, evaluate on set B and write the record ``results_dir/<experiment>/<notebook>.<config_tag>.json``.

    The record holds ``config``, ``data_dir``, ``n_train``/``n_valid``/``n_test``, ``test_pearson``,
    ``test_spearman``, ``valid_pearson`` (best epoch), the epochs used: ``epochs`` (requested by this call),
    ``epochs_trained_for`` (the model's budget: more when a longer-trained cached model was loaded),
    ``epochs_run``, ``best_epoch``, ``stopped_early``; ``patience``, ``decay_patience``, ``transform`` (fitted on
    the training split) and, with ``baselines``, ``baselines.kmer_ridge`` / ``baselines.shallow_cnn`` (each
    ``test_pearson``, ``test_spearman``).

    Parameters
    ----------
    data_dir, experiment, config, normalization, inputs, variant, seed, results_dir, epochs, max_probes, tasks
        As in :func:`train_or_load`; a multi-task output's record has the protocol ``"<name> multi-task"``.
    patience, decay_patience, stop_on_plateau
        Early stopping and learning-rate decay patience (epochs without improvement), and the plateau stop,
        passed to :func:`fit`; the record keeps them with ``stopped_early`` (early stopping reached) and
        ``protocol`` (the name in :data:`rbgia.train.PROTOCOLS` of these settings, else ``"custom"``).
    baselines
        Also fit ridge regression on k-mer counts (``kmer_k``, ``kmer_alpha`` chosen on validation) and a shallow
        DeepBind-like CNN (``cnn_epochs``, default ``epochs``).
    reuse_record
        Return an existing record without loading anything when it was made from the same data files and inputs
        (``request`` in the record), by a model trained for at least ``epochs`` (or stopped early), with
        baselines if asked for.
    verbose
        Passed to training (1: one line per epoch).
    """
    from ..data import fingerprint

    cfg = TrainConfig.coerce(config, normalization=normalization, inputs=inputs, variant=variant, seed=seed)
    check_fit_args(epochs=epochs, patience=patience, decay_patience=decay_patience)
    if cnn_epochs is not None:
        check_number("cnn_epochs", cnn_epochs, integer=True, low=1)  # 0 would record an untrained baseline
    request = _record_request(max_probes=max_probes, patience=patience, decay_patience=decay_patience, epochs=epochs,
                              baselines=baselines, kmer_k=kmer_k, kmer_alpha=kmer_alpha, cnn_epochs=cnn_epochs,
                              stop_on_plateau=stop_on_plateau, tasks=tasks)
    config = cfg.as_dict()
    path = results_path(results_dir, experiment, notebook, config)
    data_key = str(Path(data_dir).resolve())
    files_key = fingerprint(data_dir, experiment)
    old = _reusable(path, data_key, files_key, request) if reuse_record else None
    if old is not None:
        return TrainedConfig(old, path)
    require_writable_dir(path.parent, "results_dir")  # before training, not when the record is written
    model, meta, data = train_or_load(data_dir, experiment, cfg, results_dir=results_dir, epochs=int(epochs),
                                      patience=int(patience), decay_patience=int(decay_patience),
                                      stop_on_plateau=bool(stop_on_plateau), max_probes=max_probes, verbose=verbose,
                                      tasks=tasks)
    fitted, fitted_record = {}, None
    if baselines:
        fitted, fitted_record = _fit_baselines(data, cfg.seed, kmer_k, kmer_alpha, request["cnn_epochs"])
    record = make_record("training", **_record(meta, data, data_key, files_key, epochs=int(epochs),
                                               patience=int(patience), decay_patience=int(decay_patience)),
                         request=request, baselines=fitted_record, scatter=None)
    write_results(results_dir, experiment, notebook, record, config)
    return TrainedConfig(load_json(path), path, model, data, _history(meta), fitted)

"""The multi-task trunk (rbgia.multitask): stacking, the masked loss, per-output stopping and best weights,
export to single-output models, and the model cache's multi-task path; checked against single-task models."""

from __future__ import annotations

import numpy as np
import pytest

from rbgia.data import RNAcompeteData, Split
from rbgia.errors import DataError, ModelError
from rbgia.evaluate import pearson
from rbgia.multitask import fit_tasks, head_model, head_summary, held_out, stack_tasks
from rbgia.train import fit

MOTIFS = {"A": "UGCAUG", "B": "AAUAAA"}
SMALL = {"num_filters": 16, "dense_units": 32}


def _probes(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.array(["".join(rng.choice(list("ACGU"), 41)) for _ in range(n)], dtype=object)


def _onehot(seqs: np.ndarray) -> np.ndarray:
    code = {c: i for i, c in enumerate("ACGU")}
    return np.eye(4, dtype=np.float32)[[[code[c] for c in s] for s in seqs]]


def _plant(seqs: np.ndarray, motif: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Half the probes get ``motif`` at a random place; score = 2 x (has it) - 1 + noise."""
    rng = np.random.default_rng(seed)
    seqs = seqs.copy()
    has = rng.random(len(seqs)) < 0.5
    for i in np.flatnonzero(has):
        at = rng.integers(0, 41 - len(motif))
        seqs[i] = seqs[i][:at] + motif + seqs[i][at + len(motif):]
    return seqs, (2.0 * has - 1.0 + rng.normal(0, 0.5, len(seqs))).astype(np.float32)


def _split(seqs: np.ndarray, y: np.ndarray) -> Split:
    return Split(x=_onehot(seqs), y=y[:, None], seqs=seqs, raw=y.copy())


def _experiment(name: str, design: np.ndarray, test: np.ndarray, measured: float, seed: int) -> RNAcompeteData:
    """One toy experiment of the shared probe ``design``: the scores of its motif on a random ``measured``
    share of the design (set A: 90% train, 10% valid) and on the test probes (set B)."""
    rng = np.random.default_rng(seed)
    seqs, y = _plant(design, MOTIFS[name], seed)
    keep = np.flatnonzero(rng.random(len(seqs)) < measured)
    cut = int(0.9 * len(keep))
    t_seqs, t_y = _plant(test, MOTIFS[name], seed + 100)
    return RNAcompeteData(name, _split(seqs[keep[:cut]], y[keep[:cut]]), _split(seqs[keep[cut:]], y[keep[cut:]]),
                          _split(t_seqs, t_y), "log", "seq", {}, "toy")


@pytest.fixture(scope="module")
def toys() -> dict[str, RNAcompeteData]:
    design = _probes(1500, 0)
    test = _probes(500, 1)
    return {name: _experiment(name, design, test, 0.7, seed) for seed, name in enumerate(MOTIFS, start=10)}


def test_held_out_is_one_draw_per_sequence() -> None:
    seqs = _probes(4000, 3)
    a, b = held_out(seqs, 0.1, seed=0), held_out(seqs[::-1], 0.1, seed=0)[::-1]
    assert (a == b).all()  # a function of the sequence, not of its place
    assert 0.08 < a.mean() < 0.12
    assert (held_out(seqs, 0.1, seed=1) != a).any()
    with pytest.raises(DataError, match="valid_frac=1.5 is not a fraction"):
        held_out(seqs, 1.5)


def test_stack_tasks_one_row_per_distinct_probe_nan_where_unmeasured(toys) -> None:
    stack = stack_tasks(toys)
    assert stack.tasks == ("A", "B")
    rows = {t: set(d.train.seqs) | set(d.valid.seqs) for t, d in toys.items()}
    assert len(stack.train) + len(stack.valid) == len(rows["A"] | rows["B"])
    for split in (stack.train, stack.valid):
        assert not set(split.seqs) & (set(stack.valid.seqs) if split is stack.train else set())
        for j, t in enumerate(stack.tasks):
            seen = np.isfinite(split.y[:, j])
            assert set(split.seqs[seen]) <= rows[t] and not set(split.seqs[~seen]) & rows[t]
    # a score reads back as its experiment loaded it
    d, j = toys["B"], 1
    at = {s: i for i, s in enumerate(stack.train.seqs)}
    i = next(i for i, s in enumerate(d.train.seqs) if s in at)
    assert stack.train.y[at[d.train.seqs[i]], j] == pytest.approx(float(d.train.y[i, 0]))
    assert stack.n_train["A"] == int(np.isfinite(stack.train.y[:, 0]).sum())


def test_stack_tasks_averages_a_probe_measured_twice() -> None:
    seqs = _probes(40, 4)
    twice = np.concatenate([seqs, seqs[:1]])
    y = np.arange(len(twice), dtype=np.float32)
    one = RNAcompeteData("A", _split(twice, y), _split(seqs[1:2], y[:1]), _split(seqs, y[:40]), "log", "seq", {},
                         "toy")
    two = RNAcompeteData("B", _split(seqs, y[:40]), _split(seqs[1:2], y[:1]), _split(seqs, y[:40]), "log", "seq", {},
                         "toy")
    stack = stack_tasks({"A": one, "B": two}, valid_frac=0.01)
    both = np.concatenate([stack.train.seqs, stack.valid.seqs])
    scores = np.concatenate([stack.train.y, stack.valid.y])
    assert len(both) == 40
    assert scores[list(both).index(seqs[0]), 0] == pytest.approx((0 + 40) / 2)


def test_stack_tasks_refuses_one_experiment_and_mixed_inputs(toys) -> None:
    with pytest.raises(DataError, match="at least 2 experiments"):
        stack_tasks({"A": toys["A"]})
    pu = toys["B"]
    wide = RNAcompeteData("B", Split(np.zeros((5, 41, 6), np.float32), pu.train.y[:5], pu.train.seqs[:5],
                                     pu.train.raw[:5]), pu.valid, pu.test, "log", "pu", {}, "toy")
    with pytest.raises(DataError, match="different input shapes"):
        stack_tasks({"A": toys["A"], "B": wide})


@pytest.mark.slow
def test_multitask_heads_match_single_task_models(toys) -> None:
    """On two planted experiments both can be computed: each exported output predicts its experiment's set B as
    well as a single-task model of the same width and budget (within 0.05), and exactly as the trunk's column."""
    stack = stack_tasks(toys)
    # a budget where both stop on their own: at 20 epochs A's output was still gaining at the cap on some CPUs
    run = fit_tasks(stack, seed=0, epochs=30, patience=5, lr=1e-2, verbose=0, **SMALL)
    from rbgia.model import residualbind

    for j, (name, d) in enumerate(toys.items()):
        head = head_model(run.model, j, weights=run.result.task_weights[j])
        x = d.test.x
        r_head = pearson(d.test.y[:, 0], head.predict(x, verbose=0)[:, 0])
        single = residualbind((41, 4), seed=0, **SMALL)
        fit(single, d, epochs=30, patience=5, lr=1e-2, seed=0, verbose=0)
        r_single = pearson(d.test.y[:, 0], single.predict(x, verbose=0)[:, 0])
        assert r_single > 0.7, name
        assert r_head > r_single - 0.05, (name, r_head, r_single)
        # the exported model is the trunk's output at that output's best epoch
        trunk = residualbind((41, 4), seed=0, outputs=2, **SMALL)
        trunk.set_weights(run.result.task_weights[j])
        np.testing.assert_allclose(head.predict(x, verbose=0)[:, 0], trunk.predict(x, verbose=0)[:, j], atol=1e-5)
        valid = stack.valid
        seen = np.isfinite(valid.y[:, j])
        r_valid = pearson(valid.y[seen, j], head.predict(valid.x[seen], verbose=0)[:, 0])
        assert r_valid == pytest.approx(run.result.task_best_valid_pearson[j], abs=1e-4)
        assert run.result.history[f"valid_pearson_{j}"].max() == pytest.approx(r_valid, abs=1e-4)


def test_masked_loss_ignores_unmeasured_scores_and_stops_per_output(toys) -> None:
    """NaN scores never reach the loss (a NaN would make it non-finite and fit would stop with 'diverged'); the
    run stops once every output has gone `patience` epochs without improving, and each output's summary says
    whether it did."""
    stack = stack_tasks(toys)
    run = fit_tasks(stack, seed=1, epochs=30, patience=1, lr=3e-2, verbose=0, **SMALL)
    result = run.result
    assert np.isfinite(result.history["loss"]).all()
    assert result.stopped_early and result.epochs_run < 30
    last = result.epochs_run
    assert all(last - e >= 1 for e in result.task_best_epoch)
    assert list(result.history.columns)[-2:] == ["valid_pearson_0", "valid_pearson_1"]
    means = result.history[["valid_pearson_0", "valid_pearson_1"]].mean(axis=1)
    np.testing.assert_allclose(result.history["valid_pearson"], means)
    summary = head_summary(result, stack.tasks, 0, patience=1)
    assert summary.stopped_early and summary.plateau.plateaued
    assert summary.best_epoch == result.task_best_epoch[0]
    assert not head_summary(result, stack.tasks, 0, patience=last + 1).stopped_early


def test_the_trunks_learning_rate_follows_the_outputs_mean_r(toys) -> None:
    """book-fast-decay's rule on a trunk: the rate falls (x lr_decay) after each `decay_patience` epochs in which the
    outputs' mean validation r did not improve, while the outputs stop on their own."""
    from rbgia.train import protocol

    stack = stack_tasks(toys)
    settings = {**protocol("book-fast-decay"), "lr": 3e-2, "decay_patience": 1, "lr_decay": 0.5, "patience": 4,
                "batch_size": 100}
    history = fit_tasks(stack, seed=1, epochs=10, verbose=0, **settings, **SMALL).result.history
    mean, lr = history["valid_pearson"].to_numpy(), history["lr"].to_numpy()
    improved = mean > np.maximum.accumulate(np.r_[-np.inf, mean[:-1]])
    expected = np.where(improved[:-1], 1.0, 0.5)
    np.testing.assert_allclose(lr[1:] / lr[:-1], expected, rtol=1e-6)
    assert (~improved[:-1]).any()  # the rate fell at least once: the check above compared a decay


def test_fit_refuses_an_output_without_scores(toys) -> None:
    stack = stack_tasks(toys)
    y = stack.train.y.copy()
    y[:, 1] = np.nan
    from rbgia.model import residualbind
    from rbgia.multitask import TaskData, TaskSplit

    bad = TaskData(stack.tasks, TaskSplit(stack.train.x, y, stack.train.seqs), stack.valid, {}, {})
    with pytest.raises(DataError, match=r"score columns \[1\] have fewer than 2 training scores"):
        fit(residualbind((41, 4), outputs=2, **SMALL), bad, epochs=1, verbose=0)


def test_head_model_checks_its_task(toys) -> None:
    from rbgia.model import residualbind

    trunk = residualbind((41, 4), outputs=2, seed=0, **SMALL)
    with pytest.raises(ModelError, match="task 2 is out of range"):
        head_model(trunk, 2)
    x = toys["A"].test.x[:20]
    np.testing.assert_allclose(head_model(trunk, 1).predict(x, verbose=0)[:, 0], trunk.predict(x, verbose=0)[:, 1],
                               atol=1e-5)
    with pytest.raises(ModelError, match="outputs=0"):
        residualbind((41, 4), outputs=0)


@pytest.mark.slow
def test_model_cache_trains_the_trunk_once_and_each_experiment_loads_its_output(sim_dir, tmp_path, capsys) -> None:
    from rbgia.data import list_experiments
    from rbgia.evaluate import evaluate
    from rbgia.model_cache import plateau_of, train_or_load

    tasks = list_experiments(sim_dir)[:2]
    kw = dict(results_dir=tmp_path, epochs=2, patience=5, max_probes=400, verbose=0, tasks=tasks)
    first = train_or_load(sim_dir, tasks[0], **kw)
    said = capsys.readouterr().err
    assert "as one output of a multi-task model" in said and said.count("saved ") == 2
    # the configuration's name moves only for the output loaded: another experiment's single-task model keeps it
    alias = tmp_path / tasks[1] / "models" / "log-seq-paper-s0.keras"
    assert (tmp_path / tasks[0] / "models" / "log-seq-paper-s0.keras").is_file() and not alias.exists()
    second = train_or_load(sim_dir, tasks[1], **kw)
    assert alias.is_file()
    assert "loaded" in capsys.readouterr().err  # its output was cached with the first call's trunk
    for trained, j in ((first, 0), (second, 1)):
        mt = trained.meta["multitask"]
        assert mt["tasks"] == tasks and mt["task"] == j and mt["n_train"] > 0
        assert trained.meta["metrics"]["test_pearson"] == pytest.approx(
            evaluate(trained.model, trained.data.test)["pearson"], abs=1e-6)
        assert len(trained.meta["metrics"]["valid_pearson_curve"]) == 2
        assert plateau_of(trained.meta).epochs_run == 2
    # a single-task model of the same settings is another model
    single = train_or_load(sim_dir, tasks[0], **{**kw, "tasks": None})
    assert "no model at" in capsys.readouterr().err and "multitask" not in single.meta
    # more epochs resume the trunk from its checkpoint: the first two epochs are the same run's
    longer = train_or_load(sim_dir, tasks[0], **{**kw, "epochs": 3})
    assert "resuming the multi-task trunk from its checkpoint" in capsys.readouterr().err
    curve = longer.meta["metrics"]["valid_pearson_curve"]
    assert len(curve) == 3 and curve[:2] == pytest.approx(first.meta["metrics"]["valid_pearson_curve"])


def test_model_cache_checks_the_tasks(sim_dir, tmp_path) -> None:
    from rbgia.data import list_experiments
    from rbgia.model_cache import train_or_load

    a, b = list_experiments(sim_dir)[:2]
    kw = dict(results_dir=tmp_path, epochs=1, max_probes=50, verbose=0)
    with pytest.raises(ModelError, match="at least 2 distinct experiments"):
        train_or_load(sim_dir, a, tasks=[a], **kw)
    with pytest.raises(ModelError, match=f"does not include the experiment '{a}'"):
        train_or_load(sim_dir, a, tasks=[b, "OTHER"], **kw)
    with pytest.raises(ModelError, match="not a list of experiment names"):
        train_or_load(sim_dir, a, tasks=f"{a},{b}", **kw)
    assert not any(tmp_path.iterdir())  # refused before any file


def test_a_multi_task_protocol_is_spelled_out() -> None:
    import pandas as pd

    from rbgia.chapters.performance import protocol_legend
    from rbgia.train import describe_protocol

    legend = protocol_legend(pd.DataFrame({"protocol": ["book", "book multi-task", "custom multi-task"]}))
    assert "book multi-task (batch 100, Adam 0.001" in legend and "one ResidualBind trunk" in legend
    assert "custom multi-task (settings of no named protocol)" in legend
    assert "trunk" not in describe_protocol("book")


def test_a_training_record_is_reused_only_for_the_same_tasks(tmp_path) -> None:
    import json

    from rbgia.chapters.records import SCHEMAS
    from rbgia.chapters.training import _record_request, _reusable

    def request(tasks):
        return _record_request(max_probes=None, patience=3, decay_patience=7, epochs=30, baselines=False, kmer_k=(6,),
                               kmer_alpha=(1.0,), cnn_epochs=None, stop_on_plateau=True, tasks=tasks)

    tasks = ["HuR", "U1A"]
    record = {**dict.fromkeys(SCHEMAS["training"]), "data_dir": "d", "data_fingerprint": "f",
              "epochs_trained_for": 30, "request": request(tasks)}
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record))
    assert _reusable(path, "d", "f", request(tasks)) is not None
    assert _reusable(path, "d", "f", request(None)) is None  # a single-task call gets its own model
    assert _reusable(path, "d", "f", request(["HuR", "PTB"])) is None

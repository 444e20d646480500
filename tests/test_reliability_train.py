"""Issues 11 and 20, training and records: each test reproduces one case of the careless-user/adversary reviews.

Issue 11: 1 (a rerun with fewer epochs destroyed a better model), 3 (a diverged training saved as finished),
4 and 9 (bad numeric arguments), 15 (read-only folders), 16 (truncated JSON), 17 (orphan temporaries
after kill -9). Issue 20: BAD 5 (a record of other inputs reused), B05 (other settings overwrote the cached
model), B14 ("resuming" without a checkpoint), B18 (disk full), B23 (a finite explosion), B25 (an unknown fit
keyword), B26 (zero epochs), E11 (another Keras backend).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from toy_models import tiny_residualbind

from rbgia.chapters import results
from rbgia.chapters.training import train_and_record
from rbgia.config import TrainConfig
from rbgia.data import RNAcompeteData, Split
from rbgia.errors import DataError, ModelError
from rbgia.model_cache import load_model, save_model, train_or_load
from rbgia.train import fit

REPO = Path(__file__).resolve().parents[1]
TAG = TrainConfig().tag
SMALL = dict(max_probes=400, verbose=0)  # ~360 training probes: seconds per epoch


def _toy_data(n_train: int = 120, n_valid: int = 40, seed: int = 0) -> RNAcompeteData:
    rng = np.random.default_rng(seed)

    def split(n: int) -> Split:
        x = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (n, 41))]
        y = (x[:, 10:16, 3].sum(1) + rng.normal(0, 0.3, n)).astype(np.float32)[:, None]
        return Split(x=x, y=y, seqs=np.array([""] * n), raw=y[:, 0].copy())

    return RNAcompeteData(experiment="TOY", train=split(n_train), valid=split(n_valid), test=split(50),
                          normalization="log", inputs="seq", transform={}, source="deepbind")


def _hashes(*paths: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def _cache_files(results_dir: Path, experiment: str) -> list[Path]:
    """The cache's files of the one model of the default configuration: model, metadata, checkpoint, history,
    params, then the configuration's name for it (``<tag>.keras`` and its ``.json``)."""
    exp = results_dir / experiment
    (model,) = (exp / "models").glob(f"{TAG}.*.keras")  # <tag>.<settings key>.keras
    ck = exp / "checkpoints" / model.name[: -len(".keras")]
    alias = exp / "models" / f"{TAG}.keras"
    return [model, Path(f"{model}.json"), ck / "checkpoint.npz", ck / "history.csv", ck / "params.json", alias,
            Path(f"{alias}.json")]


def _paths(results_dir: Path, data_dir: Path, experiment: str, max_probes: int = 400):
    """Where ``train_or_load(data_dir, experiment, results_dir=..., max_probes=...)`` keeps its model."""
    from rbgia.model_cache import _cache_paths, _model_params, _settings_key

    params = _model_params(data_dir, experiment, TrainConfig(), None, valid_frac=0.1, data_seed=0, stats="train",
                           clip_rule="quantile", max_probes=max_probes, epochs=1, patience=25, fit_kwargs={})
    return _cache_paths(results_dir, experiment, TAG, _settings_key(params))


@pytest.fixture()
def read_only(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    yield folder
    folder.chmod(0o755)


# ---------------------------------------------------------------- case 1: fewer epochs never replace a model


@pytest.mark.slow
def test_fewer_epochs_load_the_cached_model_bit_identical_and_more_resume(sim_dir, tmp_path, capsys):
    res = tmp_path / "results"
    _, meta2, _ = train_or_load(sim_dir, "SIMRBFOX1", results_dir=res, epochs=2, **SMALL)
    files = _cache_files(res, "SIMRBFOX1")
    before = _hashes(*files)
    history2 = pd.read_csv(files[3])
    capsys.readouterr()

    _, meta1, _ = train_or_load(sim_dir, "SIMRBFOX1", results_dir=res, epochs=1, **SMALL)
    assert _hashes(*files) == before  # model, metadata, checkpoint, history and params untouched
    assert meta1["epochs"] == {**meta2["epochs"], "requested": 1}
    assert meta1["epochs"]["trained_for"] == 2 and meta1["epochs"]["run"] == 2
    out = capsys.readouterr().err.strip().splitlines()
    assert len(out) == 1 and "loaded" in out[0] and "1 requested" in out[0] and "retrain=True" in out[0]

    # the record reports the epochs used, not only the ones asked for
    rec = train_and_record(sim_dir, "SIMRBFOX1", TrainConfig(), results_dir=res, epochs=1, baselines=False,
                           patience=25, **SMALL).record
    assert _hashes(*files) == before
    assert (rec["epochs"], rec["epochs_trained_for"], rec["epochs_run"]) == (1, 2, 2)
    assert rec["best_epoch"] == meta2["epochs"]["best"] and rec["stopped_early"] is False

    # more epochs resume from the checkpoint: the first two epochs are kept as they were
    _, meta3, _ = train_or_load(sim_dir, "SIMRBFOX1", results_dir=res, epochs=3, **SMALL)
    assert "resuming" in capsys.readouterr().err
    assert meta3["epochs"]["run"] == 3 and meta3["epochs"]["trained_for"] == 3
    history3 = pd.read_csv(files[3])
    pd.testing.assert_frame_equal(history3.iloc[:2][["epoch", "loss", "valid_pearson"]],
                                  history2[["epoch", "loss", "valid_pearson"]])

    # only an explicit request replaces it by a less-trained one
    _, meta_re, _ = train_or_load(sim_dir, "SIMRBFOX1", results_dir=res, epochs=1, retrain=True, **SMALL)
    assert meta_re["epochs"]["run"] == 1 and "retrain=True" in capsys.readouterr().err


@pytest.mark.slow
def test_notebook_rerun_with_fewer_epochs_keeps_the_cached_model(sim_dir, tmp_path):
    """Chapter 02 run with epochs=2, then rerun with epochs=1 on the same results folder."""
    from rbgia import book

    res = tmp_path / "results"
    params = {"data_dir": str(sim_dir), "results_dir": str(res), "experiment": "SIMRBFOX1", "baselines": False,
              "max_probes": 400, "patience": 25, "config": TrainConfig().tag}
    source = REPO / "notebooks" / "02_residualbind.ipynb"
    book.execute(source, tmp_path / "first.ipynb", {**params, "epochs": 2}, root=REPO)
    files = _cache_files(res, "SIMRBFOX1")
    before = _hashes(*files)
    book.execute(source, tmp_path / "second.ipynb", {**params, "epochs": 1}, root=REPO)
    assert _hashes(*files) == before
    rec = results.read_results(res, "SIMRBFOX1", "02_residualbind", TrainConfig())
    assert rec["epochs"] == 1 and rec["epochs_run"] == 2 and rec["epochs_trained_for"] == 2


# ---------------------------------------------------------------- case 3: divergence stops, nothing finished


def test_diverged_fit_stops_at_the_first_non_finite_epoch(tmp_path):
    ck = tmp_path / "ck"
    epochs_done = []
    with pytest.raises(ModelError, match=r"diverged at epoch 1: .*non-finite.*lower the learning rate"):
        fit(tiny_residualbind(), _toy_data(), epochs=3, lr=1e7, checkpoint_dir=ck, verbose=0,
            on_epoch_end=lambda e, logs: epochs_done.append(e))
    assert epochs_done == [] and not (ck / "checkpoint.npz").exists()


@pytest.mark.slow
def test_diverged_train_or_load_saves_no_model_and_is_not_reused(sim_dir, tmp_path):
    res = tmp_path / "results"
    for _ in range(2):  # the second call trains again (and fails again) rather than loading a NaN model
        with pytest.raises(ModelError, match="diverged at epoch .*lower the learning rate"):
            train_or_load(sim_dir, "SIMRBFOX1", results_dir=res, epochs=2, lr=1e7, **SMALL)
        assert not (res / "SIMRBFOX1" / "models" / f"{TAG}.keras").exists()


# ---------------------------------------------------------------- cases 4 and 9: numeric arguments


@pytest.mark.parametrize("kwargs, message", [
    ({"lr": -1.0}, r"lr=-1.0 is out of range; pass a number > 0"),
    ({"lr": 0}, r"lr=0 is out of range"),
    ({"lr": float("nan")}, r"lr=nan is out of range"),
    ({"lr_decay": 0.0}, r"lr_decay=0.0 is out of range; pass a number in \(0, 1\]"),
    ({"lr_decay": 1.5}, r"lr_decay=1.5 is out of range"),
    ({"patience": -1}, r"patience=-1 is out of range; pass an int >= 0"),
    ({"decay_patience": -2}, r"decay_patience=-2 is out of range"),
    ({"epochs": "ten"}, r"epochs='ten' \(str\) is not an int; pass an int"),
    ({"epochs": 2.5}, r"epochs=2.5 \(float\) is not an int"),
    ({"batch_size": 0}, r"batch_size=0 is out of range; pass an int >= 1"),
    ({"lr": "fast"}, r"lr='fast' \(str\) is not a number"),
])
def test_bad_numeric_arguments_fail_before_any_work(kwargs, message):
    # data=None: the arguments are checked before the data or the model are looked at
    with pytest.raises(ModelError, match=message):
        fit(None, None, **kwargs)


def test_train_or_load_checks_arguments_before_loading_data(tmp_path):
    res = tmp_path / "results"
    with pytest.raises(ModelError, match=r"epochs='ten' \(str\) is not an int"):
        train_or_load(tmp_path / "no-such-data", "E", results_dir=res, epochs="ten")
    with pytest.raises(ModelError, match=r"lr=-1.0 is out of range"):
        train_or_load(tmp_path / "no-such-data", "E", results_dir=res, lr=-1.0)
    with pytest.raises(ModelError, match=r"cnn_epochs='4' \(str\) is not an int"):
        train_and_record(tmp_path / "no-such-data", "E", results_dir=res, cnn_epochs="4")
    assert not res.exists()


# ---------------------------------------------------------------- case 15: read-only folders


def test_read_only_checkpoint_dir_is_named_before_an_epoch(read_only):
    epochs_done = []
    with pytest.raises(DataError, match=f"checkpoint_dir {read_only}/ck is not writable"):
        fit(tiny_residualbind(), _toy_data(), epochs=1, checkpoint_dir=read_only / "ck", verbose=0,
            on_epoch_end=lambda e, logs: epochs_done.append(e))
    assert epochs_done == []


def test_read_only_results_dir_is_named_before_any_work(read_only, tmp_path):
    with pytest.raises(DataError, match=f"results_dir {read_only} is not writable"):
        train_or_load(tmp_path / "no-such-data", "E", results_dir=read_only)  # before the data are read
    with pytest.raises(DataError, match="results_dir .* is not writable"):
        results.write_results(read_only, "E", "04_ism", {"n": 1})


# ---------------------------------------------------------------- case 16: truncated JSON


def _truncate(path: Path) -> None:
    text = path.read_text()
    path.write_text(text[: len(text) // 2])


def test_truncated_model_metadata_is_named(tmp_path):
    path = save_model(tiny_residualbind(), tmp_path / "m.keras", {"inputs": "seq", "metrics": {"test_pearson": 0.5}})
    _truncate(Path(f"{path}.json"))
    with pytest.raises(DataError, match=r"m\.keras\.json is not valid JSON \(truncated.*delete .*train again"):
        load_model(path)


def test_truncated_cache_json_is_named(sim_dir, tmp_path):
    res = tmp_path / "results"
    paths = _paths(res, sim_dir, "SIMNULL")
    paths.model.parent.mkdir(parents=True)
    paths.model.write_bytes(b"not a model")
    paths.meta.write_text('{"params": {"epochs"')
    with pytest.raises(DataError, match=rf"{TAG}\.\w+\.keras\.json is not valid JSON.*retrain=True"):
        train_or_load(sim_dir, "SIMNULL", results_dir=res, epochs=1, **SMALL)
    paths.model.unlink()
    paths.meta.unlink()
    paths.ckdir.mkdir(parents=True)
    (paths.ckdir / "params.json").write_text('{"data_dir": "/x", ')
    with pytest.raises(DataError, match=r"params\.json is not valid JSON.*delete .*checkpoints"):
        train_or_load(sim_dir, "SIMNULL", results_dir=res, epochs=1, **SMALL)


def test_collect_names_a_truncated_record_and_skips_it_only_if_asked(tmp_path):
    for exp in ("A", "B"):
        results.write_results(tmp_path, exp, "04_ism", {"n": 3})
    bad = results.results_path(tmp_path, "B", "04_ism")
    _truncate(bad)
    with pytest.raises(DataError, match=rf"{bad} is not valid JSON.*rerun notebooks/04_ism.ipynb.*on_error='skip'"):
        results.collect(tmp_path, "04_ism")
    with pytest.warns(UserWarning, match=f"skipping record: {bad}"):
        df = results.collect(tmp_path, "04_ism", on_error="skip")
    assert list(df["experiment"]) == ["A"] and df.attrs["skipped"] == [str(bad)]
    with pytest.raises(DataError, match="on_error="):
        results.collect(tmp_path, "04_ism", on_error="ignore")


# ---------------------------------------------------------------- case 17: orphan temporaries


_KILLED_WRITER = """
import os, signal, sys
from rbgia._io import atomic_path
with atomic_path(sys.argv[1]) as tmp:
    with open(tmp, "wb") as fh:
        fh.write(b"x" * 100000)
        fh.flush()
        os.kill(os.getpid(), signal.SIGKILL)
"""


def test_kill_9_during_a_checkpoint_write_leaves_no_orphan_after_the_next_write(tmp_path):
    ck = tmp_path / "ck"
    ck.mkdir()
    target = ck / "checkpoint.npz"
    proc = subprocess.run([sys.executable, "-c", _KILLED_WRITER, str(target)], cwd=REPO)
    assert proc.returncode == -signal.SIGKILL
    orphans = list(ck.glob(".checkpoint.npz.*"))
    assert len(orphans) == 1 and orphans[0].stat().st_size == 100000
    legacy = ck / ".checkpoint.npz.abc123.npz"  # the pre-fix naming (no host-pid): removed once a day old
    legacy.write_bytes(b"x")
    os.utime(legacy, (1, 1))
    foreign = ck / ".checkpoint.npz.otherhost-1-abc.npz"  # another machine's writer in progress: kept
    foreign.write_bytes(b"x")
    other = ck / ".params.json.zzz.json"  # another target's temporary: not this write's business
    other.write_bytes(b"x")
    os.utime(other, (1, 1))
    fit(tiny_residualbind(), _toy_data(), epochs=1, checkpoint_dir=ck, verbose=0)
    assert sorted(p.name for p in ck.glob(".checkpoint.npz.*")) == [foreign.name]
    assert other.exists()
    assert json.loads(np.load(target)["state"].tobytes())["epoch"] == 1


# ======================================================================= issue 20: training (B05 ... E11, BAD 5)


def _keyed(results_dir: Path, experiment: str, folder: str = "models", pattern: str = "*.keras") -> list[Path]:
    """The cache's files of the default configuration, whatever their key suffix (``<tag>*``)."""
    return sorted((results_dir / experiment / folder).glob(f"{TAG}{pattern}"))


@pytest.mark.slow
def test_reuse_record_only_for_the_same_record_inputs(sim_dir, tmp_path):
    """BAD 5: a 300-probe record was served for a 400-probe request (``n_train`` 270)."""
    kw = dict(results_dir=tmp_path / "results", epochs=1, baselines=False, verbose=0)
    first = train_and_record(sim_dir, "SIMNULL", max_probes=300, **kw)
    assert first.record["n_train"] == 270
    more = train_and_record(sim_dir, "SIMNULL", max_probes=400, reuse_record=True, **kw)
    assert more.model is not None and more.record["n_train"] == 360
    again = train_and_record(sim_dir, "SIMNULL", max_probes=400, reuse_record=True, **kw)
    assert again.model is None and again.record == more.record  # the same inputs: reused, nothing loaded


@pytest.mark.parametrize("change, reused", [
    ({}, True), ({"max_probes": 500}, False), ({"patience": 3}, False), ({"decay_patience": 2}, False),
    ({"epochs": 1}, True),  # a record of a longer run stands for a shorter request
    ({"epochs": 5}, False),  # ... not for a longer one
    ({"baselines": False}, True),  # a record with baselines stands for one without
    ({"kmer_k": (1, 2)}, False), ({"kmer_alpha": (1.0,)}, False), ({"cnn_epochs": 4}, False),
])
def test_reusable_record_checks_every_input(tmp_path, change, reused):
    from rbgia.chapters.records import SCHEMAS
    from rbgia.chapters.training import _record_request, _reusable

    asked = dict(max_probes=400, patience=25, decay_patience=7, epochs=2, baselines=True, kmer_k=(1, 2, 3),
                 kmer_alpha=(0.1, 1.0), cnn_epochs=None)
    path = tmp_path / "rec.json"
    rec = {key: None for key in SCHEMAS["training"]} | {
        "data_dir": "/d", "data_fingerprint": "f", "epochs_trained_for": 2, "stopped_early": False,
        "baselines": {"kmer_ridge": {}}, "request": _record_request(**asked)}
    path.write_text(json.dumps(rec))
    got = _reusable(path, "/d", "f", _record_request(**{**asked, **change}))
    assert (got is not None) == reused
    if not change:  # a record of an older rbgia, without a field today's schema has, is not reused
        path.write_text(json.dumps({k: v for k, v in rec.items() if k != "plateaued"}))
        assert _reusable(path, "/d", "f", _record_request(**asked)) is None


@pytest.mark.slow
def test_other_lr_is_cached_beside_and_alternating_settings_load(sim_dir, tmp_path, capsys):
    """B05: changing lr overwrote the cached model in place; going back retrained it."""
    res = tmp_path / "results"
    m1, _, data = train_or_load(sim_dir, "SIMNULL", results_dir=res, epochs=1, **SMALL)
    x = data.test.x[:50]
    p1 = np.asarray(m1(x, training=False))
    train_or_load(sim_dir, "SIMNULL", results_dir=res, epochs=1, lr=3e-3, **SMALL)
    capsys.readouterr()
    m3, meta3, _ = train_or_load(sim_dir, "SIMNULL", results_dir=res, epochs=1, **SMALL)
    out = capsys.readouterr().err
    assert "loaded" in out and "training" not in out  # the first model, kept beside the lr=3e-3 one
    np.testing.assert_array_equal(np.asarray(m3(x, training=False)), p1)
    assert meta3["params"]["lr"] == 1e-3
    assert (res / "SIMNULL" / "models" / f"{TAG}.keras").is_file()  # the configuration's name: the latest trained


@pytest.mark.slow
def test_missing_checkpoint_is_not_called_resuming(sim_dir, tmp_path, capsys):
    """B14: "resuming" was printed while training started from scratch."""
    res = tmp_path / "results"
    train_or_load(sim_dir, "SIMNULL", results_dir=res, epochs=1, **SMALL)
    for ck in _keyed(res, "SIMNULL", "checkpoints", "*/checkpoint.npz"):
        ck.unlink()
    capsys.readouterr()
    _, meta, _ = train_or_load(sim_dir, "SIMNULL", results_dir=res, epochs=2, **SMALL)
    out = capsys.readouterr().err
    assert "resuming" not in out and "from scratch" in out and "checkpoint" in out
    assert meta["epochs"]["run"] == 2


def test_disk_full_names_the_file_and_the_fix(tmp_path, monkeypatch):
    """B18: a full disk was a raw OSError naming no file."""
    import errno

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez", full)
    ck = tmp_path / "ck"
    with pytest.raises(DataError, match=r"no space left on the device writing .*ck/checkpoint\.npz .*; free space"):
        fit(tiny_residualbind(), _toy_data(), epochs=1, checkpoint_dir=ck, verbose=0)
    assert list(ck.iterdir()) == []  # no temporary left behind
    from rbgia._io import save_json

    monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(DataError, match=r"no space left on the device writing .*x\.json"):
        save_json(tmp_path / "x.json", {"a": 1})


def test_exploded_finite_loss_is_divergence(tmp_path):
    """B23: lr = 1e4 gave a finite loss ~1e17 and was saved as a finished run."""
    ck = tmp_path / "ck"
    with pytest.raises(ModelError, match=r"diverged at epoch 1: the training loss .* is over .*lr=10000.*lr=1000\b"):
        fit(tiny_residualbind(), _toy_data(), epochs=2, lr=1e4, checkpoint_dir=ck, verbose=0)
    assert not (ck / "checkpoint.npz").exists()


def test_unknown_fit_keyword_fails_before_any_output_or_file(sim_dir, tmp_path, capsys):
    """B25: learning_rate= failed after "training ..." was printed and params.json written."""
    res = tmp_path / "results"
    with pytest.raises(ModelError, match=r"unknown training setting learning_rate=.*did you mean lr\?"):
        train_or_load(sim_dir, "SIMNULL", results_dir=res, epochs=1, learning_rate=0.01, **SMALL)
    with pytest.raises(ModelError, match=r"checkpoint_dir is chosen by the model cache"):
        train_or_load(sim_dir, "SIMNULL", results_dir=res, epochs=1, checkpoint_dir=tmp_path, **SMALL)
    assert capsys.readouterr().out == "" and not res.exists()


def test_zero_epochs_are_refused(tmp_path):
    """B26: epochs=0 cached an untrained model as finished; cnn_epochs=0 was read as ``epochs``."""
    res = tmp_path / "results"
    with pytest.raises(ModelError, match=r"^epochs=0 is out of range; pass an int >= 1"):
        train_or_load(tmp_path / "no-such-data", "E", results_dir=res, epochs=0)
    with pytest.raises(ModelError, match=r"^epochs=0 is out of range"):
        fit(None, None, epochs=0)
    with pytest.raises(ModelError, match=r"^cnn_epochs=0 is out of range; pass an int >= 1"):
        train_and_record(tmp_path / "no-such-data", "E", results_dir=res, cnn_epochs=0)
    assert not res.exists()


def test_resume_true_without_a_checkpoint_dir_says_so():
    with pytest.raises(ModelError, match=r"resume=True needs a checkpoint_dir"):
        fit(tiny_residualbind(), _toy_data(), epochs=1, resume=True, verbose=0)


_JAX_BACKEND = """
import sys
for what in ("from rbgia.model import residualbind", "from rbgia.model_cache import load_model; load_model('m.keras')"):
    try:
        exec(what)
    except Exception as exc:
        print(type(exc).__name__, exc)
"""


def test_other_keras_backend_is_named_with_the_fix(tmp_path):
    """E11: KERAS_BACKEND=jax without jax was a raw ModuleNotFoundError."""
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", _JAX_BACKEND], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 2, proc.stdout + proc.stderr
    for line in lines:
        assert line.startswith("ModelError KERAS_BACKEND='jax'"), line
        assert "tensorflow backend" in line and "unset KERAS_BACKEND or set KERAS_BACKEND=tensorflow" in line


@pytest.mark.slow
def test_the_training_record_is_typed(sim_dir, tmp_path):
    """Chapter 02's record is a ``training`` record (rbgia.chapters.records), with the page's scatter added by
    ``TrainedConfig.to_record``; the reader checks its keys."""
    from rbgia.chapters import records as chapter_records
    from rbgia.chapters import results

    run = train_and_record(sim_dir, "SIMNULL", max_probes=300, results_dir=tmp_path, epochs=1, baselines=False)
    assert run.record["kind"] == "training" and run.record["baselines"] is None and run.record["scatter"] is None
    rec = run.to_record({"pearson": 0.5, "motif": None})
    assert rec["scatter"] == {"pearson": 0.5, "motif": None} and rec["n_train"] == 270
    results.write_results(tmp_path, "SIMNULL", "02_residualbind", rec, run.record["config"])
    back = chapter_records.read_record(tmp_path, "SIMNULL", "02_residualbind", config=run.record["config"],
                                      kind="training")
    assert back.scatter.pearson == 0.5 and back.request.max_probes == 300


@pytest.mark.slow
def test_the_training_record_names_its_protocol(sim_dir, tmp_path):
    """The book's stops (patience 3, plateau stop) record protocol "book"; the plateau stop is a stop rule, not
    part of the model's identity: asked without it, the cache loads the same model, whose protocol the record
    keeps. Trained without it, patience 3 is no named protocol."""
    kw = dict(max_probes=300, epochs=2, baselines=False, patience=3)
    book_run = train_and_record(sim_dir, "SIMNULL", stop_on_plateau=True, results_dir=tmp_path / "a", **kw)
    assert book_run.record["protocol"] == "book" and book_run.record["stop_on_plateau"] is True
    same = train_and_record(sim_dir, "SIMNULL", stop_on_plateau=False, results_dir=tmp_path / "a", **kw)
    assert same.record["protocol"] == "book" and same.record["test_pearson"] == book_run.record["test_pearson"]
    other = train_and_record(sim_dir, "SIMNULL", stop_on_plateau=False, results_dir=tmp_path / "b", **kw)
    assert other.record["protocol"] == "custom" and other.record["stop_on_plateau"] is False

"""Issue 11, training and records: each test reproduces one case of the careless-user/adversary review.

Cases: 1 (a rerun with fewer epochs destroyed a better model), 3 (a diverged training saved as finished),
4 and 9 (bad numeric arguments), 15 (read-only folders), 16 (truncated JSON), 17 (orphan temporaries
after kill -9).
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


def _toy_model(seed: int = 0):
    from rbgia.model import residualbind

    return residualbind((41, 4), num_filters=8, dense_units=16, seed=seed)


def _hashes(*paths: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def _cache_files(results_dir: Path, experiment: str) -> list[Path]:
    exp = results_dir / experiment
    model = exp / "models" / f"{TAG}.keras"
    ck = exp / "checkpoints" / TAG
    return [model, Path(f"{model}.json"), ck / "checkpoint.npz", ck / "history.csv", ck / "params.json"]


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
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "loaded" in out[0] and "1 requested" in out[0] and "retrain=True" in out[0]

    # the record reports the epochs used, not only the ones asked for
    rec = train_and_record(sim_dir, "SIMRBFOX1", TrainConfig(), results_dir=res, epochs=1, baselines=False,
                           patience=25, **SMALL).record
    assert _hashes(*files) == before
    assert (rec["epochs"], rec["epochs_trained_for"], rec["epochs_run"]) == (1, 2, 2)
    assert rec["best_epoch"] == meta2["epochs"]["best"] and rec["stopped_early"] is False

    # more epochs resume from the checkpoint: the first two epochs are kept as they were
    _, meta3, _ = train_or_load(sim_dir, "SIMRBFOX1", results_dir=res, epochs=3, **SMALL)
    assert "resuming" in capsys.readouterr().out
    assert meta3["epochs"]["run"] == 3 and meta3["epochs"]["trained_for"] == 3
    history3 = pd.read_csv(files[3])
    pd.testing.assert_frame_equal(history3.iloc[:2][["epoch", "loss", "valid_pearson"]],
                                  history2[["epoch", "loss", "valid_pearson"]])

    # only an explicit request replaces it by a less-trained one
    _, meta_re, _ = train_or_load(sim_dir, "SIMRBFOX1", results_dir=res, epochs=1, retrain=True, **SMALL)
    assert meta_re["epochs"]["run"] == 1 and "retrain=True" in capsys.readouterr().out


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
        fit(_toy_model(), _toy_data(), epochs=3, lr=1e7, checkpoint_dir=ck, verbose=0,
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
        fit(_toy_model(), _toy_data(), epochs=1, checkpoint_dir=read_only / "ck", verbose=0,
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
    path = save_model(_toy_model(), tmp_path / "m.keras", {"inputs": "seq", "metrics": {"test_pearson": 0.5}})
    _truncate(Path(f"{path}.json"))
    with pytest.raises(DataError, match=r"m\.keras\.json is not valid JSON \(truncated.*delete .*train again"):
        load_model(path)


def test_truncated_cache_json_is_named(sim_dir, tmp_path):
    res = tmp_path / "results"
    models = res / "SIMNULL" / "models"
    models.mkdir(parents=True)
    (models / f"{TAG}.keras").write_bytes(b"not a model")
    (models / f"{TAG}.keras.json").write_text('{"params": {"epochs"')
    with pytest.raises(DataError, match=rf"{TAG}\.keras\.json is not valid JSON.*retrain=True"):
        train_or_load(sim_dir, "SIMNULL", results_dir=res, epochs=1, **SMALL)
    for f in models.iterdir():
        f.unlink()
    ck = res / "SIMNULL" / "checkpoints" / TAG
    ck.mkdir(parents=True)
    (ck / "params.json").write_text('{"data_dir": "/x", ')
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
    fit(_toy_model(), _toy_data(), epochs=1, checkpoint_dir=ck, verbose=0)
    assert sorted(p.name for p in ck.glob(".checkpoint.npz.*")) == [foreign.name]
    assert other.exists()
    assert json.loads(np.load(target)["state"].tobytes())["epoch"] == 1

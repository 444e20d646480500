"""rbgia.chapters.results.write_results: NaN/inf are refused unless ``allow_nan`` (then null).

Record paths, reading and collecting are tested in tests/test_book.py.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from rbgia.chapters import results
from rbgia.errors import DataError


@pytest.mark.parametrize(
    "record",
    [
        {"r2": float("nan")},
        {"r2": np.float32("inf")},
        {"ci": (0.1, float("nan"))},
        {"curve": np.array([1.0, np.nan])},
        {"nested": {"rows": [{"ratio": -np.inf}]}},
    ],
)
def test_non_finite_values_are_refused_by_default(tmp_path, record):
    with pytest.raises(DataError, match="allow_nan=True"):
        results.write_results(tmp_path, "A", "07_gc_bias", record)
    assert not results.results_path(tmp_path, "A", "07_gc_bias").exists()


def test_allow_nan_stores_null(tmp_path):
    record = {
        "r2": float("nan"),
        "effect": np.float64("inf"),
        "ci": (np.float32("nan"), 1.5),
        "curve": np.array([[1.0, np.nan], [-np.inf, 2.0]]),
        "rows": [{"ratio": np.nan, "n": np.int64(3)}],
        "ok": 0.25,
        "missing": None,
    }
    path = results.write_results(tmp_path, "A", "07_gc_bias", record, allow_nan=True)
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    rec = json.loads(text)
    assert rec["r2"] is None and rec["effect"] is None
    assert rec["ci"] == [None, 1.5]
    assert rec["curve"] == [[1.0, None], [None, 2.0]]
    assert rec["rows"] == [{"ratio": None, "n": 3}]
    assert rec["ok"] == 0.25 and rec["missing"] is None
    assert results.read_results(tmp_path, "A", "07_gc_bias") == rec


def test_reuse_record_only_while_the_data_files_are_unchanged(sim_dir, tmp_path):
    import os
    import shutil

    from rbgia.chapters.training import train_and_record

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    for name in ("sequences.tsv", "targets.tsv"):
        shutil.copy(sim_dir / name, data_dir / name)
    kw = dict(results_dir=tmp_path / "results", epochs=1, baselines=False)
    first = train_and_record(data_dir, "SIMNULL", **kw)
    again = train_and_record(data_dir, "SIMNULL", reuse_record=True, **kw)
    assert again.model is None and again.record == first.record  # reused: nothing loaded
    os.utime(data_dir / "targets.tsv", ns=(1, 1))  # the data files changed since
    fresh = train_and_record(data_dir, "SIMNULL", reuse_record=True, **kw)
    assert fresh.model is not None
    assert fresh.record["data_fingerprint"] != first.record["data_fingerprint"]


def test_train_config_is_the_one_configuration():
    from rbgia.config import TrainConfig

    cfg = TrainConfig()
    assert cfg.tag == "log-seq-paper-s0"
    assert cfg.as_dict() == {"normalization": "log", "inputs": "seq", "variant": "paper", "seed": 0}
    other = cfg.replace(normalization="clip", seed=3)
    assert other.tag == "clip-seq-paper-s3" and TrainConfig.from_tag(other.tag) == other
    assert TrainConfig.from_dict({"inputs": "pu"}) == TrainConfig(inputs="pu")
    assert TrainConfig.coerce(other.tag).as_dict() == other.as_dict() == TrainConfig("clip", seed=3).as_dict()
    assert results.CONFIG_KEYS == TrainConfig.field_names()
    assert results.results_path("r", "A", "02_residualbind", other).name == "02_residualbind.clip-seq-paper-s3.json"
    with pytest.raises(DataError, match=r"unknown keys \['epochs'\]"):
        TrainConfig.from_dict({"epochs": 3})
    for bad in ({"seed": -1}, {"seed": 1.5}, {"seed": True}, {"inputs": "PU"}, {"variant": ""}):
        with pytest.raises(DataError, match="use one of|int >= 0"):
            TrainConfig(**bad)
    with pytest.raises(DataError, match="not a configuration tag"):
        TrainConfig.from_tag("log_seq")
    with pytest.raises(DataError, match="pass the configuration once"):
        TrainConfig.coerce(cfg, seed=1)
    assert TrainConfig.coerce(cfg.as_dict(), seed=0) == cfg == TrainConfig.coerce(None)

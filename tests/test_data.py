"""rbgia.data: parsing both RNAcompete layouts, transforms, splits, caches, errors."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pytest

import rbgia.data as rd
from rbgia.config import STRUCTURE_CHANNELS
from rbgia.data import (
    SEQ_LEN,
    decode,
    default_cache_dir,
    list_experiments,
    load_rnacompete,
    one_hot,
    pad_offset,
)
from rbgia.errors import DataError

SPLITS = ("train", "valid", "test")


# ---------------------------------------------------------------------------
# Tiny files written by the tests


def _random_seqs(n: int, rng: np.random.Generator, dna: bool = False) -> list[str]:
    letters = list("ACGT" if dna else "ACGU")
    return ["".join(rng.choice(letters, int(k))) for k in rng.integers(30, 42, n)]


def _open(path: Path, gz: bool):
    return gzip.open(path, "wt") if gz else open(path, "w")


def write_deepbind(
    d: Path, n_a: int = 200, n_b: int = 100, experiments=("RNCMPT00001", "RNCMPT00002"), seed: int = 0,
    gz: bool = False, nan_frac: float = 0.1,
) -> dict:
    """sequences.tsv + targets.tsv with random probes and scores (NaNs sprinkled in)."""
    rng = np.random.default_rng(seed)
    d.mkdir(parents=True, exist_ok=True)
    seqs = _random_seqs(n_a + n_b, rng, dna=True)
    folds = ["A"] * n_a + ["B"] * n_b
    scores = {e: rng.gamma(2.0, 1.0, n_a + n_b) - 1.0 for e in experiments}
    for s in scores.values():
        s[rng.random(s.size) < nan_frac] = np.nan
    sfx = ".gz" if gz else ""
    with _open(d / f"sequences.tsv{sfx}", gz) as fh:
        fh.write("Fold ID\tEvent ID\tseq\n")
        for i, (f, s) in enumerate(zip(folds, seqs)):
            fh.write(f"{f}\tRNAC_{i:06d}\t{s}\n")
    with _open(d / f"targets.tsv{sfx}", gz) as fh:
        fh.write("\t".join(experiments) + "\n")
        for i in range(n_a + n_b):
            fh.write("\t".join("NaN" if np.isnan(scores[e][i]) else f"{scores[e][i]:.6f}" for e in experiments) + "\n")
    return {"seqs": seqs, "folds": np.array(folds), "scores": scores}


def write_per_set(path: Path, scores, seqs, gz: bool = False, sep: str = " ") -> None:
    with _open(path, gz) as fh:
        for sc, s in zip(scores, seqs):
            fh.write(f"{'nan' if np.isnan(sc) else sc}{sep}{s}\n")


@pytest.fixture
def deepbind_dir(tmp_path) -> tuple[Path, dict]:
    truth = write_deepbind(tmp_path / "db")
    return tmp_path / "db", truth


# ---------------------------------------------------------------------------
# Encoding helpers (kept from the seed module)


def test_one_hot_centres_reads_t_and_decodes():
    x = one_hot(["ACGT", "acgun"], length=9)
    assert x.shape == (2, 9, 4) and x.dtype == np.float32
    off = pad_offset(4, 9)
    assert off == 2 and x[0, :off].sum() == 0 and x[0, off + 4 :].sum() == 0
    assert x[0, off + 3, 3] == 1.0  # T read as U
    assert x[1, pad_offset(5, 9) + 4].sum() == 0  # N: all-zero row
    assert decode(x) == ["ACGU", "ACGU"]  # trailing N is dropped like padding
    assert decode(one_hot(["ANA"], 5)) == ["ANA"]
    with pytest.raises(DataError, match="outside ACGUTN"):
        one_hot(["ACXG"])
    with pytest.raises(DataError, match="longer than the model length"):
        one_hot(["A" * 42])


# ---------------------------------------------------------------------------
# DeepBind layout


def test_deepbind_shapes_nan_drop_split_and_transform(deepbind_dir):
    d, truth = deepbind_dir
    assert list_experiments(d) == ["RNCMPT00001", "RNCMPT00002"]
    data = load_rnacompete(d, "RNCMPT00002", cache_dir=None)
    assert data.source == "deepbind" and data.experiment == "RNCMPT00002"
    assert data.normalization == "log" and data.inputs == "seq"
    sc = truth["scores"]["RNCMPT00002"]
    a, b = sc[truth["folds"] == "A"], sc[truth["folds"] == "B"]
    n_a = int(np.isfinite(a).sum())
    assert len(data.valid) == round(0.1 * n_a) and len(data.train) + len(data.valid) == n_a
    assert len(data.test) == int(np.isfinite(b).sum())
    assert data.info["n_dropped"] == {"A": int(np.isnan(a).sum()), "B": int(np.isnan(b).sum())}
    seqs_a = np.array([s.replace("T", "U") for s in np.array(truth["seqs"])[truth["folds"] == "A"]])
    for name in SPLITS:
        sp = getattr(data, name)
        n = len(sp)
        assert sp.x.shape == (n, SEQ_LEN, 4) and sp.x.dtype == np.float32
        assert sp.y.shape == (n, 1) and sp.y.dtype == np.float32
        assert sp.raw.shape == (n,) and sp.raw.dtype == np.float32 and np.isfinite(sp.raw).all()
        assert sp.seqs.shape == (n,) and all(set(s) <= set("ACGU") for s in sp.seqs)
        assert decode(sp.x) == list(sp.seqs)
    # Rows come from the right set, with their own scores; train/valid disjoint, covering set A.
    np.testing.assert_array_equal(data.train.seqs, seqs_a[data.train.index])
    np.testing.assert_allclose(data.test.raw, b[data.test.index], atol=2e-6)
    assert not set(data.train.index) & set(data.valid.index)
    assert set(data.train.index) | set(data.valid.index) == set(np.flatnonzero(np.isfinite(a)))
    # stats="train": log(S - min_train + 1), z-scored on training mean/sd, applied to all.
    t = data.transform
    assert t["min"] == pytest.approx(data.train.raw.min(), rel=1e-6)
    for name in SPLITS:
        sp = getattr(data, name)
        expect = (np.log(np.maximum(sp.raw.astype(np.float64), t["min"]) - t["min"] + 1) - t["mean"]) / t["sd"]
        np.testing.assert_allclose(sp.y[:, 0], expect, rtol=1e-4, atol=1e-4)
    assert data.train.y.mean() == pytest.approx(0, abs=1e-5) and data.train.y.std() == pytest.approx(1, abs=1e-4)
    assert t["splits"]["test"]["n_floored"] == int((data.test.raw < t["min"]).sum())


def test_split_is_deterministic_under_seed(deepbind_dir):
    d, _ = deepbind_dir
    a = load_rnacompete(d, "RNCMPT00001", seed=3, cache_dir=None)
    b = load_rnacompete(d, "RNCMPT00001", seed=3, cache_dir=None)
    c = load_rnacompete(d, "RNCMPT00001", seed=4, cache_dir=None)
    for name in SPLITS:
        for f in ("x", "y", "seqs", "raw", "index"):
            np.testing.assert_array_equal(getattr(getattr(a, name), f), getattr(getattr(b, name), f))
    assert not np.array_equal(a.valid.index, c.valid.index)
    np.testing.assert_array_equal(a.test.index, c.test.index)


def test_log_floors_test_scores_below_training_min(tmp_path):
    rng = np.random.default_rng(1)
    seqs = _random_seqs(60, rng)
    a_scores = rng.normal(size=40)
    b_scores = rng.normal(size=20)
    b_scores[:3] = a_scores.min() - np.array([1.0, 2.0, 3.0])
    write_per_set(tmp_path / "X1_P_setA.txt", a_scores, seqs[:40])
    write_per_set(tmp_path / "X1_P_setB.txt", b_scores, seqs[40:])
    data = load_rnacompete(tmp_path, "X1", cache_dir=None, valid_frac=0.2)
    t = data.transform
    assert np.isfinite(data.test.y).all()
    assert t["splits"]["test"]["n_floored"] == 3
    floor = (np.log(1.0) - t["mean"]) / t["sd"]
    np.testing.assert_allclose(data.test.y[:3, 0], floor, rtol=1e-5)
    # The paper's per-split statistics: every split is centred on its own.
    per = load_rnacompete(tmp_path, "X1", cache_dir=None, valid_frac=0.2, stats="per_split")
    for name in SPLITS:
        y = getattr(per, name).y
        assert y.mean() == pytest.approx(0, abs=1e-5) and y.std() == pytest.approx(1, abs=1e-4)
    assert per.transform["splits"]["test"]["min"] == pytest.approx(b_scores.min(), rel=1e-5)
    assert per.transform["splits"]["test"]["n_floored"] == 0
    assert per.test.y.mean() != pytest.approx(data.test.y.mean(), abs=1e-3)


@pytest.mark.parametrize("rule", ["quantile", "sd"])
def test_clip_rules(deepbind_dir, rule):
    d, _ = deepbind_dir
    data = load_rnacompete(d, "RNCMPT00001", normalization="clip", clip_rule=rule, cache_dir=None)
    raw = data.train.raw.astype(np.float64)
    thr = np.quantile(raw, 0.999) if rule == "quantile" else raw.mean() + 4 * raw.std()
    t = data.transform
    assert t["normalization"] == "clip" and t["clip_rule"] == rule and t["min"] is None
    assert t["clip"] == pytest.approx(thr, rel=1e-5)
    for name in SPLITS:
        sp = getattr(data, name)
        clipped = np.minimum(sp.raw.astype(np.float64), thr)
        np.testing.assert_allclose(sp.y[:, 0], (clipped - t["mean"]) / t["sd"], rtol=1e-4, atol=1e-4)
    assert (data.train.raw > thr).sum() >= (1 if rule == "quantile" else 0)


def test_deepbind_gzipped_and_valid_frac(tmp_path):
    write_deepbind(tmp_path, n_a=100, n_b=50, gz=True, nan_frac=0.0)
    data = load_rnacompete(tmp_path, "RNCMPT00001", valid_frac=0.25, cache_dir=None)
    assert (len(data.train), len(data.valid), len(data.test)) == (75, 25, 50)
    none = load_rnacompete(tmp_path, "RNCMPT00001", valid_frac=0.0, cache_dir=None)
    assert (len(none.train), len(none.valid)) == (100, 0) and none.valid.x.shape == (0, SEQ_LEN, 4)


# ---------------------------------------------------------------------------
# Per-set layout


def test_per_set_layout_gz_dna_and_names(tmp_path):
    rng = np.random.default_rng(2)
    seqs = _random_seqs(90, rng, dna=True)
    sc = rng.normal(size=90)
    sc[5] = np.nan
    write_per_set(tmp_path / "HuR_data_full_A.txt.gz", sc[:60], seqs[:60], gz=True, sep="\t")
    write_per_set(tmp_path / "HuR_data_full_B.txt.gz", sc[60:], seqs[60:], gz=True, sep="\t")
    write_per_set(tmp_path / "RNCMPT00009_FOO_setA.txt", sc[:60], seqs[:60])
    write_per_set(tmp_path / "RNCMPT00009_FOO_setB.txt", sc[60:], seqs[60:])
    write_per_set(tmp_path / "RNCMPT00010_BAR_setA.txt", sc[:60], seqs[:60])  # no set B: not listed
    assert list_experiments(tmp_path) == ["HuR", "RNCMPT00009"]
    a = load_rnacompete(tmp_path, "HuR", cache_dir=None)
    b = load_rnacompete(tmp_path, "RNCMPT00009", cache_dir=None)
    assert a.source == b.source == "per_set"
    assert len(a.train) + len(a.valid) == 59 and len(a.test) == 30
    assert 5 not in set(a.train.index) | set(a.valid.index)
    for name in SPLITS:
        np.testing.assert_array_equal(getattr(a, name).x, getattr(b, name).x)
        assert all("T" not in s for s in getattr(a, name).seqs)
    with pytest.raises(DataError, match="no set B file for RNCMPT00010"):
        load_rnacompete(tmp_path, "RNCMPT00010", cache_dir=None)


# ---------------------------------------------------------------------------
# Caches


def test_cache_second_load_reads_cache(deepbind_dir, tmp_path, monkeypatch):
    d, _ = deepbind_dir
    cache = tmp_path / "cache"
    first = load_rnacompete(d, "RNCMPT00001", cache_dir=cache)
    assert not first.info["from_cache"] and Path(first.info["cache"]).is_file()

    def no_parse(*args, **kwargs):
        raise AssertionError("parsed again instead of reading the cache")

    monkeypatch.setattr(rd, "_read_sets", no_parse)
    second = load_rnacompete(d, "RNCMPT00001", cache_dir=cache)
    assert second.info["from_cache"] and second.transform == first.transform
    for name in SPLITS:
        for f in ("x", "y", "seqs", "raw", "index"):
            a, b = getattr(getattr(first, name), f), getattr(getattr(second, name), f)
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)
    # Another parameter, or a changed input file, misses the cache.
    with pytest.raises(AssertionError, match="parsed again"):
        load_rnacompete(d, "RNCMPT00001", cache_dir=cache, seed=1)
    st = (d / "targets.tsv").stat()
    os.utime(d / "targets.tsv", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    with pytest.raises(AssertionError, match="parsed again"):
        load_rnacompete(d, "RNCMPT00001", cache_dir=cache)


def test_cache_none_writes_nothing_and_corrupt_cache_rebuilds(deepbind_dir, tmp_path):
    d, _ = deepbind_dir
    before = set(d.rglob("*"))
    data = load_rnacompete(d, "RNCMPT00001", cache_dir=None)
    assert data.info["cache"] is None and set(d.rglob("*")) == before
    cache = tmp_path / "c"
    path = Path(load_rnacompete(d, "RNCMPT00001", cache_dir=cache).info["cache"])
    path.write_bytes(b"not hdf5")
    with pytest.warns(UserWarning, match="unreadable cache"):
        again = load_rnacompete(d, "RNCMPT00001", cache_dir=cache)
    np.testing.assert_array_equal(again.train.x, data.train.x)
    assert load_rnacompete(d, "RNCMPT00001", cache_dir=cache).info["from_cache"]


def test_default_cache_dir(tmp_path, monkeypatch):
    writable = tmp_path / "w"
    writable.mkdir()
    assert default_cache_dir(writable) == writable / ".rbgia_cache"
    readonly = tmp_path / "ro"
    readonly.mkdir()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    readonly.chmod(0o555)  # read-only by its mode bits, even for root
    try:
        assert default_cache_dir(readonly) == tmp_path / "xdg" / "rbgia"
    finally:
        readonly.chmod(0o755)
    # "auto" lands in the data folder when it is writable.
    write_deepbind(writable, n_a=30, n_b=10, nan_frac=0.0)
    data = load_rnacompete(writable, "RNCMPT00001")
    assert Path(data.info["cache"]).parent == writable / ".rbgia_cache"


def _fake_profile(calls: list):
    """Stand-in for rbgia.structure: channel 0 = 1 at G/C positions, centred like one_hot."""

    def fake(seqs, kind, length, n_jobs, progress):
        calls.append((kind, len(seqs)))
        x = one_hot(seqs, length)
        c = STRUCTURE_CHANNELS[kind]
        out = np.zeros((len(seqs), length, c), np.float32)
        out[..., 0] = x[..., 1] + x[..., 2]
        out[..., 1] = x[..., 0] + x[..., 3]
        return out

    return fake


def test_structure_channels_cached_per_sequence_set(deepbind_dir, tmp_path, monkeypatch):
    d, truth = deepbind_dir
    calls: list = []
    monkeypatch.setattr(rd, "_structure_profile", _fake_profile(calls))
    cache = tmp_path / "cache"
    one = load_rnacompete(d, "RNCMPT00001", inputs="pu", cache_dir=cache)
    assert one.inputs == "pu" and one.train.x.shape[1:] == (SEQ_LEN, 6)
    for name in SPLITS:
        x = getattr(one, name).x
        np.testing.assert_array_equal(x[..., 4], x[..., 1] + x[..., 2])  # rows aligned with their probes
        np.testing.assert_array_equal(x[..., 5], x[..., 0] + x[..., 3])
    distinct = {s for name in SPLITS for s in getattr(one, name).seqs}
    assert calls == [("pu", len(distinct))]  # every distinct probe of both sets, once
    two = load_rnacompete(d, "RNCMPT00002", inputs="pu", cache_dir=cache)  # same design: fold only the new probes
    new = {s for name in SPLITS for s in getattr(two, name).seqs} - distinct
    assert calls[1:] == [("pu", len(new))] and two.test.x.shape[-1] == 6
    ph = load_rnacompete(d, "RNCMPT00002", inputs="phime", cache_dir=cache)
    assert len(calls) == 3 and calls[2][0] == "phime" and ph.train.x.shape[-1] == 9
    seq = load_rnacompete(d, "RNCMPT00002", inputs="seq", cache_dir=cache)
    np.testing.assert_array_equal(seq.train.x, ph.train.x[..., :4])


def test_structure_store_folds_the_union_of_overlapping_experiments_once(tmp_path, monkeypatch):
    # The 2009 layout: every RBP has its own files holding overlapping subsets of one array design.
    rng = np.random.default_rng(3)
    design = np.array(["".join(rng.choice(list("ACGU"), 30)) for _ in range(120)])
    subsets = {"HuR": np.arange(0, 100), "PTB": np.arange(20, 120)}
    for name, idx in subsets.items():
        write_per_set(tmp_path / f"{name}_data_full_A.txt", rng.normal(size=60), design[idx[:60]])
        write_per_set(tmp_path / f"{name}_data_full_B.txt", rng.normal(size=40), design[idx[60:]])
    calls: list = []
    monkeypatch.setattr(rd, "_structure_profile", _fake_profile(calls))
    cache = tmp_path / "cache"
    hur = load_rnacompete(tmp_path, "HuR", inputs="pu", cache_dir=cache)
    ptb = load_rnacompete(tmp_path, "PTB", inputs="pu", cache_dir=cache)
    assert calls == [("pu", 100), ("pu", 20)]  # PTB folds only the 20 probes HuR lacks
    assert [p.name for p in cache.glob("structure-*")] == [f"structure-pu-L{SEQ_LEN}.h5"]
    fresh = load_rnacompete(tmp_path, "PTB", inputs="pu", cache_dir=None)
    for name in SPLITS:
        np.testing.assert_array_equal(getattr(ptb, name).x, getattr(fresh, name).x)
        x = getattr(hur, name).x
        np.testing.assert_array_equal(x[..., 4], x[..., 1] + x[..., 2])


@pytest.mark.real
def test_structure_inputs_on_2013_sample(tmp_path):
    pytest.importorskip("RNA")
    d = rd.shipped_data_dir("rnacompete2013_sample")
    for kind, c in (("pu", 6), ("phime", 9)):
        data = load_rnacompete(d, "RNCMPT00002", inputs=kind, max_probes=40, cache_dir=tmp_path, n_jobs=1)
        assert len(data.train) + len(data.valid) == 40 and len(data.test) == 40
        for name in SPLITS:
            x = getattr(data, name).x
            assert x.shape[1:] == (SEQ_LEN, c) and x.dtype == np.float32
            occupied = x[..., :4].sum(-1) > 0
            np.testing.assert_allclose(x[..., 4:].sum(-1)[occupied], 1.0, atol=1e-4)
            assert (x[..., 4:][~occupied] == 0).all()
        again = load_rnacompete(d, "RNCMPT00002", inputs=kind, max_probes=40, cache_dir=tmp_path, n_jobs=1)
        np.testing.assert_array_equal(again.test.x, data.test.x)


# ---------------------------------------------------------------------------
# Real data


@pytest.mark.real
@pytest.mark.parametrize("experiment", ["RNCMPT00001", "RNCMPT00002"])
def test_real_2013_sample(tmp_path, experiment):
    d = rd.shipped_data_dir("rnacompete2013_sample")
    assert list_experiments(d) == ["RNCMPT00001", "RNCMPT00002"]
    data = load_rnacompete(d, experiment, cache_dir=tmp_path)
    n_a, n_b = data.info["n_probes"]["A"], data.info["n_probes"]["B"]
    assert (n_a, n_b) == (30000, 30000)
    assert len(data.train) + len(data.valid) == n_a - data.info["n_dropped"]["A"]
    assert len(data.valid) == round(0.1 * (len(data.train) + len(data.valid)))
    assert len(data.test) == n_b - data.info["n_dropped"]["B"]
    for name in SPLITS:
        sp = getattr(data, name)
        assert sp.x.shape == (len(sp), 41, 4) and np.isfinite(sp.y).all() and np.isfinite(sp.raw).all()
    assert not set(data.train.index) & set(data.valid.index)
    assert not set(data.test.seqs) & (set(data.train.seqs) | set(data.valid.seqs))  # set A and B share no probe
    rerun = load_rnacompete(d, experiment, cache_dir=None)
    for name in SPLITS:
        np.testing.assert_array_equal(getattr(rerun, name).x, getattr(data, name).x)
        np.testing.assert_array_equal(getattr(rerun, name).y, getattr(data, name).y)


@pytest.mark.real
def test_real_2009_vts1(tmp_path):
    d = rd.shipped_data_dir("rnacompete2009")
    assert "VTS1" in list_experiments(d)
    data = load_rnacompete(d, "VTS1", cache_dir=tmp_path)
    assert data.source == "per_set"
    assert len(data.train) + len(data.valid) == 41318 - data.info["n_dropped"]["A"]
    assert len(data.test) == 40612 - data.info["n_dropped"]["B"]
    if data.info["n_dropped"]["A"] == 0:
        assert len(data.train) == 37186  # the paper's VTS1 training set size
    assert data.train.x.shape[1:] == (41, 4) and not set(data.train.index) & set(data.valid.index)
    assert all(set(s) <= set("ACGUN") for s in data.test.seqs[:1000])
    again = load_rnacompete(d, "VTS1", cache_dir=tmp_path)
    assert again.info["from_cache"]
    np.testing.assert_array_equal(again.valid.x, data.valid.x)
    np.testing.assert_array_equal(again.train.y, data.train.y)


@pytest.mark.real
@pytest.mark.slow
def test_real_2009_vts1_pu_full(tmp_path):
    """PU for all 82k VTS1 probes (~1 min on two cores)."""
    pytest.importorskip("RNA")
    data = load_rnacompete(rd.shipped_data_dir("rnacompete2009"), "VTS1", inputs="pu", cache_dir=tmp_path)
    assert data.train.x.shape == (len(data.train), 41, 6) and data.test.x.shape == (40612, 41, 6)


def test_simulated_data(sim_dir, tmp_path):
    ids = list_experiments(sim_dir)
    assert len(ids) >= 2
    for exp in ids:
        data = load_rnacompete(sim_dir, exp, cache_dir=tmp_path)
        assert data.source == "deepbind" and data.experiment == exp
        for name in SPLITS:
            sp = getattr(data, name)
            assert len(sp) > 0 and sp.x.shape == (len(sp), 41, 4) and np.isfinite(sp.y).all()
        n = data.info["n_probes"]
        assert len(data.train) + len(data.valid) == n["A"] - data.info["n_dropped"]["A"]
        assert len(data.test) == n["B"] - data.info["n_dropped"]["B"]
        assert not set(data.train.index) & set(data.valid.index)
    again = load_rnacompete(sim_dir, ids[0], cache_dir=None)
    first = load_rnacompete(sim_dir, ids[0], cache_dir=tmp_path)
    assert first.info["from_cache"]
    for name in SPLITS:
        np.testing.assert_array_equal(getattr(again, name).x, getattr(first, name).x)
        np.testing.assert_array_equal(getattr(again, name).y, getattr(first, name).y)


# ---------------------------------------------------------------------------
# Errors: one line naming the problem and the fix


def test_unknown_experiment_suggests_close_ids(deepbind_dir):
    d, _ = deepbind_dir
    with pytest.raises(DataError, match=r"'RNCMPT0001' not found.*did you mean RNCMPT00001"):
        load_rnacompete(d, "RNCMPT0001", cache_dir=None)


def test_unknown_experiment_per_set(tmp_path):
    rng = np.random.default_rng(0)
    seqs = _random_seqs(20, rng)
    write_per_set(tmp_path / "VTS1_data_full_A.txt", rng.normal(size=10), seqs[:10])
    write_per_set(tmp_path / "VTS1_data_full_B.txt", rng.normal(size=10), seqs[10:])
    with pytest.raises(DataError, match="did you mean VTS1"):
        load_rnacompete(tmp_path, "VTS2", cache_dir=None)


@pytest.mark.parametrize(
    "bad, match",
    [
        ("ACGUXACGUACGUACGUACGUACGUACGUACGU", r"line 3: probe .* letters \['X'\] outside ACGUTN"),
        ("A" * 45, r"line 3: probe of 45 nt is longer than the model length 41; pass length=45"),
    ],
)
def test_bad_probe(tmp_path, bad, match):
    rng = np.random.default_rng(0)
    seqs = _random_seqs(20, rng)
    seqs[2] = bad
    write_per_set(tmp_path / "E1_P_setA.txt", rng.normal(size=10), seqs[:10])
    write_per_set(tmp_path / "E1_P_setB.txt", rng.normal(size=10), seqs[10:])
    with pytest.raises(DataError, match=match):
        load_rnacompete(tmp_path, "E1", cache_dir=None)


def test_row_count_mismatch(deepbind_dir):
    d, _ = deepbind_dir
    lines = (d / "targets.tsv").read_text().splitlines()
    (d / "targets.tsv").write_text("\n".join(lines[:-5]) + "\n")
    with pytest.raises(DataError, match=r"sequences.tsv has 300 probes but targets.tsv has 295 rows"):
        load_rnacompete(d, "RNCMPT00001", cache_dir=None)


def test_missing_fold_column(deepbind_dir):
    d, _ = deepbind_dir
    text = (d / "sequences.tsv").read_text()
    (d / "sequences.tsv").write_text(text.replace("Fold ID", "Fold", 1))
    with pytest.raises(DataError, match=r"no 'Fold ID' column.*Fold ID<TAB>Event ID<TAB>seq"):
        load_rnacompete(d, "RNCMPT00001", cache_dir=None)


def test_bad_fold_value(deepbind_dir):
    d, _ = deepbind_dir
    lines = (d / "sequences.tsv").read_text().splitlines()
    lines[4] = "C" + lines[4][1:]
    (d / "sequences.tsv").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"line 5: Fold ID 'C' is neither A"):
        load_rnacompete(d, "RNCMPT00001", cache_dir=None)


def test_no_finite_score(tmp_path):
    write_deepbind(tmp_path, n_a=20, n_b=10, nan_frac=1.0)
    with pytest.raises(DataError, match="RNCMPT00001 has no finite score"):
        load_rnacompete(tmp_path, "RNCMPT00001", cache_dir=None)


@pytest.mark.parametrize("layout", ["deepbind", "per_set"])
def test_truncated_gzip(tmp_path, layout):
    if layout == "deepbind":
        write_deepbind(tmp_path, n_a=3000, n_b=100, gz=True)
        target, exp = tmp_path / "targets.tsv.gz", "RNCMPT00001"
    else:
        rng = np.random.default_rng(0)
        seqs = _random_seqs(3000, rng)
        write_per_set(tmp_path / "VTS1_data_full_A.txt.gz", rng.normal(size=2000), seqs[:2000], gz=True)
        write_per_set(tmp_path / "VTS1_data_full_B.txt.gz", rng.normal(size=1000), seqs[2000:], gz=True)
        target, exp = tmp_path / "VTS1_data_full_A.txt.gz", "VTS1"
    blob = target.read_bytes()
    target.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DataError, match=rf"{target.name} is truncated or corrupt .*download it again"):
        load_rnacompete(tmp_path, exp, cache_dir=None)


def test_neither_layout(tmp_path):
    (tmp_path / "notes.txt").write_text("hello\n")
    with pytest.raises(DataError, match="neither sequences.tsv \\+ targets.tsv .* nor"):
        load_rnacompete(tmp_path, "X", cache_dir=None)
    with pytest.raises(DataError, match="neither"):
        list_experiments(tmp_path)
    with pytest.raises(DataError, match="does not exist"):
        load_rnacompete(tmp_path / "missing", "X", cache_dir=None)
    (tmp_path / "sequences.tsv").write_text("Fold ID\tEvent ID\tseq\n")
    with pytest.raises(DataError, match="has sequences.tsv but no targets.tsv"):
        load_rnacompete(tmp_path, "X", cache_dir=None)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"normalization": "zscore"}, "unknown normalization 'zscore'; use one of 'log', 'clip'"),
        ({"inputs": "shape"}, "unknown inputs 'shape'; use one of 'seq', 'pu', 'phime'"),
        ({"stats": "all"}, "unknown stats"),
        ({"clip_rule": "mad"}, "unknown clip_rule"),
        ({"valid_frac": 1.0}, "outside"),
    ],
)
def test_unknown_options(deepbind_dir, kwargs, match):
    d, _ = deepbind_dir
    with pytest.raises(DataError, match=match):
        load_rnacompete(d, "RNCMPT00001", cache_dir=None, **kwargs)


def test_non_numeric_score(tmp_path):
    rng = np.random.default_rng(0)
    seqs = _random_seqs(20, rng)
    write_per_set(tmp_path / "E1_P_setA.txt", rng.normal(size=10), seqs[:10])
    (tmp_path / "E1_P_setB.txt").write_text("score sequence\n" + "0.5 ACGU\n")
    with pytest.raises(DataError, match="E1_P_setB.txt: a score is not a number"):
        load_rnacompete(tmp_path, "E1", cache_dir=None)


def test_cli_list_and_prepare(deepbind_dir, tmp_path, capsys):
    d, _ = deepbind_dir
    assert rd.main(["list", str(d)]) == 0
    assert capsys.readouterr().out.split() == ["RNCMPT00001", "RNCMPT00002"]
    assert rd.main(["prepare", str(d), "RNCMPT00002", "--cache-dir", str(tmp_path)]) == 0
    assert "RNCMPT00002: train" in capsys.readouterr().out
    assert load_rnacompete(d, "RNCMPT00002", cache_dir=tmp_path).info["from_cache"]
    assert rd.main(["prepare", str(d), "NOPE", "--cache-dir", str(tmp_path)]) == 2  # a user error (issue 11 #20)
    assert "not found" in capsys.readouterr().err


def test_empty_sequence_in_deepbind(deepbind_dir):
    d, _ = deepbind_dir
    lines = (d / "sequences.tsv").read_text().splitlines()
    lines[3] = lines[3].rsplit("\t", 1)[0] + "\t"
    (d / "sequences.tsv").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"sequences.tsv line 4 has no sequence"):
        load_rnacompete(d, "RNCMPT00001", cache_dir=None)


def test_empty_per_set_file(tmp_path):
    rng = np.random.default_rng(0)
    seqs = _random_seqs(10, rng)
    write_per_set(tmp_path / "E1_P_setA.txt", rng.normal(size=10), seqs)
    (tmp_path / "E1_P_setB.txt").write_text("")
    with pytest.raises(DataError, match="is empty; download it again"):
        load_rnacompete(tmp_path, "E1", cache_dir=None)


# ---------------------------------------------------------------------------
# The shipped data (issue 12: a fresh clone carries the real data itself)


def test_shipped_data_dirs(monkeypatch, tmp_path):
    assert rd.REPO_DATA == Path(rd.__file__).resolve().parents[1] / "data"
    assert list_experiments(rd.shipped_data_dir("rnacompete2009")) == [
        "Fusip", "HuR", "PTB", "SF2", "SLM2", "U1A", "VTS1", "YB1"
    ]
    sample = rd.shipped_data_dir("rnacompete2013_sample")
    assert list_experiments(sample) == ["RNCMPT00001", "RNCMPT00002"]
    assert all(p.suffix == ".gz" for p in sample.iterdir() if p.name.endswith(("_setA.txt.gz", "_setB.txt.gz")))
    assert (rd.shipped_data_dir("reference") / "reported_results.csv").is_file()
    with pytest.raises(DataError, match=r"unknown shipped data 'rnacompete2013'; use one of 'rnacompete2009'"):
        rd.shipped_data_dir("rnacompete2013")
    monkeypatch.setattr(rd, "REPO_DATA", tmp_path / "nodata")
    with pytest.raises(DataError, match=r"shipped data folder .*nodata/reference is missing; .*pip install -e"):
        rd.shipped_data_dir("reference")


def test_protein_name_points_to_the_experiment_id():
    with pytest.raises(DataError, match=r"'A1CF' not found .*A1CF is the protein of RNCMPT00001: pass that id"):
        load_rnacompete(rd.shipped_data_dir("rnacompete2013_sample"), "A1CF", cache_dir=None)
    with pytest.raises(DataError, match=r"'VTS' not found .*did you mean VTS1\?"):
        load_rnacompete(rd.shipped_data_dir("rnacompete2009"), "VTS", cache_dir=None)


def test_shipped_data_readme_names_sources_and_licences():
    readme = (rd.REPO_DATA / "README.md").read_text()
    for needed in ("Ray et al., *Nat Biotechnol* 27:667-670 (2009)", "Ray et al., *Nature* 499:172-177 (2013)",
                   "mstrazar/mklaren", "ilanbb/dlprb", "LICENSES/mklaren-BSD.txt", "LICENSES/dlprb-MIT.txt"):
        assert needed in readme
    for lic in ("mklaren-BSD.txt", "dlprb-MIT.txt"):
        assert "Copyright" in (rd.REPO_DATA / "LICENSES" / lic).read_text()


def test_rbp_2009_to_2013_map_matches_the_motif_file():
    import pandas as pd

    from rbgia.motifs import read_meme

    ref = rd.shipped_data_dir("reference")
    table = pd.read_csv(ref / "rbp_2009_to_2013.tsv", sep="\t", comment="#", dtype=str, keep_default_na=False)
    assert set(table["rbp_2009"]) == set(list_experiments(rd.shipped_data_dir("rnacompete2009")))
    motifs = read_meme(ref / "ray2013_rnacompete_motifs.meme")
    mapped = table[table["experiment_2013"] != ""]
    assert len(mapped) == 21 and set(mapped["rbp_2009"]) == set(table["rbp_2009"]) - {"VTS1"}
    for _, row in mapped.iterrows():
        assert motifs[row["experiment_2013"]].name == row["protein_2013"]
    readme = (rd.REPO_DATA / "README.md").read_text()
    assert all(f"| {rbp} |" in readme for rbp in table["rbp_2009"])

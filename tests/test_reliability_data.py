"""Issue 11, the data layer: each case reproduced (every test here failed before its fix) and
checked for its one-line error or its recovery.

- 5: a corrupted cache (flipped bits, a swapped array) is detected and rebuilt with a warning;
- 6: duplicated experiment ids in targets.tsv are refused, naming the columns (no phantom ``X.1``);
- 15: a read-only download destination is named before anything is fetched;
- 18: a DeepBind sequences.tsv without Fold ID B rows says so;
- 19: ``~`` is expanded in every path argument of the data layer, its CLI and rbgia.simulate;
- 20: ``python -m rbgia.data`` / ``python -m rbgia.simulate`` end a user error with one ``error:`` line, exit 2.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import rbgia.data as rd
import rbgia.simulate as sim
from rbgia.data import list_experiments, load_rnacompete
from rbgia.download import download_rnacompete
from rbgia.errors import DataError

REPO = Path(__file__).resolve().parents[1]
SPLITS = ("train", "valid", "test")


def _deepbind(d: Path, ids=("E1", "E2"), n_a: int = 60, n_b: int = 30, folds=None, seed: int = 0) -> Path:
    """A tiny DeepBind-layout folder; ``ids`` may repeat (the header is written as given)."""
    rng = np.random.default_rng(seed)
    d.mkdir(parents=True, exist_ok=True)
    n = n_a + n_b
    folds = folds if folds is not None else ["A"] * n_a + ["B"] * n_b
    seqs = ["".join(rng.choice(list("ACGU"), int(k))) for k in rng.integers(30, 42, n)]
    (d / "sequences.tsv").write_text(
        "Fold ID\tEvent ID\tseq\n" + "".join(f"{f}\tRNAC_{i}\t{s}\n" for i, (f, s) in enumerate(zip(folds, seqs)))
    )
    scores = rng.gamma(2.0, 1.0, (n, len(ids)))
    (d / "targets.tsv").write_text(
        "\t".join(ids) + "\n" + "".join("\t".join(f"{v:.5f}" for v in row) + "\n" for row in scores)
    )
    return d


def _same(a, b) -> None:
    for name in SPLITS:
        for f in ("x", "y", "seqs", "raw", "index"):
            np.testing.assert_array_equal(getattr(getattr(a, name), f), getattr(getattr(b, name), f))


def _flip(path: Path, dataset: str) -> None:
    """Invert a few bytes in the middle of an uncompressed dataset, in the file itself."""
    import h5py

    with h5py.File(path, "r") as f:
        offset, size = f[dataset].id.get_offset(), f[dataset].id.get_storage_size()
    with open(path, "r+b") as fh:
        fh.seek(offset + size // 2)
        chunk = fh.read(4)
        fh.seek(offset + size // 2)
        fh.write(bytes(b ^ 0xFF for b in chunk))


@contextlib.contextmanager
def _read_only(d: Path):
    d.mkdir(parents=True, exist_ok=True)
    d.chmod(0o555)  # read-only by its mode bits: refused even for root
    try:
        yield d
    finally:
        d.chmod(0o755)


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, cwd=REPO, timeout=300)


def _one_error_line(out: subprocess.CompletedProcess) -> str:
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2 and "Traceback" not in out.stderr and len(lines) == 1, out.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


# --------------------------------------------------------------------------- case 5: checksummed caches


def test_bit_flip_in_cached_test_y_is_detected_and_rebuilt(tmp_path):
    d = _deepbind(tmp_path / "db")
    fresh = load_rnacompete(d, "E1", cache_dir=None)
    path = Path(load_rnacompete(d, "E1", cache_dir=tmp_path / "c").info["cache"])
    _flip(path, "test/y")
    with pytest.warns(UserWarning, match=r"is corrupt \(test/y failed its checksum\); rebuilding it"):
        again = load_rnacompete(d, "E1", cache_dir=tmp_path / "c")
    assert not again.info["from_cache"]
    _same(again, fresh)
    third = load_rnacompete(d, "E1", cache_dir=tmp_path / "c")  # the rebuilt cache is good
    assert third.info["from_cache"]
    _same(third, fresh)


@pytest.mark.parametrize("fix_digest", [False, True])
def test_swapped_array_in_cache_is_detected_and_rebuilt(tmp_path, fix_digest):
    """train/y replaced by a (3, 1) array; with ``fix_digest`` the stored checksum is forged too,
    so only the shape check stands between the cache and a wrong answer."""
    import h5py

    d = _deepbind(tmp_path / "db")
    fresh = load_rnacompete(d, "E2", cache_dir=None)
    path = Path(load_rnacompete(d, "E2", cache_dir=tmp_path / "c").info["cache"])
    bad = np.full((3, 1), 3.4e38, np.float32)
    with h5py.File(path, "r+") as f:
        del f["train"]["y"]
        f["train"].create_dataset("y", data=bad)
        if fix_digest:
            meta = json.loads(f.attrs["meta"])
            meta["digests"]["train/y"] = rd._array_digest(bad)
            f.attrs["meta"] = json.dumps(meta)
    match = r"train/y has shape \(3, 1\), expected" if fix_digest else "train/y failed its checksum"
    with pytest.warns(UserWarning, match=match):
        again = load_rnacompete(d, "E2", cache_dir=tmp_path / "c")
    _same(again, fresh)
    assert load_rnacompete(d, "E2", cache_dir=tmp_path / "c").info["from_cache"]


def test_bit_flip_in_structure_cache_recomputes(tmp_path, monkeypatch):
    d = _deepbind(tmp_path / "db")
    calls: list[int] = []

    def fake(seqs, kind, length, n_jobs, progress):
        calls.append(len(seqs))
        x = rd.one_hot(seqs, length)
        return np.stack([x[..., 1] + x[..., 2], x[..., 0] + x[..., 3]], axis=-1)

    monkeypatch.setattr(rd, "_structure_profile", fake)
    first = load_rnacompete(d, "E1", inputs="pu", cache_dir=tmp_path / "c")
    assert len(calls) == 1
    profiles = sorted((tmp_path / "c").glob("structure-pu-*.h5"))
    assert len(profiles) == 1  # one store of distinct probes
    _flip(profiles[0], "profile")
    with pytest.warns(UserWarning, match=r"is corrupt \(profile failed its checksum\); recomputing it"):
        again = load_rnacompete(d, "E1", inputs="pu", cache_dir=tmp_path / "c")
    assert len(calls) == 2
    _same(again, first)


# --------------------------------------------------------------------------- case 6: duplicated ids


def test_duplicated_experiment_column_is_refused(tmp_path, capsys):
    d = _deepbind(tmp_path / "db", ids=("E1", "E2", "E1"))
    msg = r"duplicated experiment ids \('E1' in columns 1, 3; 1-based\); rename or remove the duplicate"
    with pytest.raises(DataError, match=msg):
        list_experiments(d)  # before the fix: ['E1', 'E2', 'E1.1'], a phantom experiment
    with pytest.raises(DataError, match=msg):
        load_rnacompete(d, "E1", cache_dir=None)  # before the fix: the first column, silently
    with pytest.raises(DataError, match=msg):
        load_rnacompete(d, "E2", cache_dir=None)
    assert rd.main(["list", str(d)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "columns 1, 3" in err[0]


# --------------------------------------------------------------------------- case 18: no Fold ID B


def test_deepbind_without_fold_b_rows_names_the_cause(tmp_path):
    d = _deepbind(tmp_path / "db", folds=["A"] * 90)
    with pytest.raises(DataError, match=r"sequences.tsv has no Fold ID B rows, so there is no set B \(test\)"):
        load_rnacompete(d, "E1", cache_dir=None)
    d = _deepbind(tmp_path / "db2", folds=["B"] * 90)
    with pytest.raises(DataError, match=r"no Fold ID A rows, so there is no set A \(train/validation\)"):
        load_rnacompete(d, "E1", cache_dir=None)


# --------------------------------------------------------------------------- case 19: ~ expansion


def test_tilde_is_expanded_in_every_data_path(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path))
    _deepbind(tmp_path / "db")
    assert list_experiments("~/db") == ["E1", "E2"]
    data = load_rnacompete("~/db", "E1", cache_dir="~/cache")
    assert Path(data.info["cache"]).parent == tmp_path / "cache" and Path(data.info["data_dir"]) == tmp_path / "db"
    assert load_rnacompete("~/db", "E1", cache_dir="~/cache").info["from_cache"]
    assert rd.fingerprint("~/db", "E1") == rd.fingerprint(tmp_path / "db", "E1")
    assert rd.default_cache_dir("~/db") == tmp_path / "db" / ".rbgia_cache"
    assert rd.shipped_data_dir("reference").is_dir()
    # the downloader: a destination that already holds the files returns at once, expanded
    assert download_rnacompete("~/db") == tmp_path / "db"
    # the CLI
    assert rd.main(["list", "~/db"]) == 0 and capsys.readouterr().out.split() == ["E1", "E2"]
    assert rd.main(["prepare", "~/db", "E2", "--cache-dir", "~/cache2"]) == 0
    assert list((tmp_path / "cache2").glob("E2-*.h5"))
    # rbgia.simulate, library and CLI
    assert sim.write_rnacompete("~/sim", n_a=5, n_b=5, experiments=["SIMHUR"]) == tmp_path / "sim"
    assert sim.main(["~/sim2", "--n-a", "5", "--n-b", "5", "--experiments", "SIMHUR"]) == 0
    assert (tmp_path / "sim2" / "targets.tsv").is_file() and not (Path.cwd() / "~").exists()


# --------------------------------------------------------------------------- cases 15, 20: CLIs and folders


def test_simulate_cli_user_errors_are_one_line(tmp_path):
    line = _one_error_line(_cli("rbgia.simulate", str(tmp_path / "out"), "--n-a", "0"))
    assert "n_a=0" in line
    (tmp_path / "file").write_text("x")
    line = _one_error_line(_cli("rbgia.simulate", str(tmp_path / "file"), "--n-a", "5", "--n-b", "5"))
    assert "is a file" in line


def test_read_only_output_folders_are_named_before_work(tmp_path, capsys):
    with _read_only(tmp_path / "ro") as ro:
        with pytest.raises(DataError, match=r"output folder .*ro/out is not writable"):
            sim.write_rnacompete(ro / "out", n_a=5, n_b=5, experiments=["SIMHUR"])
        assert sim.main([str(ro), "--n-a", "5", "--n-b", "5", "--experiments", "SIMHUR"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: output folder") and "not writable" in err[0]
        # case 15: the download destination is checked before anything is fetched (this URL would fail)
        with pytest.raises(DataError, match=r"download destination .*ro/dl is not writable"):
            download_rnacompete(ro / "dl", url="http://127.0.0.1:9/never.zip", timeout=1)
        assert rd.main(["download", str(ro), "--url", "http://127.0.0.1:9/never.zip", "--timeout", "1"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "download destination" in err[0] and "not writable" in err[0]
    # a read-only folder that already holds the data needs no writing
    _deepbind(tmp_path / "ro2")
    with _read_only(tmp_path / "ro2") as ro2:
        assert download_rnacompete(ro2) == ro2


def test_data_cli_user_errors_are_one_line(tmp_path):
    (tmp_path / "file").write_text("x")
    line = _one_error_line(_cli("rbgia.data", "list", str(tmp_path / "file")))
    assert "is a file" in line
    line = _one_error_line(_cli("rbgia.data", "list", str(tmp_path / "missing")))
    assert "does not exist" in line


def test_a_path_argument_that_is_no_path_is_named(tmp_path):
    with pytest.raises(DataError, match=r"data_dir None is not a path \(type NoneType\); pass a str or pathlib.Path"):
        load_rnacompete(None, "E1")
    with pytest.raises(DataError, match=r"cache_dir 3 is not a path \(type int\)"):
        load_rnacompete(_deepbind(tmp_path / "db"), "E1", cache_dir=3)
    with pytest.raises(DataError, match=r"output folder None is not a path"):
        sim.write_rnacompete(None, n_a=5, n_b=5)

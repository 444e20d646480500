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


# =========================================================================== issue 20: the data layer
# A14 copies of one probe, A15 set B repeating set A, A36 duplicated Event IDs, A19 scores beyond float32,
# A20 an empty validation split, A22 case-insensitive suggestions, A42 a file rewritten with its mtime restored,
# E01/E02 relative paths from another working directory, E08 rbgia.simulate replacing existing data.


def _probes(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return ["".join(rng.choice(list("ACGU"), 38)) for _ in range(n)]


def _per_set(d: Path, a: list[str], b: list[str], exp: str = "RNCMPT00009", seed: int = 0) -> Path:
    """``<exp>_P_setA.txt`` / ``setB.txt`` with these probes and gamma scores (5 decimals)."""
    rng = np.random.default_rng(seed)
    d.mkdir(parents=True, exist_ok=True)
    for s, seqs in (("A", a), ("B", b)):
        (d / f"{exp}_P_set{s}.txt").write_text("".join(f"{v:.5f} {q}\n" for v, q in zip(rng.gamma(2, 1, len(seqs)),
                                                                                         seqs)))
    return d


def test_a14_many_copies_of_one_probe_warn_with_the_count(tmp_path):
    seqs = _probes(500)
    d = _per_set(tmp_path / "d", seqs[:300] + [seqs[0]] * 199, seqs[300:])
    with pytest.warns(UserWarning, match=r"set A of RNCMPT00009 \(.*RNCMPT00009_P_setA.txt\) holds 200 copies of one "
                                         r"probe \('" + seqs[0][:20]):
        data = load_rnacompete(d, "RNCMPT00009", cache_dir=tmp_path / "c")
    assert data.info["probes"]["A"]["max_copies"] == 200
    with pytest.warns(UserWarning, match="200 copies of one probe"):  # a cached load says it again
        assert load_rnacompete(d, "RNCMPT00009", cache_dir=tmp_path / "c").info["from_cache"]
    d = _per_set(tmp_path / "e", [seqs[0]] * 200, seqs[300:])  # nothing but copies: refused
    with pytest.raises(DataError, match=r"set A of RNCMPT00009 .* is mostly copies: 199 of its 200 probes repeat "
                                        r"another .*deduplicate"):
        load_rnacompete(d, "RNCMPT00009", cache_dir=None)


def test_a15_set_b_repeating_set_a_is_a_leak(tmp_path):
    seqs = _probes(130)
    d = _per_set(tmp_path / "d", seqs[:100], seqs[:100])
    with pytest.raises(DataError, match=r"set B \(test\) of RNCMPT00009 repeats set A: 100 of its 100 distinct probes "
                                        r"are also in set A \(.*setA.txt, .*setB.txt\).*leak"):
        load_rnacompete(d, "RNCMPT00009", cache_dir=None)
    d = _per_set(tmp_path / "e", seqs[:100], seqs[97:130])  # 3 shared: a warning with the count
    with pytest.warns(UserWarning, match=r"3 of the 33 distinct set-B \(test\) probes of RNCMPT00009 also occur in "
                                         r"set A"):
        data = load_rnacompete(d, "RNCMPT00009", cache_dir=None)
    assert data.info["probes"]["shared"] == 3


def test_a36_duplicated_deepbind_event_ids_warn(tmp_path):
    d = _deepbind(tmp_path / "db")
    text = (d / "sequences.tsv").read_text().replace("\tRNAC_7\t", "\tRNAC_3\t").replace("\tRNAC_70\t", "\tRNAC_3\t")
    (d / "sequences.tsv").write_text(text)
    with pytest.warns(UserWarning, match=r"sequences.tsv has 2 rows whose Event ID repeats another's \(RNAC_3 on "
                                         r"lines 5, 9, 72\)"):
        load_rnacompete(d, "E1", cache_dir=None)


def test_a19_scores_beyond_float32_are_named_not_called_equal(tmp_path):
    d = _deepbind(tmp_path / "db")
    lines = (d / "targets.tsv").read_text().splitlines()
    lines[3], lines[4] = "1e308\t1.0", "-1e308\t1.0"
    (d / "targets.tsv").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"set A of E1 \(.*targets.tsv, Fold ID A rows\) has 2 scores beyond the "
                                        r"float32 range \(largest magnitude 1e\+308"):
        load_rnacompete(d, "E1", cache_dir=None)
    assert len(load_rnacompete(d, "E2", cache_dir=None).train)  # the other column is fine


def test_a20_an_empty_validation_split_warns(tmp_path):
    seqs = _probes(10)
    d = _per_set(tmp_path / "d", seqs[:5], seqs[5:])
    with pytest.warns(UserWarning, match=r"valid_frac=0.1 of the 5 set-A probes of RNCMPT00009 gives an empty "
                                         r"validation split"):
        data = load_rnacompete(d, "RNCMPT00009", cache_dir=None)
    assert len(data.valid) == 0
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_rnacompete(d, "RNCMPT00009", cache_dir=None, valid_frac=0.0)  # asked for: no warning


def test_a22_experiment_suggestions_ignore_case(tmp_path):
    with pytest.raises(DataError, match=r"'vts1' not found .*did you mean VTS1\?"):
        load_rnacompete(rd.shipped_data_dir("rnacompete2009"), "vts1", cache_dir=None)
    with pytest.raises(DataError, match=r"'vts' not found .*did you mean VTS1\?"):
        load_rnacompete(rd.shipped_data_dir("rnacompete2009"), "vts", cache_dir=None)
    with pytest.raises(DataError, match=r"'e1' not found .*did you mean E1\?"):
        load_rnacompete(_deepbind(tmp_path / "db"), "e1", cache_dir=None)


def test_a42_a_file_rewritten_with_its_mtime_restored_is_not_served_stale(tmp_path):
    import os

    seqs = _probes(150)
    d = _per_set(tmp_path / "d", seqs[:100], seqs[100:])
    first = load_rnacompete(d, "RNCMPT00009", cache_dir=tmp_path / "c")
    before = rd.fingerprint(d, "RNCMPT00009")
    path = d / "RNCMPT00009_P_setB.txt"
    st = path.stat()
    text = path.read_text()
    old = text.split(" ", 1)[0]
    new = ("9" if old[0] != "9" else "8") + old[1:]  # the first score, same width
    path.write_text(new + text[len(old):])
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns
    again = load_rnacompete(d, "RNCMPT00009", cache_dir=tmp_path / "c")
    assert not again.info["from_cache"] and again.info["key"] != first.info["key"]
    assert again.test.raw[0] == np.float32(float(new)) != first.test.raw[0]
    assert rd.fingerprint(d, "RNCMPT00009") != before  # records made from the old file are stale too


def test_e01_e02_relative_data_paths_name_the_resolved_path_and_cwd(tmp_path, monkeypatch, capsys):
    import re

    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    elsewhere = re.escape(str(Path.cwd()))
    where = rf"data/rnacompete2009 \(resolved from the working directory {elsewhere} to {elsewhere}/data/rnacompete2009"
    with pytest.raises(DataError, match=rf"data directory {where}\) does not exist"):
        load_rnacompete("data/rnacompete2009", "VTS1")
    with pytest.raises(DataError, match=rf"data directory {where}\) does not exist"):
        list_experiments("data/rnacompete2009")
    assert rd.main(["list", "data/rnacompete2009"]) == 2
    assert f"working directory {Path.cwd()}" in capsys.readouterr().err
    Path("empty").mkdir()
    with pytest.raises(DataError, match=rf"empty \(resolved from the working directory {elsewhere} to "
                                        rf"{elsewhere}/empty\) holds neither"):
        load_rnacompete("empty", "VTS1")
    _deepbind(Path("db"))
    with pytest.raises(DataError, match=rf"not found in db \(resolved from the working directory {elsewhere} to "):
        load_rnacompete("db", "E9", cache_dir=None)


@pytest.mark.real
def test_shipped_and_simulated_data_load_without_warnings(tmp_path):
    """The thresholds above, measured: the 2009 sets hold about 11% of their probes twice (never more), the 2013
    sample none twice; no shipped or simulated set B shares a probe with its set A."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in ("rnacompete2009", "rnacompete2013_sample"):
            d = rd.shipped_data_dir(name)
            for exp in list_experiments(d):
                data = load_rnacompete(d, exp, cache_dir=None)
                assert data.info["probes"]["shared"] == 0 and data.info["probes"]["A"]["max_copies"] <= 2
        d = sim.write_rnacompete(tmp_path / "sim", n_a=300, n_b=100, experiments=["SIMHUR", "SIMNULL"])
        for exp in ("SIMHUR", "SIMNULL"):
            assert load_rnacompete(d, exp, cache_dir=None).info["probes"]["A"]["max_copies"] == 1


# --------------------------------------------------------------------------- E08: rbgia.simulate keeps or refuses


def test_e08_simulate_keeps_the_same_simulation_and_refuses_to_replace_another(tmp_path):
    kw = dict(n_a=20, n_b=10, experiments=["SIMHUR"], seed=1)
    out = sim.write_rnacompete(tmp_path / "s", **kw)
    stamps = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    assert sim.write_rnacompete(tmp_path / "s", **kw) == out  # same parameters: kept, untouched
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == stamps
    before = (out / "targets.tsv").read_bytes()
    with pytest.raises(DataError, match=r"output folder .*/s already holds a simulation with other parameters "
                                        r"\(n_a 20, asked 30; seed 1, asked 2\); pass overwrite=True"):
        sim.write_rnacompete(tmp_path / "s", **{**kw, "n_a": 30, "seed": 2})
    assert (out / "targets.tsv").read_bytes() == before  # nothing replaced
    sim.write_rnacompete(tmp_path / "s", **{**kw, "n_a": 30}, overwrite=True)
    assert len((out / "targets.tsv").read_text().splitlines()) == 41
    (out / "truth.json").unlink()  # a partial folder (or real DeepBind files): refused, the fix named
    with pytest.raises(DataError, match=r"holds sequences.tsv, targets.tsv but no truth.json.*--force"):
        sim.write_rnacompete(tmp_path / "s", **kw)


def test_e08_simulate_cli_twice_as_make_data_does(tmp_path):
    args = ("rbgia.simulate", str(tmp_path / "s"), "--n-a", "20", "--n-b", "10", "--experiments", "SIMHUR")
    first = _cli(*args)
    assert first.returncode == 0 and first.stdout.strip() == str(tmp_path / "s")
    second = _cli(*args)  # the second `make book`: kept and said so
    assert second.returncode == 0 and "kept" in second.stderr and second.stdout.strip() == str(tmp_path / "s")
    line = _one_error_line(_cli(*args, "--seed", "3"))
    assert "other parameters (seed 0, asked 3)" in line and "--force" in line
    assert _cli(*args, "--seed", "3", "--force").returncode == 0
    assert json.loads((tmp_path / "s" / "truth.json").read_text())["parameters"]["seed"] == 3

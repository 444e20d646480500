"""rbgia.structure: PU / PHIME profiles through ViennaRNA."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from rbgia import structure
from rbgia.data import one_hot, pad_offset
from rbgia.errors import DataError, StructureToolError
from rbgia.structure import fold_profile, mfe, structure_profile

RNA = pytest.importorskip("RNA")

# Strong 6-bp GC stem, 6-nt A loop, A flanks that cannot pair with it.
STEM_LOOP = "AAAAA" + "GGCGCG" + "AAUAAA" + "CGCGCC" + "AAAAA"
STEM = list(range(5, 11)) + list(range(17, 23))
LOOP = list(range(11, 17))


def _random_seqs(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(30, 42, n)
    return ["".join(rng.choice(list("ACGU"), k)) for k in lengths]


def test_fold_profile_matches_plfold_unpaired():
    for seq in _random_seqs(5, seed=1) + [STEM_LOOP]:
        prof = fold_profile(seq)
        assert prof.shape == (len(seq), 5)
        up = RNA.pfl_fold_up(seq, 1, len(seq), len(seq))
        unpaired = np.array([row[1] for row in up[1:]])
        np.testing.assert_allclose(prof[:, 1:].sum(1), unpaired, atol=1e-6)
        np.testing.assert_allclose(prof.sum(1), 1.0, atol=1e-5)
        assert (prof >= 0).all() and (prof <= 1).all()


def test_stem_loop_profile():
    prof = fold_profile(STEM_LOOP)
    assert mfe(STEM_LOOP)[0][5:23] == "((((((......))))))"
    assert prof[LOOP, 1].min() > 0.8, "loop should be a hairpin loop"
    assert prof[STEM, 0].min() > 0.8, "stem should be paired"
    # the unstructured A flanks are exterior loop
    assert prof[:3, 4].min() > 0.8


def test_dna_letters_read_as_rna():
    np.testing.assert_allclose(fold_profile(STEM_LOOP.replace("U", "T").lower()), fold_profile(STEM_LOOP))


def test_mfe():
    structure, energy = mfe("GGGGGCAAAAAAGCCCCC")
    assert structure == "((((((......))))))"
    assert energy < -5
    structure, energy = mfe("AAAAAAAAAA")
    assert structure == "." * 10 and energy == 0.0


def test_structure_profile_padding_and_kinds():
    seqs = [STEM_LOOP, "GCAUGCAUGCAUGCAUGCAUGCAUGCAUGCAUGC", "ACGUACGUACGUACGUACGUACGUACGUACGUACGUACG"]
    phime = structure_profile(seqs, "phime", n_jobs=1)
    pu = structure_profile(seqs, "PU", n_jobs=1)
    assert phime.shape == (3, 41, 5) and phime.dtype == np.float32
    assert pu.shape == (3, 41, 2) and pu.dtype == np.float32
    real = one_hot(seqs).sum(-1) > 0
    np.testing.assert_allclose(phime.sum(-1)[real], 1.0, atol=1e-5)
    np.testing.assert_allclose(pu.sum(-1)[real], 1.0, atol=1e-5)
    assert (phime[~real] == 0).all() and (pu[~real] == 0).all()
    # PU is (paired, 1 - paired) of the same fold
    np.testing.assert_allclose(pu[..., 0], phime[..., 0], atol=1e-6)
    np.testing.assert_allclose(pu[..., 1][real], 1.0 - phime[..., 0][real], atol=1e-6)
    # aligned with the one-hot: same offset as rbgia.data.pad_offset
    off = pad_offset(len(STEM_LOOP))
    np.testing.assert_allclose(phime[0, off : off + len(STEM_LOOP)], fold_profile(STEM_LOOP), atol=1e-6)


def test_structure_profile_custom_length():
    out = structure_profile([STEM_LOOP], "pu", length=50, n_jobs=1)
    off = pad_offset(len(STEM_LOOP), 50)
    assert out.shape == (1, 50, 2)
    assert out[0, :off].sum() == 0 and out[0, off + len(STEM_LOOP) :].sum() == 0
    assert out[0, off + LOOP[0], 1] > 0.8


def test_parallel_equals_serial():
    seqs = _random_seqs(80, seed=2)
    serial = structure_profile(seqs, "phime", n_jobs=1)
    parallel = structure_profile(seqs, "phime", n_jobs=2)
    np.testing.assert_array_equal(serial, parallel)


def test_the_fold_memo_returns_fresh_folds_and_folds_each_sequence_once(monkeypatch):
    structure.clear_fold_memo()
    seqs = _random_seqs(6, seed=7)
    folded = []
    real = structure._fold_many
    monkeypatch.setattr(structure, "_fold_many", lambda s, n, p: folded.extend(s) or real(s, n, p))
    first = structure.fold_profiles(seqs + seqs[:2], n_jobs=1)
    again = structure.fold_profiles(seqs[::-1], n_jobs=1)
    assert folded == seqs  # a repeat within a call and the second call fold nothing
    for seq, a, b in zip(seqs, first, again[::-1]):
        np.testing.assert_array_equal(a, fold_profile(seq))
        assert a is b and not a.flags.writeable  # shared, so nobody can change another caller's fold
    np.testing.assert_array_equal(structure_profile(seqs, "pu", n_jobs=1),
                                  structure_profile(seqs, "pu", n_jobs=1, memo=False))
    assert structure.mfe(seqs[0]) == structure._mfe.__wrapped__(seqs[0])


def test_the_fold_memo_is_bounded_and_can_be_bypassed(monkeypatch):
    structure.clear_fold_memo()
    monkeypatch.setattr(structure, "FOLD_MEMO_SIZE", 3)
    seqs = _random_seqs(5, seed=8)
    structure.fold_profiles(seqs, n_jobs=1)
    assert list(structure._FOLD_MEMO) == [structure._clean(s) for s in seqs[-3:]]  # the least recent went first
    structure.clear_fold_memo()
    out = structure.fold_profiles(seqs, n_jobs=1, memo=False)
    assert not structure._FOLD_MEMO and all(p.flags.writeable for p in out)
    monkeypatch.setattr(structure, "FOLD_MEMO_SIZE", 0)
    structure.fold_profiles(seqs, n_jobs=1)
    assert not structure._FOLD_MEMO


def test_progress_bar(capsys):
    seqs = _random_seqs(3, seed=3)
    out = structure_profile(seqs, "pu", n_jobs=1, progress=True)
    np.testing.assert_array_equal(out, structure_profile(seqs, "pu", n_jobs=1))
    assert "folding" in capsys.readouterr().err


def test_empty_input():
    assert structure_profile([], "phime").shape == (0, 41, 5)


def test_bad_input():
    with pytest.raises(ValueError, match="phime"):
        structure_profile(["ACGU"], "shape")
    with pytest.raises(DataError, match="outside"):
        structure_profile(["ACGUX"], "pu")
    with pytest.raises(DataError, match="outside"):
        fold_profile("ACG-U")
    with pytest.raises(DataError, match="longer"):
        structure_profile(["A" * 42], "pu")


def test_missing_vienna_is_clear(monkeypatch):
    monkeypatch.setitem(sys.modules, "RNA", None)
    with pytest.raises(StructureToolError, match="pip install ViennaRNA"):
        fold_profile("ACGU")
    with pytest.raises(StructureToolError, match="bioconda"):
        structure_profile(["ACGU"], "pu", n_jobs=1)
    with pytest.raises(ImportError):  # StructureToolError is an ImportError too
        mfe("ACGU")

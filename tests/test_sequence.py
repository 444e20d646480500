"""rbgia.sequence: the one alphabet, letter lookup, cleaning, padding, one-hot and decoding."""

from __future__ import annotations

import numpy as np
import pytest

import rbgia.data as rd
from rbgia import sequence as sq
from rbgia.errors import DataError


def test_alphabet_and_lookup():
    assert sq.ALPHABET == "ACGU" and sq.SEQ_LEN == 41 and sq.N_CODE == 4
    assert dict(sq.LETTER_INDEX) == {"A": 0, "C": 1, "G": 2, "U": 3, "T": 3}  # T read as U
    assert sq.VALID_LETTERS == frozenset("ACGUTN")
    with pytest.raises(TypeError):
        sq.LETTER_INDEX["X"] = 5  # read-only: nobody patches the one lookup
    np.testing.assert_array_equal(sq.letter_codes("ACGUTNacgutn-X"), [0, 1, 2, 3, 3, 4, 0, 1, 2, 3, 3, 4, -1, -1])
    assert sq.letter_codes("").shape == (0,)
    assert sq.letter_codes("AΩC").tolist() == [0, -1, 1]  # outside latin-1: one code per character, invalid


def test_clean_and_bad_letters():
    assert sq.clean("acgTn") == "ACGUN"
    assert sq.clean(np.str_("TTT")) == "UUU"
    assert sq.bad_letters("ACGUTNacgutn") == []
    assert sq.bad_letters("ACxG-") == ["-", "x"]  # as written


def test_pad_offset_centres():
    assert sq.pad_offset(41) == 0 and sq.pad_offset(38) == 1 and sq.pad_offset(4, 9) == 2
    x = sq.one_hot(["A" * 38])
    assert x[0, 0].sum() == 0 and x[0, 1, 0] == 1 and x[0, 38, 0] == 1 and x[0, 39:].sum() == 0


def test_one_hot_decode_roundtrip():
    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list("ACGU"), int(n))) for n in rng.integers(1, 42, 200)]
    x = sq.one_hot(seqs)
    assert x.shape == (200, 41, 4) and x.dtype == np.float32
    assert (x.sum(-1) <= 1).all()
    assert sq.decode(x) == seqs
    assert sq.decode(x[0]) == [seqs[0]]  # one (L, 4) array
    assert sq.one_hot([]).shape == (0, 41, 4)
    np.testing.assert_array_equal(sq.one_hot(["acgt"], 4), sq.one_hot(["ACGU"], 4))


def test_one_hot_errors_name_the_sequence():
    with pytest.raises(DataError, match=r"sequence 1 \('ACxG'\) has letters \['x'\] outside ACGUTN"):
        sq.one_hot(["ACGU", "ACxG"])
    with pytest.raises(DataError, match="sequence 0 has 5 nt, longer than the model length 4"):
        sq.one_hot(["ACGUA"], 4)


def test_data_re_exports_the_same_objects():
    for name in ("ALPHABET", "SEQ_LEN", "pad_offset", "one_hot", "decode", "clean"):
        assert getattr(rd, name) is getattr(sq, name)


# ---------------------------------------------------------------------------
# The modules that used to keep their own copy now agree with this one


def test_consumers_share_the_lookup():
    from rbgia import motifs, simulate, structure

    np.testing.assert_array_equal(motifs.kmer_pfm("ACGTN"), np.vstack([np.eye(4)[[0, 1, 2, 3]], np.zeros(4)]))
    assert structure._clean("acgtn") == "ACGUN"
    with pytest.raises(DataError, match=r"letters \['X'\] outside ACGUTN"):
        structure._clean("ACXG")
    codes, lengths = simulate._encode(["ACGUN", "UU"])
    np.testing.assert_array_equal(codes, [[0, 1, 2, 3, -1], [3, 3, -1, -1, -1]])  # N and padding: -1
    assert lengths.tolist() == [5, 2]
    with pytest.raises(DataError, match="outside ACGUTN"):
        simulate._encode(["ACGX"])


def test_motif_matches_length_defaults_to_seq_len_or_the_longest_probe():
    from rbgia.motifs import motif_matches

    short = motif_matches(["AAUGCAUGAA"], "UGCAUG")  # 10 nt, centred in SEQ_LEN
    assert short["start"].tolist() == [2] and short["x_start"].tolist() == [2 + sq.pad_offset(10)]
    long = "A" * 50 + "UGCAUG"
    hit = motif_matches([long, "UGCAUG"], "tgcatg")  # longer than SEQ_LEN: the input's own length
    assert hit["x_start"].tolist() == [50, sq.pad_offset(6, 56)] and hit["mismatches"].tolist() == [0, 0]
    assert motif_matches(["AAUGCAUGAA"], "UGCAUG", length=20)["x_start"].tolist() == [2 + 5]

"""Tests for rbgia.motifs: k-mer alignment, information content, MEME I/O, similarity."""

from __future__ import annotations

import numpy as np
import pytest

from rbgia._io import save_json
from rbgia.data import one_hot, shipped_data_dir
from rbgia.errors import DataError, PatternError
from rbgia.motifs import (
    Motif,
    align_kmers,
    best_matches,
    consensus,
    ic_scaled,
    information_content,
    kmer_pfm,
    known_motif,
    motif_matches,
    motif_similarity,
    pwm_from_kmer,
    read_meme,
    site_importance,
    tied_windows,
    write_meme,
)


def _random_pfm(w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).dirichlet(np.full(4, 0.5), size=w)


def test_kmer_pfm_one_hot_and_t_as_u():
    m = kmer_pfm("ACGT")
    np.testing.assert_array_equal(m, np.eye(4))
    assert pwm_from_kmer("UGN").tolist() == [[0, 0, 0, 1], [0, 0, 1, 0], [0, 0, 0, 0]]
    with pytest.raises(DataError, match="outside ACGUTN"):
        kmer_pfm("ACXG")
    with pytest.raises(DataError):
        kmer_pfm("")


def test_consensus_marks_flat_columns():
    pfm = np.vstack([np.eye(4), np.full((1, 4), 0.25)])
    assert consensus(pfm) == "ACGUN"


def test_align_kmers_recovers_ugcaug():
    kmers = ["UGCAUG", "GCAUGU", "UGCAUGC", "AUGCAU", "CAUGCU", "GGGGGG"]
    weights = [1.0, 0.8, 0.6, 0.5, 0.4, -0.2]
    al = align_kmers(kmers, weights)
    assert "UGCAUG" in al.consensus
    # GCAUGU starts one column right of UGCAUG, AUGCAU one column left
    assert al.shifts.tolist()[:5] == [0, 1, 0, -1, 2]
    assert al.offsets[3] == 0 and al.offsets[0] == 1
    assert al.pfm.shape[0] > 6  # shifts widen the aligned frame
    np.testing.assert_allclose(al.pfm.sum(1), 1.0)
    # negative weights are clipped: GGGGGG adds nothing
    assert al.weights[-1] == 0.0
    np.testing.assert_allclose(al.coverage, al.counts.sum(1))
    # the core column G of UGCAUG at offset 1: every positive k-mer covering it reads G (per-column
    # normalisation gives 1); CAUGCU (weight 0.4 of 3.3) does not reach it, so by total weight it is 2.9/3.3 G
    by_column = align_kmers(kmers, weights, weighting="column")
    assert by_column.pfm[al.offsets[0] + 1, 2] == pytest.approx(1.0)
    assert al.pfm[al.offsets[0] + 1, 2] == pytest.approx((2.9 + 0.4 / 4) / 3.3)
    assert al.support[al.offsets[0] + 1] == pytest.approx(2.9 / 3.3)


def test_align_kmers_top_and_uncovered_columns():
    al = align_kmers(["AAAA", "CCCC", "AAAC"], [1.0, 0.5, 0.5], top=2)
    assert al.kmers == ("AAAA", "CCCC") and al.weights.tolist() == [1.0, 0.5]
    # UAAAAC overhangs AAAA by one column each side, but its weight is 0
    wide = align_kmers(["AAAA", "UAAAAC"], [1.0, -1.0], trim=False)
    assert wide.shifts.tolist() == [0, -1] and wide.pfm.shape == (6, 4)
    assert wide.coverage[[0, 5]].tolist() == [0.0, 0.0]
    np.testing.assert_allclose(wide.pfm[[0, 5]], 0.25)
    trimmed = align_kmers(["AAAA", "UAAAAC"], [1.0, -1.0])
    assert trimmed.pfm.shape == (4, 4) and trimmed.consensus == "AAAA"
    assert trimmed.offsets.tolist() == [0, -1]


def test_align_kmers_weights_mix_letters():
    al = align_kmers(["ACGU", "ACGA"], [3.0, 1.0])
    np.testing.assert_allclose(al.pfm[3], [0.25, 0, 0, 0.75])


def test_align_kmers_pfm_has_no_negative_round_off():
    # these weights sum (total) and accumulate (coverage) to totals that differ by -5e-17 in float64
    w = [0.816, 0.003, 0.857, 0.034, 0.73, 0.176, 0.863, 0.541, 0.3, 0.423]
    al = align_kmers(["UGCAUG"] * len(w), w)
    assert (al.pfm >= 0).all() and al.consensus == "UGCAUG"
    np.testing.assert_allclose(al.pfm.sum(1), 1.0)


def test_align_kmers_bad_input():
    with pytest.raises(DataError, match="one weight per k-mer"):
        align_kmers(["ACGU", "ACGA"], [1.0])
    with pytest.raises(DataError, match="NaN"):
        align_kmers(["ACGU"], [np.nan])
    with pytest.raises(DataError):
        align_kmers([], [])
    with pytest.raises(DataError, match="'total' or 'column'"):
        align_kmers(["ACGU"], [1.0], weighting="coverage")


def test_align_kmers_flank_of_one_kmer_is_not_full_bits():
    # nine k-mers UGCAUG; one (weight 1 of 10) CAUGAA overlaps its last four columns and adds two
    kmers = ["UGCAUG"] * 9 + ["CAUGAA"]
    al = align_kmers(kmers, [1.0] * 10)
    assert al.weighting == "total" and al.pfm.shape == (8, 4) and al.offsets[-1] == 2
    np.testing.assert_allclose(al.support, [0.9, 0.9, 1, 1, 1, 1, 0.1, 0.1])
    ic = information_content(al.pfm)
    np.testing.assert_allclose(ic[2:6], 2.0)  # every k-mer covers (and agrees on) CAUG
    assert 1.0 < ic[0] < 2.0  # nine of ten
    assert ic[6:].max() < 0.1  # one of ten: 0.1 * A + 0.9 * uniform
    np.testing.assert_allclose(al.pfm[7], [0.325, 0.225, 0.225, 0.225])
    np.testing.assert_allclose(al.pfm.sum(1), 1.0)
    # per-column normalisation (the behaviour before) shows the lone flank at 2 bits
    old = align_kmers(kmers, [1.0] * 10, weighting="column")
    np.testing.assert_allclose(information_content(old.pfm)[[0, 1, 6, 7]], 2.0)
    np.testing.assert_allclose(old.pfm[2:6], al.pfm[2:6])
    # weights, not counts: a heavy flank k-mer gets its share
    heavy = align_kmers(kmers, [1.0] * 9 + [9.0])
    np.testing.assert_allclose(heavy.support[6:], 0.5)
    assert align_kmers(["AAAA"], [-1.0]).support.tolist() == [0.0] * 4


def test_information_content_bounds():
    uniform = np.full((3, 4), 0.25)
    onehot = np.eye(4)
    np.testing.assert_allclose(information_content(uniform), 0.0, atol=1e-12)
    np.testing.assert_allclose(information_content(onehot), 2.0)
    half = np.array([[0.5, 0.5, 0, 0]])
    np.testing.assert_allclose(information_content(half), 1.0)
    # counts are normalised; an empty column is 0 bits
    np.testing.assert_allclose(information_content(np.array([[10, 0, 0, 0], [0, 0, 0, 0]])), [2.0, 0.0])
    scaled = ic_scaled(np.vstack([uniform[:1], onehot[:1]]))
    np.testing.assert_allclose(scaled, [[0, 0, 0, 0], [2, 0, 0, 0]], atol=1e-12)
    with pytest.raises(DataError, match="expected"):
        information_content(np.ones((3, 5)))


def test_similarity_self_and_shift():
    a = _random_pfm(9, seed=1)
    s = motif_similarity(a, a)
    assert s.r == pytest.approx(1.0) and s.offset == 0 and s.overlap == 9
    # b is a window of a starting at column 3: the best offset is +3
    s = motif_similarity(a, a[3:8])
    assert s.r == pytest.approx(1.0) and s.offset == 3 and s.overlap == 5
    # the other way round the offset is negative
    s = motif_similarity(a[3:8], a)
    assert s.r == pytest.approx(1.0) and s.offset == -3
    # an unrelated motif scores below 1
    assert motif_similarity(a, _random_pfm(9, seed=2)).r < 0.9


def test_similarity_one_hot_kmer_vs_pfm_and_errors():
    pfm = np.vstack([np.full((2, 4), 0.25), kmer_pfm("UGCAUG") * 0.9 + 0.025])
    s = motif_similarity(pfm, kmer_pfm("UGCAUG"))
    assert s.offset == 2 and s.r > 0.99
    assert np.isnan(motif_similarity(np.full((4, 4), 0.25), np.full((4, 4), 0.25)).r)
    with pytest.raises(DataError, match="min_overlap"):
        motif_similarity(pfm, kmer_pfm("UGC"), min_overlap=5)


def test_meme_round_trip(tmp_path):
    motifs = {"M1": _random_pfm(5, 3), "M2": _random_pfm(8, 4)}
    path = write_meme(tmp_path / "m.meme", motifs)
    back = read_meme(path)
    assert list(back) == ["M1", "M2"]
    np.testing.assert_allclose(back["M2"].pfm, motifs["M2"], atol=1e-5)
    assert isinstance(back["M1"], Motif) and back["M1"].width == 5


@pytest.mark.real
def test_read_meme_shared_file():
    motifs = read_meme(shipped_data_dir("reference") / "ray2013_rnacompete_motifs.meme")
    assert len(motifs) == 102
    a1cf = motifs["RNCMPT00001"]
    assert a1cf.name == "A1CF" and a1cf.pfm.shape == (7, 4)
    np.testing.assert_allclose(a1cf.pfm.sum(1), 1.0)
    rbfox = motifs["RNCMPT00168"]
    assert "GCAUG" in rbfox.consensus
    # the GIA alignment motif of RBFOX1's k-mers finds RBFOX1 first
    al = align_kmers(["UGCAUG", "GCAUGU", "UGCAUGC", "GCAUGC", "AUGCAU"], [1, 0.8, 0.7, 0.5, 0.4])
    assert best_matches(al.pfm, motifs, top=3)["id"].iloc[0] == "RNCMPT00168"


_GOOD = """MEME version 4

ALPHABET= ACGU

MOTIF X1 NAME

letter-probability matrix: alength= 4 w= 2 nsites= 20 E= 0
 0.25 0.25 0.25 0.25
 1.0 0.0 0.0 0.0
"""


@pytest.mark.parametrize(
    "text, match",
    [
        (_GOOD.replace("MEME version 4", "hello"), "MEME version"),
        (_GOOD.replace("ACGU", "ACDEFGHIKLMNPQRSTVWY"), "alphabet"),
        (_GOOD.replace(" 1.0 0.0 0.0 0.0\n", ""), "truncated"),
        (_GOOD.replace("1.0 0.0", "1.0 abc"), "4 numbers"),
        (_GOOD.replace("1.0 0.0 0.0 0.0", "0.9 0.5 0.0 0.0"), "summing to 1"),
        (_GOOD.replace("w= 2", "w= two"), "w="),
        (_GOOD + "\n" + _GOOD.split("\n", 4)[4], "duplicate"),
        (_GOOD.split("MOTIF")[0], "no 'letter-probability"),
    ],
)
def test_read_meme_corrupt(tmp_path, text, match):
    path = tmp_path / "bad.meme"
    path.write_text(text)
    with pytest.raises(DataError, match=match):
        read_meme(path)


def test_read_meme_good_and_missing(tmp_path):
    path = tmp_path / "ok.meme"
    path.write_text(_GOOD)
    m = read_meme(path)["X1"]
    assert m.name == "NAME" and m.consensus == "NA"
    with pytest.raises(DataError, match="cannot read"):
        read_meme(tmp_path / "absent.meme")


# --------------------------------------------------------------------------- sites in probes


def test_motif_matches_best_window_and_model_coordinates():
    seqs = [
        "AAUGCAUGAAAUGCAUG",  # two exact sites, the leftmost is reported
        "CCCCUGCAAGCCCC",     # one mismatch (UGCAAG) at 4
        "ttgcatgtt",          # DNA letters, lower case: exact at 1
        "UGCA",               # shorter than the motif
        "GGGGGGGG",           # nothing alike: best window still reported
    ]
    df = motif_matches(seqs, "UGCAUG", length=41)
    assert list(df.columns) == ["mismatches", "start", "x_start", "n_exact"]
    assert list(df["mismatches"]) == [0, 1, 0, 6, 4]
    assert list(df["start"]) == [2, 4, 1, -1, 0]
    assert list(df["n_exact"]) == [2, 0, 1, 0, 0]
    # x_start: the start in the centred, zero-padded model input
    assert list(df["x_start"]) == [2 + 12, 4 + 13, 1 + 16, -1, 0 + 16]
    x = one_hot(seqs[:3])
    found = ["".join("ACGU"[i] for i in xi[s0 : s0 + 6].argmax(-1)) for xi, s0 in zip(x, df["x_start"])]
    assert found == ["UGCAUG", "UGCAAG", "UGCAUG"]
    # N matches anything
    assert list(motif_matches(["AAGGCAUGAA"], "UGCAUG")["mismatches"]) == [1]
    assert list(motif_matches(["AAGGCAUGAA"], "NGCAUG")["mismatches"]) == [0]
    assert list(motif_matches(["AAUGCAUGAA"], "NNNNNN")["n_exact"]) == [5]
    assert motif_matches([], "UGCAUG").empty
    with pytest.raises(PatternError, match="ACGU letters"):
        motif_matches(["ACGU"], "UGX")


def test_site_importance_inside_vs_outside_ignores_padding():
    x = one_hot(["ACGUACGU", "ACGUACGU", "ACGUACGU"], length=10)  # positions 1..8 present
    scores = np.ones((3, 10))
    scores[:, 0] = scores[:, 9] = 100.0  # padding: must not count
    scores[0, 3:5] = 5.0
    scores[1, 3:5] = 5.0
    df = site_importance(scores, x, starts=[3, 5, -1], width=2)
    assert list(df.columns) == ["inside", "outside", "ratio"]
    np.testing.assert_allclose(df.loc[0], [5.0, 1.0, 5.0])
    # the window 5-6 holds ones; outside it the six other present positions, two of them 5
    np.testing.assert_allclose(df.loc[1], [1.0, 14 / 6, 6 / 14])
    assert np.isnan(df.loc[2, "inside"]) and np.isnan(df.loc[2, "ratio"])
    assert df.loc[2, "outside"] == pytest.approx(1.0)


def test_known_motif_from_truth_then_meme(tmp_path):
    sim = tmp_path / "sim"
    save_json(sim / "truth.json", {"experiments": {"SIMX": {"motif": "UGCAUG"}, "SIMNULL": {"motif": None}}})
    assert known_motif(sim, "SIMX") == "UGCAUG"
    assert known_motif(sim, "SIMNULL") is None and known_motif(sim, "OTHER") is None
    ref = tmp_path / "reference"
    write_meme(ref / "ray2013_rnacompete_motifs.meme", [Motif("RNCMPT00168", "RBFOX1", kmer_pfm("UGCAUG"))])
    real = tmp_path / "real"
    real.mkdir()
    assert known_motif(real, "RNCMPT00168", ref) == "UGCAUG"
    assert known_motif(real, "RNCMPT99999", ref) is None
    assert known_motif(real, "RNCMPT00168") is None  # no reference folder given


def test_motif_matches_windows_stay_inside_short_probes():
    from rbgia.motifs import motif_matches

    # Probe 2 ends in UGCA: a trailing N must not match the padding past its end.
    found = motif_matches(["UGCAUGCCCCCCCCC", "AAAAUGCA"], "UGCAN")
    assert found["mismatches"].tolist() == [0, 3]
    assert found["n_exact"].tolist() == [1, 0]


def test_tied_windows_lists_every_best_window_in_model_coordinates():
    # two exact sites in a 20-nt probe, centred in a 24-nt input (offset 2); a probe with one 1-mismatch site
    probes = ["AAUGCAUGAAAAUGCAUGAA", "AAAAAAUGCAUCAAAAAAAA", "UGC"]
    ties = tied_windows(probes, "UGCAUG", length=24)
    best = motif_matches(probes, "UGCAUG", length=24)
    assert ties[0].tolist() == [2 + 2, 2 + 12]
    assert ties[1].tolist() == [2 + 6] == [best["x_start"].iloc[1]]
    assert ties[2].size == 0 and best["x_start"].iloc[2] == -1
    assert [t[0] for t in ties[:2]] == best["x_start"].iloc[:2].tolist()  # motif_matches keeps the leftmost

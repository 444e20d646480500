"""GIA: embedding, stem-loops, importance statistics and every experiment on toy
models whose answers are known analytically, plus fast paths vs naive loops."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from toy_models import CODE, L, W, counter, keras_conv, pwm

from rbgia.background import profile_background
from rbgia.data import decode, one_hot
from rbgia.errors import DataError, ModelError, PatternError
from rbgia.gia import (
    GIA,
    adaptive_kmer_scan,
    compare,
    embed,
    gc_bias,
    global_importance,
    hairpin_context,
    kmer_scan,
    motif_mutagenesis,
    multiplicity,
    positional_scan,
    spacing,
    stem_loop_background,
)
from rbgia.paper import PUBLIC_CODE_GC_STARTS

M6 = np.random.default_rng(1).normal(size=(6, 4)) * 1.5


def lse(x: np.ndarray) -> np.ndarray:
    """Non-additive 'binding' model: log-sum-exp of a 6-wide PWM over all windows."""
    per = np.einsum("nla,ka->nlk", x[..., :4], M6)  # (n, L, 6)
    score = sum(per[:, i : L - 5 + i, i] for i in range(6))
    return np.log(np.exp(score).sum(1))


@pytest.fixture(scope="module")
def src() -> np.ndarray:
    rng = np.random.default_rng(2)
    return one_hot(["".join(rng.choice(list("ACGU"), L, p=[0.4, 0.2, 0.1, 0.3])) for _ in range(300)])


@pytest.fixture(scope="module")
def bg(src) -> np.ndarray:
    return profile_background(src, 200, seed=0)


GU = "GUUUGU"  # shares its first two letters with its last two, like UGCAUG


@pytest.fixture(scope="module")
def ac_bg() -> np.ndarray:
    """Backgrounds of A and C only: a G/U motif (GUUUGU) never occurs by chance,
    nor across an embedded copy and the background."""
    rng = np.random.default_rng(3)
    return one_hot(["".join(rng.choice(list("AC"), L)) for _ in range(40)])


# --------------------------------------------------------------------------- embed
def test_embed_strings_matrices_and_n(bg):
    out = embed(bg, [("UGNAUG", 17), ("gc", 2)])
    assert out is not bg and out.dtype == np.float32
    seqs, base = decode(out), decode(bg)
    for s, b in zip(seqs[:20], base[:20]):
        assert s[17:19] == "UG" and s[20:23] == "AUG" and s[19] == b[19] and s[2:4] == "GC"
        assert s[:2] == b[:2] and s[23:] == b[23:]
    mat = np.eye(4, dtype=np.float32)[[3, 2, 1]]
    mat[1] = 0  # an all-zero row keeps the background
    out2 = embed(bg, (mat, 5))  # a single (pattern, start) tuple
    assert [s[5] + s[7] for s in decode(out2)][:5] == ["UC"] * 5
    assert np.array_equal(out2[:, 6], bg[:, 6])
    t = embed(bg, ("TTT", 0))
    assert all(s.startswith("UUU") for s in decode(t))
    # extra channels carried untouched by default
    x6 = np.concatenate([bg, np.full(bg.shape[:2] + (2,), 0.25, np.float32)], -1)
    assert np.all(embed(x6, ("GGG", 10))[..., 4:] == 0.25)


@pytest.mark.parametrize(
    ("patterns", "match"),
    [
        (("A" * 42, 0), r"42 nt, longer than the sequences \(41 nt\)"),
        (("UGCAUG", 36),
         r"'UGCAUG' at start 36 covers \[36, 42\), outside the sequence \[0, 41\); pass a start in 0..35"),
        (("UGCAUG", -1), r"start -1"),
        ([("UGCAUG", 10), ("GG", 15)], r"'UGCAUG' at \[10, 16\) and 'GG' at \[15, 17\) overlap"),
        (("UGXAUG", 3), r"letters \['X'\]"),
        (("", 3), r"empty pattern"),
        ((np.ones((3, 5)), 3), r"\(k, 4\)"),
        (["UGCAUG"], r"not \(pattern, start\)"),
    ],
)
def test_embed_errors(bg, patterns, match):
    with pytest.raises(PatternError, match=match):
        embed(bg, patterns)


def test_stem_loop_background_pairs_and_folds(bg):
    pytest.importorskip("RNA")
    from rbgia.structure import mfe

    sl = stem_loop_background(bg[:20])
    comp = str.maketrans("ACGU", "UGCA")
    for s in decode(sl):
        assert s[22:33] == s[5:16].translate(comp)[::-1]
    paired = []
    for s in decode(sl):
        db, _ = mfe(s)
        paired.append(np.mean([db[i] != "." for i in range(5, 16)]))
    assert np.mean(paired) > 0.8
    with pytest.raises(PatternError, match="equally long"):
        stem_loop_background(bg, (5, 16), (22, 30))
    with pytest.raises(PatternError, match="overlap"):
        stem_loop_background(bg, (5, 16), (10, 21))


def test_embed_reimposes_pairing(bg):
    sl = ((5, 16), (22, 33))
    comp = str.maketrans("ACGU", "UGCA")
    in_stem = decode(embed(stem_loop_background(bg[:10]), ("GCUGG", 8), stem_loop=sl))
    in_partner = decode(embed(bg[:10], ("GCUGG", 24), stem_loop=sl))
    in_loop = decode(embed(stem_loop_background(bg[:10]), ("GCUGGC", 16), stem_loop=sl))
    for a, b, c in zip(in_stem, in_partner, in_loop):
        assert a[8:13] == "GCUGG" and b[24:29] == "GCUGG" and c[16:22] == "GCUGGC"
        for s in (a, b, c):
            assert s[22:33] == s[5:16].translate(comp)[::-1]


def test_recompute_structure(bg):
    pytest.importorskip("RNA")
    from rbgia.structure import structure_profile

    x = bg[:6]
    pu = embed(x, ("GGGAAACCC", 10), recompute_structure="pu")
    assert pu.shape == (6, L, 6)
    want = structure_profile(decode(pu), "pu", L, n_jobs=1)
    np.testing.assert_allclose(pu[..., 4:], want, atol=1e-6)
    stale = np.concatenate([x, np.zeros(x.shape[:2] + (2,), np.float32)], -1)
    again = embed(stale, ("GGGAAACCC", 10), recompute_structure=True)
    np.testing.assert_allclose(again, pu, atol=1e-6)
    with pytest.raises(DataError, match="'pu' or 'phime'"):
        embed(x, ("A", 0), recompute_structure=True)


# --------------------------------------------------------------------------- importance
def test_global_importance_of_additive_model_is_exact(bg, src):
    pattern, start = "GAUCCA", 10
    imp = global_importance(pwm, bg, (pattern, start))
    cols = np.arange(start, start + 6)
    gain = W[cols, [CODE[c] for c in pattern]].sum()
    local = gain - np.einsum("nla,la->n", bg[:, cols], W[cols])
    np.testing.assert_allclose(imp.local, local, atol=1e-9)
    assert imp.mean == pytest.approx(local.mean(), abs=1e-9) and imp.n == len(bg)
    ci = stats.t.interval(0.95, len(local) - 1, loc=local.mean(), scale=stats.sem(local))
    np.testing.assert_allclose(imp.ci95, ci, rtol=1e-9)
    assert imp.pvalue == pytest.approx(stats.ttest_1samp(local, 0).pvalue, rel=1e-6)
    # ... and it estimates the expectation under the source profile
    freq = src[:, cols, :4].mean(0)
    analytic = gain - (freq * W[cols]).sum()
    assert abs(imp.mean - analytic) < 4 * imp.sd / np.sqrt(imp.n)


def test_compare_is_a_paired_test(bg):
    g = GIA(pwm, bg)
    a, b = g.importances([("GGGG", 3), ("AAAA", 30)])
    d = compare(a, b)
    assert d.mean == pytest.approx(a.mean - b.mean)
    assert d.pvalue == pytest.approx(stats.ttest_rel(a.local, b.local).pvalue, rel=1e-6)
    with pytest.raises(DataError, match="same background"):
        compare(a, GIA(pwm, bg[:10]).importance(("A", 0)))


def test_background_predictions_are_cached(bg):
    calls = []

    def f(x):
        calls.append(len(x))
        return pwm(x)

    g = GIA(f, bg, batch_size=10_000)  # one model call per chunk
    kmer_scan(g, k=2, start=5)
    multiplicity(g, "GG", (1, 10))
    g.importance(("A", 3))
    # f(background) once, then the 16 2-mers, the 2 multiplicity configs and the second copy alone, the pattern
    assert calls == [len(bg), 16 * len(bg), 3 * len(bg), len(bg)]
    assert g.predict.n_evaluated == len(bg) * (1 + 16 + 3 + 1)


def test_errors_on_bad_background_and_model(bg):
    with pytest.raises(DataError, match="0 sequences"):
        global_importance(pwm, bg[:0], ("A", 0))
    with pytest.raises(DataError, match=r"takes a GIA session first.*kmer_scan\(GIA\(predict, background\)"):
        kmer_scan(pwm, None)
    with pytest.raises(ModelError, match=r"shape \(199,\) for 200 sequences"):
        global_importance(lambda x: pwm(x)[:-1], bg, ("A", 0))
    with pytest.raises(PatternError, match="outside the sequence"):
        kmer_scan(GIA(pwm, bg), k=6, start=36)


# --------------------------------------------------------------------------- k-mer scans
def test_kmer_scan_equals_naive_loop(bg):
    fast = kmer_scan(GIA(pwm, bg), k=3, start=20, chunk_size=1000)  # several chunks
    assert len(fast) == 64 and fast["kmer"].is_unique
    assert fast["mean"].is_monotonic_decreasing
    base = pwm(bg)
    for kmer in ["AAA", "GCU", "UUG", fast["kmer"].iloc[0]]:
        naive = (pwm(embed(bg, (kmer, 20))) - base).mean()
        assert fast.set_index("kmer").loc[kmer, "mean"] == pytest.approx(naive, abs=1e-9)
    row = fast.iloc[0]
    assert row["ci_low"] < row["mean"] < row["ci_high"] and row["n"] == len(bg)


@pytest.mark.slow  # XLA compiles a few shapes (seconds on a shared CPU)
def test_kmer_scan_keras_fast_path_equals_naive(bg):
    pytest.importorskip("keras")
    model = keras_conv(1, filters=6, width=7, pool="average")
    kmers = ["UGCAUG", "AAAAAA", "GCGCGC", "ACGUAC", "CCCUUU"]
    fast = kmer_scan(GIA(model, bg, batch_size=256), k=6, start=17, kmers=kmers).set_index("kmer")
    base = model.predict(bg, verbose=0)[:, 0]
    for kmer in kmers:
        naive = (model.predict(embed(bg, (kmer, 17)), verbose=0)[:, 0] - base).mean()
        assert fast.loc[kmer, "mean"] == pytest.approx(naive, abs=1e-5)


def test_kmer_scan_finds_the_scored_kmer(bg):
    motif = counter("GGAUCC")
    top = kmer_scan(GIA(lambda x: motif(x) + 0.05 * pwm(x), bg[:50]), k=6, start=17)
    assert len(top) == 4096 and top["kmer"].iloc[0] == "GGAUCC"
    assert top["mean"].iloc[0] > top["mean"].iloc[1] + 0.5


@pytest.mark.slow
def test_adaptive_scan_matches_exhaustive_top10_with_5x_fewer_evaluations(src):
    bgl = profile_background(src, 500, seed=1)
    g = GIA(lse, bgl)
    exhaustive = kmer_scan(g, k=6, start=17)
    ad = adaptive_kmer_scan(g, k=6, start=17, n_screen=50, n_keep=200, seed=0)
    assert list(ad.table["kmer"].iloc[:10]) == list(exhaustive["kmer"].iloc[:10])
    np.testing.assert_allclose(ad.table["mean"].iloc[:10], exhaustive["mean"].iloc[:10], atol=1e-9)
    assert ad.n_exhaustive == 4096 * 500 + 500
    assert ad.speedup >= 5
    assert len(ad.table) == 4096 and set(ad.table.columns) == set(exhaustive.columns) | {"elimination_bound"}
    assert (ad.table["n"].iloc[: ad.n_rescored] == 500).all()


# --------------------------------------------------------------------------- experiments
def test_motif_mutagenesis_additive_is_exact(bg):
    kmer, start = "UGCAUG", 17
    res = motif_mutagenesis(GIA(pwm, bg), kmer, start)
    wt = global_importance(pwm, bg, (kmer, start)).mean
    cols = np.arange(start, start + 6)
    wt_w = W[cols, [CODE[c] for c in kmer]]
    want = wt + W[cols] - wt_w[:, None]
    np.testing.assert_allclose(res.importance, want, atol=1e-9)
    np.testing.assert_allclose(res.delta, W[cols] - wt_w[:, None], atol=1e-9)
    np.testing.assert_allclose(res.l2, np.linalg.norm(W[cols] - wt_w[:, None], axis=1), atol=1e-9)
    assert res.importance.shape == (6, 4) and res.kmer == kmer


def test_multiplicity_counting_model_is_linear(ac_bg):
    res = multiplicity(GIA(counter(GU), ac_bg), GU, (4, 12, 20))
    assert list(res.table["count"]) == [1, 2, 3]
    np.testing.assert_allclose(res.table["mean"], [1, 2, 3])
    assert res.r2 == pytest.approx(1.0) and res.slope == pytest.approx(1.0)
    assert multiplicity(GIA(counter(GU), ac_bg), GU, include_origin=True).r2 == pytest.approx(1.0)
    # a saturating model is not linear
    sat = lambda x: 1.0 - 0.3 ** counter(GU)(x)  # noqa: E731
    assert multiplicity(GIA(sat, ac_bg), GU).r2 < 0.95
    # a flat response has no defined R^2
    assert np.isnan(multiplicity(GIA(lambda x: np.minimum(counter(GU)(x), 1.0), ac_bg), GU).r2)


def test_spacing_merges_overlaps(ac_bg):
    df = spacing(GIA(counter(GU), ac_bg), GU).table
    assert list(df["start_1"]) == [16, 15, 13, 17]
    assert list(df["gap"].iloc[:3]) == [-2, 0, 3] and pd.isna(df["gap"].iloc[3])
    # GUUUGUUUGU (overlap at 16, 20 like UGCAUGCAUG) holds two copies; each pair gives 2
    np.testing.assert_allclose(df["mean"], [2, 2, 2, 1])
    np.testing.assert_allclose(df["ratio"], [2, 2, 2, 1])
    with pytest.raises(PatternError, match="different letters"):
        spacing(GIA(pwm, ac_bg), "ACGUAC", [(10, 12)])
    assert df.attrs["skipped"] == []


def test_spacing_skips_conflicting_pairs(ac_bg):
    # GUUUGU at 16 and 18 would need both U and G at 18; at 16 and 20 the overlap agrees
    pairs = [(16, 20), (18, 16), (13, 22)]
    with pytest.raises(PatternError, match="different letters"):
        spacing(GIA(counter(GU), ac_bg), GU, pairs)
    df = spacing(GIA(counter(GU), ac_bg), GU, pairs, on_conflict="skip").table
    assert df.attrs["skipped"] == [(16, 18)]
    assert list(df["start_1"]) == [16, 13, 17] and list(df["start_2"].iloc[:2]) == [20, 22]
    np.testing.assert_allclose(df["ratio"], [2, 2, 1])
    # every pair skipped: only the reference row is left
    only_ref = spacing(GIA(counter(GU), ac_bg), GU, [(16, 18)], on_conflict="skip").table
    assert list(only_ref["start_1"]) == [17] and only_ref.attrs["skipped"] == [(16, 18)]
    with pytest.raises(PatternError, match="'raise' or 'skip'"):
        spacing(GIA(counter(GU), ac_bg), GU, pairs, on_conflict="drop")


def test_positional_scan(bg):
    df = positional_scan(GIA(pwm, bg), "GCAU").table
    assert list(df["start"]) == list(range(L - 3))
    for s in (0, 20, 37):
        assert df["mean"].iloc[s] == pytest.approx(global_importance(pwm, bg, ("GCAU", s)).mean, abs=1e-9)


def test_gc_bias_additive(bg):
    res = gc_bias(GIA(pwm, bg), "UGCAUG", gc_starts=PUBLIC_CODE_GC_STARTS, seed=0, n_boot=500)
    m = res.motif.mean
    g5 = global_importance(pwm, bg, ("GCGCGC", 2)).mean
    g3 = global_importance(pwm, bg, ("GCGCGC", 34)).mean
    assert res.effect5 == pytest.approx((m + g5) / m, rel=1e-9)
    assert res.effect3 == pytest.approx((m + g3) / m, rel=1e-9)
    assert res.gc3.mean == pytest.approx(g3, abs=1e-9)
    assert res.diff == pytest.approx(res.effect5 - res.effect3)
    lo, hi = res.effect5_ci
    assert lo <= res.effect5 <= hi


def test_gc_bias_of_a_null_predictor_is_nan(bg, recwarn):
    # the motif alone has importance exactly 0: the ratios are undefined, not an error
    res = gc_bias(GIA(lambda x: np.zeros(len(x)), bg), "UGCAUG", seed=0, n_boot=100)
    assert res.motif.mean == 0.0
    for value in (res.effect5, res.effect3, res.diff, *res.effect5_ci, *res.effect3_ci, *res.diff_ci):
        assert np.isnan(value)
    # GC alone has an effect, the motif none: still NaN (not inf)
    gc_only = gc_bias(GIA(counter("GCGCGC"), bg), "AAAAAA", seed=0, n_boot=100)
    assert gc_only.motif.mean == 0.0 and gc_only.gc3.mean > 0
    assert np.isnan(gc_only.effect3) and np.isnan(gc_only.effect3_ci[0])
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_hairpin_context_additive(bg):
    res = hairpin_context(GIA(pwm, bg), "GCUGGC", loop_start=16, stem_start=7)
    df = res.table
    assert list(df["condition"]) == ["in_loop", "broken_loop", "in_stem", "stem_unpaired", "partner_only"]
    # additive model: the loop's bases are the same with or without the stem
    assert df["mean"].iloc[0] == pytest.approx(df["mean"].iloc[1], abs=1e-9)
    # in the stem the partner's rewrite adds its own effect, and pairing adds nothing beyond the two
    assert df["mean"].iloc[2] != pytest.approx(df["mean"].iloc[3], abs=1e-6)
    assert df["mean"].iloc[2] == pytest.approx(df["mean"].iloc[3] + df["mean"].iloc[4], abs=1e-9)
    assert res.structure_effect.mean == 0.0 and res.verdict == "no structure effect"


@pytest.mark.slow
def test_hairpin_context_with_structure_model(bg):
    pytest.importorskip("RNA")

    def paired_stem(x):  # a +PU model that reads the paired probability in the stem
        assert x.shape[-1] == 6
        return x[:, 5:16, 4].mean(1)

    res = hairpin_context(GIA(paired_stem, bg[:20]), "GCUGG", 16, 8, recompute_structure="pu")
    df = res.table.set_index("condition")
    # the stem arm is paired on the designed stem-loops, not on their broken twins
    assert res.n_folded >= 16 and res.n_broken_folded <= 2
    assert df.loc["broken_loop", "mean"] < df.loc["in_loop", "mean"] + 0.1
    # the motif with its complement keeps the stem paired; the motif alone in the arm breaks it
    assert abs(df.loc["in_stem", "mean"]) < 0.1 and df.loc["stem_unpaired", "mean"] < -0.1
    assert res.unpaired["in_stem"] < 0.2 < res.unpaired["stem_unpaired"]


def test_a_session_passed_in_is_never_modified():
    bg = profile_background(one_hot(["ACGU" * 10 + "A"] * 20), n=20, seed=0)
    session = GIA(pwm, bg)
    scan = kmer_scan(session, k=2, start=5, chunk_size=7)
    assert session.chunk_size != 7 and len(scan) == 16
    assert session.replace(chunk_size=session.chunk_size) is session

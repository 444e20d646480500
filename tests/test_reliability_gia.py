"""Issue 20, WEAK "GIA API": the GIA entry points refuse what they cannot use, in one line naming the problem,
the parameter and the fix (C03, C05, C09, C16, C21, C25, C26, C27, C28, C29, C32, C33); BAD 3: a session owns its
background."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from toy_models import L, pwm

from rbgia.background import dinuc_shuffle_background, make_background, profile_background, shuffle_background
from rbgia.embedding import embed, kmer_codes, parse_patterns
from rbgia.errors import DataError, ModelError, PatternError
from rbgia.experiments import motif_mutagenesis, multiplicity
from rbgia.inference import as_predict
from rbgia.scan import adaptive_kmer_scan, kmer_scan
from rbgia.sequence import one_hot
from rbgia.session import GIA
from rbgia.stats import bootstrap_means


@pytest.fixture(scope="module")
def src() -> np.ndarray:
    rng = np.random.default_rng(3)
    return one_hot(["".join(rng.choice(list("ACGU"), L)) for _ in range(80)])


@pytest.fixture(scope="module")
def bg(src) -> np.ndarray:
    return profile_background(src, 30, seed=0)


@pytest.fixture(scope="module")
def session(bg) -> GIA:
    return GIA(pwm, bg)


def _one_line(err: pytest.ExceptionInfo) -> str:
    text = str(err.value)
    assert "\n" not in text
    return text


# --------------------------------------------------------------------------- C03: lists of outputs
def test_c03_a_callable_returning_a_list_of_scores_is_read_as_an_array(bg):
    want = as_predict(pwm)(bg)
    np.testing.assert_allclose(as_predict(lambda x: list(pwm(x)))(bg), want)
    np.testing.assert_allclose(as_predict(lambda x: [float(v) for v in pwm(x)])(bg), want)
    np.testing.assert_allclose(as_predict(lambda x: tuple(pwm(x)[:, None]), task=0)(bg), want)  # rows of one
    assert GIA(lambda x: list(pwm(x)), bg).importance(("UGCAUG", 17)).mean == GIA(pwm, bg).importance(
        ("UGCAUG", 17)).mean


def test_c03_a_multi_output_model_is_named_with_its_outputs_and_the_fix(bg):
    two_heads = as_predict(lambda x: [pwm(x)[:, None], 2 * pwm(x)[:, None]])
    with pytest.raises(ModelError) as err:
        two_heads(bg)
    text = _one_line(err)
    assert "a multi-output model with 2 outputs" in text and "(30, 1), (30, 1)" in text
    assert "lambda x: model(x)[0]" in text
    np.testing.assert_allclose(as_predict(lambda x: [pwm(x)[:, None]])(bg), as_predict(pwm)(bg))  # outputs=[head]
    with pytest.raises(ModelError, match=r"outputs \['affinity', 'structure'\].*model\(x\)\['affinity'\]"):
        as_predict(lambda x: {"affinity": pwm(x), "structure": pwm(x)})(bg)


def test_c03_a_keras_multi_output_model_is_named_on_both_paths(bg):
    import keras

    inp = keras.Input((L, 4))
    h = keras.layers.GlobalAveragePooling1D()(inp)
    model = keras.Model(inp, [keras.layers.Dense(1)(h), keras.layers.Dense(3)(h)])
    for compile_ in (True, False):
        with pytest.raises(ModelError, match=r"multi-output model with 2 outputs of shapes \(\d+, 1\), \(\d+, 3\)"):
            as_predict(model, compile=compile_)(bg[:5])


# --------------------------------------------------------------------------- C05: bool outputs
def test_c05_bool_outputs_are_refused_with_the_dtype_and_the_fix(bg):
    for f in (lambda x: pwm(x) > 0, lambda x: np.array(list(pwm(x) > 0), dtype=object)):
        with pytest.raises(ModelError) as err:
            as_predict(f)(bg)
        text = _one_line(err)
        assert "dtype bool" in text and "real-valued scores" in text and ".astype(float)" in text
    with pytest.raises(ModelError, match="dtype bool"):
        GIA(lambda x: pwm(x) > 0, bg).importance(("UGCAUG", 17))


# --------------------------------------------------------------------------- C09: one background
def test_c09_one_background_warns_and_its_p_values_stay_nan(bg):
    one = GIA(pwm, bg[:1])
    with pytest.warns(RuntimeWarning, match=r"1 background.*CI and p-value are undefined \(NaN\)"):
        imp = one.importance(("UGCAUG", 17))
    assert np.isnan(imp.pvalue) and np.isnan(imp.ci95).all() and np.isfinite(imp.mean)
    with pytest.warns(RuntimeWarning, match="1 background"):
        imps = one.importances([("UGCAUG", 17), ("GG", 3)])
    assert all(np.isnan(i.pvalue) for i in imps)
    with pytest.warns(RuntimeWarning, match="1 background"):
        df = kmer_scan(one, k=2, start=5)
    assert df[["pvalue", "qvalue", "ci_low"]].isna().all().all() and df["mean"].notna().all()
    with pytest.warns(RuntimeWarning, match="1 background"):
        ad = adaptive_kmer_scan(one, k=2, start=5)
    assert ad.table["pvalue"].isna().all()
    with pytest.warns(RuntimeWarning, match="1 background"):
        mm = motif_mutagenesis(one, "UGCAUG")
    assert np.isnan(mm.wild_type.pvalue)


def test_c09_two_backgrounds_do_not_warn(bg):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isfinite(GIA(pwm, bg[:2]).importance(("UGCAUG", 17)).pvalue)


# --------------------------------------------------------------------------- C27, C28, C26, C29: kmers
def test_c27_an_empty_kmers_list_is_named(session):
    for empty in ([], (), np.array([], dtype=str)):
        with pytest.raises(PatternError, match=r"^kmers is empty: no k-mers to scan; pass at least one"):
            kmer_scan(session, kmers=empty)
    with pytest.raises(PatternError, match="no k-mers"):
        kmer_codes([])


def test_c28_a_string_is_refused_as_kmers_everywhere(session):
    with pytest.raises(PatternError, match=r"kmers='UGCAUG' is one string.*kmers=\['UGCAUG'\]"):
        kmer_scan(session, kmers="UGCAUG")
    with pytest.raises(PatternError, match=r"kmers='UGCAUG' is one string.*\['UGCAUG'\]"):
        kmer_codes("UGCAUG")


def test_c26_duplicated_kmers_are_refused_by_name(session):
    with pytest.raises(PatternError) as err:
        kmer_scan(session, kmers=["AAA", "CCC", "AAA", "GGU", "ggt"])
    text = _one_line(err)
    assert "AAA" in text and "GGU" in text and "CCC" not in text and "dict.fromkeys" in text


def test_c29_a_k_that_disagrees_with_the_kmers_is_refused(session):
    with pytest.raises(PatternError, match=r"^k=6 but kmers are 3-mers; pass k=3 or leave k out"):
        kmer_scan(session, k=6, kmers=["AAA", "CCC"])
    assert len(kmer_scan(session, kmers=["AAA", "CCC"])) == 2  # k read from the k-mers
    assert len(kmer_scan(session, k=3, kmers=["AAA", "CCC"])) == 2
    assert len(kmer_scan(session, k=2, start=5)) == 16


# --------------------------------------------------------------------------- C16: a list instead of a tuple
def test_c16_a_pair_given_as_a_list_is_named_as_such(session):
    for patterns in (["UGCAUG", 17], [["UGCAUG", 17]], [("GG", 3), ["UGCAUG", 17]]):
        with pytest.raises(PatternError) as err:
            parse_patterns(patterns, L)
        text = _one_line(err)
        assert "no start" not in text and "is a list" in text and "tuple ('UGCAUG', 17)" in text
    with pytest.raises(PatternError, match=r"\['UGCAUG', 17\] is a list"):
        session.importance(["UGCAUG", 17])


# --------------------------------------------------------------------------- C32: chunk sizes
@pytest.mark.parametrize("bad", [0, -5, 1.5, True])
def test_c32_a_chunk_size_below_one_is_refused(bg, session, bad):
    with pytest.raises(DataError, match=rf"^chunk_size={bad!r}"):
        GIA(pwm, bg, chunk_size=bad)
    with pytest.raises(DataError, match=rf"^chunk_size={bad!r}"):
        session.replace(chunk_size=bad)
    with pytest.raises(DataError, match=rf"^chunk_size={bad!r}"):
        kmer_scan(session, k=2, start=5, chunk_size=bad)


# --------------------------------------------------------------------------- C33: transposed backgrounds
def test_c33_a_transposed_background_is_named_with_the_fix(bg, src):
    flipped = np.swapaxes(bg, 1, 2)
    calls = {"GIA": lambda: GIA(pwm, flipped), "profile_background": lambda: profile_background(flipped, 5),
             "make_background": lambda: make_background("dinuc", np.swapaxes(src, 1, 2), 5),
             "embed": lambda: embed(flipped, ("UGCAUG", 17))}
    for name, call in calls.items():
        with pytest.raises(DataError) as err:
            call()
        text = _one_line(err)
        assert "(N, 4, 41)" in text and "np.swapaxes(x, 1, 2)" in text and "(N, 41, 4)" in text, name
    assert GIA(pwm, bg[:, :3]).length == 3  # short sequences (L < A) are not mistaken for a transpose


def test_c33_the_channel_counts_are_the_configs():
    from rbgia.config import INPUT_CHANNELS
    from rbgia.sequence import CHANNEL_COUNTS

    assert CHANNEL_COUNTS == set(INPUT_CHANNELS.values())


# --------------------------------------------------------------------------- C25: seeds
@pytest.mark.parametrize(("seed", "why"), [(-1, "negative"), (1.5, "float"), ("7", "str"), (True, "bool")])
def test_c25_bad_seeds_are_refused_by_every_sampler(src, session, seed, why):
    samplers = [lambda: profile_background(src, 5, seed=seed), lambda: shuffle_background(src, 5, seed=seed),
                lambda: dinuc_shuffle_background(src, 5, seed=seed), lambda: make_background("profile", src, 5, seed),
                lambda: adaptive_kmer_scan(session, k=2, start=5, seed=seed),
                lambda: multiplicity(session, "UGCAUG", seed=seed),
                lambda: bootstrap_means(np.ones((1, 4)), seed=seed)]
    for call in samplers:
        with pytest.raises(DataError) as err:
            call()
        text = _one_line(err)
        assert text.startswith(f"seed={seed!r}") and why in text and "an int >= 0" in text


def test_c25_good_seeds_still_work(src):
    a = profile_background(src, 5, seed=np.int64(4))
    np.testing.assert_array_equal(a, profile_background(src, 5, seed=4))
    np.testing.assert_array_equal(profile_background(src, 5, seed=np.random.default_rng(4)), a)
    assert profile_background(src, 5, seed=None).shape == (5, L, 4)


# --------------------------------------------------------------------------- C21: size guard
def test_c21_a_huge_background_states_its_memory_and_needs_confirm(src):
    for call in (lambda: profile_background(src, 10**8), lambda: shuffle_background(src, 10**8),
                 lambda: dinuc_shuffle_background(src, 10**8), lambda: make_background("profile", src, 10**8)):
        with pytest.raises(DataError) as err:
            call()
        text = _one_line(err)
        assert "n=100,000,000" in text and "(100000000, 41, 4) float32" in text and "65.6 GB" in text
        assert "confirm=True" in text
    assert profile_background(src, 3000, confirm=True).shape == (3000, L, 4)
    with pytest.raises(DataError, match=r"^n=2\.5 .*not an integer"):
        profile_background(src, 2.5)


# --------------------------------------------------------------------------- BAD 3: a session owns its background


def test_bad3_the_callers_array_cannot_change_a_session(src, bg):
    """``np.ascontiguousarray`` did not copy float32: rewriting the caller's array changed a session whose f(x)
    was cached (0.2679 -> 0.9997 in the issue, against 0.1584 for a fresh session)."""
    arr = bg.copy()
    s = GIA(pwm, arr)
    before = s.importance(("UGCAUG", 17)).mean
    arr[:] = profile_background(src, len(bg), seed=99)
    assert s.importance(("UGCAUG", 17)).mean == before
    assert GIA(pwm, arr).importance(("UGCAUG", 17)).mean != before  # the changed array is another background
    with pytest.raises(ValueError, match="read-only"):
        s.background[:] = 0

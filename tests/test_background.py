"""Backgrounds: shapes, seeding, padding, profile frequencies, exact dinucleotide counts, uniform
dinucleotide shuffles (against exhaustive enumeration) and backgrounds with the data's lengths."""

from __future__ import annotations

import time
from collections import Counter
from itertools import product

import numpy as np
import pytest
from scipy import stats

from rbgia.background import (
    dinuc_shuffle_background,
    make_background,
    profile_background,
    quartile_background,
    shuffle_background,
)
from rbgia.data import decode, one_hot
from rbgia.errors import DataError


def _random_seqs(n: int, seed: int, lo: int = 30, hi: int = 42) -> list[str]:
    rng = np.random.default_rng(seed)
    return ["".join(rng.choice(list("ACGU"), rng.integers(lo, hi))) for _ in range(n)]


@pytest.fixture(scope="module")
def x() -> np.ndarray:
    return one_hot(_random_seqs(200, 0))


def _dinucs(s: str) -> Counter:
    return Counter(s[i : i + 2] for i in range(len(s) - 1))


@pytest.mark.parametrize("fn", [profile_background, shuffle_background, dinuc_shuffle_background])
def test_shape_dtype_and_seed(fn, x):
    a = fn(x, 50, seed=3)
    assert a.shape == (50, 41, 4) and a.dtype == np.float32
    assert np.array_equal(a, fn(x, 50, seed=3))
    assert not np.array_equal(a, fn(x, 50, seed=4))
    # one-hot or all-zero rows only
    assert set(np.unique(a.sum(-1))) <= {0.0, 1.0}


def test_structure_channels_are_dropped(x):
    x6 = np.concatenate([x, np.full(x.shape[:2] + (2,), 0.5, np.float32)], -1)
    for kind in ("profile", "shuffle", "dinuc"):
        assert make_background(kind, x6, 10, seed=0).shape == (10, 41, 4)


def test_profile_matches_source_frequencies_and_keeps_padding():
    rng = np.random.default_rng(1)
    # position-specific bias: position 5 is mostly G, padding at both ends in every sequence
    seqs = ["".join(rng.choice(list("ACGU"), 35)) for _ in range(400)]
    seqs = [s[:5] + ("G" if rng.random() < 0.9 else "A") + s[6:] for s in seqs]
    src = one_hot(seqs)  # 35 nt centred in 41: positions 0..2 and 38..40 padded everywhere
    bg = profile_background(src, 20000, seed=0)
    assert np.all(bg[:, :3] == 0) and np.all(bg[:, 38:] == 0)
    assert np.all(bg[:, 3:38].sum(-1) == 1)
    want = src[..., :4].sum(0) / src[..., :4].sum((0, 2))[:, None].clip(1)
    got = bg.mean(0)
    assert np.abs(got[3:38] - want[3:38]).max() < 0.02
    assert got[3 + 5, 2] > 0.85  # the planted G


def test_shuffle_keeps_composition_and_padding(x):
    src = x[:1]
    out = shuffle_background(src, 30, seed=0)
    s0 = decode(src)[0]
    outs = decode(out)
    assert all(sorted(o) == sorted(s0) for o in outs)
    assert np.array_equal(out.sum(-1), np.repeat(src.sum(-1), 30, 0))  # padding in place
    assert sum(o != s0 for o in outs) >= 28


def test_dinuc_shuffle_preserves_dinucleotide_counts_exactly(x):
    # n == N draws every source once (a permutation), so the multisets must match
    out = dinuc_shuffle_background(x, x.shape[0], seed=7)
    src = sorted(tuple(sorted(_dinucs(s).items())) for s in decode(x))
    got = sorted(tuple(sorted(_dinucs(s).items())) for s in decode(out))
    assert src == got
    # first and last letters are kept by an Eulerian walk
    assert sorted((s[0], s[-1]) for s in decode(x)) == sorted((s[0], s[-1]) for s in decode(out))


def test_dinuc_shuffle_actually_shuffles_one_sequence():
    s0 = _random_seqs(1, 5, 41, 42)[0]
    outs = decode(dinuc_shuffle_background(one_hot([s0]), 100, seed=0))
    assert all(_dinucs(o) == _dinucs(s0) for o in outs)
    assert len(set(outs)) > 50  # many distinct shuffles
    assert np.mean([o != s0 for o in outs]) > 0.9
    # per-position identity with the source is far from 1
    ident = np.mean([[a == b for a, b in zip(o, s0)] for o in outs])
    assert ident < 0.6


def test_dinuc_shuffle_with_internal_n_and_padding():
    src = one_hot(["ACGUNNACGGUACGUUAGC", "GGGAAACCCUUU"])
    out = dinuc_shuffle_background(src, 2, seed=1)
    assert sorted(out.sum((1, 2))) == sorted(src.sum((1, 2)))
    for o in decode(out):
        assert len(o) in (12, 19)
    # end padding stays in place; the internal N walks as a fifth letter (its dinucleotides kept)
    def span(a):
        present = a.sum(-1) > 0
        return sorted((int(r.argmax()), int(len(r) - r[::-1].argmax())) for r in present)

    assert span(out) == span(src)
    assert sorted(map(lambda s: sorted(_dinucs(s).items()), decode(out))) == sorted(
        map(lambda s: sorted(_dinucs(s).items()), decode(src))
    )


def test_quartile_background_draws_from_the_right_quartile(x):
    y = np.arange(x.shape[0], dtype=float)  # quartile 4 = the last 50 sequences
    top = quartile_background(x, y, "top", 40, seed=0)
    pool = {s for s in decode(x[150:])}
    assert all(s in pool for s in decode(top))
    bottom = make_background("quartile1", x, 10, seed=0, y=y[:, None])
    assert all(s in set(decode(x[:50])) for s in decode(bottom))


def test_errors(x):
    with pytest.raises(DataError, match="0 sequences"):
        profile_background(x[:0], 10, seed=0)
    with pytest.raises(DataError, match="n >= 1"):
        shuffle_background(x, 0, seed=0)
    with pytest.raises(DataError, match="unknown background kind"):
        make_background("gc", x, 10)
    with pytest.raises(DataError, match="pass y="):
        make_background("quartile2", x, 10)
    with pytest.raises(DataError, match="n <= 50"):
        quartile_background(x, np.arange(x.shape[0]), 4, 60)
    with pytest.raises(DataError, match="1..4"):
        quartile_background(x, np.arange(x.shape[0]), 5, 10)
    with pytest.raises(DataError, match="one-hot"):
        profile_background(np.zeros((5, 41)), 10)


# --------------------------------------------------------------------------- uniform dinucleotide shuffle
def _same_dinucs(s: str) -> list[str]:
    """Every sequence with the dinucleotide counts and first base of ``s`` (exhaustive walk)."""
    left = _dinucs(s)
    out: list[str] = []

    def walk(prefix: str) -> None:
        if len(prefix) == len(s):
            out.append(prefix)
            return
        for b in "ACGU":
            if left[prefix[-1] + b] > 0:
                left[prefix[-1] + b] -= 1
                walk(prefix + b)
                left[prefix[-1] + b] += 1

    walk(s[0])
    return out


def test_enumeration_reference_equals_brute_force():
    s = "GAGGCGGA"
    brute = {"".join(p) for p in product("ACGU", repeat=len(s)) if p[0] == s[0] and _dinucs("".join(p)) == _dinucs(s)}
    assert brute == set(_same_dinucs(s)) and len(brute) == 12


# The old sampler (fixed last exits, as DeepLIFT/tangermeme) reached 4 of 36, 12 of 30 and 144 of 756 of these.
@pytest.mark.parametrize(
    ("seq", "n_distinct", "per_cell"),
    [("AGGUGAUAA", 36, 400), ("GAGGCGGAG", 30, 400), ("UGCAUGCAUGUUA", 36, 400), ("CUGGUUCCGCCUG", 756, 40)],
)
def test_dinuc_shuffle_is_uniform_over_all_shuffles(seq, n_distinct, per_cell):
    support = _same_dinucs(seq)
    assert len(support) == n_distinct
    draws = Counter(decode(dinuc_shuffle_background(one_hot([seq]), n_distinct * per_cell, seed=11)))
    assert set(draws) == set(support)  # every distinct shuffle is reached, nothing else
    observed = np.array([draws[s] for s in support])
    assert stats.chisquare(observed).pvalue > 1e-3  # equal frequencies


def test_dinuc_shuffle_keeps_n_in_place_and_shuffles_each_run_uniformly():
    seq = "AGGUGAUAANGAGGCGGAG"  # two runs: 36 x 30 shuffles
    out = decode(dinuc_shuffle_background(one_hot([seq]), 40_000, seed=2))
    assert all(o[9] == "N" and len(o) == len(seq) for o in out)
    left, right = Counter(o[:9] for o in out), Counter(o[10:] for o in out)
    assert set(left) == set(_same_dinucs(seq[:9])) and set(right) == set(_same_dinucs(seq[10:]))
    assert stats.chisquare(list(left.values())).pvalue > 1e-3
    assert stats.chisquare(list(right.values())).pvalue > 1e-3


def test_dinuc_shuffle_is_fast():
    """1,000 uniform shuffles of 41-nt probes: 0.018 s measured (2-core shared CPU, this test's loop)."""
    src = one_hot(_random_seqs(1000, 9, 41, 42))
    dinuc_shuffle_background(src, 1000, seed=0)
    t0 = time.perf_counter()
    for seed in range(5):
        dinuc_shuffle_background(src, 1000, seed=seed)
    assert (time.perf_counter() - t0) / 5 < 0.5


def test_dinuc_shuffle_of_short_runs_and_single_letters():
    src = one_hot(["A", "AC", "ANC", "NNA", "AAAAA", ""])
    out = decode(dinuc_shuffle_background(src, 6, seed=0))
    assert sorted(out) == sorted(["A", "AC", "ANC", "A", "AAAAA", ""])


# --------------------------------------------------------------------------- backgrounds with the data's lengths
@pytest.fixture(scope="module")
def mixed() -> np.ndarray:
    """300 probes of 30 nt and 100 of 41 nt (centred: 30-nt ones padded at 0..4 and 35..40)."""
    rng = np.random.default_rng(4)
    return one_hot(["".join(rng.choice(list("ACGU"), 30 if i < 300 else 41)) for i in range(400)])


def _lengths(a: np.ndarray) -> np.ndarray:
    return (a.sum(-1) > 0).sum(1)


@pytest.mark.parametrize("kind", ["profile", "shuffle", "dinuc"])
def test_backgrounds_keep_the_probe_lengths(mixed, kind):
    bg = make_background(kind, mixed, 4000, seed=0)
    lengths = _lengths(bg)
    assert set(np.unique(lengths)) == {30, 41}
    assert abs(np.mean(lengths == 30) - 0.75) < 0.03  # in the data's proportion
    short = bg[lengths == 30]
    assert np.all(short[:, :5] == 0) and np.all(short[:, 35:] == 0) and np.all(short[:, 5:35].sum(-1) == 1)


def test_profile_fill_restores_full_length_backgrounds(mixed):
    filled = profile_background(mixed, 500, seed=0, padding="fill")
    assert np.all(_lengths(filled) == 41)
    assert np.array_equal(filled, make_background("profile", mixed, 500, seed=0, padding="fill"))
    # the default follows the probes; on full-length data both modes agree exactly
    full = mixed[300:]
    assert np.array_equal(profile_background(full, 50, seed=1), profile_background(full, 50, seed=1, padding="fill"))
    with pytest.raises(DataError, match="padding='none'"):
        profile_background(mixed, 5, padding="none")

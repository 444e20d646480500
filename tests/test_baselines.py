"""k-mer counts and the k-mer ridge baseline."""

from __future__ import annotations

import itertools
import types

import numpy as np
import pytest

from rbgia.baselines import KmerRidge, kmer_counts
from rbgia.data import one_hot
from rbgia.errors import DataError, ModelError


def _naive_counts(seqs: list[str], k: int) -> np.ndarray:
    index = {"".join(p): i for i, p in enumerate(itertools.product("ACGU", repeat=k))}
    out = np.zeros((len(seqs), 4**k))
    for r, s in enumerate(seqs):
        for i in range(len(s) - k + 1):
            if s[i : i + k] in index:  # skips k-mers with N
                out[r, index[s[i : i + k]]] += 1
    return out


def test_kmer_counts_match_naive_count() -> None:
    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list("ACGU"), size=n)) for n in (41, 38, 40, 41)]
    seqs[2] = seqs[2][:10] + "N" + seqs[2][11:]
    x = one_hot(seqs)  # 38/40-nt probes are zero-padded, centred
    for k in (1, 3, 5):
        want = _naive_counts(seqs, k)
        np.testing.assert_array_equal(kmer_counts(x, k).toarray(), want)
        np.testing.assert_array_equal(kmer_counts(seqs, k).toarray(), want)
    both = kmer_counts(x, (2, 1))
    assert both.shape == (4, 4 + 16)
    np.testing.assert_array_equal(both.toarray(), np.hstack([_naive_counts(seqs, 1), _naive_counts(seqs, 2)]))
    # structure channels after the sequence channels are ignored
    x6 = np.concatenate([x, np.ones(x.shape[:2] + (2,), np.float32)], -1)
    np.testing.assert_array_equal(kmer_counts(x6, 3).toarray(), _naive_counts(seqs, 3))
    # column order: base-4 digits, first letter most significant
    assert kmer_counts(["UGCAUG"], 6).indices.tolist() == [int("321032", 4)]


def test_kmer_counts_bad_input() -> None:
    with pytest.raises(DataError, match="between 1 and 10"):
        kmer_counts(["ACGU"], 0)
    with pytest.raises(DataError, match="at least the 4 sequence channels"):
        kmer_counts(np.zeros((2, 41, 2)), 2)


def _planted(n: int, seed: int) -> types.SimpleNamespace:
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 4, (n, 41))
    n_sites = rng.integers(0, 3, n)
    for i in range(n):  # test data construction, not model calls
        for j in range(n_sites[i]):
            codes[i, 5 + 15 * j : 11 + 15 * j] = [3, 2, 1, 0, 3, 2]  # UGCAUG
    x = np.eye(4, dtype=np.float32)[codes]
    y = (n_sites + rng.normal(0, 0.3, n)).astype(np.float32)[:, None]
    return types.SimpleNamespace(x=x, y=y)


def test_kmer_ridge_learns_planted_motif() -> None:
    from rbgia.evaluate import evaluate

    train, valid, test = _planted(1500, 0), _planted(300, 1), _planted(500, 2)
    alphas = (0.01, 10.0, 1e5)
    model = KmerRidge(k=(4, 5, 6), alpha=alphas).fit(train, valid)
    # the chosen alpha is the one with the best validation Pearson r
    per_alpha = [evaluate(KmerRidge(k=(4, 5, 6), alpha=a).fit(train), valid)["pearson"] for a in alphas]
    assert model.alpha_ == alphas[int(np.argmax(per_alpha))]
    assert evaluate(model, test)["pearson"] > 0.9
    assert model.predict(test.x).shape == (500,)
    with pytest.raises(ModelError, match="not fitted"):
        KmerRidge(k=2).predict(test.x)
    with pytest.raises(ModelError, match="no valid split"):
        KmerRidge(k=2, alpha=(1.0, 2.0)).fit(train)


def test_kmer_ridge_never_picks_an_undefined_validation_score():
    """A huge first alpha gives constant predictions (validation r undefined): it must
    not win over a later alpha with a real score."""
    from types import SimpleNamespace

    from rbgia.baselines import KmerRidge
    from rbgia.data import one_hot

    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list("ACGU"), 20)) for _ in range(300)]
    x = one_hot(seqs, length=20)
    y = np.array([s.count("GC") for s in seqs], dtype=np.float32)[:, None]
    train = SimpleNamespace(x=x[:200], y=y[:200])
    valid = SimpleNamespace(x=x[200:], y=y[200:])
    model = KmerRidge(k=(2,), alpha=(1e30, 1.0)).fit(train, valid)
    assert model.alpha_ == 1.0

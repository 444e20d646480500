"""ISM: exact on an additive model, equal to a naive variant loop, padding and extra channels."""

from __future__ import annotations

import numpy as np
import pytest
from toy_models import L, W, keras_conv, pwm

from rbgia.data import one_hot
from rbgia.errors import DataError, ModelError
from rbgia.mutagenesis import ism, ism_l2


def _seqs(n, seed=0, length=L):
    rng = np.random.default_rng(seed)
    return ["".join(rng.choice(list("ACGU"), length)) for _ in range(n)]


def test_ism_additive_is_exact_with_padding():
    x = one_hot(_seqs(5) + ["ACGUACGUACGUACGUACGUACGUACGUACGUAC"])  # last one padded
    d = ism(pwm, x, chunk_size=100)  # many chunks
    assert d.shape == (6, L, 4) and d.dtype == np.float64
    present = x.sum(-1) > 0
    wt = x.argmax(-1)
    want = W[None] - W[np.arange(L), wt][..., None]
    want[~present] = 0
    np.testing.assert_allclose(d, want, atol=1e-9)
    assert np.all(d[x.astype(bool)] == 0)  # 0 at the wild type
    assert np.all(d[5, :3] == 0) and np.all(d[5, -4:] == 0)  # padding is not mutated
    np.testing.assert_allclose(ism_l2(d), np.linalg.norm(want, axis=-1), atol=1e-9)
    assert ism(pwm, x[0]).shape == (L, 4)


@pytest.mark.slow  # XLA compiles a few shapes (seconds on a shared CPU)
def test_ism_equals_naive_loop_on_nonlinear_keras_model():
    pytest.importorskip("keras")
    model = keras_conv(0)
    x = one_hot(_seqs(3, seed=1))
    d = ism(model, x, batch_size=64)
    base = model.predict(x, verbose=0)[:, 0]
    naive = np.zeros((3, L, 4))
    variants, where = [], []  # built one by one; predicted in one call to keep the test fast
    for i in range(3):
        for p in range(L):
            for b in range(4):
                if x[i, p, b] == 0:
                    v = x[i].copy()
                    v[p] = np.eye(4)[b]
                    variants.append(v)
                    where.append((i, p, b))
    pred = model.predict(np.stack(variants), verbose=0)[:, 0]
    for (i, p, b), y in zip(where, pred):
        naive[i, p, b] = y - base[i]
    np.testing.assert_allclose(d, naive, atol=1e-5)


def test_ism_carries_extra_channels():
    x = one_hot(_seqs(4, seed=2))
    x6 = np.concatenate([x, np.random.default_rng(0).random(x.shape[:2] + (2,), dtype=np.float32)], -1)

    def f(v):  # the structure term is constant across a sequence's variants iff carried
        return pwm(v) + 100.0 * v[..., 4:].sum((1, 2))

    np.testing.assert_allclose(ism(f, x6), ism(pwm, x), atol=1e-7)


def test_ism_errors():
    with pytest.raises(DataError, match="0 sequences"):
        ism(pwm, np.zeros((0, L, 4), np.float32))
    with pytest.raises(ModelError, match="expected"):
        ism(lambda v: np.zeros((len(v), 2, 2)), one_hot(_seqs(1)))


def test_ism_recompute_structure_refolds_each_variant():
    """A predictor that reads only the paired channel: with the wild type's structure
    carried, every delta is 0; refolded, each delta equals a naive refold-and-predict."""
    from rbgia.data import one_hot
    from rbgia.gia import add_structure

    def paired_sum(x):
        return x[..., 4].sum(-1)

    x = add_structure(one_hot(["GGGGCCAAAAGGCCCC"], length=20), "pu")
    carried = ism(paired_sum, x)
    assert np.all(carried == 0)
    refolded = ism(paired_sum, x, recompute_structure=True)
    wt = paired_sum(x)[0]
    naive = np.zeros_like(refolded)
    seq = x[0, :, :4]
    for pos in np.flatnonzero(seq.sum(-1) > 0):
        for alt in range(4):
            if seq[pos, alt] == 1:
                continue
            v = seq.copy()
            v[pos] = np.eye(4)[alt]
            naive[0, pos, alt] = paired_sum(add_structure(v[None], "pu"))[0] - wt
    np.testing.assert_allclose(refolded, naive, atol=1e-6)
    assert np.abs(refolded).max() > 0.1  # breaking the stem changes the structure input

"""as_predict: compiled Keras path equals the model, batching/padding, shape checks, errors."""

from __future__ import annotations

import numpy as np
import pytest
from toy_models import keras_conv

from rbgia.errors import DataError, ModelError
from rbgia.inference import _COMPILED, Predictor, as_predict


def _x(n: int, length: int = 41, channels: int = 4, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (n, length))]
    if channels > 4:
        x = np.concatenate([x, rng.random((n, length, channels - 4), dtype=np.float32)], -1)
    return x


@pytest.fixture(scope="module")
def keras_model():
    pytest.importorskip("keras")
    return keras_conv(0, outputs=2, dropout=0.5)  # the dropout must be off at inference


def test_keras_compiled_matches_model(keras_model):
    x = _x(300)
    want = keras_model(x, training=False).numpy()
    for task in (0, 1):
        p = as_predict(keras_model, task=task, batch_size=128)  # 2 full batches + a padded one
        assert p.compiled
        got = p(x)
        assert got.shape == (300,) and got.dtype == np.float64
        np.testing.assert_allclose(got, want[:, task], rtol=1e-5, atol=1e-5)
    assert p.n_evaluated == 300


def test_compiled_functions_are_cached_per_model(keras_model):
    p1 = as_predict(keras_model, batch_size=64)
    p1(_x(64))
    fn = _COMPILED[keras_model][64]
    p2 = as_predict(keras_model, batch_size=64)
    p2(_x(64, seed=1))
    assert _COMPILED[keras_model][64] is fn
    # a Predictor passed back in is returned as is
    assert as_predict(p1, task=0, batch_size=64) is p1
    assert as_predict(p1, task=1).task == 1


def test_keras_wrong_channels_is_a_clear_error(keras_model):
    with pytest.raises(ModelError, match=r"expects sequences of shape \(N, 41, 4\)"):
        as_predict(keras_model)(_x(5, channels=6))


def test_plain_callables_1d_and_2d():
    w = np.random.default_rng(0).normal(size=(41, 4))
    f1 = lambda x: (x[..., :4] * w).sum((1, 2))  # noqa: E731
    f2 = lambda x: np.stack([f1(x), -f1(x), 2 * f1(x)], 1)  # noqa: E731
    x = _x(50)
    np.testing.assert_allclose(as_predict(f1, batch_size=7)(x), f1(x))
    np.testing.assert_allclose(as_predict(f2, task=2, batch_size=16)(x), 2 * f1(x))
    np.testing.assert_allclose(as_predict(lambda x: f1(x)[:, None], task=None)(x), f1(x))
    p = as_predict(f1)
    assert isinstance(p, Predictor) and not p.compiled


def test_batches_never_exceed_batch_size():
    seen = []

    def f(x):
        seen.append(x.shape[0])
        return x.sum((1, 2))

    as_predict(f, batch_size=32)(_x(100))
    assert seen == [32, 32, 32, 4]


def test_wrong_output_shapes_are_clear_errors():
    x = _x(10)
    with pytest.raises(ModelError, match=r"shape \(9,\) for 10 sequences; expected \(10,\)"):
        as_predict(lambda x: np.zeros(len(x) - 1))(x)
    with pytest.raises(ModelError, match=r"shape \(10, 2, 2\)"):
        as_predict(lambda x: np.zeros((len(x), 2, 2)))(x)
    with pytest.raises(ModelError, match="pass task="):
        as_predict(lambda x: np.zeros((len(x), 3)), task=None)(x)
    with pytest.raises(ModelError, match="task=5"):
        as_predict(lambda x: np.zeros((len(x), 3)), task=5)(x)
    with pytest.raises(ModelError, match="task=0"):
        as_predict(lambda x: np.zeros(len(x)), task=2)(x)
    with pytest.raises(ModelError, match="multi-output"):
        as_predict(lambda x: [np.zeros(len(x))] * 2)(x)
    with pytest.raises(ModelError, match="not a model or callable"):
        as_predict(42)
    with pytest.raises(ModelError, match="positive batch size"):
        as_predict(lambda x: x, batch_size=0)


def test_empty_and_malformed_input():
    p = as_predict(lambda x: x.sum((1, 2)))
    with pytest.raises(DataError, match="0 sequences"):
        p(np.zeros((0, 41, 4), np.float32))
    with pytest.raises(DataError, match=r"shape \(N, L, A\)"):
        p(np.zeros((41, 4), np.float32))


# --------------------------------------------------------------------------- finite or fail (issues 10.3, 11.2, 11.10)
def _score(x: np.ndarray) -> np.ndarray:
    return x[..., :4].sum((1, 2)) * 0.1


def _all_nan(x):
    return np.full(len(x), np.nan)


def _one_in_seven_nan(x):
    out = _score(x)
    out[::7] = np.nan
    return out


def _inf_rows(x):
    out = _score(x)
    out[3] = np.inf
    return out


def _strings(x):
    return np.array(["high"] * len(x))


def _runs():
    """Every entry point that calls a model: GIA, the k-mer scans and ISM."""
    from rbgia.gia import GIA, adaptive_kmer_scan, global_importance, kmer_scan
    from rbgia.mutagenesis import ism

    bg = _x(35)
    return {
        "global_importance": lambda f: global_importance(f, bg, ("UGCAUG", 17)),
        "kmer_scan": lambda f: kmer_scan(GIA(f, bg), k=2, start=5),
        "adaptive_kmer_scan": lambda f: adaptive_kmer_scan(GIA(f, bg), k=2, start=5, n_screen=10),
        "ism": lambda f: ism(f, bg[:7]),
    }


@pytest.mark.parametrize("entry", ["global_importance", "kmer_scan", "adaptive_kmer_scan", "ism"])
@pytest.mark.parametrize(
    ("predict", "match"),
    [
        (_all_nan, r"(\d+) non-finite outputs of \1 \(\1 NaN, 0 inf; first at sequence 0\).*diverged"),
        (_one_in_seven_nan, r"(5|1) non-finite outputs of (35|7) \(\1 NaN, 0 inf.*fails on some inputs"),
        (_inf_rows, r"1 non-finite outputs of \d+ \(0 NaN, 1 inf; first at sequence 3\)"),
        (_strings, r"dtype <U4 .*not real numbers; make the model/callable return float scores"),
    ],
)
def test_non_finite_or_non_numeric_outputs_raise(entry, predict, match):
    with pytest.raises(ModelError, match=match):
        _runs()[entry](predict)


def test_nan_inputs_are_named_as_the_cause():
    x = _x(8)
    x[2, 5, 0] = np.nan
    with pytest.raises(ModelError, match="the inputs hold NaN"):
        as_predict(lambda v: v.sum((1, 2)))(x)


def test_finite_outputs_and_numeric_objects_pass():
    x = _x(9)
    np.testing.assert_allclose(as_predict(lambda v: np.array(list(_score(v)), dtype=object))(x), _score(x))
    np.testing.assert_array_equal(as_predict(lambda v: (v.sum((1, 2)) > 0).astype(int))(x), np.ones(9))  # bool: C05
    with pytest.raises(ModelError, match="dtype complex"):
        as_predict(lambda v: _score(v) * 1j)(x)


def test_non_finite_outputs_have_their_own_error_class():
    from rbgia.errors import NonFiniteOutputError

    predict = as_predict(lambda x: np.full(len(x), np.nan))
    with pytest.raises(NonFiniteOutputError, match="non-finite outputs"):
        predict(np.zeros((3, 41, 4), dtype=np.float32))
    assert issubclass(NonFiniteOutputError, ModelError)  # callers catching ModelError keep working

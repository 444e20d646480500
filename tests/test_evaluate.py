"""Metrics and the prediction table behind the scatter plot."""

from __future__ import annotations

import types

import numpy as np
import pytest
from scipy import stats

from rbgia.errors import DataError, ModelError
from rbgia.evaluate import evaluate, pearson, scatter_data, spearman


def _split(n: int = 200, channels: int = 4, seed: int = 0) -> types.SimpleNamespace:
    rng = np.random.default_rng(seed)
    x = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (n, 41))]
    if channels > 4:
        x = np.concatenate([x, rng.random((n, 41, channels - 4), dtype=np.float32)], -1)
    # score = number of G in the first 10 positions + noise
    y = (x[:, :10, 2].sum(1) + rng.normal(0, 0.5, n)).astype(np.float32)[:, None]
    return types.SimpleNamespace(x=x, y=y, seqs=np.array(["A" * 41] * n))


def test_pearson_spearman_match_reference() -> None:
    rng = np.random.default_rng(1)
    y, p = rng.normal(size=50), rng.normal(size=50)
    p = p + y
    assert pearson(y, p) == pytest.approx(np.corrcoef(y, p)[0, 1], abs=1e-12)
    assert spearman(y[:, None], p) == pytest.approx(stats.spearmanr(y, p)[0], abs=1e-12)
    assert np.isnan(pearson(y, np.ones(50))) and np.isnan(spearman(np.ones(50), p))
    with pytest.raises(DataError, match="50 scores but 49 predictions"):
        pearson(y, p[:49])


def test_evaluate_callable_and_keras_model() -> None:
    import keras

    split = _split()
    exact = evaluate(lambda x: x[:, :10, 2].sum(1), split)
    assert exact["n"] == 200 and exact["pearson"] > 0.8 and exact["spearman"] > 0.7
    # a two-output callable: task picks the column
    def two_tasks(x):
        return np.stack([np.zeros(len(x)) + np.arange(len(x)) % 3, x[:, :10, 2].sum(1)], 1)

    both = evaluate(two_tasks, split, task=1)
    assert both["pearson"] == pytest.approx(exact["pearson"])
    # a Keras model that computes the same sum scores the same
    inp = keras.Input((41, 4))
    out = keras.layers.Lambda(lambda t: keras.ops.sum(t[:, :10, 2:3], axis=1))(inp)
    model = keras.Model(inp, out)
    assert evaluate(model, split)["pearson"] == pytest.approx(exact["pearson"], abs=1e-6)


def test_scatter_data() -> None:
    split = _split(30)
    color = np.arange(30)
    frame = scatter_data(lambda x: x[:, :10, 2].sum(1), split, color=color)
    assert list(frame.columns) == ["y", "pred", "seq", "color"] and len(frame) == 30
    np.testing.assert_allclose(frame["y"], split.y[:, 0])
    np.testing.assert_allclose(frame["pred"], split.x[:, :10, 2].sum(1))
    with pytest.raises(DataError, match="color has 3 values for 30 probes"):
        scatter_data(lambda x: x[:, 0, 0], split, color=color[:3])


def test_wrong_channels_for_model() -> None:
    from rbgia.model import deepbind_cnn

    model = deepbind_cnn((41, 4), num_filters=4, seed=0)
    with pytest.raises(ModelError, match="expects 4 input channels but the data has 6"):
        evaluate(model, _split(20, channels=6))
    with pytest.raises(DataError, match="pass an rbgia.data.Split"):
        evaluate(model, np.zeros((3, 41, 4)))


def test_split_xy_is_the_one_unpacking() -> None:
    """train, baselines and evaluate unpack splits through rbgia.data.Split.xy."""
    from rbgia.baselines import KmerRidge
    from rbgia.data import Split

    s = _split(20)
    x, y = Split.xy(s)  # duck-typed objects work too
    assert x.dtype == np.float32 and x.flags.c_contiguous and y.shape == (20,) and y.dtype == np.float64
    assert Split.xy(s, None)[1].shape == (20, 1)
    two = types.SimpleNamespace(x=s.x, y=np.stack([s.y[:, 0], -s.y[:, 0]], 1))
    np.testing.assert_array_equal(Split.xy(two, 1)[1], -s.y[:, 0].astype(np.float64))
    with pytest.raises(DataError, match="task 2 is out of range.*pass 0 to 1"):
        Split.xy(two, 2)
    with pytest.raises(DataError, match="valid has 20 sequences but 3 scores"):
        KmerRidge(alpha=(1.0, 10.0)).fit(s, types.SimpleNamespace(x=s.x, y=s.y[:3]))
    with pytest.raises(DataError, match="split is a int; pass an rbgia.data.Split"):
        evaluate(lambda x: x[:, 0, 0], 3)

"""ResidualBind and the shallow CNN: architecture, parameter counts, errors."""

from __future__ import annotations

import numpy as np
import pytest

from rbgia.errors import ModelError
from rbgia.model import deepbind_cnn, residualbind

# Hand count, ResidualBind with C input channels (BatchNorm: 4 x units, incl. the
# non-trainable moving mean/variance):
#   conv 11 x C x 96 (no bias) + BN 384
#   residual convs: n x (3 x 96 x 96 = 27,648) + n x BN 384   (paper n = 3, public n = 4)
#   mean-pool 10 over 41 -> 4 positions, flatten 4 x 96 = 384
#   dense 384 x 256 = 98,304 (no bias) + BN 1,024; output 256 + 1 = 257
# paper, C=4: 4,224 + 384 + 82,944 + 1,152 + 98,304 + 1,024 + 257 = 188,289
# (the count measured on these machines, see measured_here.md).
# Each extra input channel adds 11 x 96 = 1,056; "public" adds 27,648 + 384 = 28,032.
EXPECTED = {
    ("paper", 4): 188_289,
    ("paper", 6): 188_289 + 2 * 1_056,
    ("paper", 9): 188_289 + 5 * 1_056,
    ("public", 4): 188_289 + 28_032,
    ("public", 6): 188_289 + 28_032 + 2 * 1_056,
    ("public", 9): 188_289 + 28_032 + 5 * 1_056,
}


@pytest.mark.parametrize("variant,channels", sorted(EXPECTED))
def test_parameter_counts(variant: str, channels: int) -> None:
    model = residualbind((41, channels), variant)
    assert model.count_params() == EXPECTED[(variant, channels)]
    assert model.input_shape == (None, 41, channels)
    assert model.output_shape == (None, 1)


def test_architecture_details() -> None:
    model = residualbind((41, 4), "public")
    convs = [layer for layer in model.layers if type(layer).__name__ == "Conv1D"]
    assert [c.kernel_size[0] for c in convs] == [11, 3, 3, 3, 3]
    assert [c.dilation_rate[0] for c in convs] == [1, 1, 2, 4, 8]
    assert not any(c.use_bias for c in convs)
    dense = [layer for layer in model.layers if type(layer).__name__ == "Dense"]
    assert [d.units for d in dense] == [256, 1] and not dense[0].use_bias and dense[1].use_bias
    rates = [layer.rate for layer in model.layers if type(layer).__name__ == "Dropout"]
    assert rates == [0.1, 0.1, 0.1, 0.1, 0.2, 0.5]
    paper = residualbind((41, 4), "paper")
    assert [c.dilation_rate[0] for c in paper.layers if type(c).__name__ == "Conv1D"] == [1, 1, 2, 4]


def test_seed_makes_identical_models_and_forward_works() -> None:
    a, b, c = residualbind(seed=3), residualbind(seed=3), residualbind(seed=4)
    assert all(np.array_equal(u, v) for u, v in zip(a.get_weights(), b.get_weights()))
    assert not all(np.array_equal(u, v) for u, v in zip(a.get_weights(), c.get_weights()))
    x = np.eye(4, dtype=np.float32)[np.random.default_rng(0).integers(0, 4, (5, 41))]
    out = np.asarray(a(x, training=False))
    assert out.shape == (5, 1) and np.isfinite(out).all()


def test_deepbind_cnn() -> None:
    model = deepbind_cnn((41, 6), num_filters=8, width=12, hidden=16, seed=0)
    # conv 12*6*8+8, pooled max+mean 16 -> dense 16*16+16, output 17
    assert model.count_params() == (12 * 6 * 8 + 8) + (16 * 16 + 16) + 17
    x = np.zeros((3, 41, 6), np.float32)
    assert np.asarray(model(x, training=False)).shape == (3, 1)


def test_bad_arguments() -> None:
    with pytest.raises(ModelError, match="unknown ResidualBind variant 'deep'"):
        residualbind(variant="deep")
    with pytest.raises(ModelError, match="5 channels"):
        residualbind((41, 5))
    with pytest.raises(ModelError, match="5 channels"):
        deepbind_cnn((41, 5))

"""ResidualBind (Koo et al. 2020) and a shallow DeepBind-like CNN baseline.

Both builders return a fresh Keras 3 functional model and keep no global state.
Pass ``seed`` to make the initial weights and the dropout streams independent of
Keras' global random state (two calls with the same seed build identical models).
"""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Iterator

from .config import VARIANTS, input_kind
from .errors import ModelError


def require_tensorflow_backend() -> None:
    """Make Keras use its TensorFlow backend, which rbgia's training and compiled inference are written for.

    ``KERAS_BACKEND`` unset defaults to ``tensorflow`` (as :mod:`rbgia.book` sets it), so a
    ``~/.keras/keras.json`` naming another backend does not apply.

    Raises
    ------
    ModelError
        When ``KERAS_BACKEND`` names another backend, or Keras was already imported with one.
    """
    backend = os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if "keras" in sys.modules and hasattr(sys.modules["keras"], "backend"):
        backend = sys.modules["keras"].backend.backend()  # already imported: what it actually uses
    if backend != "tensorflow":
        raise ModelError(f"KERAS_BACKEND={backend!r}, but rbgia needs Keras' tensorflow backend (its training and "
                         "compiled inference use TensorFlow); unset KERAS_BACKEND or set KERAS_BACKEND=tensorflow")


require_tensorflow_backend()  # before Keras picks its backend on import

import keras  # noqa: E402
from keras import layers  # noqa: E402

# Dilations of the residual module: the paper's text vs the authors' public code.
_DILATIONS = {"paper": (1, 2, 4), "public": (1, 2, 4, 8)}


def _check_shape(input_shape: tuple[int, int]) -> tuple[int, int]:
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 2 or shape[0] < 1:
        raise ModelError(f"input_shape {input_shape!r} is not (length, channels); pass e.g. (41, 4)")
    if input_kind(shape[1]) is None:
        raise ModelError(
            f"input_shape has {shape[1]} channels; use 4 (sequence), 6 (+PU) or 9 (+PHIME)"
        )
    return shape  # type: ignore[return-value]


def _seeds(seed: int | None) -> Iterator[int | None]:
    """Distinct per-layer seeds (a seeded Keras initializer repeats its values)."""
    if seed is None:
        return itertools.repeat(None)
    return itertools.count(int(seed) * 1000 + 1)


def _glorot(seeds: Iterator[int | None]) -> keras.initializers.Initializer:
    """A Glorot-uniform initializer on the next per-layer seed."""
    return keras.initializers.GlorotUniform(seed=next(seeds))


def _conv_block(
    inputs: keras.KerasTensor, num_filters: int, rate: float, seeds: Iterator[int | None]
) -> keras.KerasTensor:
    """The first layer: Conv1D(``num_filters``, 11, no bias) -> BN -> ReLU -> dropout."""
    nn = layers.Conv1D(num_filters, 11, padding="same", use_bias=False, kernel_initializer=_glorot(seeds),
                       name="conv")(inputs)
    nn = layers.BatchNormalization(name="conv_bn")(nn)
    nn = layers.Activation("relu", name="conv_relu")(nn)
    return layers.Dropout(rate, seed=next(seeds), name="conv_drop")(nn)


def _residual_module(
    nn: keras.KerasTensor, num_filters: int, dilations: tuple[int, ...], rate: float, seeds: Iterator[int | None]
) -> keras.KerasTensor:
    """Dilated residual module: conv-BN (-ReLU-dropout) per dilation, add the input, ReLU.

    The last conv has no ReLU or dropout of its own: the ReLU comes after the addition.
    """
    shortcut = nn
    for i, dilation in enumerate(dilations):
        nn = layers.Conv1D(
            num_filters, 3, padding="same", dilation_rate=dilation, use_bias=False,
            kernel_initializer=_glorot(seeds), name=f"res_conv{i}",
        )(nn)
        nn = layers.BatchNormalization(name=f"res_bn{i}")(nn)
        if i < len(dilations) - 1:
            nn = layers.Activation("relu", name=f"res_relu{i}")(nn)
            nn = layers.Dropout(rate, seed=next(seeds), name=f"res_drop{i}")(nn)
    nn = layers.Add(name="res_add")([shortcut, nn])
    return layers.Activation("relu", name="res_relu")(nn)


def _dense_head(
    nn: keras.KerasTensor,
    pool_size: int,
    dense_units: int,
    d_pool: float,
    d_dense: float,
    seeds: Iterator[int | None],
    outputs: int = 1,
) -> keras.KerasTensor:
    """Mean-pool -> dropout (``d_pool``) -> flatten -> Dense (no bias) -> BN -> ReLU -> dropout (``d_dense``)
    -> Dense ``outputs`` (linear)."""
    nn = layers.AveragePooling1D(pool_size, strides=pool_size, name="pool")(nn)
    nn = layers.Dropout(d_pool, seed=next(seeds), name="pool_drop")(nn)
    nn = layers.Flatten(name="flatten")(nn)
    nn = layers.Dense(dense_units, use_bias=False, kernel_initializer=_glorot(seeds), name="dense")(nn)
    nn = layers.BatchNormalization(name="dense_bn")(nn)
    nn = layers.Activation("relu", name="dense_relu")(nn)
    nn = layers.Dropout(d_dense, seed=next(seeds), name="dense_drop")(nn)
    return layers.Dense(outputs, kernel_initializer=_glorot(seeds), name="output")(nn)


def residualbind(
    input_shape: tuple[int, int] = (41, 4),
    variant: str = "paper",
    *,
    num_filters: int = 96,
    dense_units: int = 256,
    dropout: tuple[float, float, float] = (0.1, 0.2, 0.5),
    pool_size: int = 10,
    seed: int | None = None,
    name: str | None = None,
    outputs: int = 1,
) -> keras.Model:
    """Build ResidualBind.

    Conv1D(``num_filters``, 11, no bias) -> BN -> ReLU -> dropout, a dilated
    residual module, mean-pool 10 -> dropout -> flatten -> Dense 256 (no bias) ->
    BN -> ReLU -> dropout -> Dense 1 (linear). Glorot-uniform initialisation.

    Parameters
    ----------
    input_shape
        ``(length, channels)``; channels 4 (sequence), 6 (+PU) or 9 (+PHIME).
    variant
        ``"paper"``: residual convs with dilations 1, 2, 4 (the paper's text).
        ``"public"``: dilations 1, 2, 4, 8 (the authors' public code).
    num_filters, dense_units
        Widths of the convolutions and of the hidden dense layer.
    dropout
        Rates after the convolutions, after pooling, and after the dense layer.
    pool_size
        Mean-pool window and stride.
    seed
        Seeds every initializer and dropout layer; ``None`` uses Keras' global RNG.
    name
        Model name; defaults to ``residualbind_<variant>``.
    outputs
        Linear outputs of the last layer: 1, or one per experiment of a multi-task trunk (:mod:`rbgia.multitask`).
        The layers before it, and their initial weights under ``seed``, do not depend on it.

    Returns
    -------
    keras.Model
        Maps ``(N, length, channels)`` to ``(N, outputs)``.
    """
    if variant not in _DILATIONS:
        raise ModelError(f"unknown ResidualBind variant {variant!r}; use one of {VARIANTS}")
    length, channels = _check_shape(input_shape)
    if isinstance(outputs, bool) or not isinstance(outputs, int) or outputs < 1:
        raise ModelError(f"outputs={outputs!r} is not a number of outputs; pass an int >= 1")
    if length < pool_size:
        raise ModelError(f"input length {length} is shorter than pool_size {pool_size}; pass a smaller pool_size")
    d_conv, d_pool, d_dense = dropout
    # One seed stream, drawn in layer order: the steps must run in this order for a seed to rebuild the same model.
    seeds = _seeds(seed)
    inputs = keras.Input(shape=(length, channels), name="x")
    nn = _conv_block(inputs, num_filters, d_conv, seeds)
    nn = _residual_module(nn, num_filters, _DILATIONS[variant], d_conv, seeds)
    head = _dense_head(nn, pool_size, dense_units, d_pool, d_dense, seeds, outputs)
    return keras.Model(inputs, head, name=name or f"residualbind_{variant}")


def deepbind_cnn(
    input_shape: tuple[int, int] = (41, 4),
    *,
    num_filters: int = 16,
    width: int = 16,
    hidden: int = 32,
    dropout: float = 0.5,
    seed: int | None = None,
    name: str = "deepbind_cnn",
) -> keras.Model:
    """A shallow DeepBind-like CNN: one convolution, global max and mean pooling,
    one hidden dense layer, a linear output (the "shallow CNN" of Fig 1a).

    Parameters
    ----------
    input_shape
        ``(length, channels)``; channels 4, 6 or 9.
    num_filters, width
        Number and width of the motif detectors.
    hidden
        Units of the hidden dense layer (0 to drop it).
    dropout
        Rate before the output layer.
    seed
        Seeds initializers and dropout; ``None`` uses Keras' global RNG.

    Returns
    -------
    keras.Model
        Maps ``(N, length, channels)`` to ``(N, 1)``.
    """
    length, channels = _check_shape(input_shape)
    seeds = _seeds(seed)
    inputs = keras.Input(shape=(length, channels), name="x")
    nn = layers.Conv1D(
        num_filters, width, padding="valid" if width <= length else "same", activation="relu",
        kernel_initializer=keras.initializers.GlorotUniform(seed=next(seeds)), name="conv",
    )(inputs)
    # DeepBind pools each detector's scan to its max (and, for some data, its mean).
    nn = layers.Concatenate(name="pool")(
        [layers.GlobalMaxPooling1D(name="max")(nn), layers.GlobalAveragePooling1D(name="avg")(nn)]
    )
    if hidden:
        nn = layers.Dense(
            hidden, activation="relu",
            kernel_initializer=keras.initializers.GlorotUniform(seed=next(seeds)), name="dense",
        )(nn)
    nn = layers.Dropout(dropout, seed=next(seeds), name="drop")(nn)
    outputs = layers.Dense(1, kernel_initializer=keras.initializers.GlorotUniform(seed=next(seeds)), name="output")(nn)
    return keras.Model(inputs, outputs, name=name)

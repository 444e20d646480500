"""Toy models shared by the tests: predictors whose answer to every GIA question is known by construction.

- :func:`pwm`: the additive position weight matrix model, ``f(x) = sum_l W[l, base_l]``
  (``W`` a fixed random ``(41, 4)`` matrix): every local importance is exact and additive.
- :func:`counter` (and :func:`hits`): the number of copies of a motif, additive per copy.
- :func:`motif_gc_interaction`: copies of a motif times ``1 + weight`` when a GC run sits at
  the 3' end: an interaction a GC-bias test must find (``weight=0``: none).
- :func:`keras_conv`: a small seeded Keras CNN (non-linear, with an optional dropout that must
  be off at inference), for the compiled paths.

Import them in a test module with ``from toy_models import pwm, counter`` (``tests/`` is on
``sys.path`` through its ``conftest.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

L = 41  # RNAcompete probe length
CODE = {c: i for i, c in enumerate("ACGU")}


def pwm_weights(seed: int = 0, length: int = L) -> np.ndarray:
    """The toy PWM ``(length, 4)``: standard normal weights under ``seed``."""
    return np.random.default_rng(seed).normal(size=(length, 4))


W = pwm_weights()


def pwm_of(weights: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """The additive model of ``weights`` ``(L, 4)``: ``x (N, L, A) -> (N,)``."""
    weights = np.asarray(weights, dtype=np.float64)

    def f(x: np.ndarray) -> np.ndarray:
        return np.einsum("nla,la->n", np.asarray(x)[:, : len(weights), :4], weights)

    return f


def pwm(x: np.ndarray) -> np.ndarray:
    """Additive model: sum over positions of ``W[pos, base]``."""
    return np.einsum("nla,la->n", np.asarray(x)[..., :4], W)


def base_codes(x: np.ndarray) -> np.ndarray:
    """``(N, L)`` base codes of one-hot ``x`` (0..3 = ACGU), -1 at padding / N."""
    x = np.asarray(x)[..., :4]
    return np.where(x.sum(-1) > 0, x.argmax(-1), -1)


def hits(x: np.ndarray, motif: str) -> np.ndarray:
    """``(N, windows)`` bool: an exact copy of ``motif`` starts at each window."""
    target = np.array([CODE[c] for c in motif])
    return (sliding_window_view(base_codes(x), len(target), axis=1) == target).all(-1)


def counter(motif: str) -> Callable[[np.ndarray], np.ndarray]:
    """Model = number of exact copies of ``motif`` (float64)."""

    def f(x: np.ndarray) -> np.ndarray:
        return hits(x, motif).sum(-1).astype(np.float64)

    return f


def motif_gc_interaction(motif: str = "UGCAUG", gc_motif: str = "GCGCGC", gc_start: int = 35,
                         weight: float = 1.0) -> Callable[[np.ndarray], np.ndarray]:
    """Copies of ``motif`` times ``1 + weight`` when ``gc_motif`` lies in the 3' window from ``gc_start``:
    a GC run that amplifies the motif by ``weight`` and has no effect alone."""
    count, gc = counter(motif), counter(gc_motif)

    def f(x: np.ndarray) -> np.ndarray:
        return count(x) * (1.0 + weight * (gc(np.asarray(x)[:, gc_start:]) > 0))

    return f


def keras_conv(seed: int = 0, *, filters: int = 8, width: int = 5, outputs: int = 1, pool: str = "max",
               dropout: float | None = None, length: int = L, channels: int = 4) -> Any:
    """A small seeded Keras CNN ``(N, length, channels) -> (N, outputs)``: one ReLU convolution, global
    ``pool`` ("max" or "average"), optional dropout (off at inference), a dense output."""
    import keras

    keras.utils.set_random_seed(seed)
    inp = keras.Input((length, channels))
    h = keras.layers.Conv1D(filters, width, activation="relu")(inp)
    pooled = keras.layers.GlobalMaxPooling1D() if pool == "max" else keras.layers.GlobalAveragePooling1D()
    h = pooled(h)
    if dropout:
        h = keras.layers.Dropout(dropout)(h)
    return keras.Model(inp, keras.layers.Dense(outputs)(h))


def tiny_residualbind(seed: int = 0, channels: int = 4, *, num_filters: int = 8, dense_units: int = 16) -> Any:
    """A small seeded ResidualBind ``(N, 41, channels) -> (N, 1)`` for training tests."""
    from rbgia.model import residualbind

    return residualbind((L, channels), num_filters=num_filters, dense_units=dense_units, seed=seed)

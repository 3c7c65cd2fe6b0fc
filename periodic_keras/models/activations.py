"""Small 1-D MLPs with ReLU, tanh or periodic activations, for the extrapolation study."""

from __future__ import annotations

import math

import keras

from periodic_keras.layers import FAN, FourierFeatures, Sine, Snake
from periodic_keras.signals import check_positive_int

__all__ = ["ACTIVATIONS", "activation_mlp"]

#: Hidden-layer choices of :func:`activation_mlp`.
ACTIVATIONS = ("relu", "tanh", "snake", "sine", "fourier", "fan")


def activation_mlp(activation: str, width: int = 64, depth: int = 3, seed: int = 0, snake_alpha: float = 5.0,
                   sine_omega0: float = 30.0, fourier_scale: float = 1.0):
    """A 1-input, 1-output MLP with ``depth`` hidden layers of ``width`` units.

    - ``relu`` / ``tanh``: ``Dense(width, activation)`` layers (Glorot init).
    - ``snake``: ``Dense(width)`` then :class:`~periodic_keras.layers.Snake` (learnable
      ``a``, initial ``snake_alpha``) in every hidden layer.
    - ``sine``: a SIREN, :class:`~periodic_keras.layers.Sine` layers with ``ω₀ =
      sine_omega0`` and the last linear layer initialised as in Sitzmann et al. (2020).
    - ``fourier``: :class:`~periodic_keras.layers.FourierFeatures` (``width // 2`` random
      frequencies, ``σ = fourier_scale`` cycles per unit input, frozen) and then ``depth``
      ReLU layers, as in Tancik et al. (2020).
    - ``fan``: a linear ``Dense(width)`` embedding and ``depth``
      :class:`~periodic_keras.layers.FAN` layers (``p_ratio`` 0.25, GELU), as in the FAN
      paper's periodicity experiments (Dong et al. 2024).

    Feed inputs scaled to about ``[-1, 1]``; the output is linear.

    >>> activation_mlp("snake", width=8, depth=2).output_shape
    (None, 1)
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}: expected one of {ACTIVATIONS}")
    check_positive_int(width=width, depth=depth)
    inputs = keras.Input(shape=(1,), name="x")
    h = inputs
    last = None  # the output layer's kernel initializer (default: Glorot)
    if activation in ("relu", "tanh"):
        for _ in range(depth):
            h = keras.layers.Dense(width, activation=activation)(h)
    elif activation == "snake":
        for _ in range(depth):
            h = Snake(snake_alpha)(keras.layers.Dense(width)(h))
    elif activation == "sine":
        for i in range(depth):
            h = Sine(width, omega0=sine_omega0, first=i == 0, seed=seed + 2 * i)(h)
        limit = math.sqrt(6.0 / width) / sine_omega0
        last = keras.initializers.RandomUniform(-limit, limit, seed=seed + 2 * depth)
    elif activation == "fan":
        h = keras.layers.Dense(width, name="embedding")(h)
        for _ in range(depth):
            h = FAN(width)(h)
    else:
        h = FourierFeatures(max(width // 2, 1), scale=fourier_scale, seed=seed)(h)
        for _ in range(depth):
            h = keras.layers.Dense(width, activation="relu")(h)
    outputs = keras.layers.Dense(1, kernel_initializer=last or "glorot_uniform", name="y")(h)
    return keras.Model(inputs, outputs, name=f"mlp_{activation}")

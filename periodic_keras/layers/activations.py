"""Periodic activations and features: Snake, SIREN sine layers, random Fourier features.

All three use ``keras.ops`` only (any backend), are registered for ``safe_mode=True``
loading, and convert to builtin-ops TFLite (SIN, COS, EXP, matmuls). Integer (or bool)
inputs are cast to the layer's compute dtype first, as ``Dense`` does.

- :class:`Snake` — ``x + sin²(a·x)/a`` with a learnable per-channel ``a > 0``
  (Ziyin, Hartwig & Ueda 2020).
- :class:`Sine` — a SIREN dense layer ``sin(ω₀·(x W + b))`` with the exact
  initialisation of Sitzmann et al. 2020.
- :class:`FourierFeatures` — ``[cos(2π x B), sin(2π x B)]`` with Gaussian ``B ~ N(0, σ²)``
  (Tancik et al. 2020) or given frequencies.
"""

from __future__ import annotations

import math

import numpy as np
import keras
from keras import ops

from periodic_keras.layers._ops import check_positive, check_units, float_inputs, last_dim

__all__ = ["FourierFeatures", "Sine", "Snake", "gelu_tanh"]

# Below this |a·x| Snake uses the series a·x²·(1 − (a·x)²/3), whose error there is < 1e-10.
_SNAKE_SERIES = 1e-2


@keras.saving.register_keras_serializable(package="periodic_keras")
def gelu_tanh(x):
    """GELU's tanh approximation written out in ``keras.ops``: TANH, MUL, ADD in TFLite.

    ``keras.activations.gelu`` lowers to TFLite's GELU op, which TFLite Micro lacks. This
    differs from the exact (erf) GELU by at most ~5e-4, so it can stand in for it in a
    model trained with ``"gelu"`` (see :func:`periodic_keras.models.micro_variant`).
    """
    return 0.5 * x * (1.0 + ops.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)))


@keras.saving.register_keras_serializable(package="periodic_keras")
class Snake(keras.layers.Layer):
    """Snake activation ``x + sin²(a·x) / a`` with a learnable ``a > 0`` per channel.

    ``a`` is stored as ``log a``, so gradient steps can never make it zero or negative
    (where Snake breaks: ``a = 0`` divides by zero and ``a < 0`` flips the periodic part).
    Where ``|a·x| < 1e-2`` the layer evaluates the series ``a·x²·(1 − (a·x)²/3)``
    instead, so values and gradients stay finite and exact as ``a → 0`` (Snake tends to
    the identity there). Larger ``a`` means higher frequency: the period in ``x`` is ``π / a``.

    Args:
        alpha: initial ``a`` (> 0), the same for every channel.
        trainable_alpha: ``False`` freezes ``a`` (a fixed-frequency activation).

    Input: any shape with a known last dimension (channels). Output: the same shape.

    Example:

    >>> import numpy as np
    >>> layer = Snake(alpha=2.0)
    >>> y = layer(np.array([[0.0, 1.0]], dtype="float32"))
    >>> keras.ops.convert_to_numpy(y).astype("float64").round(4).tolist()  # 1 + sin(2)**2 / 2
    [[0.0, 1.4134]]
    """

    def __init__(self, alpha=1.0, trainable_alpha=True, **kwargs):
        super().__init__(**kwargs)
        self.alpha_init = check_positive("Snake alpha", alpha)
        self.trainable_alpha = bool(trainable_alpha)

    def build(self, input_shape):
        channels = last_dim(self, input_shape)
        self.log_alpha = self.add_weight(
            name="log_alpha", shape=(channels,),
            initializer=keras.initializers.Constant(math.log(self.alpha_init)), trainable=self.trainable_alpha,
        )

    @property
    def alpha(self):
        """The per-channel ``a`` as a NumPy array."""
        return np.exp(keras.ops.convert_to_numpy(self.log_alpha))

    def call(self, inputs):
        inputs = float_inputs(self, inputs)
        a = ops.exp(ops.cast(self.log_alpha, inputs.dtype))
        u = a * inputs
        small = ops.abs(u) < _SNAKE_SERIES
        # Double-where: the branch not taken never sees a value that would make its gradient NaN.
        safe_u = ops.where(small, ops.ones_like(u), u)
        safe_a = ops.where(small, ops.ones_like(u), a * ops.ones_like(u))
        periodic = ops.square(ops.sin(safe_u)) / safe_a
        series = u * inputs * (1.0 - ops.square(u) / 3.0)
        return inputs + ops.where(small, series, periodic)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(alpha=self.alpha_init, trainable_alpha=self.trainable_alpha)
        return config


@keras.saving.register_keras_serializable(package="periodic_keras")
class Sine(keras.layers.Layer):
    """SIREN dense layer ``sin(ω₀ · (x W + b))`` with the initialisation that makes it train.

    Kernel ``W ~ U(±1/n)`` for the first layer of a network (``first=True``) and
    ``U(±√(6/n) / ω₀)`` for hidden layers, ``n`` = input features; bias
    ``U(±1/√n)``, as in Sitzmann et al. (2020). With this scaling the pre-activations
    of every layer stay ~``U(-1, 1)``·ω₀-distributed whatever the depth. Feed it inputs
    scaled to ``[-1, 1]`` (a SIREN extrapolates poorly outside the range it saw).
    End a SIREN with a linear ``Dense`` layer.

    Args:
        units: output features.
        omega0: frequency factor ω₀ (30 in the paper).
        first: ``True`` for the layer that sees the raw inputs.
        use_bias: add ``b``.
        seed: seed of the initialisers (reproducible weights).

    Example:

    >>> import numpy as np
    >>> inputs = keras.Input(shape=(1,))
    >>> h = Sine(32, first=True, seed=0)(inputs)
    >>> h = Sine(32, seed=1)(h)
    >>> model = keras.Model(inputs, keras.layers.Dense(1)(h))
    >>> model.predict(np.zeros((2, 1)), verbose=0).shape
    (2, 1)
    """

    def __init__(self, units, omega0=30.0, first=False, use_bias=True, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.units = check_units("Sine units", units)
        self.omega0 = check_positive("Sine omega0", omega0)
        self.first, self.use_bias = bool(first), bool(use_bias)
        self.seed = None if seed is None else int(seed)

    def kernel_limit(self, fan_in: int) -> float:
        """Half-width of the uniform kernel initialisation for ``fan_in`` inputs."""
        return 1.0 / fan_in if self.first else math.sqrt(6.0 / fan_in) / self.omega0

    def build(self, input_shape):
        fan_in = last_dim(self, input_shape)
        limit = self.kernel_limit(fan_in)
        self.kernel = self.add_weight(
            name="kernel", shape=(fan_in, self.units),
            initializer=keras.initializers.RandomUniform(-limit, limit, seed=self.seed),
        )
        self.bias = None
        if self.use_bias:
            bound = 1.0 / math.sqrt(fan_in)
            seed = None if self.seed is None else self.seed + 1
            self.bias = self.add_weight(
                name="bias", shape=(self.units,), initializer=keras.initializers.RandomUniform(-bound, bound, seed=seed),
            )

    def call(self, inputs):
        z = ops.matmul(float_inputs(self, inputs), self.kernel)
        if self.bias is not None:
            z = z + self.bias
        return ops.sin(self.omega0 * z)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, omega0=self.omega0, first=self.first, use_bias=self.use_bias, seed=self.seed)
        return config


@keras.saving.register_keras_serializable(package="periodic_keras")
class FourierFeatures(keras.layers.Layer):
    """Fourier features ``[cos(2π x B), sin(2π x B)]`` of the last axis of ``x``.

    ``B`` (shape ``[input features, num_features]``) is drawn from ``N(0, scale²)``
    (random Fourier features: ``scale`` sets the bandwidth — too small underfits, too
    large overfits with noisy interpolation), or given as ``frequencies`` (cycles per
    unit of ``x``; a 1-D list means one input feature). ``B`` is a weight, frozen unless
    ``trainable_frequencies=True``, and saved with the model.

    Args:
        num_features: columns of ``B`` (the output has ``2 * num_features``); ignored
            when ``frequencies`` is given.
        scale: standard deviation σ of the random frequencies.
        frequencies: fixed frequencies instead of random ones.
        trainable_frequencies: let gradient descent move ``B``.
        seed: seed of the random frequencies.

    Example:

    >>> import numpy as np
    >>> layer = FourierFeatures(frequencies=[1.0, 2.0])
    >>> y = layer(np.array([[0.25]], dtype="float32"))   # cos, cos, sin, sin
    >>> (keras.ops.convert_to_numpy(y).astype("float64").round(4) + 0.0).tolist()
    [[0.0, -1.0, 1.0, 0.0]]
    """

    def __init__(self, num_features=64, scale=1.0, frequencies=None, trainable_frequencies=False, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.scale = check_positive("FourierFeatures scale", scale)
        self.frequencies = None
        if frequencies is not None:
            b = np.asarray(frequencies, dtype="float64")
            b = b[None, :] if b.ndim == 1 else b
            if b.ndim != 2 or b.size == 0:
                raise ValueError(f"frequencies must be a non-empty 1-D or 2-D array, got shape {np.shape(frequencies)}")
            if not np.all(np.isfinite(b)):
                raise ValueError("frequencies contain NaN or inf")
            self.frequencies = b.tolist()
            num_features = b.shape[1]
        self.num_features = check_units("FourierFeatures num_features", num_features)
        self.trainable_frequencies = bool(trainable_frequencies)
        self.seed = None if seed is None else int(seed)

    def build(self, input_shape):
        dim = last_dim(self, input_shape)
        if self.frequencies is not None:
            given = np.asarray(self.frequencies)
            if given.shape[0] != dim:
                raise ValueError(f"frequencies have {given.shape[0]} rows but the input has {dim} features")
            initializer = keras.initializers.Constant(given)
        else:
            initializer = keras.initializers.RandomNormal(stddev=self.scale, seed=self.seed)
        self.kernel = self.add_weight(name="frequencies", shape=(dim, self.num_features), initializer=initializer,
                                      trainable=self.trainable_frequencies)

    def call(self, inputs):
        inputs = float_inputs(self, inputs)
        z = (2.0 * math.pi) * ops.matmul(inputs, ops.cast(self.kernel, inputs.dtype))
        return ops.concatenate([ops.cos(z), ops.sin(z)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 2 * self.num_features)

    def get_config(self):
        config = super().get_config()
        config.update(num_features=self.num_features, scale=self.scale, frequencies=self.frequencies,
                      trainable_frequencies=self.trainable_frequencies, seed=self.seed)
        return config

"""FAN: the Fourier Analysis Network layer (Dong et al. 2024, arXiv 2410.02675).

``keras.ops`` only, registered for ``safe_mode=True`` loading, builtin-ops TFLite (SIN, COS,
matmuls and the activation's ops).
"""

from __future__ import annotations

import keras
from keras import ops

from periodic_keras.layers._ops import check_positive, check_units, float_inputs, last_dim

__all__ = ["FAN"]


@keras.saving.register_keras_serializable(package="periodic_keras")
class FAN(keras.layers.Layer):
    """A FAN layer: ``[cos(x W_p + b_p) ‖ sin(x W_p + b_p) ‖ σ(x W_g + b_g)]``.

    ``p = int(units · p_ratio)`` periodic features appear twice (cosine and sine); the other
    ``units − 2p`` are an ordinary dense layer with activation ``σ``, so the output has
    ``units`` features. As in the authors' reference layer: ``p_ratio`` 0.25, ``σ`` GELU, a
    bias on the periodic part (``use_p_bias``). The paper's FAN network is a linear embedding,
    FAN layers, and a linear output layer (:func:`periodic_keras.models.activation_mlp`
    with ``"fan"``).

    Args:
        units: output features (with ``p_ratio``, at least one periodic and one dense feature).
        p_ratio: share of ``units`` in each of the cosine and sine parts, in ``(0, 0.5)``.
        activation: ``σ`` of the dense part (a Keras activation name or function).
        use_p_bias: add ``b_p`` inside the cosine and sine.
        kernel_initializer, bias_initializer: initialisers of both parts' weights (Keras
            names or objects).

    Example:

    >>> import numpy as np
    >>> layer = FAN(8)                       # 2 cosines, 2 sines, 4 GELU features
    >>> y = layer(np.zeros((3, 1), "float32"))
    >>> tuple(y.shape), layer.periodic_units
    ((3, 8), 2)
    >>> FAN.from_config(layer.get_config()).units
    8
    """

    def __init__(self, units, p_ratio=0.25, activation="gelu", use_p_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.units = check_units("FAN units", units)
        self.p_ratio = check_positive("FAN p_ratio", p_ratio)
        if not self.p_ratio < 0.5:
            raise ValueError(f"FAN p_ratio must lie in (0, 0.5), got {p_ratio}")
        self.periodic_units = int(self.units * self.p_ratio)
        if self.periodic_units < 1 or self.units - 2 * self.periodic_units < 1:
            raise ValueError(f"FAN units={self.units} with p_ratio={self.p_ratio:g} leaves "
                             f"{self.periodic_units} periodic and {self.units - 2 * self.periodic_units} dense "
                             "features; each needs at least one")
        self.activation = keras.activations.get(activation)
        self.use_p_bias = bool(use_p_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def build(self, input_shape):
        dim = last_dim(self, input_shape)
        p, g = self.periodic_units, self.units - 2 * self.periodic_units
        self.p_kernel = self.add_weight(name="p_kernel", shape=(dim, p), initializer=self.kernel_initializer)
        self.p_bias = (self.add_weight(name="p_bias", shape=(p,), initializer=self.bias_initializer)
                       if self.use_p_bias else None)
        self.g_kernel = self.add_weight(name="g_kernel", shape=(dim, g), initializer=self.kernel_initializer)
        self.g_bias = self.add_weight(name="g_bias", shape=(g,), initializer=self.bias_initializer)

    def call(self, inputs):
        x = float_inputs(self, inputs)
        phase = ops.matmul(x, self.p_kernel)
        if self.p_bias is not None:
            phase = phase + self.p_bias
        dense = self.activation(ops.matmul(x, self.g_kernel) + self.g_bias)
        return ops.concatenate([ops.cos(phase), ops.sin(phase), dense], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, p_ratio=self.p_ratio, activation=keras.activations.serialize(self.activation),
                      use_p_bias=self.use_p_bias,
                      kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
                      bias_initializer=keras.initializers.serialize(self.bias_initializer))
        return config

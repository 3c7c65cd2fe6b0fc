"""Small helpers the layers share: ``keras.ops`` pieces that convert to builtin-ops TFLite, and
argument checks. (Model builders reach :func:`class_index` through :mod:`periodic_keras.layers`.)"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops


def first_max_onehot(x):
    """One-hot of the largest entry on the last axis (ties: the first), in ``x.dtype``.

    Built from max/equal/cumsum rather than ``ops.argmax``, whose TensorFlow lowering
    adds a BitwiseAnd that TFLite's builtin ops lack.
    """
    is_max = ops.cast(ops.equal(x, ops.max(x, axis=-1, keepdims=True)), x.dtype)
    return is_max * ops.cast(ops.equal(ops.cumsum(is_max, axis=-1), 1.0), x.dtype)


#: How a layer evaluates a DFT: ``"matmul"``: one constant cos/sin basis ``[N, bins]`` (two
#: FULLY_CONNECTED ops); ``"factored"``: two stages ``N = P·Q`` with bases ``[Q, bins]`` and
#: ``[P, bins]`` (``(P + Q) / N`` of the constants, e.g. a fifth at N = 100). Both convert to
#: ops that TFLite Micro has, unlike ``ops.rfft`` (RFFT2D, REAL, IMAG).
DFT_MODES = ("matmul", "factored")


def _factor(n):
    """The divisor of ``n`` closest to ``sqrt(n)`` (1 for a prime ``n``)."""
    return max(d for d in range(1, math.isqrt(n) + 1) if n % d == 0)


def dft(x, cycles, mode="matmul"):
    """``(re, im)`` of ``X(c) = sum_n x[n] exp(-2 pi i c n / N)`` for each ``c`` in ``cycles``.

    ``x`` is ``(batch, N)`` (real), ``cycles`` a 1-D array of frequencies in cycles per window;
    returns two ``(batch, len(cycles))`` tensors. ``mode``: one of :data:`DFT_MODES`. Uses
    ``keras.ops`` only with constant bases computed in float64.
    """
    if mode not in DFT_MODES:
        raise ValueError(f"unknown dft mode {mode!r}: expected one of {DFT_MODES}")
    n = int(x.shape[-1])
    cycles = np.asarray(cycles, dtype="float64")
    if mode == "matmul":
        arg = 2.0 * np.pi * np.outer(np.arange(n), cycles) / n
        return ops.matmul(x, np.cos(arg).astype("float32")), ops.matmul(x, -np.sin(arg).astype("float32"))
    p = _factor(n)
    q = n // p  # sample n = q·a + b, a < p, b < q
    inner = 2.0 * np.pi * np.outer(np.arange(q), cycles) / n
    outer = 2.0 * np.pi * np.outer(np.arange(p) * q, cycles) / n
    rows = ops.reshape(x, (-1, p, q))
    ur = ops.matmul(rows, np.cos(inner).astype("float32"))  # (batch, p, bins): X of each row
    ui = ops.matmul(rows, -np.sin(inner).astype("float32"))
    ca, sa = np.cos(outer).astype("float32"), np.sin(outer).astype("float32")  # twiddles exp(-i·outer)
    return ops.sum(ur * ca + ui * sa, axis=1), ops.sum(ui * ca - ur * sa, axis=1)


def class_index(probabilities, dtype="int32"):
    """``argmax`` over the last axis as ``dtype``, converting to builtin-ops TFLite."""
    classes = probabilities.shape[-1]
    onehot = first_max_onehot(probabilities)
    return ops.cast(ops.sum(onehot * np.arange(classes, dtype="float32"), axis=-1), dtype)


def below_nyquist(frequencies, window):
    """1.0 where a frequency (cycles per window, any shape) lies below Nyquist with half a cycle
    to spare, else 0.0: which harmonics a fit of ``window`` samples uses (and counts)."""
    return ops.cast(frequencies < window / 2.0 - 0.5, "float32")


def check_positive(name, value):
    """``value`` as a float, refused unless a finite number > 0 (a layer argument)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value}")
    return float(value)


def check_units(name, value):
    """``value`` as an int, refused unless a positive integer (a layer width)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def float_inputs(layer, inputs):
    """``inputs`` cast to ``layer.compute_dtype`` unless already floating (integer or bool inputs).

    Keras autocasts only float inputs; integer ones would reach ``sin``/``exp`` or meet
    float weights in a matmul and fail.
    """
    return inputs if keras.backend.is_float_dtype(inputs.dtype) else ops.cast(inputs, layer.compute_dtype)


def last_dim(layer, input_shape):
    """The known last (feature) dimension of ``input_shape``, refused when unknown."""
    dim = input_shape[-1]
    if dim is None:
        raise ValueError(f"{type(layer).__name__} needs a known last (feature) dimension, got shape {input_shape}")
    return int(dim)

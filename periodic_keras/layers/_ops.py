"""Small ``keras.ops`` helpers the layers and model builders share."""

from __future__ import annotations

import numpy as np
from keras import ops


def first_max_onehot(x):
    """One-hot of the largest entry on the last axis (ties: the first), in ``x.dtype``.

    Built from max/equal/cumsum rather than ``ops.argmax``, whose TensorFlow lowering
    adds a BitwiseAnd that TFLite's builtin ops lack.
    """
    is_max = ops.cast(ops.equal(x, ops.max(x, axis=-1, keepdims=True)), x.dtype)
    return is_max * ops.cast(ops.equal(ops.cumsum(is_max, axis=-1), 1.0), x.dtype)


def class_index(probabilities, dtype="int32"):
    """``argmax`` over the last axis as ``dtype``, converting to builtin-ops TFLite."""
    classes = probabilities.shape[-1]
    onehot = first_max_onehot(probabilities)
    return ops.cast(ops.sum(onehot * np.arange(classes, dtype="float32"), axis=-1), dtype)

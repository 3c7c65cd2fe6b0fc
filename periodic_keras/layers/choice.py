"""Choices inside a model: the best candidate of a scored grid, and the better of two fits.

Both use ``keras.ops`` only and convert to builtin-ops TFLite (no ARG_MAX: the one-hot of the
maximum is built from comparisons).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from periodic_keras.layers._ops import check_positive, first_max_onehot

__all__ = ["CandidateChoice", "FitChoice", "TrustFlag"]


@keras.saving.register_keras_serializable(package="periodic_keras")
class CandidateChoice(keras.layers.Layer):
    """The best candidate of a grid: its frequency, sharpened by its neighbours, and its probability.

    Input: logits ``(batch, candidates)`` over the grid ``frequencies``. Outputs: ``(f, p)``, each
    ``(batch, 1)``: the probability-weighted mean frequency of the best candidate and its two
    neighbours, and the probability mass of those three.

    Example:

    >>> choice = CandidateChoice([1.0, 1.5, 2.0, 2.5])
    >>> f, p = choice(np.array([[0.0, 4.0, 4.0, 0.0]], "float32"))
    >>> round(float(keras.ops.convert_to_numpy(f)[0, 0]), 3)  # the best and its neighbours, weighted
    1.743
    """

    def __init__(self, frequencies, **kwargs):
        super().__init__(**kwargs)
        self.frequencies = [float(v) for v in np.asarray(frequencies, dtype="float64").reshape(-1)]
        if len(self.frequencies) < 2:
            raise ValueError(f"CandidateChoice needs at least two candidate frequencies, got {self.frequencies}")

    def call(self, logits):
        logits = ops.cast(logits, "float32")
        probs = ops.softmax(logits, axis=-1)
        best = first_max_onehot(logits)
        near = ops.minimum(best + ops.pad(best[:, 1:], [[0, 0], [0, 1]]) + ops.pad(best[:, :-1], [[0, 0], [1, 0]]),
                           1.0)
        mass = ops.sum(near * probs, axis=-1, keepdims=True)
        freqs = np.asarray(self.frequencies, "float32")
        f = ops.sum(near * probs * freqs, axis=-1, keepdims=True) / (mass + 1e-12)
        return f, mass

    def compute_output_shape(self, input_shape):
        return ((input_shape[0], 1),) * 2

    def get_config(self):
        return super().get_config() | {"frequencies": self.frequencies}



@keras.saving.register_keras_serializable(package="periodic_keras")
class FitChoice(keras.layers.Layer):
    """The better of two fits of a window: the second one where it leaves a noise-to-signal ratio
    below ``ratio`` times the first one's.

    The second fit has more freedom (a trend, say): on windows it does not need, its residual is
    only a little smaller; on windows it does (a wandering baseline), many times smaller.

    Inputs: ``[f_a, explained_a, f_b, explained_b]``, each ``(batch, 1)``, where ``explained`` is the
    fit's signal share ``S / (S + N)``. Outputs: ``(f, explained, second)``: the chosen frequency,
    its share, and 1.0 where the second fit was chosen. Or the two fits as columns, the outputs of
    a :class:`~periodic_keras.layers.HarmonicRefinement` with two ``degrees``: ``[f, snr_db,
    explained]``, each ``(batch, 2)``; then the outputs are ``(f, snr_db, explained, second)``, each
    ``(batch, 1)``.

    Example:

    >>> f, e, second = FitChoice(0.3)([np.array([[5.0]]), np.array([[0.5]]), np.array([[5.2]]), np.array([[0.9]])])
    >>> round(float(keras.ops.convert_to_numpy(f)[0, 0]), 3), float(keras.ops.convert_to_numpy(second)[0, 0])
    (5.2, 1.0)
    """

    def __init__(self, ratio=0.3, **kwargs):
        super().__init__(**kwargs)
        self.ratio = check_positive("ratio", ratio)

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) not in (3, 4):
            raise ValueError("FitChoice takes four inputs [f_a, explained_a, f_b, explained_b], or three "
                             "[f, snr_db, explained] of two columns each")
        inputs = [ops.cast(v, "float32") for v in inputs]
        if len(inputs) == 3:
            f, snr, e = inputs
            f_a, e_a, f_b, e_b = f[:, :1], e[:, :1], f[:, 1:], e[:, 1:]
        else:
            f_a, e_a, f_b, e_b = inputs
        nsr_a = (1.0 - e_a) / ops.maximum(e_a, 1e-9)
        nsr_b = (1.0 - e_b) / ops.maximum(e_b, 1e-9)
        second = ops.cast(nsr_b < self.ratio * nsr_a, "float32")
        f, e = f_a + second * (f_b - f_a), e_a + second * (e_b - e_a)
        if len(inputs) == 3:
            return f, snr[:, :1] + second * (snr[:, 1:] - snr[:, :1]), e, second
        return f, e, second

    def compute_output_shape(self, input_shape):
        column = (input_shape[0][0], 1)
        return (column,) * (4 if len(input_shape) == 3 else 3)

    def get_config(self):
        return super().get_config() | {"ratio": self.ratio}


@keras.saving.register_keras_serializable(package="periodic_keras")
class TrustFlag(keras.layers.Layer):
    """Whether to trust an answer, in the graph: 1.0 where the choice was confident and the fit that
    finished it stayed near it, else 0.0.

    Inputs: ``[f, start, confidence]``, each ``(batch, 1)``: the answer, the candidate it was refined
    from, and the candidate's probability. Output ``(batch, 1)``: 1.0 where ``confidence >=
    min_confidence`` and ``|f - start| <= max_move``. The thresholds are set on held-out windows
    (:func:`periodic_keras.jobs.fundamental.trust_thresholds`); the edge runtime reads the flag from the
    exported model instead of refitting the window.

    Example:

    >>> flag = TrustFlag(0.8, 0.3)([np.array([[5.0], [7.0]]), np.array([[5.1], [6.0]]), np.array([[0.9], [0.95]])])
    >>> keras.ops.convert_to_numpy(flag)[:, 0].tolist()
    [1.0, 0.0]
    """

    def __init__(self, min_confidence=0.5, max_move=0.3, **kwargs):
        super().__init__(**kwargs)
        self.min_confidence = float(min_confidence)
        if not 0.0 <= self.min_confidence <= 1.0 + 1e-5:
            raise ValueError(f"min_confidence must be a probability in [0, 1], got {min_confidence!r}")
        self.max_move = check_positive("max_move", max_move)

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 3:
            raise ValueError("TrustFlag takes three inputs [f, start, confidence]")
        f, start, confidence = (ops.cast(v, "float32") for v in inputs)
        near = ops.cast(ops.abs(f - start) <= self.max_move, "float32")
        return near * ops.cast(confidence >= self.min_confidence, "float32")

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        return super().get_config() | {"min_confidence": self.min_confidence, "max_move": self.max_move}

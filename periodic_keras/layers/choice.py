"""Choices inside a model: the best candidate of a scored grid, the better of two fits, a single
tone where it explains the window as well as the harmonic fit, and whether to trust the answer.

Both use ``keras.ops`` only and convert to builtin-ops TFLite (no ARG_MAX: the one-hot of the
maximum is built from comparisons).
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from periodic_keras.layers._ops import below_nyquist, check_positive, check_units, first_max_onehot

__all__ = ["ROBUST_NOISE_SCALE", "CandidateChoice", "FitChoice", "ToneCheck", "TrustFlag"]

#: A harmonic fit with one round of Cauchy weights (:class:`~periodic_keras.layers.HarmonicRefinement`
#: with ``robust=1``) reports this share of a Gaussian residual's mean square:
#: E[w r²] / E[w], w = 1 / (1 + (r / 3)²), r ~ N(0, 1) (computed, not tuned).
ROBUST_NOISE_SCALE = 0.848


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


@keras.saving.register_keras_serializable(package="periodic_keras")
class ToneCheck(keras.layers.Layer):
    """A single tone instead of the harmonic answer, where one tone explains the window as well.

    A harmonic fit at ``f`` with ``H`` harmonics below Nyquist has ``2H + 1`` parameters; a single
    tone at ``f_t`` has 3. Where the tone leaves almost as little residual, the window gives no
    evidence for the other harmonics, and the tone's maximum-likelihood frequency is both the
    simpler answer and the more precise one (the extra harmonics only fit noise). The evidence is
    the F statistic of the nested fits, from their residuals' shares ``r`` of the window's power::

        F = ((r_t - r_h) / (2H - 2)) / (r_h / (N - 2H - 2))

    ``r_t = 1 / (1 + 10^(snr_t / 10))`` from the tone fit's SNR; ``r_h`` from the harmonic fit's
    signal share ``e = S / (S + N)``, its noise ``N`` divided by ``noise_scale`` first: a fit with
    Cauchy weights (:class:`~periodic_keras.layers.HarmonicRefinement` with ``robust``) reports
    :data:`ROBUST_NOISE_SCALE` of a Gaussian residual's mean square (the default), a plain fit 1.0.

    The tone is taken where ``F < max_f`` and ``f_t`` is the answer (``|f_t - f| <
    same_tolerance``) or one of its multiples ``m f`` (``m`` in ``2 .. max_multiple``, within
    ``tolerance``): a network that halved a pure tone's frequency is corrected, a harmonic window
    (whose other harmonics make ``F`` large) keeps its fundamental. Only where ``offset_only`` is
    1.0 (a fit without a trend: the tone fit has none).

    Inputs: ``[f, explained, offset_only, f_tone, snr_tone_db]``, each ``(batch, 1)``. Outputs:
    ``(f, tone)``: the answer and 1.0 where the tone's was taken.

    Args:
        window: samples per window ``N``.
        harmonics: the harmonic fit's largest order (its harmonics below Nyquist are counted).
        max_f: the F statistic below which the tone is taken.
        max_multiple: the largest multiple of ``f`` the tone may be at.
        tolerance, same_tolerance: how near ``f_t`` must be to a multiple of ``f`` (``m >= 2``) or
            to ``f`` itself, cycles per window.
        noise_scale: the harmonic fit's reported noise over a plain fit's, on Gaussian noise.

    Example: a tone at 12.0 that a network answered as 6.0 (a harmonic fit there finds only the
    tone, as its second harmonic: ``F`` is small), and a window whose harmonics the fit needed.

    >>> check = ToneCheck(100, 8, noise_scale=1.0)
    >>> f, tone = check([np.array([[6.0], [6.0]]), np.array([[0.91], [0.99]]), np.array([[1.0], [1.0]]),
    ...                  np.array([[12.0], [12.0]]), np.array([[10.0], [0.0]])])
    >>> keras.ops.convert_to_numpy(f)[:, 0].tolist(), keras.ops.convert_to_numpy(tone)[:, 0].tolist()
    ([12.0, 6.0], [1.0, 0.0])
    """

    def __init__(self, window, harmonics=8, max_f=3.0, max_multiple=4, tolerance=0.6, same_tolerance=0.1,
                 noise_scale=ROBUST_NOISE_SCALE, **kwargs):
        super().__init__(**kwargs)
        self.window = check_units("window", window)
        self.harmonics = check_units("harmonics", harmonics)
        self.max_f = check_positive("max_f", max_f)
        self.max_multiple = check_units("max_multiple", max_multiple)
        self.tolerance = check_positive("tolerance", tolerance)
        self.same_tolerance = check_positive("same_tolerance", same_tolerance)
        self.noise_scale = check_positive("noise_scale", noise_scale)

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 5:
            raise ValueError("ToneCheck takes five inputs [f, explained, offset_only, f_tone, snr_tone_db]")
        f, e_h, offset_only, f_t, snr_t = (ops.cast(v, "float32") for v in inputs)
        n = float(self.window)
        orders = np.arange(1, self.harmonics + 1, dtype="float32")[None]
        below = ops.sum(below_nyquist(orders * f, n), axis=-1, keepdims=True)  # H, as the harmonic fit counts
        ratio = (1.0 - e_h) / ops.maximum(e_h, 1e-9) / self.noise_scale  # the harmonic fit's N / S
        r_h = ratio / (1.0 + ratio)
        r_t = 1.0 / (1.0 + ops.exp(snr_t * (math.log(10.0) / 10.0)))
        extra = ops.maximum(2.0 * below - 2.0, 1.0)
        statistic = ((r_t - r_h) / extra) / (ops.maximum(r_h, 1e-9) / (n - 2.0 * below - 2.0))
        multiple = ops.round(f_t / ops.maximum(f, 1e-6))
        off = ops.abs(f_t - multiple * f)
        itself = ops.cast(multiple < 1.5, "float32")  # products of 0/1 floats: no boolean tensors in the file
        related = (itself * ops.cast(off < self.same_tolerance, "float32")
                   + (1.0 - itself) * ops.cast(off < self.tolerance, "float32")
                   * ops.cast(multiple < self.max_multiple + 0.5, "float32"))
        tone = related * ops.cast(statistic < self.max_f, "float32") * ops.cast(offset_only > 0.5, "float32")
        return f + tone * (f_t - f), tone

    def compute_output_shape(self, input_shape):
        return ((input_shape[0][0], 1),) * 2

    def get_config(self):
        return super().get_config() | {"window": self.window, "harmonics": self.harmonics, "max_f": self.max_f,
                                       "max_multiple": self.max_multiple, "tolerance": self.tolerance,
                                       "same_tolerance": self.same_tolerance, "noise_scale": self.noise_scale}

"""Spectral features: an oversampled DFT over a band, as a sequence a recurrent layer sweeps.

The layer turns a window ``[batch, N, 1]`` into a sequence over frequency bins
``[batch, bins, 5]`` plus the frequency of the strongest bin (the *anchor*). A model
can then regress a small offset from the anchor instead of the absolute frequency,
which is what lets an LSTM reach interpolated-FFT precision. It uses ``keras.ops``
only (any backend) and converts to builtin-ops TFLite (matmuls, ARG_MAX, ONE_HOT
and elementwise ops).
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import keras
from keras import ops

from periodic_keras.layers._ops import DFT_MODES, dft, first_max_onehot, float_inputs

__all__ = ["SpectralFeatures"]


@keras.saving.register_keras_serializable(package="periodic_keras")
class SpectralFeatures(keras.layers.Layer):
    """Oversampled DFT of a window over ``[fmin, fmax]``, relative to its peak bin.

    Bins are spaced ``1 / oversample`` cycles per window and cover the band widened by
    ``margin`` cycles each side (clipped to ``(0, N/2)``). The peak bin ``p`` is the
    strongest bin inside the band widened by one bin. For each bin ``k`` the layer
    returns five phase- and amplitude-invariant features:

    - ``Re(X[k] / X[p])`` and ``Im(X[k] / X[p])`` (the ratios interpolated-FFT
      estimators such as Jacobsen's and Candan's are built on),
    - the power relative to the peak ``|X[k]|² / |X[p]|²`` and its log (floored at 1e-4),
    - the bin's distance from the peak in cycles per window, clipped to ``±clip``.

    With ``candidates`` > 0 it also returns the frequencies of the next strongest local
    maxima of the power inside the band (the peaks a refinement should also try when noise
    may have lifted a wrong peak above the tone's; a window with fewer local maxima repeats
    the peak).

    Args:
        window: samples per input window ``N``.
        fmin, fmax: frequency band in cycles per window.
        oversample: bins per DFT bin (zero-padding factor), at least 1.
        margin: cycles per window added each side of the band.
        clip: clip of the distance feature, in cycles per window.
        candidates: number of further local maxima to return (>= 0).
        dft: ``"matmul"`` (one constant basis) or ``"factored"`` (two-stage DFT with a fifth
            of the constants at N = 100; same result to float32 rounding), see
            :data:`periodic_keras.layers._ops.DFT_MODES`.

    Input shape: ``(batch, N)`` or ``(batch, N, 1)``; integer inputs are cast to the
    compute dtype.
    Output: ``(features, peak)`` of shapes ``(batch, bins, 5)`` and ``(batch, 1)``;
    ``peak`` is the peak bin's frequency in cycles per window. With ``candidates``:
    ``(features, peak, others)``, ``others`` of shape ``(batch, candidates)``, strongest first.

    Example:

    >>> import numpy as np
    >>> layer = SpectralFeatures(window=64, fmin=2.0, fmax=10.0, oversample=2)
    >>> x = np.sin(2 * np.pi * 5.2 * np.arange(64) / 64)[None, :, None].astype("float32")
    >>> features, peak = layer(x)
    >>> tuple(features.shape), float(keras.ops.convert_to_numpy(peak)[0, 0])
    ((1, 21, 5), 5.0)
    """

    def __init__(self, window, fmin, fmax, oversample=2, margin=1.0, clip=3.0, candidates=0, dft="matmul",
                 **kwargs):
        super().__init__(**kwargs)
        window = int(window)
        if window < 2:
            raise ValueError(f"window must be at least 2 samples, got {window}")
        if not 0 < fmin <= fmax < window / 2:
            raise ValueError(f"need 0 < fmin <= fmax < window/2, got fmin={fmin}, fmax={fmax}, window={window}")
        if int(oversample) < 1 or margin < 0 or clip <= 0:
            raise ValueError(f"need oversample >= 1, margin >= 0, clip > 0; got {oversample}, {margin}, {clip}")
        if isinstance(candidates, bool) or not isinstance(candidates, numbers.Integral) or candidates < 0:
            raise ValueError(f"candidates must be an integer >= 0, got {candidates!r}")
        if dft not in DFT_MODES:
            raise ValueError(f"dft must be one of {DFT_MODES}, got {dft!r}")
        self.candidates, self.dft = int(candidates), dft
        self.window, self.fmin, self.fmax = window, float(fmin), float(fmax)
        self.oversample, self.margin, self.clip = int(oversample), float(margin), float(clip)
        top = math.ceil(window / 2 * self.oversample) - 1
        lo = max(math.floor((self.fmin - self.margin) * self.oversample), 1)
        hi = min(math.ceil((self.fmax + self.margin) * self.oversample), top)
        self.frequencies = np.arange(lo, hi + 1) / self.oversample
        # The peak is searched within the band widened by one bin.
        inside = (self.frequencies >= self.fmin - 1 / self.oversample) & (
            self.frequencies <= self.fmax + 1 / self.oversample
        )
        self._search_start = int(np.argmax(inside))
        self._search_stop = int(len(inside) - np.argmax(inside[::-1]))
        band = (self.frequencies >= self.fmin) & (self.frequencies <= self.fmax)
        self._band = band.astype("float32")
        t = np.arange(window) / window
        arg = 2.0 * np.pi * np.outer(t, self.frequencies)
        self._cos = (np.cos(arg) / np.sqrt(window)).astype("float32")
        self._sin = (np.sin(arg) / np.sqrt(window)).astype("float32")
        self._freqs = self.frequencies.astype("float32")

    def build(self, input_shape):
        n = input_shape[1] if len(input_shape) in (2, 3) else None
        if len(input_shape) not in (2, 3) or (len(input_shape) == 3 and input_shape[2] not in (1, None)):
            raise ValueError(f"SpectralFeatures takes windows (batch, N) or (batch, N, 1), got shape {tuple(input_shape)}")
        if n is not None and n != self.window:
            raise ValueError(f"SpectralFeatures was built for windows of {self.window} samples, got {n} "
                             f"(input shape {tuple(input_shape)})")

    @property
    def bins(self) -> int:
        """Number of frequency bins in the output sequence."""
        return len(self.frequencies)

    def call(self, inputs):
        x = float_inputs(self, inputs[..., 0] if len(inputs.shape) == 3 else inputs)
        if self.dft == "matmul":
            re = ops.matmul(x, self._cos)
            im = ops.matmul(x, self._sin)
        else:  # same conjugated, 1/sqrt(N)-scaled spectrum as the bases above
            re, im = dft(x, self.frequencies, self.dft)
            re, im = re * (1.0 / math.sqrt(self.window)), im * (-1.0 / math.sqrt(self.window))
        power = re * re + im * im
        # One-hot of the strongest bin inside the search range, ties to the lowest bin.
        first = first_max_onehot(power[:, self._search_start : self._search_stop])
        onehot = ops.pad(first, [[0, 0], [self._search_start, self.bins - self._search_stop]])
        peak = ops.sum(onehot * self._freqs, axis=-1, keepdims=True)
        peak_re = ops.sum(onehot * re, axis=-1, keepdims=True)
        peak_im = ops.sum(onehot * im, axis=-1, keepdims=True)
        peak_power = peak_re * peak_re + peak_im * peak_im + 1e-12
        ratio_re = (re * peak_re + im * peak_im) / peak_power
        ratio_im = (im * peak_re - re * peak_im) / peak_power
        rel = power / peak_power
        distance = ops.clip(self._freqs - peak, -self.clip, self.clip)
        features = ops.stack([ratio_re, ratio_im, rel, ops.log(rel + 1e-4), distance], axis=-1)
        if not self.candidates:
            return features, peak
        return features, peak, self._other_peaks(rel, onehot, peak)

    def _other_peaks(self, rel, onehot, peak):
        """The next ``candidates`` local maxima of ``rel`` inside the band, strongest first."""
        left = ops.pad(rel[:, :-1], [[0, 0], [1, 0]], constant_values=-1.0)
        right = ops.pad(rel[:, 1:], [[0, 0], [0, 1]], constant_values=-1.0)
        local = ops.cast(ops.logical_and(rel >= left, rel > right), rel.dtype) * self._band * (1.0 - onehot)
        score = local * (rel + 1.0) - 1.0  # local maxima keep 0..1, the rest -1
        found = []
        for _ in range(self.candidates):
            pick = first_max_onehot(score)
            hit = ops.cast(ops.sum(pick * score, axis=-1, keepdims=True) >= 0.0, rel.dtype)
            found.append(hit * ops.sum(pick * self._freqs, axis=-1, keepdims=True) + (1.0 - hit) * peak)
            score = score - 2.0 * pick
        return ops.concatenate(found, axis=-1)

    def compute_output_shape(self, input_shape):
        shapes = (input_shape[0], self.bins, 5), (input_shape[0], 1)
        return shapes + ((input_shape[0], self.candidates),) if self.candidates else shapes

    def get_config(self):
        config = super().get_config()
        config.update(
            window=self.window, fmin=self.fmin, fmax=self.fmax,
            oversample=self.oversample, margin=self.margin, clip=self.clip, candidates=self.candidates,
            dft=self.dft,
        )
        return config

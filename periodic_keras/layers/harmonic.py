"""Harmonic-model layers: candidate fundamentals from the spectrum, and a Gauss–Newton fit of a
harmonic waveform.

A window of a periodic signal that is not a sine (a sawtooth, a pulse train, a note) holds the
fundamental ``f0`` and its harmonics ``k f0``; its strongest spectral peak may be any of them, and
the fundamental may be weak or missing. :class:`HarmonicFeatures` describes every candidate
fundamental on a grid by the power at its harmonics and between them (what tells ``f0`` from
``f0 / 2`` or ``2 f0``), for a network to score; :class:`HarmonicRefinement` then fits the harmonic
model ``offset (+ polynomial trend) + Σ_k a_k cos(2π k f t) + b_k sin(2π k f t)`` from the chosen
candidate by Gauss–Newton steps on ``f``, with robust per-sample weights. Both use ``keras.ops``
only and convert to builtin-ops TFLite (matmuls, GATHER, SIN/COS and elementwise ops) that
TensorFlow Lite for Microcontrollers also runs.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from periodic_keras.layers._ops import DFT_MODES, below_nyquist, check_positive, check_units, dft, float_inputs

__all__ = ["HarmonicFeatures", "HarmonicRefinement", "legendre_basis"]

_TINY = 1e-12
_LOG_FLOOR = 1e-4
_SUMMED = 16  # harmonics in the harmonic-summation feature


def legendre_basis(window: int, degree: int) -> np.ndarray:
    """Orthonormal polynomial columns ``[degree + 1, window]`` over the window (offset, line, ...).

    >>> b = legendre_basis(100, 2)
    >>> np.allclose(b @ b.T, np.eye(3))
    True
    """
    t = np.linspace(-1.0, 1.0, int(window))
    q, _ = np.linalg.qr(np.vander(t, int(degree) + 1, increasing=True))
    return q.T


def _check_window(layer, shape):
    if len(shape) not in (2, 3) or (len(shape) == 3 and shape[2] not in (1, None)):
        raise ValueError(f"{type(layer).__name__} takes windows (batch, N) or (batch, N, 1), got shape {tuple(shape)}")
    if shape[1] is not None and shape[1] != layer.window:
        raise ValueError(f"{type(layer).__name__} was built for windows of {layer.window} samples, got {shape[1]} "
                         f"(input shape {tuple(shape)})")


def _check_band(window, fmin, fmax):
    window = int(window)
    if window < 8:
        raise ValueError(f"window must be at least 8 samples, got {window}")
    if not 0 < fmin < fmax < window / 2:
        raise ValueError(f"need 0 < fmin < fmax < window/2, got fmin={fmin}, fmax={fmax}, window={window}")
    return window, float(fmin), float(fmax)


@keras.saving.register_keras_serializable(package="periodic_keras")
class HarmonicFeatures(keras.layers.Layer):
    """Features of every candidate fundamental on a grid over ``[fmin, fmax]``, from the spectrum.

    The window is standardised, a polynomial of degree ``trend`` is projected out (a slow
    baseline's leakage would otherwise swamp the low bins) and its Hann-windowed spectrum is taken
    on a grid of ``resolution`` cycles per window up to Nyquist (half-way points round to it). For each candidate ``f`` (the
    grid ``fmin, fmin + resolution, ..., fmax``) the layer returns, as log power relative to the
    window's total (floored at 1e-4):

    - the power at its first ``harmonics`` multiples ``k f`` (0 above Nyquist: the floor),
    - the power half-way between them, at ``(k - 1/2) f`` for ``k = 1 .. subharmonics`` (where a
      fundamental of ``f / 2`` has its odd harmonics),
    - the same at ``k f`` on the rectangular-window spectrum for ``k = 1 .. 4`` (sharper peaks,
      more leakage),
    - the share of the power at the first 16 harmonics of ``f`` below Nyquist (harmonic summation),
    - ``f`` itself scaled to ``[-1, 1]`` over the band, and ``f``'s number of harmonics below
      Nyquist over 50.

    Args:
        window: samples per window ``N``.
        fmin, fmax: the band of fundamentals, cycles per window (``0 < fmin < fmax < N/2``).
        resolution: grid step of the candidates, cycles per window.
        harmonics: number of harmonics described per candidate.
        subharmonics: number of half-way points described per candidate.
        trend: degree of the polynomial projected out before the spectrum (0: the mean only).
        dft: one of :data:`periodic_keras.layers._ops.DFT_MODES` (both convert to ops TFLM has).

    Input: windows ``(batch, N)`` or ``(batch, N, 1)``. Output: ``(batch, candidates, channels)``;
    :attr:`frequencies` holds the candidates' frequencies.

    Example:

    >>> x = np.sign(np.sin(2 * np.pi * 7.0 * np.arange(100) / 100))[None].astype("float32")
    >>> layer = HarmonicFeatures(100, 1.0, 30.0)
    >>> features = keras.ops.convert_to_numpy(layer(x))
    >>> features.shape
    (1, 117, 19)
    >>> float(layer.frequencies[np.argmax(features[0, :, 0])])  # the strongest first harmonic
    7.0
    """

    def __init__(self, window, fmin, fmax, resolution=0.25, harmonics=8, subharmonics=4, trend=2,
                 dft="factored", **kwargs):
        super().__init__(**kwargs)
        self.window, self.fmin, self.fmax = _check_band(window, fmin, fmax)
        self.resolution = check_positive("resolution", resolution)
        self.harmonics = check_units("harmonics", harmonics)
        self.subharmonics = check_units("subharmonics", subharmonics)
        if isinstance(trend, bool) or not isinstance(trend, (int, np.integer)) or not 0 <= trend <= 3:
            raise ValueError(f"trend must be a polynomial degree 0..3, got {trend!r}")
        self.trend = int(trend)
        if dft not in DFT_MODES:
            raise ValueError(f"dft must be one of {DFT_MODES}, got {dft!r}")
        self.dft = dft
        n = self.window
        count = int(math.floor((self.fmax - self.fmin) / self.resolution + 1e-9)) + 1
        self.frequencies = self.fmin + self.resolution * np.arange(count)
        step = self.resolution
        self._bins = np.arange(int(math.floor(n / 2 / step)) + 1) * step  # 0 .. Nyquist
        nyquist_bin = len(self._bins) - 1
        floor_bin = len(self._bins)  # one extra, always-empty bin: the floor
        self._nuisance = legendre_basis(n, self.trend).astype("float32")
        self._hann = (0.5 - 0.5 * np.cos(2 * np.pi * (np.arange(n) + 0.5) / n)).astype("float32")

        def index(multiples):
            f = np.outer(self.frequencies, multiples)
            i = np.rint(f / step).astype("int64")
            return np.where(f < n / 2 - 0.25, np.minimum(i, nyquist_bin), floor_bin).astype("int32")

        self._harm = index(np.arange(1, self.harmonics + 1))
        self._half = index(np.arange(1, self.subharmonics + 1) - 0.5)
        self._rect = index(np.arange(1, 5))
        every = index(np.arange(1, min(int(n / 2 / self.fmin), _SUMMED) + 1))
        self._every = every
        self._every_mask = (every != floor_bin).astype("float32")

    @property
    def channels(self) -> int:
        """Features per candidate."""
        return self.harmonics + self.subharmonics + 7

    def build(self, input_shape):
        _check_window(self, input_shape)

    def call(self, inputs):
        x = float_inputs(self, inputs[..., 0] if len(inputs.shape) == 3 else inputs)
        x = ops.cast(x, "float32")
        x = x - ops.matmul(ops.matmul(x, self._nuisance.T), self._nuisance)
        x = x / ops.sqrt(ops.mean(x * x, axis=-1, keepdims=True) + _TINY)
        batch = ops.shape(x)[0]
        both = ops.concatenate([x * self._hann, x], axis=0)
        re, im = dft(both, self._bins, self.dft)
        power = re * re + im * im
        power = power / (ops.sum(power, axis=-1, keepdims=True) + _TINY)
        power = ops.pad(power, [[0, 0], [0, 1]])  # the floor bin
        hann, rect = power[:batch], power[batch:]

        def logp(p, idx):
            return ops.log(ops.take(p, idx, axis=1) + _LOG_FLOOR)  # (batch, candidates, k)

        summed = ops.sum(ops.take(hann, self._every, axis=1), axis=-1)  # harmonic summation
        total = ops.sum(hann, axis=-1, keepdims=True)
        share = summed / (total + _TINY)
        freq = (2.0 * (self.frequencies - self.fmin) / (self.fmax - self.fmin) - 1.0).astype("float32")
        count = (self._every_mask.sum(axis=-1) / 50.0).astype("float32")
        fixed = ops.zeros_like(share[..., None]) + np.stack([freq, count], axis=-1)[None]
        return ops.concatenate([logp(hann, self._harm), logp(hann, self._half), logp(rect, self._rect),
                                share[..., None], fixed], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], len(self.frequencies), self.channels)

    def get_config(self):
        config = super().get_config()
        config.update(window=self.window, fmin=self.fmin, fmax=self.fmax, resolution=self.resolution,
                      harmonics=self.harmonics, subharmonics=self.subharmonics, trend=self.trend, dft=self.dft)
        return config


@keras.saving.register_keras_serializable(package="periodic_keras")
class HarmonicRefinement(keras.layers.Layer):
    """Gauss–Newton refinement of a fundamental on the harmonic model, with robust weights.

    Fits ``polynomial(degree trend) + Σ_{k ≤ K} a_k cos(2π k f t) + b_k sin(2π k f t)`` (harmonics
    below Nyquist only) to the window from the start ``f0`` and takes ``steps`` Gauss–Newton steps
    on ``f``. Each harmonic enters the frequency step with a gate
    ``g_k = z_k / (z_k + gate)``, where ``z_k`` is its power over the noise's per-harmonic
    level: harmonics the noise could have made (a pure tone's) do not move ``f``, so on a pure tone
    the step is the single-tone Gauss–Newton step of the maximum-likelihood estimator. With
    ``robust`` > 0 each sample is weighted ``1 / (1 + (r / (c s))²)`` (Cauchy, ``c = 3``) by its
    residual ``r`` over the residual's RMS ``s``, re-estimated ``robust`` times: isolated spikes
    lose their pull.

    Inputs: ``[window (batch, N[, 1]), f0 (batch, 1)]``. Outputs: ``(f, snr_db, explained)``, each
    ``(batch, 1)``: the refined fundamental (cycles per window, clamped to the band), the fit's SNR
    (the harmonics' power over the residual's, dB) and the harmonics' share ``S / (S + N)`` of the
    fitted power (the nuisance left out). With ``degrees`` (say ``(0, 2)``) the layer makes one
    fit per nuisance degree, all in one batched pass (one graph, not one per fit), and each output
    is ``(batch, len(degrees))``, a column per degree.

    The least-squares fit of the nuisance and harmonic columns is solved jointly (Jacobi-preconditioned
    conjugate gradients, ``iterations`` rounds), and each step's direction is projected out of the
    columns' span (variable projection), so harmonics close together at a low fundamental, and a
    trend, are fitted exactly rather than one by one.

    Args:
        window, fmin, fmax: window length and band of fundamentals (cycles per window).
        harmonics: largest harmonic order ``K`` fitted.
        steps: Gauss–Newton steps.
        trend: polynomial degree of the nuisance fitted with the harmonics (0: offset only).
        robust: re-weighting rounds (0: plain least squares).
        gate: per-harmonic detection level (in units of the noise's per-harmonic power).
        max_step: largest step per iteration, cycles per window.
        iterations: conjugate-gradient rounds of each least-squares solve (default: the number of
            columns, exact; 6 is as good at N = 100 with 8 harmonics).
        max_move: the answer stays within this many cycles per window of the start (``None``: the
            band only): a start a network chose is trusted to lie in the right basin.
        degrees: nuisance degrees of the fits (each ``0 .. trend``); ``None``: one fit, ``trend``.

    Example:

    >>> n = np.arange(100) / 100
    >>> x = sum(np.sin(2 * np.pi * k * 7.3 * n) / k for k in range(2, 6))[None].astype("float32")
    >>> f, snr, explained = HarmonicRefinement(100, 1.0, 30.0)([x, np.array([[7.2]], "float32")])
    >>> round(float(keras.ops.convert_to_numpy(f)[0, 0]), 3)  # the fundamental is missing
    7.3
    """

    def __init__(self, window, fmin, fmax, harmonics=8, steps=3, trend=0, robust=0, gate=12.0, max_step=0.5,
                 iterations=None, max_move=None, degrees=None, **kwargs):
        super().__init__(**kwargs)
        self.window, self.fmin, self.fmax = _check_band(window, fmin, fmax)
        self.harmonics = check_units("harmonics", harmonics)
        self.steps = check_units("steps", steps)
        if isinstance(trend, bool) or not isinstance(trend, (int, np.integer)) or not 0 <= trend <= 3:
            raise ValueError(f"trend must be a polynomial degree 0..3, got {trend!r}")
        if isinstance(robust, bool) or not isinstance(robust, (int, np.integer)) or robust < 0:
            raise ValueError(f"robust must be a number of re-weighting rounds >= 0, got {robust!r}")
        self.trend, self.robust = int(trend), int(robust)
        self.gate = check_positive("gate", gate)
        self.max_step = check_positive("max_step", max_step)
        n = self.window
        self._nuisance = legendre_basis(n, self.trend).astype("float32")
        self._t = ((np.arange(n) - (n - 1) / 2) / n).astype("float32")
        self._k = np.arange(1, self.harmonics + 1, dtype="float32")[:, None]  # (K, 1)
        size = self._nuisance.shape[0] + 2 * self.harmonics
        self._eye = np.eye(size, dtype="float32")
        self.iterations = size if iterations is None else check_units("iterations", iterations)
        self.max_move = None if max_move is None else check_positive("max_move", max_move)
        if degrees is not None:
            degrees = list(degrees) if isinstance(degrees, (list, tuple)) else [degrees]
            if not degrees or not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool)
                                      and 0 <= d <= self.trend for d in degrees):
                raise ValueError(f"degrees must be nuisance degrees 0..trend ({self.trend}), got {degrees!r}")
            degrees = [int(d) for d in degrees]
        self.degrees = degrees
        # which nuisance columns each fit uses: (fits, P0)
        self._mask = (np.arange(self.trend + 1)[None] <= np.array(degrees or [self.trend])[:, None]).astype("float32")

    def build(self, input_shape):
        _check_window(self, input_shape[0])

    def _solve(self, gram, diag, rhs):
        """``gram⁻¹ rhs`` by Jacobi-preconditioned conjugate gradients, ``iterations`` rounds
        (``gram`` ``(batch, P, P)``, ``rhs`` ``(batch, P, 1)``)."""
        coef = ops.zeros_like(rhs)
        r = rhs
        z = r / diag
        p = z
        rz = ops.sum(r * z, axis=1, keepdims=True)
        for _ in range(self.iterations):
            gp = ops.matmul(gram, p)
            alpha = rz / (ops.sum(p * gp, axis=1, keepdims=True) + _TINY)
            coef = coef + alpha * p
            r = r - alpha * gp
            z = r / diag
            rz_new = ops.sum(r * z, axis=1, keepdims=True)
            p = z + rz_new / (rz + _TINY) * p
            rz = rz_new
        return coef

    def call(self, inputs):
        x, f = inputs
        x = ops.cast(float_inputs(self, x), "float32")
        if len(x.shape) == 3:
            x = x[..., 0]
        f = ops.cast(f, "float32")
        x = x - ops.mean(x, axis=-1, keepdims=True)
        x = x / ops.sqrt(ops.mean(x * x, axis=-1, keepdims=True) + _TINY)
        n, harmonics = self.window, self.harmonics
        nuisance = self._nuisance.shape[0]
        t, k = self._t, self._k
        fits = len(self._mask)
        if fits > 1:  # one row per (fit, window): the fits run as one batch
            used = ops.reshape(ops.ones_like(x[None, :, :1]) * self._mask[:, None, :], (-1, nuisance, 1))
            x, f = ops.concatenate([x] * fits, axis=0), ops.concatenate([f] * fits, axis=0)
        x3 = x[:, None, :]  # (batch, 1, N)
        w = ops.ones_like(x3)
        f = ops.clip(f, self.fmin, self.fmax)[:, :, None]  # (batch, 1, 1)
        lo, hi = self.fmin, self.fmax
        if self.max_move is not None:  # stay within max_move of the start
            lo, hi = ops.maximum(f - self.max_move, self.fmin), ops.minimum(f + self.max_move, self.fmax)
        poly = ops.zeros_like(x3) + self._nuisance[None]  # (batch, P0, N)
        if self._mask.min() < 1:  # a fit of lower degree: its higher nuisance columns are zero
            used = used if fits > 1 else ops.zeros_like(poly[:, :, :1]) + self._mask[0][None, :, None]
            poly = poly * used
        else:
            used = ops.ones_like(poly[:, :, :1])
        for step in range(self.steps + 1):
            inside = below_nyquist(k * f, n)  # (batch, K, 1): the harmonics fitted
            phase = (2.0 * math.pi) * (k * f) * t  # (batch, K, N)
            cos, sin = ops.cos(phase) * inside, ops.sin(phase) * inside
            cols = ops.concatenate([poly, cos, sin], axis=1)  # (batch, P, N): nuisance and harmonics
            active = ops.concatenate([used, inside, inside], axis=1)  # (batch, P, 1)
            for _ in range(1 + (self.robust if step == 0 else 0)):
                weighted = cols * w
                gram = ops.matmul(weighted, ops.transpose(cols, (0, 2, 1)))  # (batch, P, P)
                total = ops.sum(w, axis=-1, keepdims=True)  # (batch, 1, 1)
                # Unused columns (above Nyquist, or a lower degree's) are zero: a unit diagonal keeps
                # the system regular.
                diag = ops.sum(weighted * cols, axis=-1, keepdims=True) + 1e-6 * total + (1.0 - active) * total
                gram = gram + (1e-6 * total + (1.0 - active) * total) * self._eye
                coef = self._solve(gram, diag, ops.matmul(weighted, ops.transpose(x3, (0, 2, 1))))
                residual = x3 - ops.sum(coef * cols, axis=1, keepdims=True)  # (batch, 1, N)
                if self.robust:  # Cauchy weights from the residual's weighted RMS
                    scale = ops.sqrt(ops.sum(w * residual * residual, axis=-1, keepdims=True) / total) + 1e-6
                    w = 1.0 / (1.0 + ops.square(residual / (3.0 * scale)))
            a, b = coef[:, nuisance:nuisance + harmonics], coef[:, nuisance + harmonics:]
            total = ops.sum(w, axis=-1, keepdims=True)
            noise = ops.sum(w * residual * residual, axis=-1, keepdims=True) / total + 1e-10
            power = (a * a + b * b) / 2.0  # (batch, K, 1)
            if step == self.steps:
                break
            z = power / (noise * (4.0 / n))  # a noise-only harmonic: z ~ 1
            # Continuation: the first steps move f by the low harmonics only, whose basins are wide
            # (harmonic k's is ~1/(2k) cycles wide); later steps use every harmonic.
            order = min(harmonics, 2 ** (step + 1))
            g = inside * z / (z + self.gate) * (self._k <= order)
            d = ops.sum(g * (2.0 * math.pi) * k * t * (b * cos - a * sin), axis=1, keepdims=True)  # (batch, 1, N)
            # The step direction without its part in the columns' span (variable projection).
            d = d - ops.sum(self._solve(gram, diag, ops.matmul(cols * w, ops.transpose(d, (0, 2, 1)))) * cols,
                            axis=1, keepdims=True)
            num = ops.sum(w * residual * d, axis=-1, keepdims=True)
            den = ops.sum(w * d * d, axis=-1, keepdims=True) + 1e-6 * n
            f = ops.minimum(ops.maximum(f + ops.clip(num / den, -self.max_step, self.max_step), lo), hi)
        signal = ops.sum(power, axis=1)  # (batch, 1)
        noise = noise[:, 0]
        snr = 10.0 / math.log(10.0) * ops.log(signal / noise + 1e-10)
        explained = 1.0 - noise / (noise + signal)
        out = f[:, :, 0], ops.minimum(snr, 100.0), explained
        if fits > 1:  # (fits * batch, 1) -> (batch, fits)
            out = tuple(ops.transpose(ops.reshape(v, (fits, -1))) for v in out)
        return out

    def compute_output_shape(self, input_shape):
        return ((input_shape[0][0], len(self._mask)),) * 3

    def get_config(self):
        config = super().get_config()
        config.update(window=self.window, fmin=self.fmin, fmax=self.fmax, harmonics=self.harmonics, steps=self.steps,
                      trend=self.trend, robust=self.robust, gate=self.gate, max_step=self.max_step,
                      iterations=self.iterations, max_move=self.max_move, degrees=self.degrees)
        return config

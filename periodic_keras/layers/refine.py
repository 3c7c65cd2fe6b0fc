"""Gauss–Newton refinement of a single-tone frequency estimate, as a Keras layer.

:class:`ToneRefinement` takes a window and a rough frequency (a learned model's
estimate, an FFT peak, an interpolated-FFT estimate) and polishes the frequency by a
few Gauss–Newton steps on the least-squares fit of ``c + a cos(2π f t) + b sin(2π f t)``.
The fixed point is the least-squares (maximum-likelihood) frequency, whose error
reaches the Cramér–Rao bound above the threshold SNR, so a coarse estimator followed
by this layer is as precise as the exact estimator. It uses ``keras.ops`` only (any
backend), unrolls a static number of steps, and converts to builtin-ops TFLite
(SIN, COS, MUL, ADD, SUB, SUM, MEAN, DIV, SQRT, ABS, MAX, MINIMUM/MAXIMUM).
"""

from __future__ import annotations

import math
import numbers

import keras
from keras import ops

from periodic_keras.layers._ops import first_max_onehot, float_inputs

__all__ = ["RefinementGate", "ToneRefinement"]

# Ridge added to the 2×2 Gram matrix and to the Gauss–Newton denominator, per sample of a
# window standardised to unit RMS (sums over the window are ~N/2 there): it only matters
# where the basis degenerates (f near 0 or N/2) or the window is silent.
_RIDGE = 1e-6
# Floors that keep a silent (constant) window finite: the output is then ``f0``.
_TINY = 1e-30
_TINY_MEAN_SQUARE = 1e-12


def _check_steps(steps):
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    return int(steps)


def _check_max_step(max_step):
    if isinstance(max_step, bool) or not isinstance(max_step, numbers.Real) or not (
        math.isfinite(max_step) and max_step > 0
    ):
        raise ValueError(f"max_step must be a finite number > 0 (cycles per window), got {max_step!r}")
    return float(max_step)


def _check_bound(name, value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be None or a finite number >= 0 (cycles per window), got {value!r}")
    return float(value)


@keras.saving.register_keras_serializable(package="periodic_keras")
class ToneRefinement(keras.layers.Layer):
    """Refine a single-tone frequency estimate by Gauss–Newton steps on the least-squares fit.

    The model is ``x[n] = c + a cos(2π f t_n) + b sin(2π f t_n)`` with centred time
    ``t_n = (n − (N−1)/2) / N`` (which decorrelates phase and frequency) and ``f`` in
    cycles per window. The layer removes the window's mean and divides by its RMS (after
    a max-abs prescale, so any amplitude from tiny to huge gives the same answer), then
    repeats ``steps`` times:

    1. ``a, b``: least squares of the window on the demeaned ``cos``/``sin`` columns
       ``c̃, s̃`` at the current ``f`` (closed-form 2×2 normal equations with a small ridge);
    2. residual ``r = x̃ − a c̃ − b s̃`` and the model's derivative
       ``d = 2π t (−a sin + b cos)``, demeaned and projected off ``c̃, s̃`` (Kaufman's
       variable-projection Jacobian: the projection makes the step quadratically
       convergent; without it the steps are too short and convergence is linear);
    3. ``f ← f + clip(Σ r d / Σ d², ±max_step)``.

    ``Σ r d`` is the exact gradient of the projected residual's energy, so the fixed point
    is the least-squares (maximum-likelihood) frequency whatever the start. With ``fmin``/
    ``fmax`` every start and step is clamped to the band, so each start ends at the best fit
    it can reach inside the band and the starts compete on in-band fits only (as a
    band-limited ML search does). Measured at N = 100, f in [1, 30], in
    float32: 3 steps reach the exact frequency to ~5e-6 cycles/window from starts within
    ±0.2 (±0.3 above 1.5 cycles/window; a start 0.3 below a tone under 1.5 needs 4 steps),
    4 steps to ~3e-6 from starts within ±0.5 (the float32 floor: about one ulp of f).
    Started from an interpolated-FFT (Candan) estimate, 2 steps already give the ML
    estimator's error: within 1 % of the Cramér–Rao bound at 10–30 dB, 3 % at 0 dB.

    Near convergence the output barely depends on ``f0`` (its gradient with respect to
    ``f0`` tends to 0 as the steps converge; it is 1 where a step is clipped), so a model
    trained end-to-end through this layer learns mainly to start inside the basin.

    Args:
        steps: number of Gauss–Newton steps (a static, unrolled loop), at least 1.
        max_step: largest change per step, in cycles per window (> 0).
        fmin, fmax: optional band the starts and steps are clamped to, in cycles per window
            (``0 <= fmin <= fmax``).
        return_snr: also return the fit's SNR in dB at the refined frequency,
            ``10 log10((a² + b²) / 2 / mean(r²))`` (capped at 100 dB): how well one tone at
            that frequency explains the window.

    Inputs: ``[window, f0]``: ``window`` of shape ``(batch, N)`` or ``(batch, N, 1)``
    (real samples, any offset and amplitude; integer inputs are cast), ``f0`` of shape
    ``(batch, starts)`` in cycles per window: with several starts (e.g. a model's estimate
    and the spectral peak) each is refined and the one whose fit explains the window best
    (highest SNR, i.e. likelihood) wins.
    Output: ``(batch, 1)``, the refined frequency in cycles per window (with ``return_snr``:
    ``[frequency, snr_db]``, both ``(batch, 1)``).

    Computes in float32 at least: under a ``float16``/``bfloat16`` global policy the layer
    defaults to ``dtype="float32"`` (float16 cannot hold a frequency to 1e-5).

    Example:

    >>> import numpy as np
    >>> n = np.arange(100)
    >>> x = (2.0 + 0.5 * np.sin(2 * np.pi * 12.3456 * n / 100 + 0.4))[None].astype("float32")
    >>> f = ToneRefinement()([x, np.array([[12.2]], dtype="float32")])
    >>> round(float(keras.ops.convert_to_numpy(f)[0, 0]), 4)
    12.3456
    """

    def __init__(self, steps=3, max_step=0.5, fmin=None, fmax=None, return_snr=False, **kwargs):
        if "dtype" not in kwargs and keras.config.dtype_policy().compute_dtype in ("float16", "bfloat16"):
            kwargs["dtype"] = "float32"
        super().__init__(**kwargs)
        self.steps = _check_steps(steps)
        self.max_step = _check_max_step(max_step)
        self.fmin, self.fmax = _check_bound("fmin", fmin), _check_bound("fmax", fmax)
        self.return_snr = bool(return_snr)
        if self.fmin is not None and self.fmax is not None and self.fmin > self.fmax:
            raise ValueError(f"fmin must be <= fmax, got fmin={self.fmin}, fmax={self.fmax}")

    def _check_shapes(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2 or not all(
            isinstance(s, (list, tuple)) for s in input_shape
        ):
            raise ValueError(f"ToneRefinement takes two inputs [window, f0], got input shape {input_shape}")
        window, f0 = (tuple(s) for s in input_shape)
        if len(window) not in (2, 3) or (len(window) == 3 and window[2] not in (1, None)):
            raise ValueError(f"ToneRefinement takes windows (batch, N) or (batch, N, 1), got shape {window}")
        if window[1] is not None and window[1] < 3:
            raise ValueError(f"ToneRefinement needs windows of at least 3 samples, got shape {window}")
        if len(f0) != 2:
            raise ValueError(f"ToneRefinement takes initial frequencies f0 of shape (batch, starts), got shape {f0}")
        if window[0] is not None and f0[0] is not None and window[0] != f0[0]:
            raise ValueError(f"ToneRefinement got {window[0]} windows but {f0[0]} initial frequencies "
                             f"(shapes {window} and {f0})")

    def build(self, input_shape):
        self._check_shapes(input_shape)

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError("ToneRefinement takes two inputs [window, f0]")
        x, f = inputs
        self._check_shapes([tuple(x.shape), tuple(f.shape)])
        out_dtype = self.compute_dtype
        work = "float64" if out_dtype == "float64" else "float32"
        x = ops.cast(float_inputs(self, x), work)
        f = ops.cast(float_inputs(self, f), work)
        if len(x.shape) == 3:
            x = x[..., 0]
        starts = f.shape[-1]

        # Standardise: demean, prescale by the peak (no over/underflow in the squares), unit RMS.
        x = x - ops.mean(x, axis=-1, keepdims=True)
        x = x / ops.maximum(ops.max(ops.abs(x), axis=-1, keepdims=True), _TINY)
        x = x / ops.sqrt(ops.mean(ops.square(x), axis=-1, keepdims=True) + _TINY_MEAN_SQUARE)
        n = x.shape[1] if x.shape[1] is not None else ops.shape(x)[1]
        size = ops.cast(n, work)
        t = (ops.arange(0, n, dtype=work) - (size - 1.0) / 2.0) / size  # centred time, in windows
        ridge = _RIDGE * size
        x, f = x[:, None, :], self._clamp(f[:, :, None])  # (batch, 1, N), (batch, starts, 1): all starts at once

        for step_index in range(self.steps + int(self.return_snr or starts != 1)):
            phase = (2.0 * math.pi) * f * t  # (batch, N)
            cos, sin = ops.cos(phase), ops.sin(phase)
            c = cos - ops.mean(cos, axis=-1, keepdims=True)
            s = sin - ops.mean(sin, axis=-1, keepdims=True)
            gcc = ops.sum(c * c, axis=-1, keepdims=True) + ridge
            gss = ops.sum(s * s, axis=-1, keepdims=True) + ridge
            gcs = ops.sum(c * s, axis=-1, keepdims=True)
            det = gcc * gss - gcs * gcs

            def solve(u, v):
                """``G⁻¹ [u, v]`` for the (ridged) Gram matrix ``G`` of ``c̃, s̃``."""
                return (gss * u - gcs * v) / det, (gcc * v - gcs * u) / det

            a, b = solve(ops.sum(x * c, axis=-1, keepdims=True), ops.sum(x * s, axis=-1, keepdims=True))
            residual = x - a * c - b * s
            if step_index == self.steps:  # the fit at the refined frequency: its SNR
                noise = ops.mean(residual * residual, axis=-1, keepdims=True) + 1e-10
                snr = ops.minimum(10.0 / math.log(10.0) * ops.log((a * a + b * b) / 2.0 / noise + 1e-10), 100.0)
                break
            d = (2.0 * math.pi) * t * (b * cos - a * sin)
            d = d - ops.mean(d, axis=-1, keepdims=True)
            pa, pb = solve(ops.sum(d * c, axis=-1, keepdims=True), ops.sum(d * s, axis=-1, keepdims=True))
            d = d - pa * c - pb * s
            step = ops.sum(residual * d, axis=-1, keepdims=True) / (ops.sum(d * d, axis=-1, keepdims=True) + ridge)
            f = self._clamp(f + ops.clip(step, -self.max_step, self.max_step))

        f = f[..., 0]
        if starts != 1:  # the best fit among the starts
            pick = first_max_onehot(snr[..., 0])
            f = ops.sum(pick * f, axis=-1, keepdims=True)
            snr = ops.sum(pick * snr[..., 0], axis=-1, keepdims=True)
        elif self.return_snr:
            snr = snr[..., 0]
        if self.return_snr:
            return ops.cast(f, out_dtype), ops.cast(snr, out_dtype)
        return ops.cast(f, out_dtype)

    def _clamp(self, f):
        if self.fmin is not None:
            f = ops.maximum(f, self.fmin)
        if self.fmax is not None:
            f = ops.minimum(f, self.fmax)
        return f

    def compute_output_shape(self, input_shape):
        self._check_shapes(input_shape)
        return ((input_shape[0][0], 1),) * 2 if self.return_snr else (input_shape[0][0], 1)

    def get_config(self):
        config = super().get_config()
        config.update(steps=self.steps, max_step=self.max_step, fmin=self.fmin, fmax=self.fmax,
                      return_snr=self.return_snr)
        return config


@keras.saving.register_keras_serializable(package="periodic_keras")
class RefinementGate(keras.layers.Layer):
    """Mix a coarse estimate with its refinement: ``coarse + g · (refined − coarse)``, straight-through.

    The difference ``refined − coarse`` passes no gradient, so the coarse estimator (an
    LSTM) is always trained as if it produced the output itself: it keeps learning to land
    inside the refinement's basin even where the gate ``g`` has opened fully (a plain mix
    would give it a gradient weighted by ``1 − g``, starving it once the gate opens). The
    gate itself learns from ``refined − coarse``: where the refinement helps, it opens.

    Inputs: ``[coarse, refined, gate]``, each ``(batch, 1)``; ``gate`` in ``[0, 1]``.
    Output: ``(batch, 1)``.

    Example:

    >>> import numpy as np
    >>> out = RefinementGate()([np.array([[10.0]]), np.array([[10.4]]), np.array([[0.5]])])
    >>> round(float(keras.ops.convert_to_numpy(out)[0, 0]), 3)
    10.2
    """

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 3:
            raise ValueError("RefinementGate takes three inputs [coarse, refined, gate]")
        coarse, refined, gate = (ops.cast(v, self.compute_dtype) for v in inputs)
        return coarse + gate * ops.stop_gradient(refined - coarse)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

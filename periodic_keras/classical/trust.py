"""Can a single-tone frequency estimate be trusted? Per-window quality figures and flags (NumPy only).

A frequency model answers for every window; :func:`tone_quality` says, from the window and
the answer alone, whether that answer deserves trust. It fits ``c + a cos + b sin`` at the
estimated frequency by least squares and reports:

- ``snr_db``: the estimated signal-to-noise ratio, ``(a² + b²) / 2`` over the residual's
  variance. A wrong answer explains little of the window, so it also shows as a low SNR.
- ``std``: the error standard deviation to expect at that SNR (the Cramér–Rao bound,
  :func:`periodic_keras.classical.crlb_frequency_std`), cycles per window.
- flags, each ``True`` where the window lies outside the conditions the model was trained on:

  - ``flat``: no variation the float32 model can see (constant, or a tone below float32
    resolution on a large offset);
  - ``scale``: amplitude outside ``scale_range`` (the model's float32 standardisation);
  - ``out_of_band``: the estimate lies outside ``[fmin, fmax]`` (by more than ``band_tolerance``);
  - ``trend``: a straight line explains more than ``max_trend_fraction`` of the variance;
  - ``multi_tone``: after removing the fitted tone, another tone or harmonic remains with more
    than ``max_second_tone`` of its amplitude;
  - ``low_snr``: ``snr_db`` below ``min_snr_db`` (the estimator's threshold: below it, noise
    peaks win and errors are no longer small);
  - ``off_peak``: the answer is not where the least-squares fit (tone, offset and line) peaks
    near it: farther than ``3 std`` and than ``peak_tolerance`` cycles per window from it
    (what a trend, an unseen waveform or a model error does to an answer).

``trusted`` is ``True`` where no flag is set. :mod:`periodic_keras.edge` exposes this for the
exported frequency model (``predict(x, return_quality=True)``), with the thresholds recorded
in ``metadata.json``.
"""

from __future__ import annotations

import numpy as np

from periodic_keras.classical.dsp import crlb_frequency_std

__all__ = ["FLAGS", "THRESHOLDS", "tone_quality"]

FLAGS = ("flat", "scale", "out_of_band", "trend", "multi_tone", "low_snr", "off_peak")
#: Default thresholds (recorded in an export's metadata; every one can be overridden).
THRESHOLDS = {"min_snr_db": -3.0, "max_trend_fraction": 0.1, "max_second_tone": 0.5, "band_tolerance": 0.05,
              "peak_tolerance": 0.02,
              "scale_range": [1e-12, 1e15]}


def _lstsq_fit(x, columns):
    """Least-squares fit of every window ``x [B, N]`` on its own ``columns [B, K, N]``; the fitted values."""
    gram = np.einsum("bkn,bjn->bkj", columns, columns)
    gram += 1e-12 * np.trace(gram, axis1=1, axis2=2)[:, None, None] * np.eye(gram.shape[-1])
    coef = np.linalg.solve(gram, np.einsum("bkn,bn->bk", columns, x)[..., None])[..., 0]
    return np.einsum("bk,bkn->bn", coef, columns), coef


def _columns(f, t):
    """Tone, offset and line columns ``[..., 4, N]`` at frequencies ``f [...]``."""
    arg = 2 * np.pi * f[..., None] * t
    ones = np.ones_like(arg)
    return np.stack([ones, np.cos(arg), np.sin(arg), ones * t], axis=-2)


def _fit_energy(z, f, t):
    """Energy of the least-squares fit of ``z [B, N]`` on :func:`_columns` at ``f [B, K]``: ``[B, K]``."""
    cols = _columns(f, t)
    gram = np.einsum("bkin,bkjn->bkij", cols, cols) + 1e-9 * len(t) * np.eye(4)
    rhs = np.einsum("bkin,bn->bki", cols, z)
    return np.einsum("bki,bki->bk", rhs, np.linalg.solve(gram, rhs[..., None])[..., 0])


def _local_peak(z, f, t, span=0.5, points=41):
    """Where the fit energy peaks within ``±span`` of each ``f`` (grid, then a parabola)."""
    offsets = np.linspace(-span, span, points)
    step = offsets[1] - offsets[0]
    out = np.empty(len(z))
    for start in range(0, len(z), 256):
        zb, fb = z[start:start + 256], f[start:start + 256]
        energy = _fit_energy(zb, fb[:, None] + offsets, t)
        i = np.clip(np.argmax(energy, axis=1), 1, points - 2)
        left, mid, right = (np.take_along_axis(energy, (i + d)[:, None], 1)[:, 0] for d in (-1, 0, 1))
        curve = left - 2 * mid + right
        shift = np.where(curve < 0, 0.5 * (left - right) / np.where(curve < 0, curve, -1.0), 0.0)
        out[start:start + len(zb)] = fb + offsets[i] + np.clip(shift, -1, 1) * step
    return out


def tone_quality(x, frequency, fmin: float, fmax: float, **thresholds) -> dict:
    """Quality figures and flags for frequency estimates ``frequency`` of windows ``x``.

    Args:
        x: windows ``[batch, N]`` (or ``[batch, N, 1]``, or one window ``[N]``).
        frequency: the estimates, cycles per window, one per window.
        fmin, fmax: the band the model was trained on, cycles per window.
        thresholds: overrides of :data:`THRESHOLDS`.

    Returns:
        dict of arrays, one entry per window: ``trusted`` (bool), ``snr_db``, ``std``
        (cycles/window) and each flag of :data:`FLAGS` (bool).

    Example:

    >>> n = np.arange(100)
    >>> x = np.stack([np.sin(2 * np.pi * 12.3 * n / 100), np.full(100, 5.0),
    ...               np.sin(2 * np.pi * 12.3 * n / 100) + 0.08 * n])
    >>> q = tone_quality(x, [12.3, 7.0, 12.3], fmin=1, fmax=30)
    >>> q["trusted"].tolist(), q["flat"].tolist(), q["trend"].tolist()
    ([True, False, False], [False, True, False], [False, False, True])
    """
    unknown = sorted(set(thresholds) - set(THRESHOLDS))
    if unknown:
        raise ValueError(f"unknown threshold(s) {unknown}: expected some of {sorted(THRESHOLDS)}")
    limits = {**THRESHOLDS, **thresholds}
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 3 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim == 1:
        x = x[None]
    f = np.asarray(frequency, dtype=np.float64).reshape(-1)
    if x.ndim != 2 or len(f) != len(x):
        raise ValueError(f"need windows [batch, N] and one frequency per window, got shapes {x.shape} and {f.shape}")
    if not (np.isfinite(x).all() and np.isfinite(f).all()):
        raise ValueError("windows and frequencies must be finite")
    n = x.shape[1]
    offset = x.mean(axis=1, keepdims=True)
    centred = x - offset
    peak = np.abs(centred).max(axis=1)
    lo, hi = limits["scale_range"]
    flat = (peak == 0) | (peak <= 1e-6 * np.abs(offset[:, 0]))
    scale = ~flat & ((peak < lo) | (peak > hi))
    z = centred / np.where(peak > 0, peak, 1.0)[:, None]  # unit scale: no overflow below
    t = (np.arange(n) - (n - 1) / 2) / n
    fitted, coef = _lstsq_fit(z, _columns(f, t))
    residual = z - fitted
    total = np.sum(z * z, axis=1)
    noise = np.maximum(np.mean(residual**2, axis=1), np.maximum(1e-30 * total, 1e-300))
    amplitude = np.hypot(coef[:, 1], coef[:, 2])
    snr_db = 10 * np.log10(np.maximum(amplitude**2 / 2, 1e-300) / noise)
    trend = np.sum((coef[:, 3, None] * (t - t.mean())) ** 2, axis=1) > limits["max_trend_fraction"] * np.maximum(
        total, 1e-300)
    # Another tone or a harmonic: the residual's strongest DFT bin against the fitted amplitude.
    second = 2 * np.abs(np.fft.rfft(residual, axis=1)[:, 1:]).max(axis=1) / n
    multi = ~flat & (second > limits["max_second_tone"] * amplitude)
    tol = limits["band_tolerance"]
    out = {
        "flat": flat, "scale": scale,
        "out_of_band": (f < fmin - tol) | (f > fmax + tol),
        "trend": ~flat & trend, "multi_tone": multi,
        "low_snr": ~flat & (snr_db < limits["min_snr_db"]),
    }
    std = crlb_frequency_std(np.minimum(snr_db, 300.0), n)
    off = np.abs(_local_peak(z, f, t) - f)
    out["off_peak"] = ~flat & (off > np.maximum(3 * std, limits["peak_tolerance"]))
    out["trusted"] = ~np.any([out[k] for k in FLAGS], axis=0)
    out["snr_db"] = np.where(flat, -np.inf, snr_db)
    out["std"] = np.where(flat, np.inf, std)
    return out

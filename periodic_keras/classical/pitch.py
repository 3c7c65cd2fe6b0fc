"""YIN fundamental-frequency estimator (de Cheveigné & Kawahara 2002), in pure NumPy.

A baseline for :func:`periodic_keras.classical.harmonic_frequency`: it needs no model of the
waveform, but its period resolution is one lag (interpolated), coarse at high fundamentals
(a period of 3.4 samples at 29.7 cycles per window of 100), and a window holds only a few
periods at low ones.
"""

from __future__ import annotations

import numbers

import numpy as np

from periodic_keras.classical.dsp import as_windows, check_search_range

__all__ = ["yin_frequency"]

_MIN_OVERLAP = 3  # samples two copies of the window must share at the longest lag


def yin_frequency(x, fmin=None, fmax=None, threshold=0.1):
    """Fundamental frequency of each window by YIN, in cycles per window (vectorised).

    The steps of de Cheveigné & Kawahara, "YIN, a fundamental frequency estimator for speech
    and music", J. Acoust. Soc. Am. 111(4), 2002: the difference function
    ``d(tau) = sum_n (x[n] - x[n + tau])**2``; its cumulative-mean-normalised form
    ``d'(tau) = d(tau) / ((1/tau) sum_{j<=tau} d(j))``; the first lag in the search range
    where ``d'`` dips below ``threshold``, followed down to its local minimum (the global
    minimum of ``d'`` if it never dips that low, as in the paper); parabolic interpolation of
    ``d`` around that lag. One window is one analysis frame, so ``d(tau)`` sums over the
    ``N - tau`` samples both copies share, divided by that count (a mean square: long lags
    are not favoured for having fewer terms).

    Args:
        x: real windows, shape ``[..., N]``.
        fmin, fmax: search range in cycles per window inside ``(0, N/2)`` (default: periods of
            2 samples up to ``N - 3`` samples; ``fmin`` below ``N / (N - 3)`` is clipped there).
        threshold: YIN's absolute threshold on ``d'``, in ``(0, 1]``.

    Returns:
        float64 array of shape ``x.shape[:-1]``: fundamentals in cycles per window.

    Example:

    >>> n = np.arange(100)
    >>> saw = sum(np.sin(2 * np.pi * k * 7.3 * n / 100) / k for k in range(1, 6))
    >>> round(float(yin_frequency(saw)), 1)
    7.3
    """
    x = as_windows(x)
    window = x.shape[-1]
    check_search_range(fmin, fmax, window)
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) or not 0 < threshold <= 1:
        raise ValueError(f"threshold must be a number in (0, 1], got {threshold!r}")
    longest = window - _MIN_OVERLAP
    lag_lo = 2 if fmax is None else int(np.clip(np.floor(window / fmax), 2, longest))
    lag_hi = longest if fmin is None else int(np.clip(np.ceil(window / fmin), lag_lo, longest))
    shape = x.shape[:-1]
    flat = x.reshape(-1, window)
    flat = flat - flat.mean(-1, keepdims=True)
    lags = np.arange(lag_hi + 2)  # one more lag for the parabola
    m = 1 << int(np.ceil(np.log2(2 * window)))
    spectrum = np.fft.rfft(flat, n=m, axis=-1)
    acf = np.fft.irfft(np.abs(spectrum) ** 2, n=m, axis=-1)[:, lags]  # sum_n x[n] x[n + tau]
    energy = np.concatenate([np.zeros((len(flat), 1)), np.cumsum(flat * flat, -1)], -1)
    head = energy[:, window - lags]  # sum_{n < N - tau} x[n]^2
    tail = energy[:, -1:] - energy[:, lags]  # sum_{n >= tau} x[n]^2
    d = np.maximum(head + tail - 2.0 * acf, 0.0) / (window - lags)
    running = np.cumsum(d[:, 1:], -1) / lags[1:]
    dprime = np.ones_like(d)
    dprime[:, 1:] = np.where(running > 0, d[:, 1:] / np.where(running > 0, running, 1.0), 1.0)
    search = dprime[:, lag_lo:lag_hi + 1]
    below = search < threshold
    first = np.argmax(below, -1)
    # follow the dip from the first lag under the threshold down to its local minimum
    rising = np.concatenate([search[:, 1:] >= search[:, :-1], np.ones((len(flat), 1), bool)], -1)
    after = rising & (np.arange(search.shape[-1]) >= first[:, None])
    dip = np.argmax(after, -1)
    tau = lag_lo + np.where(below.any(-1), dip, np.argmin(search, -1))
    rows = np.arange(len(flat))
    left, mid, right = d[rows, tau - 1], d[rows, tau], d[rows, tau + 1]
    curve = left - 2.0 * mid + right
    shift = np.where(curve > 0, 0.5 * (left - right) / np.where(curve > 0, curve, 1.0), 0.0)
    period = tau + np.clip(shift, -1.0, 1.0)
    return (window / period).reshape(shape)

"""Classical frequency estimators for real sine windows, in pure NumPy.

These are the baselines the learned models are compared against (and, for
forecasting, :func:`seasonal_naive`). Conventions follow
:mod:`periodic_keras.signals`: a window ``x[n] = A sin(2 pi f n / N + phi) + w[n]`` of
``N`` samples, ``f`` in cycles per window, ``SNR = A**2 / (2 sigma**2)``.

Every estimator works on the last axis of ``x`` (shape ``[..., N]``), computes in
float64, and returns arrays of shape ``x.shape[:-1]``. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import numbers

import numpy as np

from periodic_keras.signals import MIN_WINDOW, check_positive_int

__all__ = ["as_windows", "check_search_range", "periodogram", "candan_frequency", "ml_frequency", "mmse_frequency",
           "crlb_frequency_var", "crlb_frequency_std", "seasonal_naive"]


def as_windows(x) -> np.ndarray:
    """Validate ``x`` (real numbers, at least 1-D, N >= MIN_WINDOW, finite); return float64.

    The input check every estimator here shares (windows on the last axis).

    >>> as_windows([[1, 2, 3, 4, 5, 6, 7, 8]]).dtype
    dtype('float64')
    """
    x = np.asarray(x)
    if not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
        raise TypeError(f"x must hold real numbers, got dtype {x.dtype}")
    if x.ndim < 1:
        raise ValueError("x must be at least 1-D with windows on the last axis, got a scalar")
    if x.shape[-1] < MIN_WINDOW:
        raise ValueError(f"window too short: x has {x.shape[-1]} samples on its last axis, "
                         f"at least {MIN_WINDOW} are needed")
    x = x.astype(np.float64, copy=False)
    if not np.all(np.isfinite(x)):
        raise ValueError("x contains NaN or inf values")
    return x


_as_windows = as_windows


def _dft_length(nfft, window: int) -> int:
    """``nfft`` (``None`` means ``window``) checked to be an integer ``>= window``."""
    if nfft is None:
        return window
    if isinstance(nfft, bool) or not isinstance(nfft, numbers.Integral):
        raise ValueError(f"nfft must be an integer number of DFT points, got {nfft!r}")
    if nfft < window:
        raise ValueError(f"nfft={nfft} is shorter than the window ({window} samples); "
                         "zero padding needs nfft >= window")
    return int(nfft)


def periodogram(x, nfft=None):
    """Periodogram of each window: ``|DFT|**2 / N`` on the non-negative frequencies.

    Args:
        x: real windows, shape ``[..., N]``.
        nfft: DFT length ``M >= N`` (zero padding); defaults to ``N``.

    Returns:
        ``(freqs, power)``: ``freqs`` of shape ``[M // 2 + 1]`` in cycles per window
        (``k * N / M``) and ``power`` of shape ``[..., M // 2 + 1]``, both float64.

    Example:

    >>> n = np.arange(16)
    >>> freqs, power = periodogram(np.sin(2 * np.pi * 3 * n / 16), nfft=32)
    >>> freqs[:4]
    array([0. , 0.5, 1. , 1.5])
    >>> float(freqs[np.argmax(power)])
    3.0
    """
    x = _as_windows(x)
    window = x.shape[-1]
    m = _dft_length(nfft, window)
    spectrum = np.fft.rfft(x, n=m, axis=-1)
    freqs = np.arange(m // 2 + 1) * (window / m)
    return freqs, np.abs(spectrum) ** 2 / window


def check_search_range(fmin, fmax, window: int) -> None:
    """Raise ``ValueError`` unless ``fmin``/``fmax`` (``None`` or finite numbers) lie in
    ``(0, window/2)`` with ``fmin <= fmax``: the search range every estimator here shares.

    >>> check_search_range(1, 30, 100)
    >>> check_search_range(30, 1, 100)
    Traceback (most recent call last):
    ...
    ValueError: fmin=30 is above fmax=1
    """
    for name, value in (("fmin", fmin), ("fmax", fmax)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
        if not 0 < value < window / 2:
            raise ValueError(f"{name}={value} cycles/window is outside (0, window/2) = "
                             f"(0, {window / 2}) for window={window}")
    if fmin is not None and fmax is not None and fmin > fmax:
        raise ValueError(f"fmin={fmin} is above fmax={fmax}")


_check_search_range = check_search_range


def _jacobsen_gain(window: int, m: int) -> float:
    """Candan's bias correction: 1 / slope at 0 of Jacobsen's ratio for a noiseless
    complex tone at ``k + delta`` bins (rectangular window of ``window`` samples
    zero-padded to ``m``); ``tan(pi/N) / (pi/N)`` when ``m == window``."""
    n = np.arange(window)
    phase = np.exp(-2j * np.pi * np.outer([-1, 0, 1], n) / m)  # bins k-1, k, k+1 at delta=0
    x, dx = phase.sum(axis=1), (phase * (2j * np.pi * n / m)).sum(axis=1)  # X_i, dX_i/d(delta)
    num, den = x[0] - x[2], 2 * x[1] - x[0] - x[2]
    dnum, dden = dx[0] - dx[2], 2 * dx[1] - dx[0] - dx[2]
    return 1.0 / float(np.real((dnum * den - num * dden) / den**2))


def candan_frequency(x, fmin=None, fmax=None, nfft=None):
    """Frequency of each window by Candan's interpolated FFT (three DFT bins).

    Finds the periodogram peak ``k`` (DC excluded), then refines it with Jacobsen's
    estimator ``d = Re[(X[k-1] - X[k+1]) / (2 X[k] - X[k-1] - X[k+1])]`` and Candan's
    (2011) bias correction ``delta = tan(pi/N) / (pi/N) * d``. The estimate is
    ``(k + delta) * N / M`` cycles per window for a DFT of length ``M``. Its residual
    bias, largest at low frequencies, comes from the real tone's negative-frequency
    image. With zero padding (``M > N``) ``tan(pi/M) / (pi/M)`` would be wrong (the
    ratio's slope is ~0.40 at ``M = 2N``, not ~1), so the factor used is Candan's
    (2015) general one: the inverse slope of the noiseless ratio at ``delta = 0``,
    equal to ``tan(pi/N) / (pi/N)`` when ``M = N``. Padding helps little here: the
    image bias grows (noiseless MAE ~0.01 vs ~0.002 cycles/window at N=100, M=2N).

    Args:
        x: real windows, shape ``[..., N]``.
        fmin, fmax: optional search range in cycles per window, inside ``(0, N/2)``.
            The peak is searched on bins in ``[fmin, fmax]`` widened by one bin on
            each side, clipped to ``1 .. M//2 - 1``.
        nfft: DFT length ``M >= N`` (zero padding); defaults to ``N``.

    Returns:
        float64 array of shape ``x.shape[:-1]`` (a float64 scalar for one window):
        frequencies in cycles per window.

    Example:

    >>> n = np.arange(100)
    >>> f = candan_frequency(np.sin(2 * np.pi * 12.3 * n / 100 + 0.4))
    >>> round(float(f), 2)
    12.3
    """
    x = _as_windows(x)
    window = x.shape[-1]
    m = _dft_length(nfft, window)
    _check_search_range(fmin, fmax, window)
    spectrum = np.fft.rfft(x, n=m, axis=-1)
    lo, hi = 1, m // 2 - 1
    if fmin is not None:
        lo = max(lo, int(np.floor(fmin * m / window)) - 1)
    if fmax is not None:
        hi = min(hi, int(np.ceil(fmax * m / window)) + 1)
    lo = min(lo, hi)  # a range squeezed against Nyquist still keeps one bin
    k = lo + np.argmax(np.abs(spectrum[..., lo:hi + 1]), axis=-1)[..., None]
    left = np.take_along_axis(spectrum, k - 1, axis=-1)[..., 0]
    peak = np.take_along_axis(spectrum, k, axis=-1)[..., 0]
    right = np.take_along_axis(spectrum, k + 1, axis=-1)[..., 0]
    num, den = left - right, 2.0 * peak - left - right
    safe = den != 0  # zero only in degenerate cases such as a silent window
    jacobsen = np.real(np.divide(num, den, out=np.zeros_like(num), where=safe))
    delta = _jacobsen_gain(window, m) * jacobsen
    return (k[..., 0] + delta) * (window / m)


def _nuisance(v, t, detrend: bool):
    """``v`` (last axis: samples) without its offset, and without its line in ``t`` if ``detrend``."""
    v = v - v.mean(axis=-1, keepdims=True)
    if detrend:  # t is centred: the line's column is orthogonal to the offset's
        v = v - np.asarray((v @ t) / (t @ t))[..., None] * t
    return v


def _demeaned_basis(f, t, detrend=False):
    """``cos``/``sin`` columns at ``f`` (``[..., K]`` cycles/window) over centred time ``t``, without
    the nuisance (offset, and line with ``detrend``), then the plain columns."""
    arg = 2.0 * np.pi * f[..., None] * t
    c, s = np.cos(arg), np.sin(arg)
    return _nuisance(c, t, detrend), _nuisance(s, t, detrend), c, s


def _fit_energy(u, v, gcc, gss, gcs):
    """``v^T G^-1 v``: the energy of the least-squares fit with inner products ``u, v`` and Gram ``G``."""
    det = gcc * gss - gcs**2
    det = np.where(det > 1e-12 * (gcc * gss + 1e-300), det, np.inf)  # at 0 or N/2 one column: no fit
    return (gss * u * u - 2.0 * gcs * u * v + gcc * v * v) / det


def _window_energy(x, f, t, detrend=False):
    """Fit energy of each window ``x [B, N]`` (nuisance removed) at its own frequency ``f [B]``."""
    c, s, _, _ = _demeaned_basis(f, t, detrend)
    return _fit_energy((x * c).sum(-1), (x * s).sum(-1), (c * c).sum(-1), (s * s).sum(-1), (c * s).sum(-1))


def _gauss_newton(x, f, t, steps: int, limit, detrend=False):
    """``steps`` Gauss–Newton steps on the residual of the least-squares tone fit at ``f``, each
    clipped to ``±limit``: the precise last digits (the fit energy is flat at its maximum)."""
    for _ in range(steps):
        c, s, cos, sin = _demeaned_basis(f, t, detrend)
        u, v = (x * c).sum(-1), (x * s).sum(-1)
        gcc, gss, gcs = (c * c).sum(-1), (s * s).sum(-1), (c * s).sum(-1)
        det = np.maximum(gcc * gss - gcs**2, 1e-300)
        a, b = (gss * u - gcs * v) / det, (gcc * v - gcs * u) / det
        residual = x - a[:, None] * c - b[:, None] * s
        d = 2.0 * np.pi * t * (b[:, None] * cos - a[:, None] * sin)
        d = _nuisance(d, t, detrend)
        f = f + np.clip((residual * d).sum(-1) / np.maximum((d * d).sum(-1), 1e-300), -limit, limit)
    return f


def ml_frequency(x, fmin=None, fmax=None, oversample: int = 8, detrend: bool = False):
    """Maximum-likelihood (nonlinear least-squares) frequency of each window, vectorised.

    For a real tone with unknown amplitude, phase and offset in white Gaussian noise,
    the ML frequency maximises the energy of the least-squares fit of
    ``c + a cos(2 pi f n / N) + b sin(2 pi f n / N)`` to the window (the exact projection,
    not the periodogram, so tones near 0 or ``N/2`` are not biased by their mirror image).
    The maximum is found on a grid of ``oversample`` points per cycle/window over
    ``[fmin, fmax]`` (one matrix product), narrowed by golden-section search within one
    grid step of the best point, and polished by two Gauss–Newton steps; the estimate
    stays inside ``[fmin, fmax]``. Its error reaches the Cramér–Rao bound above its
    threshold SNR (about -3 dB for N = 100 over 29 cycles/window); below it, a noise peak
    anywhere in the band can win (an outlier), as for any ML estimator.

    Args:
        x: real windows, shape ``[..., N]``.
        fmin, fmax: search range in cycles per window inside ``(0, N/2)`` (default: the
            whole range, from ``1 / oversample`` to ``N/2 - 1 / oversample``).
        oversample: grid points per cycle/window (8 is ample for the main lobe, 2 wide).
        detrend: fit a straight line jointly with the tone (the ML estimate for a tone on a
            linear trend), instead of detrending first, which biases low frequencies.

    Returns:
        float64 array of shape ``x.shape[:-1]``: frequencies in cycles per window.

    Example:

    >>> n = np.arange(100)
    >>> f = ml_frequency(np.sin(2 * np.pi * 12.3456 * n / 100 + 0.4) + 3.0, fmin=1, fmax=30)
    >>> round(float(f), 9)
    12.3456
    """
    x = _as_windows(x)
    window = x.shape[-1]
    _check_search_range(fmin, fmax, window)
    check_positive_int(oversample=oversample)
    lo = 1.0 / oversample if fmin is None else float(fmin)
    hi = window / 2 - 1.0 / oversample if fmax is None else float(fmax)
    shape = x.shape[:-1]
    flat = x.reshape(-1, window)
    t = (np.arange(window) - (window - 1) / 2) / window
    flat = _nuisance(flat, t, detrend)
    scale = np.abs(flat).max(axis=-1, keepdims=True)
    flat = flat / np.where(scale > 0, scale, 1.0)  # any amplitude alike
    grid = np.linspace(lo, hi, max(2, int(np.ceil((hi - lo) * oversample)) + 1))
    step = grid[1] - grid[0]
    c, s, _, _ = _demeaned_basis(grid, t, detrend)  # [G, N], shared by every window
    energy = _fit_energy(flat @ c.T, flat @ s.T, (c * c).sum(-1), (s * s).sum(-1), (c * s).sum(-1))
    best = grid[np.argmax(energy, axis=-1)]
    a, b = np.maximum(best - step, lo), np.minimum(best + step, hi)
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    p, q = b - ratio * (b - a), a + ratio * (b - a)
    ep, eq = _window_energy(flat, p, t, detrend), _window_energy(flat, q, t, detrend)
    for _ in range(int(np.ceil(np.log(2.0 * step / 1e-6) / np.log(1.0 / ratio)))):  # bracket to 1e-6
        left = ep >= eq  # the maximum lies in [a, q]: q becomes the right end, p the new q
        a, b = np.where(left, a, p), np.where(left, q, b)
        new = np.where(left, b - ratio * (b - a), a + ratio * (b - a))
        e_new = _window_energy(flat, new, t, detrend)
        p, q, ep, eq = (np.where(left, new, q), np.where(left, p, new),
                        np.where(left, e_new, eq), np.where(left, ep, e_new))
    f = _gauss_newton(flat, (a + b) / 2, t, 2, 1e-5, detrend)
    return np.clip(f, lo, hi).reshape(shape)


def _log_i0(z):
    """``log I0(z)`` for ``z >= 0`` without overflow (asymptotic series above 30)."""
    small = np.minimum(z, 30.0)
    big = np.maximum(z, 30.0)
    return np.where(z < 30.0, np.log(np.i0(small)), big - 0.5 * np.log(2.0 * np.pi * big) + np.log1p(0.125 / big))


def mmse_frequency(x, snr_db, fmin=None, fmax=None, oversample: int = 16, lobe: float = 1.0):
    """Posterior-mean (minimum-mean-square-error) frequency of each window, given its SNR.

    The Bayes estimator for a real tone with a flat prior on ``[fmin, fmax]``, a uniform
    phase and a *known* SNR ``η = A² / (2σ²)`` in white Gaussian noise: the likelihood of
    ``f`` is ``I0(A |X(f)| / σ²)`` with ``X(f) = Σ x[n] e^(−2πi f n / N)``, and ``A`` and
    ``σ`` follow from the window's power and ``η``. The posterior is evaluated on a grid of
    ``oversample`` points per cycle/window; the main lobe of the ML estimate
    (:func:`ml_frequency`, within ``lobe`` cycles/window) is represented by that estimate,
    where the posterior is narrow and centred on it. No estimator that does not know the
    SNR can have a lower expected squared error on such windows: use it as the bound below
    the ML estimator's threshold, where the Cramér–Rao bound no longer applies.

    Args:
        x: real windows, shape ``[..., N]``.
        snr_db: the windows' SNR in dB (finite), a scalar or one per window.
        fmin, fmax: the prior's band in cycles per window (default: the whole range).
        oversample: grid points per cycle/window.
        lobe: half-width of the ML estimate's own peak, in cycles per window.

    Returns:
        float64 array of shape ``x.shape[:-1]``: frequencies in cycles per window.

    Example:

    >>> n = np.arange(100)
    >>> x = np.sin(2 * np.pi * 12.3456 * n / 100 + 0.4) + np.random.default_rng(0).normal(0, 0.2, 100)
    >>> abs(float(mmse_frequency(x, snr_db=11.0, fmin=1, fmax=30)) - 12.3456) < 0.05
    True
    """
    x = _as_windows(x)
    window = x.shape[-1]
    _check_search_range(fmin, fmax, window)
    check_positive_int(oversample=oversample)
    eta = 10.0 ** (np.asarray(snr_db, np.float64) / 10.0)
    if not np.all(np.isfinite(eta)):
        raise ValueError(f"snr_db must be finite (the estimator weighs peaks by the SNR), got {snr_db!r}")
    shape = x.shape[:-1]
    eta = np.broadcast_to(eta, shape).reshape(-1, 1)
    lo = 1.0 / oversample if fmin is None else float(fmin)
    hi = window / 2 - 1.0 / oversample if fmax is None else float(fmax)
    flat = x.reshape(-1, window)
    flat = flat - flat.mean(-1, keepdims=True)
    flat = flat / np.maximum(np.abs(flat).max(-1, keepdims=True), 1e-300)
    f_ml = ml_frequency(flat, lo, hi)[:, None]
    grid = np.linspace(lo, hi, max(2, int(np.ceil((hi - lo) * oversample)) + 1))
    arg = 2.0 * np.pi * np.outer(np.arange(window), grid) / window
    magnitude = np.hypot(flat @ np.cos(arg), flat @ np.sin(arg))
    noise = (flat * flat).sum(-1, keepdims=True) / (window * (1.0 + eta))
    amplitude = np.sqrt(2.0 * eta * noise)
    log_w = _log_i0(amplitude * magnitude / np.maximum(noise, 1e-300))
    w = np.exp(log_w - log_w.max(-1, keepdims=True))
    far = np.abs(grid - f_ml) > lobe
    f = f_ml[:, 0] + (far * w * (grid - f_ml)).sum(-1) / w.sum(-1)
    return f.reshape(shape)


def crlb_frequency_var(snr_db, window):
    """Cramér–Rao bound on the variance of an unbiased frequency estimate.

    For a real tone of unknown amplitude, phase and frequency in white Gaussian noise,
    ``var(f) >= 12 / ((2 pi)**2 * eta * N * (N**2 - 1))`` in (cycles/sample)**2, with
    ``eta = A**2 / (2 sigma**2) = 10**(snr_db / 10)``. An infinite SNR gives 0.

    Args:
        snr_db: SNR in dB, a scalar or an array.
        window: window length ``N`` (an integer >= 2).

    Returns:
        float64 array of the shape of ``snr_db``, in (cycles per sample)**2.

    Example:

    >>> f"{float(crlb_frequency_var(10.0, 100)):.3e}"  # N=100 at 10 dB
    '3.040e-08'
    """
    if isinstance(window, bool) or not isinstance(window, numbers.Integral):
        raise ValueError(f"window must be an integer number of samples, got {window!r}")
    if window < 2:
        raise ValueError(f"window={window} is too short: the bound needs at least 2 samples")
    snr_db = np.asarray(snr_db, dtype=np.float64)
    if np.any(np.isnan(snr_db)):
        raise ValueError("snr_db contains NaN")
    eta = 10.0 ** (snr_db / 10.0)
    n = float(window)
    return 12.0 / ((2.0 * np.pi) ** 2 * eta * n * (n**2 - 1.0))


def crlb_frequency_std(snr_db, window):
    """Cramér–Rao bound on the standard deviation of a frequency estimate, in cycles/window.

    ``sqrt(crlb_frequency_var(snr_db, window)) * window``; see :func:`crlb_frequency_var`.

    Example:

    >>> round(float(crlb_frequency_std(10.0, 100)), 4)  # N=100 at 10 dB
    0.0174
    >>> float(crlb_frequency_std(np.inf, 100))
    0.0
    """
    return np.sqrt(crlb_frequency_var(snr_db, window)) * window


def seasonal_naive(history, period: int, horizon: int) -> np.ndarray:
    """Forecast by repeating the last ``period`` values: the seasonal-naive baseline.

    Args:
        history: past values ``[..., steps]`` with ``steps >= period``.
        period: season length in steps (e.g. 24 for hourly data with a daily cycle).
        horizon: number of future steps.

    Returns:
        ``[..., horizon]`` forecast, ``y[h] = history[-period + h % period]``.

    Example:

    >>> seasonal_naive([1, 2, 3, 4, 5], period=2, horizon=5).tolist()
    [4.0, 5.0, 4.0, 5.0, 4.0]
    """
    x = np.asarray(history)
    if not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)) or x.ndim < 1:
        raise TypeError(f"history must be real numbers with time on the last axis, got dtype {x.dtype}, "
                        f"shape {x.shape}")
    check_positive_int(period=period, horizon=horizon)
    if x.shape[-1] < period:
        raise ValueError(f"history has {x.shape[-1]} steps, fewer than one period ({period})")
    last = x[..., -period:].astype(np.float64)
    if not np.all(np.isfinite(last)):
        raise ValueError(f"history holds NaN/inf in its last period ({period} steps), the values the forecast repeats")
    return last[..., np.arange(horizon) % period]

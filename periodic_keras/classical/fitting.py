"""Fit sums of sines where gradient descent cannot: a periodogram start, then a float64 fit.

The loss of ``y ~ c + A sin(omega x + phi)`` as a function of ``omega`` is a comb of
narrow basins, each about ``2 pi / span`` wide (``span = max(x) - min(x)``; 3e-3 rad for
``x`` in ``[-1000, 1000]``), so gradient descent started outside the right one never
reaches it. Here a periodogram on a grid ``2 pi / (oversample * span)`` apart finds the
basin -- an FFT when ``x`` is regularly spaced, a generalised (floating-mean, weighted)
Lomb–Scargle periodogram otherwise (by extirpolation onto an FFT mesh when the grid is
large, :mod:`periodic_keras.classical.nufft`) -- its strongest peaks are polished on the exact
periodogram, and Levenberg–Marquardt least squares over all frequencies, amplitudes,
phases and a polynomial trend (``trend=``, chosen from the data by default), in float64,
finishes the best of them. Several tones are found one at a time (peaks of the residual,
then a joint refit). A pandas Series is accepted as it is: its time index becomes ``x``
(:mod:`periodic_keras.classical.timeaxis`) and periods come back as ``pd.Timedelta``.

Every frequency here is ANGULAR: ``omega`` in radians per unit of ``x``, and the period
is ``2 pi / omega``. ``y`` is scaled by a power of two near ``max|y|`` internally, so any
amplitude from 1e-300 to 1e300 fits alike. A search that would need more than
:data:`MAX_GRID_POINTS` grid points (FFT length for regular ``x``) is refused before
anything is allocated. Only NumPy is imported.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from periodic_keras.classical import timeaxis
from periodic_keras.classical.fits import SineFit, SinesFit
from periodic_keras.classical.search import (CANDIDATES, MAX_DEFAULT_MESH, MAX_GRID_POINTS, TWO_PI,
                                             default_max_frequency, frequency_grid, ls_power, regular_step, trig_sums)
from periodic_keras.classical.tones import AUTO_TREND_MAX, bic, tone_stages, trend_columns, trend_degrees

#: Highest polynomial degree ``trend=`` accepts.
MAX_TREND = 8

__all__ = ["AUTO_TREND_MAX", "CANDIDATES", "MAX_TREND", "MAX_DEFAULT_MESH", "MAX_GRID_POINTS", "SineFit", "SinesFit",
           "fit_frequency", "fit_frequencies", "lomb_scargle", "crlb_omega_std"]


def _real_1d(name, a) -> np.ndarray:
    a = np.asarray(a)
    if not (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
        raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {a.shape}")
    a = a.astype(np.float64)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or inf")
    return a


def _positive(name, value, allow_none=True):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite positive number, got {value!r}")
    return float(value)


def _check_data(x, y, weights, min_samples, what):
    """x, y, weights (normalised to mean 1) as float64, validated before any work."""
    x, y = _real_1d("x", x), _real_1d("y", y)
    if x.size != y.size:
        raise ValueError(f"x and y must have the same length, got {x.size} and {y.size}")
    w = np.ones_like(x) if weights is None else _real_1d("weights", weights)
    if w.size != x.size:
        raise ValueError(f"weights must have the length of x ({x.size}), got {w.size}")
    if np.any(w < 0):
        raise ValueError("weights must be >= 0")
    count = int(np.count_nonzero(w))
    if count < min_samples:
        raise ValueError(f"{what} needs at least {min_samples} samples (with positive weight), got {count}")
    if np.ptp(x[w > 0]) == 0:
        raise ValueError("x is constant (zero span): no frequency can be fitted")
    w = w / w.max()  # first, so that the mean of huge weights cannot overflow
    return x, y, w / w.mean()


def _unit_scale(y):
    """``(y / s, s)``: ``s`` the power of two at or below ``max|y|`` (exact scaling), 1 for all-zero ``y``.

    Sums of squares of ``y / s`` neither overflow (``|y| ~ 1e200``) nor underflow (``1e-300``).
    Subnormal ``y`` (``max|y| < 2.2e-308``) has too few significant digits and is refused.
    """
    peak = float(np.max(np.abs(y)))
    if 0 < peak < np.finfo(np.float64).tiny:
        raise ValueError(f"y is too small: its largest |value| {peak:.3g} is subnormal (below "
                         f"{np.finfo(np.float64).tiny:.3g}), too few significant digits to fit; scale y up")
    scale = math.ldexp(1.0, math.frexp(peak)[1] - 1) if peak > 0 else 1.0  # |y / scale| < 2
    return y / scale, scale


def lomb_scargle(x, y, omegas, *, weights=None) -> np.ndarray:
    """Generalised Lomb–Scargle periodogram of irregularly sampled data at angular frequencies ``omegas``.

    The floating-mean, weighted periodogram of Zechmeister & Kürster (2009): at each
    ``omega`` (rad per unit of x), the fraction of the weighted variance of ``y`` explained
    by a least-squares fit of ``c + a cos(omega x) + b sin(omega x)``, in ``[0, 1]``
    (0 where the fit is degenerate, e.g. ``omega = 0``). A uniformly spaced grid (e.g.
    ``np.linspace``) is evaluated by block products, any other grid directly; both in
    chunks, so memory stays below about 50 MB whatever ``len(x) * len(omegas)``.

    Args:
        x, y: 1-D real arrays of equal length (at least 3 samples).
        omegas: 1-D array of angular frequencies ``>= 0``.
        weights: optional 1-D weights ``>= 0`` (e.g. ``1 / sigma**2``).

    Returns:
        float64 array of the shape of ``omegas``.

    >>> x = np.random.default_rng(0).uniform(0, 100, 200)
    >>> omegas = np.linspace(0.1, 5, 4901)
    >>> power = lomb_scargle(x, np.sin(2.5 * x), omegas)
    >>> round(float(omegas[np.argmax(power)]), 3), round(float(power.max()), 6)
    (2.5, 1.0)
    """
    x, y, w = _check_data(x, y, weights, 3, "lomb_scargle")
    y = _unit_scale(y)[0]  # the power is a ratio: scaling y changes nothing but overflow and underflow
    omegas = _real_1d("omegas", omegas)
    if np.any(omegas < 0):
        raise ValueError("omegas must be >= 0")
    w = w / w.sum()
    t = x - x.mean()
    sums = trig_sums(t, np.stack([w * y, w]), omegas)
    return ls_power(sums[0], sums[1], trig_sums(2.0 * t, w[None], omegas)[0], w, y)


def _check_trend(trend):
    if trend == "auto":
        return trend
    if isinstance(trend, bool) or not isinstance(trend, numbers.Integral) or not 0 <= trend <= MAX_TREND:
        raise ValueError(f"trend must be 'auto' or a polynomial degree from 0 to {MAX_TREND}, got {trend!r}")
    return int(trend)


def prepare_fit(x, y, n_tones, *, min_frequency, max_frequency, oversample, weights, trend):
    """Everything :func:`fit_frequencies` and :func:`periodic_keras.classical.find_periods` share:
    input checks and conversion, the trend's columns, the search grid. Returns a dict."""
    x, y, weights, axis = timeaxis.series_xy(x, y, weights)
    what = "fitting 1 tone" if n_tones == 1 else f"fitting {n_tones} tones"
    trend = _check_trend(trend)
    x, y, w = _check_data(x, y, weights, 3 * n_tones + 1 + (0 if trend == "auto" else trend), what)
    if (used := y[w > 0]).min() == used.max():
        raise ValueError(f"y is constant (every value {used[0]:g}): there is no tone to fit")
    y, y_scale = _unit_scale(y)
    lo, hi = _positive("min_frequency", min_frequency), _positive("max_frequency", max_frequency)
    oversample = _positive("oversample", oversample, allow_none=False)
    if oversample < 1:
        raise ValueError(f"oversample must be >= 1, got {oversample}")
    if lo is not None and hi is not None and lo >= hi:
        raise ValueError(f"min_frequency must be below max_frequency, got {lo} >= {hi}")
    order = np.argsort(x, kind="stable")
    x, y, w = x[order], y[order], w[order]
    x0 = 0.5 * (x[0] + x[-1])
    t = x - x0
    half = 0.5 * (t[-1] - t[0])
    dt = regular_step(t)
    lo = TWO_PI / (oversample * (t[-1] - t[0])) if lo is None else lo
    hi = default_max_frequency(t, dt, oversample) if hi is None else hi
    if dt is not None and hi > (nyquist := math.pi / dt) * (1 + 1e-9):
        raise ValueError(f"max_frequency={hi} is above the Nyquist frequency pi/dt={nyquist} of the regularly "
                         "spaced x: frequencies there are aliases of lower ones")
    if lo >= hi:
        raise ValueError(f"empty frequency band: min_frequency={lo} >= max_frequency={hi}")
    degrees = trend_degrees(t / half, y, w, trend, n_tones)
    grid, residual_power = frequency_grid(t, w / w.sum(), dt, lo, hi, oversample)
    return dict(t=t, y=y, w=w, x0=x0, half=half, y_scale=y_scale, axis=axis, band=(lo, hi),
                polys=[trend_columns(t / half, d) for d in degrees], grid=grid, residual_power=residual_power)


def _check_finite(p, amps, power, rmse):
    """Refuse a fit whose amplitudes, trend or rmse overflow float64 once scaled back to y's
    units: y near the float64 limit (1.8e308) leaves no headroom for a fit, e.g. a lone spike
    of 1e308 fitted by a tone near the Nyquist frequency, whose amplitude exceeds the spike's."""
    if np.all(np.isfinite(amps)) and np.all(np.isfinite(power)) and math.isfinite(rmse):
        return
    peak = float(np.max(np.abs(p["y"]))) * p["y_scale"]
    raise ValueError(f"the fit overflows float64: y reaches {peak:.4g}, too close to the float64 limit "
                     f"({np.finfo(np.float64).max:.3g}) for the fitted amplitudes, trend and residual; divide y by a "
                     "power of ten first (and multiply the amplitudes by it)")


def fit_result(p, omegas, coef, model) -> SinesFit:
    """The :class:`SinesFit` of one stage of :func:`tone_stages`, in the caller's units."""
    k = omegas.size
    d = coef.size - 2 * k
    a, b = coef[d:d + k], coef[d + k:]
    psi = np.arctan2(a, b)  # a cos + b sin = A sin(. + psi)
    psi = np.where(omegas < 0, math.pi - psi, psi)  # sin(-|w| t + psi) = sin(|w| t + pi - psi)
    omegas = np.abs(omegas)
    phases = (psi - omegas * p["x0"] + math.pi) % TWO_PI - math.pi  # back to x = 0
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused just below
        amps = np.hypot(a, b) * p["y_scale"]
        rmse = float(np.sqrt(np.mean((p["y"] - model) ** 2)) * p["y_scale"])
        power = np.polynomial.legendre.leg2poly(coef[:d]) * p["y_scale"]  # in u = (x - x0) / half
    _check_finite(p, amps, power, rmse)
    idx = np.argsort(-amps, kind="stable")
    return SinesFit(tuple(float(v) for v in omegas[idx]), tuple(float(v) for v in amps[idx]),
                    tuple(float(v) for v in phases[idx]), float(power[0]), rmse,
                    trend=tuple(float(v) for v in power[1:]), trend_origin=float(p["x0"]),
                    trend_scale=float(p["half"]), axis=p["axis"], samples=int(p["y"].size))


def _n_tones(x, y, n_tones):
    """``fit_frequencies(series, n)``: the count given in y's place."""
    if n_tones is None and isinstance(y, numbers.Integral) and not isinstance(y, bool) and timeaxis.is_pandas(x):
        y, n_tones = None, y
    if isinstance(n_tones, bool) or not isinstance(n_tones, numbers.Integral) or n_tones < 1:
        raise ValueError(f"n_tones must be an integer >= 1, got {n_tones!r}")
    return y, int(n_tones)


def fit_frequencies(x, y=None, n_tones=None, *, min_frequency=None, max_frequency=None, oversample=5,
                    weights=None, trend="auto") -> SinesFit:
    """Fit ``y ~ trend(x) + sum_k A_k sin(omega_k x + phi_k)`` with ``n_tones`` angular frequencies.

    Steps: sort by ``x`` and centre it (so timestamps like 1.7e9 s stay well conditioned);
    fit the polynomial trend alone; the periodogram of the rest on
    ``[min_frequency, max_frequency]`` at a spacing of ``2 pi / (oversample * span)`` (FFT
    for regular x, generalised Lomb–Scargle otherwise, computed by extirpolation onto an FFT
    mesh when ``len(x) * grid points`` exceeds 2e7); its :data:`CANDIDATES` highest local
    maxima are each polished by golden section on the exact periodogram, and the three
    highest start Levenberg–Marquardt fits of trend and tones together, the best fit
    winning (so the global maximum wins even where the grid samples a neighbouring peak
    higher, as with clustered sampling); then, for each further tone, the same on the
    residual, all tones and the trend refit jointly. Tones a few resolution widths
    ``2 pi / span`` apart are separated. There is no significance test here (on pure noise
    the highest peak is still fitted): :func:`periodic_keras.classical.find_periods` gives one.
    ``y`` is scaled by a power of two near ``max|y|`` for the fit and the amplitudes,
    offset, trend and rmse scaled back, so any magnitude fits alike (1e200 as well as 1e-300).

    Args:
        x, y: 1-D real arrays of equal length, at least ``3 * n_tones + 1`` samples (plus
            the trend's degree). Or ``x`` a pandas Series and ``y`` omitted (then
            ``fit_frequencies(series, n_tones)`` works too): its index is the time --
            DatetimeIndex, TimedeltaIndex (x in days since the first sample, periods as
            ``pd.Timedelta``), PeriodIndex (x in its steps) or numeric -- and its values
            ``y``. ``x`` may also be datetime64 / timedelta64 values. Missing samples
            (NaN in ``y``, NaN or NaT in ``x``) are dropped: gaps are fine.
        n_tones: number of tones, ``>= 1``.
        min_frequency: lowest angular frequency searched (rad per unit of x); default
            one grid step, ``2 pi / (oversample * span)``.
        max_frequency: highest one searched. Default: the Nyquist frequency ``pi / dt``
            for regular x (a larger value raises: above it are only aliases); for
            irregular x, ``pi`` over the 1st percentile of the positive spacings (what the
            closest 1 % of neighbouring samples resolve; irregular sampling resolves far
            above ``pi / median(spacing)``), truncated with a ``UserWarning`` to the band an
            FFT mesh of :data:`MAX_DEFAULT_MESH` points covers.
            The band bounds the search only; the refined estimate may leave it slightly.
        oversample: grid points per resolution width ``2 pi / span`` (``>= 1``).
        weights: optional 1-D weights ``>= 0`` (e.g. ``1 / sigma**2``) for the
            periodogram and the fit.
        trend: degree of the polynomial trend fitted with the tones (0: a constant offset,
            at most :data:`MAX_TREND`), or ``"auto"`` (default): the degree, up to
            :data:`AUTO_TREND_MAX`, whose fit with the first tone has the lowest BIC,
            trying degrees up to the one the polynomial alone supports best (so a
            stationary signal spanning many periods costs one fit, with degree 0). A long period
            (about a cycle or less over the data) can be taken for trend: pass
            ``trend=0`` then.

    Returns:
        :class:`SinesFit`, tones sorted by decreasing amplitude.

    Raises:
        ValueError: bad arguments; too few samples; a constant ``y`` (no tone to fit) or a
            subnormal one (``max|y| < 2.2e-308``); a search grid (or its FFT mesh, or, for
            regular x, an FFT of ``oversample * len(x)`` points) larger than
            :data:`MAX_GRID_POINTS`; a time index out of order.
        TypeError: non-numeric values; a time index mixing timezones.

    >>> x = np.linspace(0, 20, 400)
    >>> fit = fit_frequencies(x, 1 + np.sin(3 * x) + 0.5 * np.sin(3.7 * x + 1), 2)
    >>> np.round(fit.omegas, 6).tolist(), np.round(fit.amplitudes, 6).tolist(), round(fit.offset, 6)
    ([3.0, 3.7], [1.0, 0.5], 1.0)
    >>> fit = fit_frequencies(x, 1e-300 * np.sin(3 * x), 1)   # tiny (or huge) amplitudes fit alike
    >>> round(fit.omegas[0], 9), round(fit.amplitudes[0] / 1e-300, 9)
    (3.0, 1.0)
    >>> fit = fit_frequencies(x, 5 + 0.3 * x**2 + np.sin(3 * x), 1)   # a trend is fitted with the tone
    >>> round(fit.omegas[0], 9), len(fit.trend), np.round(fit.trend_at([0.0, 10.0]), 9).tolist()
    (3.0, 2, [5.0, 35.0])
    """
    y, n_tones = _n_tones(x, y, n_tones)
    p = prepare_fit(x, y, n_tones, min_frequency=min_frequency, max_frequency=max_frequency, oversample=oversample,
               weights=weights, trend=trend)
    _, stages, (omegas, coef, model, _) = best_trend(p)
    for _ in range(n_tones - 1):
        omegas, coef, model, _ = next(stages)
    return fit_result(p, omegas, coef, model)


def best_trend(p):
    """``(poly, stages, first)``: of the trend degrees ``p["polys"]``, the one whose fit with
    one tone has the lowest BIC; ``stages`` (:func:`tone_stages`) goes on from its ``first`` stage."""
    best = None
    for poly in p["polys"]:
        stages = tone_stages(p["t"], p["y"], p["w"], poly, p["grid"], p["residual_power"])
        first = next(stages)
        score = bic(float(p["w"] @ (p["y"] - first[2]) ** 2), p["y"].size, first[1].size + 1)
        if best is None or score < best[0]:
            best = (score, poly, stages, first)
    return best[1:]


def fit_frequency(x, y=None, *, min_frequency=None, max_frequency=None, oversample=5, weights=None,
                  trend="auto") -> SineFit:
    """Fit one tone ``y ~ trend(x) + A sin(omega x + phi)``; ``omega`` is angular (rad per unit of x).

    :func:`fit_frequencies` with ``n_tones=1`` (see it for the method, the default band,
    the trend and pandas input); needs at least 4 samples.

    >>> x = np.random.default_rng(0).uniform(-1000, 1000, 1000)  # 31 rad/unit: far above pi/spacing
    >>> fit = fit_frequency(x, np.sin(31 * x + 0.3))
    >>> round(fit.omega, 9), round(fit.amplitude, 9), round(fit.phase, 6), fit.rmse < 1e-9
    (31.0, 1.0, 0.3, True)
    >>> import pandas as pd   # a Series with a time index: periods in its units, gaps dropped
    >>> days = pd.date_range("2020-01-01", periods=400, freq="D")
    >>> series = pd.Series(np.sin(2 * np.pi * np.arange(400) / 7.5), index=days)
    >>> fit_frequency(series.where(series.index.day != 3)).period.round("s")
    Timedelta('7 days 12:00:00')
    >>> fit_frequency(x, np.sin(31 * x), max_frequency=1e6)   # a search too large to allocate is refused
    Traceback (most recent call last):
    ...
    ValueError: max_frequency=1e+06 with oversample=5 needs 1.59e+09 grid points over [0.000629, 1e+06] rad/unit (span 2e+03), above MAX_GRID_POINTS=2e+07: lower max_frequency or oversample, or raise min_frequency
    """
    fit = fit_frequencies(x, y, 1, min_frequency=min_frequency, max_frequency=max_frequency,
                          oversample=oversample, weights=weights, trend=trend)
    return fit.tones[0]


def crlb_omega_std(x, omega, amplitude, noise_std, *, phase=0.0) -> float:
    """Cramér–Rao bound on the std of an unbiased estimate of ``omega`` (rad per unit of x).

    For ``y = c + A sin(omega x + phase) + noise`` with white Gaussian noise of std
    ``noise_std`` (a scalar, or one per sample) and amplitude, phase and offset unknown:
    the exact Fisher information of ``(omega, a, b, c)`` for ``a cos(omega x) + b sin(omega x) + c``
    at the true values, ``sqrt([F^-1]_00)``; it is the same for any parametrisation of
    the nuisance parameters. For many samples spread over many periods it approaches
    ``noise_std / (A * sqrt(sum((x - mean(x))**2) / 2))``.

    >>> x = np.arange(100.0)
    >>> round(crlb_omega_std(x, 0.5, 1.0, 1.0), 5)  # exact, 100 samples, phase 0
    0.00493
    >>> round(float(np.sqrt(2 / np.sum((x - x.mean()) ** 2))), 5)  # the large-sample approximation
    0.0049
    """
    x = _real_1d("x", x)
    if x.size < 4:
        raise ValueError(f"crlb_omega_std needs at least 4 samples, got {x.size}")
    omega, amplitude = _positive("omega", omega, False), _positive("amplitude", amplitude, False)
    sigma = np.broadcast_to(np.asarray(noise_std, dtype=np.float64), x.shape)
    if not np.all(np.isfinite(sigma) & (sigma > 0)):
        raise ValueError("noise_std must be finite and positive")
    if not isinstance(phase, numbers.Real) or not math.isfinite(phase):
        raise ValueError(f"phase must be a finite number, got {phase!r}")
    x0 = x.mean()
    t = x - x0
    theta = omega * t + (phase + omega * x0)
    d_omega = t * amplitude * np.cos(theta) / sigma
    nuisance = np.column_stack([np.ones_like(t), np.cos(omega * t), np.sin(omega * t)]) / sigma[:, None]
    resid = d_omega - nuisance @ np.linalg.lstsq(nuisance, d_omega, rcond=None)[0]
    return float(1.0 / np.linalg.norm(resid))

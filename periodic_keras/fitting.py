"""Fit sums of sines where gradient descent cannot: a periodogram start, then a float64 fit.

The loss of ``y ~ c + A sin(omega x + phi)`` as a function of ``omega`` is a comb of
narrow basins, each about ``2 pi / span`` wide (``span = max(x) - min(x)``; 3e-3 rad for
``x`` in ``[-1000, 1000]``), so gradient descent started outside the right one never
reaches it. Here a periodogram on a grid ``2 pi / (oversample * span)`` apart finds the
basin -- an FFT when ``x`` is regularly spaced, a generalised (floating-mean, weighted)
Lomb–Scargle periodogram otherwise (by extirpolation onto an FFT mesh when the grid is
large, :mod:`periodic_keras._nufft`) -- its strongest peaks are polished on the exact
periodogram, and Levenberg–Marquardt least squares over all frequencies, amplitudes,
phases and the offset, in float64, finishes the best of them. Several tones are found one
at a time (peaks of the residual, then a joint refit).

Every frequency here is ANGULAR: ``omega`` in radians per unit of ``x``, and the period
is ``2 pi / omega``. ``y`` is scaled by a power of two near ``max|y|`` internally, so any
amplitude from 1e-300 to 1e300 fits alike. A search that would need more than
:data:`MAX_GRID_POINTS` grid points (FFT length for regular ``x``) is refused before
anything is allocated. Only NumPy is imported.
"""

from __future__ import annotations

import dataclasses
import math
import numbers

import numpy as np

from periodic_keras._search import (  # noqa: F401  (_grid and _regular_step: tests reach them here)
    _FITTED, _TWO_PI, CANDIDATES, MAX_DEFAULT_MESH, MAX_GRID_POINTS, _default_max_frequency, _grid, _ls_power, _peaks,
    _polish, _regular_step, _sums,
)

__all__ = ["CANDIDATES", "MAX_DEFAULT_MESH", "MAX_GRID_POINTS", "SineFit", "SinesFit", "fit_frequency",
           "fit_frequencies", "lomb_scargle", "crlb_omega_std"]


@dataclasses.dataclass(frozen=True)
class SineFit:
    """One tone ``y ~ offset + amplitude * sin(omega * x + phase)``; ``omega`` in rad per unit of x.

    ``amplitude >= 0``, ``phase`` in ``[-pi, pi)`` (the phase at ``x = 0``), ``rmse`` the
    root-mean-square residual over the fitted samples (unweighted).

    >>> fit = SineFit(omega=np.pi, amplitude=2.0, phase=0.0, offset=1.0, rmse=0.0)
    >>> fit.period, fit.predict([0.5, 1.5]).round(12).tolist()
    (2.0, [3.0, -1.0])
    """

    omega: float
    amplitude: float
    phase: float
    offset: float
    rmse: float

    @property
    def period(self) -> float:
        """``2 pi / omega``, in units of x."""
        return _TWO_PI / self.omega

    def predict(self, x) -> np.ndarray:
        """The fitted curve at ``x`` (any shape), float64."""
        x = np.asarray(x, dtype=np.float64)
        return self.offset + self.amplitude * np.sin(self.omega * x + self.phase)


@dataclasses.dataclass(frozen=True)
class SinesFit:
    """Several tones and one offset: ``y ~ offset + sum_k amplitudes[k] sin(omegas[k] x + phases[k])``.

    Tuples of floats, tones sorted by decreasing amplitude; ``omegas`` in rad per unit of x,
    phases in ``[-pi, pi)`` at ``x = 0``, ``rmse`` the unweighted residual RMS.

    >>> fit = SinesFit(omegas=(1.0, 2.0), amplitudes=(1.0, 0.5), phases=(0.0, 0.0), offset=0.0, rmse=0.0)
    >>> len(fit), fit.tones[1].amplitude, fit.predict([0.0]).tolist()
    (2, 0.5, [0.0])
    """

    omegas: tuple
    amplitudes: tuple
    phases: tuple
    offset: float
    rmse: float

    def __len__(self) -> int:
        return len(self.omegas)

    @property
    def periods(self) -> tuple:
        """``2 pi / omega`` for each tone."""
        return tuple(_TWO_PI / w for w in self.omegas)

    @property
    def tones(self) -> tuple:
        """Each tone as a :class:`SineFit`; the first carries the offset, the others 0."""
        return tuple(SineFit(w, a, p, self.offset if k == 0 else 0.0, self.rmse)
                     for k, (w, a, p) in enumerate(zip(self.omegas, self.amplitudes, self.phases)))

    def predict(self, x) -> np.ndarray:
        """The fitted sum at ``x`` (any shape), float64."""
        x = np.asarray(x, dtype=np.float64)
        out = np.full(x.shape, self.offset)
        for w, a, p in zip(self.omegas, self.amplitudes, self.phases):
            out += a * np.sin(w * x + p)
        return out


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
    sums = _sums(t, np.stack([w * y, w]), omegas)
    return _ls_power(sums[0], sums[1], _sums(2.0 * t, w[None], omegas)[0], w, y)


def _design(t, omegas):
    phase = np.outer(t, omegas)
    return np.cos(phase), np.sin(phase)


def _refine(t, y, sw, omegas, max_iter=200):
    """Levenberg–Marquardt on ``c + sum_k a_k cos(w_k t) + b_k sin(w_k t)`` (weights ``sw**2``).

    Parameters ``[w_1..w_K, c, a_1..a_K, b_1..b_K]``; the linear ones start at their
    least-squares values. Each step solves the column-scaled, damped problem with
    ``lstsq`` (no normal equations). Returns ``(omegas, coef)`` with ``coef = [c, a.., b..]``.
    """
    k = omegas.size
    c, s = _design(t, omegas)
    basis = np.column_stack([np.ones_like(t), c, s])
    coef = np.linalg.lstsq(basis * sw[:, None], y * sw, rcond=None)[0]
    resid = sw * (y - basis @ coef)
    cost, lam, y_norm = resid @ resid, 1e-3, np.linalg.norm(sw * y) + 1e-300
    for _ in range(max_iter):
        d_omega = t[:, None] * (c * coef[1 + k:] - s * coef[1:1 + k])
        jac = sw[:, None] * np.column_stack([d_omega, np.ones_like(t), c, s])
        scale = np.linalg.norm(jac, axis=0)
        scale[scale == 0] = 1.0
        while True:
            damped = np.vstack([jac / scale, math.sqrt(lam) * np.eye(jac.shape[1])])
            step = np.linalg.lstsq(damped, np.concatenate([resid, np.zeros(jac.shape[1])]), rcond=None)[0]
            new_omegas, new_coef = omegas + step[:k] / scale[:k], coef + step[k:] / scale[k:]
            new_c, new_s = _design(t, new_omegas)
            new_resid = sw * (y - new_coef[0] - new_c @ new_coef[1:1 + k] - new_s @ new_coef[1 + k:])
            if (new_cost := new_resid @ new_resid) <= cost:
                break
            lam *= 4.0
            if lam > 1e12:  # no step lowers the cost any more: converged to rounding
                return omegas, coef
        omegas, coef, c, s, resid, cost = new_omegas, new_coef, new_c, new_s, new_resid, new_cost
        lam = max(lam / 3.0, 1e-12)
        if np.linalg.norm(step) <= 1e-12 * y_norm:
            break
    return omegas, coef


def fit_frequencies(x, y, n_tones, *, min_frequency=None, max_frequency=None, oversample=5,
                    weights=None) -> SinesFit:
    """Fit ``y ~ c + sum_k A_k sin(omega_k x + phi_k)`` with ``n_tones`` angular frequencies.

    Steps: sort by ``x`` and centre it (so timestamps like 1.7e9 s stay well conditioned);
    the periodogram of ``y`` on ``[min_frequency, max_frequency]`` at a spacing of
    ``2 pi / (oversample * span)`` (FFT for regular x, generalised Lomb–Scargle otherwise,
    computed by extirpolation onto an FFT mesh when ``len(x) * grid points`` exceeds 2e7);
    its :data:`CANDIDATES` highest local maxima are each polished by golden section on the
    exact periodogram, and the three highest start Levenberg–Marquardt fits, the best fit
    winning (so the global maximum wins even where the grid samples a neighbouring peak
    higher, as with clustered sampling); then, for each further tone, the same on the
    residual, all tones refit jointly. Tones a few resolution widths ``2 pi / span`` apart
    are separated. There is no significance test: on pure noise the highest peak is still
    fitted.
    ``y`` is scaled by a power of two near ``max|y|`` for the fit and the amplitudes,
    offset and rmse scaled back, so any magnitude fits alike (1e200 as well as 1e-300).

    Args:
        x, y: 1-D real arrays of equal length, at least ``3 * n_tones + 1`` samples.
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

    Returns:
        :class:`SinesFit`, tones sorted by decreasing amplitude.

    Raises:
        ValueError: bad arguments; a constant ``y`` (no tone to fit) or a subnormal one
            (``max|y| < 2.2e-308``); a search grid (or its FFT mesh, or, for regular x, an
            FFT of ``oversample * len(x)`` points) larger than :data:`MAX_GRID_POINTS`.

    >>> x = np.linspace(0, 20, 400)
    >>> fit = fit_frequencies(x, 1 + np.sin(3 * x) + 0.5 * np.sin(3.7 * x + 1), 2)
    >>> np.round(fit.omegas, 6).tolist(), np.round(fit.amplitudes, 6).tolist(), round(fit.offset, 6)
    ([3.0, 3.7], [1.0, 0.5], 1.0)
    >>> fit = fit_frequencies(x, 1e-300 * np.sin(3 * x), 1)   # tiny (or huge) amplitudes fit alike
    >>> round(fit.omegas[0], 9), round(fit.amplitudes[0] / 1e-300, 9)
    (3.0, 1.0)
    """
    if isinstance(n_tones, bool) or not isinstance(n_tones, numbers.Integral) or n_tones < 1:
        raise ValueError(f"n_tones must be an integer >= 1, got {n_tones!r}")
    n_tones = int(n_tones)
    what = "fitting 1 tone" if n_tones == 1 else f"fitting {n_tones} tones"
    x, y, w = _check_data(x, y, weights, 3 * n_tones + 1, what)
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
    dt = _regular_step(t)
    lo = _TWO_PI / (oversample * (t[-1] - t[0])) if lo is None else lo
    hi = _default_max_frequency(t, dt, oversample) if hi is None else hi
    if dt is not None and hi > (nyquist := math.pi / dt) * (1 + 1e-9):
        raise ValueError(f"max_frequency={hi} is above the Nyquist frequency pi/dt={nyquist} of the regularly "
                         "spaced x: frequencies there are aliases of lower ones")
    if lo >= hi:
        raise ValueError(f"empty frequency band: min_frequency={lo} >= max_frequency={hi}")
    ws = w / w.sum()
    grid, residual_power = _grid(t, ws, dt, lo, hi, oversample)
    omegas, model = np.zeros(0), np.full_like(y, ws @ y)
    sw = np.sqrt(w)
    for _ in range(n_tones):
        best = None
        residual = y - model
        # Many peaks of the (coarse) periodogram, each polished on the exact one; the best few are fitted.
        starts, heights = _polish(t, ws, residual, _peaks(grid, residual_power(residual), CANDIDATES),
                                  grid[1] - grid[0])
        for omega in starts[np.argsort(-heights, kind="stable")][:_FITTED]:
            fitted, coef = _refine(t, y, sw, np.append(omegas, omega))
            c, s = _design(t, fitted)
            trial = coef[0] + c @ coef[1:1 + fitted.size] + s @ coef[1 + fitted.size:]
            cost = float(w @ (y - trial) ** 2)
            if best is None or cost < best[0]:
                best = (cost, fitted, coef, trial)
        _, omegas, coef, model = best
    a, b = coef[1:1 + n_tones], coef[1 + n_tones:]
    psi = np.arctan2(a, b)  # a cos + b sin = A sin(. + psi)
    psi = np.where(omegas < 0, math.pi - psi, psi)  # sin(-|w| t + psi) = sin(|w| t + pi - psi)
    omegas = np.abs(omegas)
    phases = (psi - omegas * x0 + math.pi) % _TWO_PI - math.pi  # back to x = 0
    amps = np.hypot(a, b) * y_scale
    rmse = float(np.sqrt(np.mean((y - model) ** 2)) * y_scale)
    idx = np.argsort(-amps, kind="stable")
    return SinesFit(tuple(float(v) for v in omegas[idx]), tuple(float(v) for v in amps[idx]),
                    tuple(float(v) for v in phases[idx]), float(coef[0] * y_scale), rmse)


def fit_frequency(x, y, *, min_frequency=None, max_frequency=None, oversample=5, weights=None) -> SineFit:
    """Fit one tone ``y ~ offset + A sin(omega x + phi)``; ``omega`` is angular (rad per unit of x).

    :func:`fit_frequencies` with ``n_tones=1`` (see it for the method, the default band
    and the arguments); needs at least 4 samples.

    >>> x = np.random.default_rng(0).uniform(-1000, 1000, 1000)  # 31 rad/unit: far above pi/spacing
    >>> fit = fit_frequency(x, np.sin(31 * x + 0.3), max_frequency=40)
    >>> round(fit.omega, 9), round(fit.amplitude, 9), round(fit.phase, 6), fit.rmse < 1e-9
    (31.0, 1.0, 0.3, True)
    >>> fit_frequency(x, np.sin(31 * x), max_frequency=1e6)   # a search too large to allocate is refused
    Traceback (most recent call last):
    ...
    ValueError: max_frequency=1e+06 with oversample=5 needs 1.59e+09 grid points over [0.000629, 1e+06] rad/unit (span 2e+03), above MAX_GRID_POINTS=2e+07: lower max_frequency or oversample, or raise min_frequency
    """
    fit = fit_frequencies(x, y, 1, min_frequency=min_frequency, max_frequency=max_frequency,
                          oversample=oversample, weights=weights)
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

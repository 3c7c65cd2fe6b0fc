"""The least-squares engine of :mod:`periodic_keras.classical.fitting`: Levenberg–Marquardt fits of a
polynomial trend plus tones, the trend's degree, and the tone-after-tone search. NumPy only."""

from __future__ import annotations

import math

import numpy as np

from periodic_keras.classical.search import FITTED, CANDIDATES, peak_candidates, polish_peaks

#: Highest polynomial degree ``trend="auto"`` considers.
AUTO_TREND_MAX = 3


def _design(t, omegas):
    phase = np.outer(t, omegas)
    return np.cos(phase), np.sin(phase)


def _refine(t, y, sw, omegas, poly, max_iter=200):
    """Levenberg–Marquardt on ``poly @ p + sum_k a_k cos(w_k t) + b_k sin(w_k t)`` (weights ``sw**2``).

    ``poly`` holds the trend's columns (the first a constant). Parameters
    ``[w_1..w_K, p_0..p_D, a_1..a_K, b_1..b_K]``; the linear ones start at their
    least-squares values. Each step solves the column-scaled, damped problem with
    ``lstsq`` (no normal equations). Returns ``(omegas, coef)`` with ``coef = [p.., a.., b..]``.
    """
    k, d = omegas.size, poly.shape[1]
    c, s = _design(t, omegas)
    basis = np.column_stack([poly, c, s])
    coef = np.linalg.lstsq(basis * sw[:, None], y * sw, rcond=None)[0]
    resid = sw * (y - basis @ coef)
    cost, lam, y_norm = resid @ resid, 1e-3, np.linalg.norm(sw * y) + 1e-300
    for _ in range(max_iter):
        d_omega = t[:, None] * (c * coef[d + k:] - s * coef[d:d + k])
        jac = sw[:, None] * np.column_stack([d_omega, poly, c, s])
        scale = np.linalg.norm(jac, axis=0)
        scale[scale == 0] = 1.0
        while True:
            damped = np.vstack([jac / scale, math.sqrt(lam) * np.eye(jac.shape[1])])
            step = np.linalg.lstsq(damped, np.concatenate([resid, np.zeros(jac.shape[1])]), rcond=None)[0]
            new_omegas, new_coef = omegas + step[:k] / scale[:k], coef + step[k:] / scale[k:]
            new_c, new_s = _design(t, new_omegas)
            new_resid = sw * (y - poly @ new_coef[:d] - new_c @ new_coef[d:d + k] - new_s @ new_coef[d + k:])
            if (new_cost := new_resid @ new_resid) <= cost:
                break
            lam *= 4.0
            if lam > 1e12:  # no step lowers the cost any more: converged to rounding
                return omegas, coef
        stalled = cost - new_cost <= 1e-14 * cost  # converged to rounding: no need to damp the next step away
        omegas, coef, c, s, resid, cost = new_omegas, new_coef, new_c, new_s, new_resid, new_cost
        lam = max(lam / 3.0, 1e-12)
        if stalled or np.linalg.norm(step) <= 1e-12 * y_norm:
            break
    return omegas, coef


def trend_columns(u, degree):
    """Legendre polynomials ``P_0..P_degree`` of ``u`` in ``[-1, 1]``: well conditioned at any degree used."""
    return np.polynomial.legendre.legvander(u, degree)


def trend_degrees(u, y, w, trend, n_tones):
    """Trend degrees to try: ``[trend]``, or for ``"auto"`` ``0..d`` with ``d`` the degree
    (at most :data:`AUTO_TREND_MAX`, leaving as many samples as parameters) of the
    polynomial alone with the lowest BIC (``n log RSS + (degree + 1) log n``, weighted); the
    caller keeps the degree whose fit *with a tone* has the lowest BIC (a few cycles of a
    tone look like a cubic to the polynomial alone)."""
    if trend != "auto":
        return [trend]
    n = np.count_nonzero(w)
    sw = np.sqrt(w)
    best = None
    for degree in range(min(AUTO_TREND_MAX, n - 3 * n_tones - 1) + 1):
        cols = trend_columns(u, degree) * sw[:, None]
        resid = sw * y - cols @ np.linalg.lstsq(cols, sw * y, rcond=None)[0]
        score = bic(float(resid @ resid), n, degree + 1)
        if best is None or score < best[0] - 1e-9 * abs(best[0]):
            best = (score, degree)
    return list(range(best[1] + 1))


def bic(rss, n, parameters):
    """Bayesian information criterion of a least-squares fit (Gaussian noise, up to a constant)."""
    return n * math.log(max(rss, 1e-300) / n) + parameters * math.log(n)


def _merged(omegas, width) -> bool:
    """Whether two tones lie within half a resolution width: a degenerate pair (two large,
    nearly cancelling tones that model a trend), not two tones."""
    w = np.sort(np.abs(omegas))
    return bool(np.any(np.diff(w) < 0.5 * width)) or bool(w.size and w[0] < 0.5 * width)


def tone_stages(t, y, w, poly, grid, residual_power):
    """Tone after tone: yields ``(omegas, coef, model, peak)`` with ``peak`` the highest exact
    generalised Lomb–Scargle power of the residual before that tone was added. A fit whose
    tones merge (:func:`_merged`) loses to any fit whose tones do not."""
    width = 2.0 * math.pi / (t[-1] - t[0])
    ws = w / w.sum()
    sw = np.sqrt(w)
    omegas = np.zeros(0)
    coef = np.linalg.lstsq(poly * sw[:, None], y * sw, rcond=None)[0]
    model = poly @ coef
    while True:
        best = None
        residual = y - model
        # Many peaks of the (coarse) periodogram, each polished on the exact one; the best few are fitted.
        starts, heights = polish_peaks(t, ws, residual, peak_candidates(grid, residual_power(residual), CANDIDATES),
                                  grid[1] - grid[0])
        for omega in starts[np.argsort(-heights, kind="stable")][:FITTED]:
            fitted, trial_coef = _refine(t, y, sw, np.append(omegas, omega), poly)
            c, s = _design(t, fitted)
            k = fitted.size
            trial = poly @ trial_coef[:poly.shape[1]] + c @ trial_coef[-2 * k:-k] + s @ trial_coef[-k:]
            cost = (_merged(fitted, width), float(w @ (y - trial) ** 2))
            if best is None or cost < best[0]:
                best = (cost, fitted, trial_coef, trial)
        _, omegas, coef, model = best
        yield omegas, coef, model, float(np.max(heights))

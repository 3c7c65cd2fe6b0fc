"""Fundamental frequency of harmonic windows by harmonic nonlinear least squares, in pure NumPy.

A window of ``N`` samples is modelled as a nuisance (an offset, or a polynomial trend) plus
``K`` harmonics of one fundamental ``f`` (cycles per window), in white Gaussian noise::

    x[n] = sum_j c_j P_j(t_n) + sum_{k=1..K} a_k cos(2 pi k f t_n) + b_k sin(2 pi k f t_n) + w[n]

with ``t_n = (n - (N-1)/2) / N`` and ``K f < N/2``. For a given ``(f, K)`` the ML estimate of the
linear parameters is least squares; the ML fundamental minimises the residual, and the order
``K`` is chosen by the MAP rule (Djurić; Stoica & Selén 2004, "Model-order selection: a review
of information criterion rules", IEEE Signal Processing Magazine 21(4); Christensen &
Jakobsson, "Multi-Pitch Estimation", Morgan & Claypool 2009, §2.6)::

    J(f, K) = N ln sigma2(f, K) + K ln N        (+ 3/2 ln N for f, the same for every K)

two linear parameters per harmonic at ``1/2 ln N`` each. ``sigma2 = RSS / (N - p)`` is the
residual variance on its degrees of freedom (``p`` linear parameters), a small-sample
correction: with ``RSS / N``, a fundamental near one cycle per window with harmonics up to
Nyquist (``p`` near ``N``) would win on noise alone. A subharmonic ``f/2`` explains the same
harmonics with twice the order, so it pays ``K ln N`` more for nothing: no octave error.
"""

from __future__ import annotations

import functools
import math
import numbers

import numpy as np

from periodic_keras.classical.dsp import as_windows, check_search_range
from periodic_keras.signals import check_positive_int

__all__ = ["MAX_HARMONIC_TREND", "harmonic_frequency"]

#: Highest degree of the polynomial trend fitted jointly with the harmonics.
MAX_HARMONIC_TREND = 3
_CANDIDATES = 4  # coarse local minima refined per window
_MIN_DOF = 3  # residual degrees of freedom always left (at least a fifth of the window by default)
_OCTAVE_ALPHA = 1e-4  # false-alarm level of the harmonics a subharmonic adds
_OCTAVE_MAX = 10  # highest ratio tried
_FLOOR = 1e-12  # relative residual floor (above the rounding of nested RSS): noiseless fits tie, the penalty decides
_COARSE_FLOOR = 2e-2  # the coarse grid's own error (~1 %): below it, fits tie and the lowest order wins
_CHUNK = 64  # windows per coarse batch (memory)
_GN_STEPS = 10
_TUKEY, _HUBER = 4.685, 1.345


@functools.lru_cache(maxsize=16)
def _plan(window: int, lo: float, hi: float, kcap: int, oversample: int, trend: int):
    """The coarse stage's fixed part: a grid of fundamentals fine enough that the highest harmonic
    of each lands within ``1/(2 oversample)`` cycle of a true one, and per order ``K`` the FFT bins
    of the harmonics, the phase that centres time, and the inverse Cholesky factor of the Gram
    matrix of their (nuisance-free, interleaved) columns: exact nested fit energies."""
    grid, f = [], lo
    while f < hi:
        grid.append(f)
        f += 1.0 / (oversample * max(1, min(kcap, int(np.ceil(window / (2.0 * f))) - 1)))
    grid = np.array(grid + [hi])
    orders = np.maximum(1, np.minimum(kcap, np.ceil(window / (2.0 * grid)).astype(int) - 1))
    basis = _nuisance_basis(window, trend)
    t = (np.arange(window) - (window - 1) / 2) / window
    m = 8 * oversample * window
    groups = []
    for order in np.unique(orders):
        g = np.flatnonzero(orders == order)
        bins = np.minimum(np.rint(grid[g, None] * np.arange(1, order + 1) * m / window).astype(int), m // 2)
        phase = np.exp(1j * np.pi * bins * (window / m) * (window - 1) / window)
        a = _design(grid[g], int(order), t, basis, interleave=True)[:, len(basis):]
        a = a - (a @ basis.T) @ basis
        gram = a @ np.swapaxes(a, 1, 2)
        gram += np.eye(2 * order) * (1e-10 * np.trace(gram, axis1=1, axis2=2)[:, None, None] / (2 * order))
        groups.append((g, int(order), bins, phase, np.linalg.inv(np.linalg.cholesky(gram))))
    return grid, orders, groups, m


def _nuisance_basis(window: int, trend: int) -> np.ndarray:
    """Orthonormal basis ``[trend + 1, N]`` of polynomials of degree ``<= trend`` in time."""
    u = np.linspace(-1.0, 1.0, window)
    q, _ = np.linalg.qr(np.polynomial.legendre.legvander(u, trend))
    return q.T


def _criterion(rss, total, dof, orders, window, floor=_FLOOR):
    """MAP criterion ``N ln(RSS / dof) + K ln N``, the RSS floored relative to the window's energy."""
    rss = np.maximum(rss, floor * total + 1e-300)
    return window * np.log(rss / np.maximum(dof, 1.0)) + orders * np.log(window)


def _coarse(x, plan, basis, candidates):
    """Best ``candidates`` local minima over the grid of ``min_K J``: fundamentals ``[B, C]``,
    orders ``[B, C]`` and a mask of real ones. ``J`` is floored at the grid's own error (fits
    better than that tie, the lowest order wins), ties broken by the unfloored ``J``, whose
    best order is the one returned (the most harmonics the data support, for the refinement).
    The fit energies of ``K = 1, 2, ...`` harmonics at
    each grid point come from a zero-padded FFT (the inner products) whitened by the Gram matrix."""
    grid, orders, groups, m = plan
    window = x.shape[-1]
    x = x - (x @ basis.T) @ basis
    total = (x * x).sum(-1, keepdims=True)
    spectrum = np.fft.rfft(x, n=m, axis=-1)
    best, order = np.empty((len(x), len(grid))), np.empty((len(x), len(grid)), int)
    for g, kk, bins, phase, whiten in groups:
        z = spectrum[:, bins] * phase  # [B, G, K]: sum x e^(-2 pi i k f t)
        z = np.stack([z.real, -z.imag], -1).reshape(len(x), len(g), 2 * kk)
        y = np.swapaxes(z, 0, 1) @ np.swapaxes(whiten, 1, 2)  # [G, B, 2K]
        energy = np.cumsum(y * y, -1)[..., 1::2]
        k = np.arange(1, kk + 1)
        dof = window - len(basis) - 2 * k
        j = _criterion(total[None] - energy, total[None], dof, k, window, _COARSE_FLOOR)
        raw = _criterion(total[None] - energy, total[None], dof, k, window)
        best[:, g], order[:, g] = (j.min(-1) + 1e-6 * raw.min(-1)).T, (np.argmin(raw, -1) + 1).T
    pad = np.full((len(x), 1), np.inf)
    left, right = np.concatenate([pad, best[:, :-1]], -1), np.concatenate([best[:, 1:], pad], -1)
    score = np.where((best < left) & (best <= right), best, np.inf)
    c = min(candidates, score.shape[-1])
    pick = np.argsort(score, axis=-1)[:, :c]
    valid = np.isfinite(np.take_along_axis(score, pick, -1))
    return grid[pick], np.take_along_axis(order, pick, -1), valid


def _design(f, orders: int, t, basis, interleave=False):
    """Columns ``[B, p, N]``: the nuisance, then ``cos``/``sin`` of harmonics ``1..orders`` (grouped,
    or interleaved ``c1 s1 c2 s2 ...`` so the first columns are the lower orders)."""
    arg = 2.0 * np.pi * f[:, None, None] * np.arange(1, orders + 1)[None, :, None] * t
    c, s = np.cos(arg), np.sin(arg)
    h = np.stack([c, s], 2).reshape(len(f), 2 * orders, -1) if interleave else np.concatenate([c, s], 1)
    return np.concatenate([np.broadcast_to(basis, (len(f),) + basis.shape), h], 1)


def _weights(r, huber: bool):
    """IRLS weights from residuals ``[B, N]`` and their MAD scale (Huber, or Tukey's bisquare)."""
    scale = 1.4826 * np.median(np.abs(r), -1, keepdims=True)
    z = np.abs(r) / np.maximum(scale, 1e-12 * np.abs(r).max(-1, keepdims=True) + 1e-300)
    return np.minimum(1.0, _HUBER / np.maximum(z, 1e-300)) if huber else np.clip(1.0 - (z / _TUKEY) ** 2, 0.0, 1.0) ** 2


def _fit(x, sw, f, orders: int, t, basis):
    """Weighted least squares at ``f``: residual ``[B, N]``, weighted RSS and the Gauss–Newton
    (variable projection) step on ``f``."""
    a = _design(f, orders, t, basis)
    q, r = np.linalg.qr(np.swapaxes(a * sw[:, None, :], 1, 2))  # [B, N, p], [B, p, p]
    xw = sw * x
    z = np.einsum("bnp,bn->bp", q, xw)
    d = np.abs(np.diagonal(r, 0, 1, 2))
    r = r + np.eye(r.shape[-1]) * np.where(d < 1e-12 * d.max(-1, keepdims=True) + 1e-300, 1e-12, 0.0)[:, None, :]
    theta = np.linalg.solve(r, z[..., None])[..., 0]
    resid = x - np.einsum("bp,bpn->bn", theta, a)
    nb, kk = len(basis), np.arange(1, orders + 1)
    cos_a, sin_b = theta[:, nb:nb + orders] * kk, theta[:, nb + orders:] * kk
    deriv = 2.0 * np.pi * t * (np.einsum("bk,bkn->bn", sin_b, a[:, nb:nb + orders])
                               - np.einsum("bk,bkn->bn", cos_a, a[:, nb + orders:]))
    dw = sw * deriv
    dperp = dw - np.einsum("bnp,bp->bn", q, np.einsum("bnp,bn->bp", q, dw))
    den = (dperp * dperp).sum(-1)
    step = np.where(den > 0, (dw * sw * resid).sum(-1) / np.where(den > 0, den, 1.0), 0.0)
    return resid, (sw * sw * resid * resid).sum(-1), step


def _newton(x, sw, f, orders, t, basis, lo, hi, steps, limit):
    """Gauss–Newton on ``f`` with backtracking (a worse point halves the step from the best one)."""
    best_f, best_rss, step = f.copy(), np.full(len(f), np.inf), np.zeros(len(f))
    resid = None
    for _ in range(steps):
        res, rss, new = _fit(x, sw, f, orders, t, basis)
        better = rss <= best_rss * (1.0 + 1e-12)
        best_f, best_rss = np.where(better, f, best_f), np.where(better, rss, best_rss)
        resid = res if resid is None else np.where(better[:, None], res, resid)
        step = np.where(better, np.clip(new, -limit, limit), step / 2.0)
        f = np.clip(best_f + step, lo, hi)
        if np.all(np.abs(f - best_f) < 1e-11):
            break
    return best_f, resid


def _refine(x, f, orders: int, t, basis, lo, hi, robust: bool, limit):
    """NLS fundamental for one order (windows ``[B, N]`` from ``f``), the final IRLS weights and residual."""
    hi = min(hi, x.shape[-1] / (2.0 * orders) * (1.0 - 1e-9))
    f = np.clip(f, lo, hi)
    sw = np.ones_like(x)
    f, resid = _newton(x, sw, f, orders, t, basis, lo, hi, 3 if robust else _GN_STEPS, limit)
    if robust:
        for i in range(3):
            sw = np.sqrt(_weights(resid, huber=i == 0))
            f, resid = _newton(x, sw, f, orders, t, basis, lo, hi, 4, limit)
    return f, sw * sw, resid


def _orders(x, w, f, kcap: int, t, basis):
    """MAP criterion ``[B, K]`` at ``f`` for every order, from one QR of the interleaved design
    (nested orders: the RSS of the first columns is the energy left after them)."""
    window, nb = x.shape[-1], len(basis)
    kmax = np.maximum(1, np.minimum(kcap, np.ceil(window / (2.0 * f)).astype(int) - 1))
    a = _design(f, int(kmax.max()), t, basis, interleave=True)
    valid_col = np.arange(a.shape[1]) < (nb + 2 * kmax)[:, None]
    sw = np.sqrt(w)
    q, _ = np.linalg.qr(np.swapaxes(a * valid_col[..., None] * sw[:, None, :], 1, 2))
    z2 = np.einsum("bnp,bn->bp", q, sw * x) ** 2 * valid_col
    total = (w * x * x).sum(-1, keepdims=True)
    rss = total - np.cumsum(z2, -1)[:, nb + 1::2]  # after nuisance + k harmonics, k = 1..
    k = np.arange(1, rss.shape[-1] + 1)
    j = _criterion(rss, total, w.sum(-1, keepdims=True) - nb - 2 * k, k, window)
    return np.where(k <= kmax[:, None], j, np.inf)


def _solve(x, f, k, kcap, t, basis, lo, hi, robust, limit):
    """Refine every candidate at its order, re-select the order at the refined fundamental,
    and refine again while the order changes (at most twice): fundamentals, orders, criteria."""
    w, resid = np.ones_like(x), np.zeros_like(x)
    todo = np.ones(len(x), bool)
    score = np.full(len(x), np.inf)
    for _ in range(3):
        for order in np.unique(k[todo]):
            sel = np.flatnonzero(todo & (k == order))
            f[sel], w[sel], resid[sel] = _refine(x[sel], f[sel], int(order), t, basis, lo, hi, robust, limit[sel])
        sel = np.flatnonzero(todo)
        j = _orders(x[sel], w[sel], f[sel], kcap, t, basis)
        score[sel] = np.take_along_axis(j, k[sel, None] - 1, -1)[:, 0]
        new = np.argmin(j, -1) + 1
        todo[:] = False
        todo[sel] = new != k[sel]
        k[sel] = new
        if not todo.any():
            break
    return f, k, score, w


def _rss(x, w, f, ks, t, basis):
    """Weighted RSS ``[B]`` of the least-squares fit of the nuisance and harmonics ``ks [B, J]``
    (0 marks an unused slot) at fundamentals ``f [B]``."""
    ks = -np.sort(-ks, -1)  # unused slots last: zero columns only after every used one
    arg = 2.0 * np.pi * (f[:, None] * ks)[..., None] * t
    used = (ks > 0)[..., None]
    h = np.stack([np.cos(arg) * used, np.sin(arg) * used], 2).reshape(len(f), -1, len(t))
    a = np.concatenate([np.broadcast_to(basis, (len(f),) + basis.shape), h], 1)
    sw = np.sqrt(w)
    q, r = np.linalg.qr(np.swapaxes(a * sw[:, None, :], 1, 2))
    keep = np.abs(np.diagonal(r, 0, 1, 2)) > 1e-10 * np.abs(np.diagonal(r, 0, 1, 2)).max(-1, keepdims=True)
    z = np.einsum("bnp,bn->bp", q, sw * x) * keep
    return (w * x * x).sum(-1) - (z * z).sum(-1)


def _f_test(stat, d1, d2):
    """Upper tail of the F distribution, by Paulson's normal approximation (to a few per cent)."""
    a, b = 2.0 / (9.0 * d1), 2.0 / (9.0 * d2)
    c = np.cbrt(stat)
    z = ((1.0 - b) * c - (1.0 - a)) / np.sqrt(b * c * c + a)
    return 0.5 * np.vectorize(math.erfc, otypes=[float])(z / np.sqrt(2.0)) if z.size else z


def _octaves(x, w, f, k, t, basis, lo, hi, robust, oversample):
    """Subharmonic check: at ``f / m``-type errors only the harmonics at multiples of ``m`` carry
    signal. For each ``m = 2..`` the harmonics off those multiples are tested jointly (their
    energy against the residual variance: an F test with ``2 d`` and ``N - p`` degrees of freedom);
    where they are insignificant at ``_OCTAVE_ALPHA`` the largest such ``m``
    wins: ``m f`` is refined again with ``K // m`` harmonics."""
    kk = np.arange(1, k.max() + 1)
    full = np.where(kk <= k[:, None], kk, 0)
    rss = _rss(x, w, f, full, t, basis)
    dof = np.maximum(w.sum(-1) - len(basis) - 2 * k, 1.0)
    var = np.maximum(rss, _FLOOR * (w * x * x).sum(-1)) / dof
    best = np.ones(len(f), int)
    for m in range(2, min(int(k.max()), _OCTAVE_MAX) + 1):
        sel = np.flatnonzero((k >= m) & (m * f <= hi))
        if len(sel) == 0:
            continue
        sub = _rss(x[sel], w[sel], f[sel], np.where(full[sel] % m == 0, full[sel], 0), t, basis)
        d1 = 2.0 * (k[sel] - k[sel] // m)
        best[sel] = np.where(_f_test(np.maximum(sub - rss[sel], 0.0) / d1 / var[sel], d1, dof[sel]) > _OCTAVE_ALPHA,
                             m, best[sel])
    moved = np.flatnonzero(best > 1)
    f, k = f.copy(), k.copy()
    for order in np.unique(k[moved] // best[moved]):
        sel = moved[k[moved] // best[moved] == order]
        limit = np.full(len(sel), 1.0 / (oversample * order))
        f[sel] = _refine(x[sel], f[sel] * best[sel], int(order), t, basis, lo, hi, robust, limit)[0]
        k[sel] = order
    return f, k


def harmonic_frequency(x, fmin=None, fmax=None, max_harmonics=None, trend=0, robust=False, oversample=8,
                       return_order=False):
    """Fundamental frequency of each window by the harmonic NLS (ML) estimator with MAP order selection.

    The maximum-likelihood estimate for a harmonic signal (any waveform: pure tone, sawtooth,
    square, pulse train, weak or missing fundamental) in white Gaussian noise, with the
    number of harmonics ``K`` chosen per window by the MAP rule (see the module docstring;
    Christensen & Jakobsson 2009, §2.6; Stoica & Selén 2004):

    1. coarse: harmonic summation over a grid of fundamentals in ``[fmin, fmax]`` (on a
       zero-padded FFT, cumulative over the orders), the criterion ``J(f, K)`` for every
       order, and the best few local minima of ``min_K J`` (subharmonics and octaves
       included) as candidates;
    2. refine: each candidate by Gauss–Newton (variable projection) on the exact
       least-squares fit of all columns, nuisance included, at its order; re-select the
       order there and refine again if it changed. The candidate of lowest exact criterion
       wins. Noiseless harmonic windows come out exact (to ~1e-9 cycles/window).

    Args:
        x: real windows, shape ``[..., N]``.
        fmin, fmax: search range of the fundamental in cycles per window, inside ``(0, N/2)``
            (default ``[1, N/2 - 1/oversample]``: below one cycle per window a "fundamental"
            is ill-defined).
        max_harmonics: highest order considered (default: every harmonic below Nyquist,
            leaving 3 residual degrees of freedom).
        trend: degree of the polynomial nuisance fitted jointly with the harmonics
            (0: offset only, up to ``MAX_HARMONIC_TREND = 3``): the ML estimate on a slow
            baseline, where removing a fitted trend first would bias low fundamentals.
        robust: iteratively reweighted least squares (Huber, then Tukey's bisquare, from a
            MAD scale) in the refinement and in the criterion, so impulsive spikes do not win.
        oversample: coarse grid density (the highest harmonic lands within
            ``1/(2 oversample)`` cycle of the truth).
        return_order: also return the chosen number of harmonics.

    Returns:
        float64 array of shape ``x.shape[:-1]``: fundamentals in cycles per window; with
        ``return_order``, ``(frequencies, orders)`` (orders an int array of the same shape).

    Example (a band-limited sawtooth, five harmonics, and its missing-fundamental twin):

    >>> n = np.arange(100)
    >>> saw = sum(np.sin(2 * np.pi * k * 7.3 * (n - 49.5) / 100) / k for k in range(1, 6))
    >>> f, k = harmonic_frequency(saw, return_order=True)
    >>> round(float(f), 9), int(k)
    (7.3, 5)
    >>> round(float(harmonic_frequency(saw - np.sin(2 * np.pi * 7.3 * (n - 49.5) / 100))), 9)
    7.3
    """
    x = as_windows(x)
    window = x.shape[-1]
    check_search_range(fmin, fmax, window)
    check_positive_int(oversample=oversample)
    if max_harmonics is not None:
        check_positive_int(max_harmonics=max_harmonics)
    if isinstance(trend, bool) or not isinstance(trend, numbers.Integral) or not 0 <= trend <= MAX_HARMONIC_TREND:
        raise ValueError(f"trend must be a polynomial degree in 0..{MAX_HARMONIC_TREND}, got {trend!r}")
    if not isinstance(robust, (bool, np.bool_)):
        raise ValueError(f"robust must be True or False, got {robust!r}")
    kcap = (window - trend - 1 - max(_MIN_DOF, window // 5)) // 2
    if kcap < 1:
        raise ValueError(f"window of {window} samples is too short for a trend of degree {trend} "
                         f"and one harmonic ({trend + 3 + _MIN_DOF} samples needed)")
    kcap = kcap if max_harmonics is None else min(kcap, int(max_harmonics))
    hi = window / 2 - 1.0 / oversample if fmax is None else float(fmax)
    lo = min(1.0, hi) if fmin is None else float(fmin)
    plan = _plan(window, lo, hi, kcap, int(oversample), int(trend))
    basis = _nuisance_basis(window, int(trend))
    t = (np.arange(window) - (window - 1) / 2) / window
    shape = x.shape[:-1]
    flat = x.reshape(-1, window)
    flat = flat - flat.mean(-1, keepdims=True)
    flat = flat / np.maximum(np.abs(flat).max(-1, keepdims=True), 1e-300)
    out_f, out_k = np.empty(len(flat)), np.empty(len(flat), int)
    for start in range(0, len(flat), _CHUNK):
        xb = flat[start:start + _CHUNK]
        fc, kc, valid = _coarse(xb, plan, basis, _CANDIDATES)
        row, col = np.nonzero(valid)
        limit = 1.0 / (oversample * kc[row, col])  # a coarse cell at that order
        f, k, score, w = _solve(xb[row], fc[row, col], kc[row, col], kcap, t, basis, lo, hi, robust, limit)
        table = np.full(fc.shape, np.inf)
        table[row, col] = score
        best = np.argmin(table, -1)
        index = np.full(fc.shape, -1)
        index[row, col] = np.arange(len(row))
        pick = index[np.arange(len(xb)), best]
        f, k = _octaves(xb, w[pick], f[pick], k[pick], t, basis, lo, hi, robust, oversample)
        out_f[start:start + len(xb)], out_k[start:start + len(xb)] = f, k
    out_f, out_k = out_f.reshape(shape), out_k.reshape(shape)
    return (out_f, out_k) if return_order else out_f

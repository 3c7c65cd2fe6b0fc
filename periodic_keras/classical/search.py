"""The frequency search behind :mod:`periodic_keras.classical.fitting`: periodograms on a grid, the
default band, and the candidate peaks that the least-squares fit starts from.

Regular ``x``: an FFT. Irregular ``x``: the generalised (floating-mean, weighted)
Lomb–Scargle periodogram by block products, or, when ``len(x) * grid points`` is large, a
Schuster periodogram by extirpolation onto an FFT mesh (:mod:`periodic_keras.classical.nufft`).
The strongest peaks are then polished on the exact periodogram. NumPy only.
"""

from __future__ import annotations

import math
import os
import sys
import warnings

import numpy as np

from periodic_keras.classical import nufft

_MEMORY_BYTES = 32 * 2**20  # working-set target of one periodogram evaluation
#: Most grid points (the FFT length for regular x) one frequency search may use: its arrays
#: take up to about 130 bytes per point, 2.6 GB at this limit (measured, 50 irregular samples).
MAX_GRID_POINTS = 20_000_000
TWO_PI = 2.0 * math.pi
#: Largest FFT mesh the *default* band of irregular x may use (about 0.3 s and 100 MB): a
#: wider band that the samples could resolve is truncated to it, with a warning.
MAX_DEFAULT_MESH = 2**22
#: Periodogram peaks examined per tone: each is polished on the exact periodogram and the
#: best are fitted (the best least-squares fit wins), so the global maximum wins even when
#: the grid samples a neighbouring peak higher (clustered sampling: dozens of near-equal fringes).
CANDIDATES = 32
FITTED = 3  # of those, the highest after polishing get a full least-squares fit
# Above this many (samples x grid points), irregular x is searched by extirpolation + FFT.
_DIRECT_SUMS = 20_000_000


def trig_sums(t, rows, omegas) -> np.ndarray:
    """``sum_n rows[r, n] exp(1j omegas[j] t[n])``, shape ``[len(rows), len(omegas)]``.

    On a uniform grid, ``exp(1j (w0 + (b B + k) h) t) = exp(1j (w0 + b B h) t) exp(1j k h t)``:
    one complex exponential per block of ``B`` frequencies and a matrix product, instead
    of one exponential per frequency and sample; both factors are exact exponentials, so no
    error accumulates. Any other grid is evaluated directly. Both work in chunks of about
    ``_MEMORY_BYTES``.
    """
    n, m, count = t.size, rows.shape[0], omegas.size
    out = np.empty((m, count), dtype=np.complex128)
    h = (omegas[-1] - omegas[0]) / max(count - 1, 1)
    gap = np.max(np.abs(omegas - (omegas[0] + h * np.arange(count))))
    uniform = count > 2 and gap <= 1e-12 * np.max(np.abs(omegas))
    if not uniform:
        chunk = max(1, _MEMORY_BYTES // (48 * n))
        for i in range(0, count, chunk):
            out[:, i:i + chunk] = rows @ np.exp(np.outer(1j * t, omegas[i:i + chunk]))
        return out
    block = max(1, min(math.ceil(math.sqrt(count)), _MEMORY_BYTES // (64 * n)))
    starts = omegas[0] + h * block * np.arange(-(-count // block))
    inner = np.exp(np.outer(1j * t, h * np.arange(block)))  # [n, block]
    chunk = max(1, _MEMORY_BYTES // (48 * n))
    blocks = np.empty((m, starts.size, block), dtype=np.complex128)
    for i in range(0, starts.size, chunk):
        base = np.exp(np.outer(starts[i:i + chunk], 1j * t))  # [chunk, n]
        for r in range(m):
            blocks[r, i:i + chunk] = (base * rows[r]) @ inner
    return blocks.reshape(m, -1)[:, :count]


def ls_power(s1, s0, s2, w, y) -> np.ndarray:
    """Generalised Lomb–Scargle power from ``S1 = sum w y e^{iwt}``, ``S0 = sum w e^{iwt}``,
    ``S2 = sum w e^{2iwt}`` (weights ``w`` summing to 1): fraction of variance explained."""
    y_mean = w @ y
    y_var = w @ (y - y_mean) ** 2
    c, s = s0.real, s0.imag
    cc = 0.5 * (1.0 + s2.real) - c * c
    ss = 0.5 * (1.0 - s2.real) - s * s
    cs = 0.5 * s2.imag - c * s
    yc, ys = s1.real - y_mean * c, s1.imag - y_mean * s
    det = cc * ss - cs * cs
    ok = det > 1e-10  # ~0 at omega -> 0 and at the Nyquist frequency of regular x: no sine fits there
    power = (ss * yc**2 + cc * ys**2 - 2.0 * cs * yc * ys) / np.where(ok, det, 1.0)
    return np.where(ok, power / y_var, 0.0) if y_var > 0 else np.zeros_like(det)


def regular_step(t):
    """The step ``dt`` if sorted ``t`` is regularly spaced (to 1e-9 of a step), else None."""
    dt = (t[-1] - t[0]) / (t.size - 1)
    ok = dt > 0 and np.max(np.abs(t - t[0] - dt * np.arange(t.size))) <= 1e-9 * dt
    return dt if ok else None


def frequency_grid(t, w, dt, lo, hi, oversample):
    """Search grid and a function giving the periodogram of residuals on it.

    Regular ``t``: an FFT zero-padded to ``oversample * n`` points; ``S2`` reads the
    weight spectrum at bin ``2k``. Otherwise a uniform grid over ``[lo, hi]`` and :func:`trig_sums`.
    Raises ``ValueError`` before allocating if either needs more than ``MAX_GRID_POINTS``.
    """
    if dt is not None:
        m = math.ceil(oversample * t.size)
        if m > MAX_GRID_POINTS:
            raise ValueError(f"oversample={oversample:g} needs an FFT of {m:.3g} points for {t.size} regularly spaced "
                             f"samples, above MAX_GRID_POINTS={MAX_GRID_POINTS:.3g}: lower oversample")
        step = TWO_PI / (m * dt)
        k = np.arange(math.ceil(lo / step), math.floor(hi / step) + 1)
        if k.size > 2:
            spec_w = m * np.fft.ifft(w, m)  # sum_n w_n e^{i omega_k n dt}: t from t[0], the power is shift-invariant
            s0, s2 = spec_w[k], spec_w[(2 * k) % m]
            return k * step, lambda v: ls_power(m * np.fft.ifft(w * v, m)[k], s0, s2, w, v)
    count = max(3, math.ceil((hi - lo) * oversample * (t[-1] - t[0]) / TWO_PI) + 1)
    if count > MAX_GRID_POINTS:
        raise ValueError(f"max_frequency={hi:g} with oversample={oversample:g} needs {count:.3g} grid points over "
                         f"[{lo:.3g}, {hi:.3g}] rad/unit (span {t[-1] - t[0]:.3g}), above MAX_GRID_POINTS="
                         f"{MAX_GRID_POINTS:.3g}: lower max_frequency or oversample, or raise min_frequency")
    if count * t.size > _DIRECT_SUMS:  # extirpolation: a mesh FFT instead of count x n products
        step = TWO_PI / (oversample * (t[-1] - t[0]))
        if (mesh := nufft.mesh_length(step, hi)) > MAX_GRID_POINTS:
            raise ValueError(f"max_frequency={hi:g} with oversample={oversample:g} needs an FFT mesh of {mesh:.3g} "
                             f"points over [{lo:.3g}, {hi:.3g}] rad/unit (span {t[-1] - t[0]:.3g}), above "
                             f"MAX_GRID_POINTS={MAX_GRID_POINTS:.3g}: lower max_frequency or oversample")
        k = np.arange(max(1, math.ceil(lo / step)), math.floor(hi / step) + 1)

        def power(v):
            """Schuster periodogram of the weighted, demeaned residual: fraction of its variance."""
            v = v - w @ v
            var = w @ (v * v)
            p = np.abs(nufft.grid_sums(t, w * v, step, k, hi)) ** 2
            return 2.0 * p / var if var > 0 else np.zeros(k.size)

        return k * step, power
    omegas = np.linspace(lo, hi, count)
    s0, s2 = trig_sums(t, w[None], omegas)[0], trig_sums(2.0 * t, w[None], omegas)[0]
    return omegas, lambda v: ls_power(trig_sums(t, (w * v)[None], omegas)[0], s0, s2, w, v)


def _lattice_step(gaps, most=16):
    """The step ``h`` when every spacing is a whole multiple of it (to 1e-6), e.g. daily data
    with missing days; ``h`` is the smallest spacing over 1..``most``. None otherwise."""
    smallest = float(gaps.min())
    for m in range(1, most + 1):
        ratio = gaps * (m / smallest)
        if np.max(np.abs(ratio - np.round(ratio))) <= 1e-6:
            return smallest / m
    return None


def default_max_frequency(t, dt, oversample):
    """Highest angular frequency searched by default: Nyquist for regular ``t``, and for
    regular ``t`` with gaps (every spacing a whole multiple of a step ``h``: frequencies
    ``2 pi / h`` apart are the same on such samples) ``pi / h``; for other irregular ``t``, ``pi`` over the 1st percentile of the positive spacings (what 1 % of neighbouring
    samples resolve), truncated, with a warning, to the band :data:`MAX_DEFAULT_MESH` allows
    (but not below ``pi / median(spacing)``)."""
    if dt is not None:
        return math.pi / dt
    gaps = np.diff(t)
    gaps = gaps[gaps > 0]
    if (step := _lattice_step(gaps)) is not None:
        return math.pi / step
    resolvable = math.pi / float(np.quantile(gaps, 0.01))
    step = TWO_PI / (oversample * (t[-1] - t[0]))
    # Never below the average spacing's Nyquist frequency (a grid too large even for that is refused).
    affordable = max(MAX_DEFAULT_MESH * step / (2.0 * nufft.MESH_FACTOR), math.pi / float(np.median(gaps)))
    if resolvable > affordable:
        warnings.warn(f"the samples resolve frequencies up to {resolvable:.4g} rad per unit of x, but the default "
                      f"search stops at {affordable:.4g} (an FFT mesh of {MAX_DEFAULT_MESH} points); pass "
                      "max_frequency to search higher", stacklevel=_caller_level())
        return affordable
    return resolvable


def _caller_level() -> int:
    """``stacklevel`` of the first frame outside this package, for the caller of ``warnings.warn``:
    the warning then names the user's line, whichever public function they called."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package + os.sep):
        frame, level = frame.f_back, level + 1
    return level


def peak_candidates(grid, power, count, keep=3, share=0.5):
    """The ``count`` highest local maxima of ``power`` on ``grid`` (highest first), without
    those below ``share`` of the highest beyond the first ``keep``: a grid a fifth of a peak
    width apart samples every peak at 60 % of its height or more, so those cannot be the
    global maximum, while near-equal fringes (clustered sampling) all stay."""
    inner = np.flatnonzero((power[1:-1] >= power[:-2]) & (power[1:-1] > power[2:])) + 1
    idx = np.concatenate([inner, [j for j, k in ((0, 1), (grid.size - 1, grid.size - 2)) if power[j] > power[k]]])
    idx = idx.astype(np.int64) if idx.size else np.array([int(np.argmax(power))])
    idx = idx[np.argsort(-power[idx], kind="stable")][:count]
    return grid[idx[(np.arange(idx.size) < keep) | (power[idx] >= share * power[idx[0]])]]


#: From this many samples on, :func:`polish_peaks` evaluates its sums through shared phasors
#: (below it, :func:`trig_sums` as before).
POLISH_SHARED = 16_384


def _lattice(t, block=1024):
    """``(k // block, k % block, t0, h, block)`` when sorted ``t`` is ``t0 + k h`` for integers
    ``k`` to rounding (regular samples, or regular with gaps: a forecaster's series), else None."""
    gaps = np.diff(t)
    if gaps.size == 0 or gaps.min() <= 0:
        return None
    h = float(gaps.min())
    k = np.round((t - t[0]) / h)
    if k[-1] > 64 * t.size or np.max(np.abs(t[0] + k * h - t)) > 4.0 * np.spacing(np.max(np.abs(t))):
        return None
    k = k.astype(np.int64)
    return k // block, k % block, float(t[0]), h, block


def _shared_sums(t, lattice, wv, w, om):
    """``S1 = sum wv e^{i om t}``, ``S0 = sum w e^{i om t}``, ``S2 = sum w e^{2 i om t}`` for
    every ``om``: one phasor per sample and frequency serves all three (``e^{2i om t}`` is
    its square); on a lattice ``t0 + k h`` the phasor is the product of two tabulated exact
    exponentials, ``e^{i om (t0 + B h (k // B))} e^{i om h (k % B)}``, not an exponential per
    sample. Chunked to about ``_MEMORY_BYTES``."""
    m = om.size
    s1, s0, s2 = (np.zeros(m, dtype=np.complex128) for _ in range(3))
    chunk = max(1, _MEMORY_BYTES // (32 * m))
    if lattice is not None:
        hi, lo, t0, h, block = lattice
        outer = np.exp(1j * np.outer(t0 + h * block * np.arange(int(hi[-1]) + 1), om))
        inner = np.exp(1j * np.outer(h * np.arange(block), om))
    for i in range(0, t.size, chunk):
        part = slice(i, i + chunk)
        e = outer[hi[part]] * inner[lo[part]] if lattice is not None else np.exp(1j * np.outer(t[part], om))
        s1 += wv[part] @ e
        s0 += w[part] @ e
        s2 += w[part] @ (e * e)
    return s1, s0, s2


def polish_peaks(t, w, v, omegas, width, iterations=12):
    """Golden-section search of each ``omegas[j] +- width`` for the maximum of the exact
    generalised Lomb–Scargle power of ``v``, vectorised over the candidates. From
    :data:`POLISH_SHARED` samples on, the three sums share their phasors (:func:`_shared_sums`,
    equal to rounding): a million samples cost seconds per tone, not a minute."""
    if t.size >= POLISH_SHARED:
        lattice = _lattice(t)

        def power(om):
            return ls_power(*_shared_sums(t, lattice, w * v, w, om), w, v)
    else:
        def power(om):
            return ls_power(trig_sums(t, (w * v)[None], om)[0], trig_sums(t, w[None], om)[0],
                            trig_sums(2.0 * t, w[None], om)[0], w, v)

    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    a, b = omegas - width, omegas + width
    p, q = b - ratio * (b - a), a + ratio * (b - a)
    fp, fq = power(p), power(q)
    for _ in range(iterations):
        left = fp >= fq  # the maximum lies in [a, q]
        a, b = np.where(left, a, p), np.where(left, q, b)
        new = np.where(left, b - ratio * (b - a), a + ratio * (b - a))
        f_new = power(new)
        p, q, fp, fq = (np.where(left, new, q), np.where(left, p, new),
                        np.where(left, f_new, fq), np.where(left, fp, f_new))
    return np.where(fp >= fq, p, q), np.maximum(fp, fq)

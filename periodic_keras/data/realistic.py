"""Realistic windows for frequency estimation: harmonic waveforms, coloured noise, baselines,
spikes, clipping, modulation, drift, quantisation and lost samples (pure NumPy, no TensorFlow).

A window holds ``N = window`` samples at times ``t_n = n / N``; its truth is always the
*fundamental frequency* ``f0`` in cycles per window, drawn uniformly (continuous) in
``[fmin, fmax]``.  Every window is finally mapped to ``x = s * y + c`` with a random scale
``s = 10**U(-1, 1)`` and offset ``c = U(-3, 3) * s``, so a model must be invariant to both.
The periodic part is normalised to mean power 1/2 (a unit sine) before its envelope.

Noise: white Gaussian at an SNR (periodic-signal power / noise power, the power being
``mean(envelope**2) * sum_k A_k**2 / 2``, so a ``tone`` has ``A**2 / (2 sigma**2)`` exactly as in
:func:`periodic_keras.signals.sine_windows`) drawn per window uniformly in ``snr_db``;
``round(clean_fraction * n)`` windows are noiseless (``snr_db = inf``), chosen at random.
Baselines, interferers and spikes are *not* noise: they do not enter the SNR.

Kinds (:data:`KINDS`) and what ``f0`` means for each:

* ``tone``: ``sin(2 pi f0 t + phi)`` in white noise; ``f0`` is its frequency.
* ``harmonic``: ``sum_k A_k sin(2 pi k f0 t + phi_k)`` over every ``k`` with ``k f0 < N/2``,
  the profile one of sawtooth (``A_k = 1/k``), square (odd ``k``, ``1/k``), triangle (odd,
  ``1/k**2``), pulse (``|sinc(k d)|``, duty ``d`` in 0.05..0.3) or random (``k**-p`` times
  lognormal jitter, ``p`` in 0.5..2); phases random or the profile's own (shifted in time).
  ``f0`` is the waveform's fundamental (its period is ``1 / f0`` windows).
* ``weak_fundamental``: a harmonic waveform (sawtooth, pulse or random profile) whose ``A_1``
  is 0.05..0.3 of the strongest other harmonic; ``f0 < N/4`` (needs ``2 fmin < N/2``).
* ``missing_fundamental``: the same with ``A_1 = 0``; ``f0 < N/6`` so that harmonics 2 and 3
  lie below Nyquist (needs ``3 fmin < N/2``).  ``f0`` is still the fundamental (the period).
* ``baseline``: a tone or harmonic waveform (even odds, also for the kinds below) on a slow
  baseline of peak-to-peak 1..3 times the periodic part's: a random mix of a linear trend, a
  parabola, a smoothed random walk and a step (a level shift at a random sample).
* ``pink_noise``, ``brown_noise``: noise of power spectrum ``1/f`` or ``1/f**2`` (FFT shaping, no
  DC, scaled to the SNR); these windows are never noiseless (``clean_fraction`` skips them).
* ``impulsive``: 1..5 % of the samples hit by spikes of ``±(3..10)`` times the periodic RMS.
* ``clipped``: clipped at 30..80 % of the window's half range about its midpoint, on both
  sides or on one (signal and noise together, as a saturating sensor).
* ``interference``: a tone plus a weaker tone (0.1..0.5 of its amplitude) at ``f_i`` in
  ``[1, N/2 - 1)``, at least 2 cycles/window from ``f0`` and with ``|f_i/f0 - p/q| > 0.05``
  for ``p, q <= 4``; ``f0`` is the stronger tone's frequency.
* ``am``: envelope ``1 + m sin(2 pi fm t + psi)``, ``m`` in 0.2..0.8, ``fm <= min(f0/4, 3)``.
* ``damped``: envelope decaying exponentially to 5..50 % at ``t = 1``.
* ``drift``: linear chirp, instantaneous frequency ``fa + (fb - fa) t`` with
  ``|fb - fa| <= 0.1 f0``; ``f0 = (fa + fb) / 2``, the mean over ``0 <= t < 1``.
* ``quantised``: rounded to ``2**b`` levels (``b`` in 3..6) spanning the window's range.
* ``missing_samples``: 5..20 % of the samples lost, in runs of 1..10 (never sample 0), and
  filled per window either by holding the last good value or with zeros (exact 0.0 in ``x``).
* ``mixed``: a tone or harmonic waveform with 1..3 of baseline, coloured (pink or brown)
  noise, impulsive, clipped, am, drift, quantised, missing_samples: the realistic training mix.

Disturbances apply in the order of a sensor chain: envelope and drift; interferer, baseline
and noise; clipping; spikes; quantisation; scale and offset; lost samples.

Example:

>>> x, f0, info = realistic_windows(4, "harmonic", window=64, fmin=1, fmax=8, seed=0)
>>> x.shape, x.dtype.name, f0.shape, sorted(info)[:3]
((4, 64), 'float32', (4,), ['a_interferer', 'amplitudes', 'bits'])
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from periodic_keras import signals

__all__ = ["DISTURBANCES", "GROSS_ABSOLUTE", "GROSS_RELATIVE", "KINDS", "PROFILES", "check_kind", "gross_errors",
           "realistic_windows"]

#: Undisturbed waveforms (white noise only).
WAVEFORMS = ("tone", "harmonic", "weak_fundamental", "missing_fundamental")
#: Kinds that add one disturbance to a tone or harmonic waveform (``mixed`` combines them).
DISTURBANCES = ("baseline", "pink_noise", "brown_noise", "impulsive", "clipped", "interference", "am", "damped",
                "drift", "quantised", "missing_samples")
#: Every kind of window, in the order of ``kind_index``.
KINDS = WAVEFORMS + DISTURBANCES + ("mixed",)
#: What ``mixed`` draws 1..3 of (``coloured``: pink or brown noise, even odds).
MIXABLE = ("baseline", "coloured", "impulsive", "clipped", "am", "drift", "quantised", "missing_samples")
#: Harmonic amplitude profiles.
PROFILES = ("sawtooth", "square", "triangle", "pulse", "random")

#: A gross error: off by more than 3 % of the truth or 0.2 cycles/window, whichever is larger.
GROSS_RELATIVE = 0.03
GROSS_ABSOLUTE = 0.2

_RATIOS = np.array(sorted({p / q for p in range(1, 5) for q in range(1, 5)}))


def gross_errors(estimate, truth) -> np.ndarray:
    """True where ``|estimate - truth| > max(0.03 truth, 0.2)`` (cycles/window) or the estimate is NaN.

    >>> gross_errors([10.2, 10.5, 100.0, 100.0, np.nan], [10.0, 10.0, 103.0, 104.0, 5.0]).tolist()
    [False, True, False, True, True]
    """
    e, t = np.asarray(estimate, dtype=np.float64), np.asarray(truth, dtype=np.float64)
    return ~(np.abs(e - t) <= np.maximum(GROSS_RELATIVE * np.abs(t), GROSS_ABSOLUTE))


def check_kind(kind: str, window: int = 100, fmin: float = 1.0, fmax: float = 30.0) -> int:
    """The index of ``kind`` in :data:`KINDS`; ``ValueError`` if unknown or the window cannot hold it.

    >>> check_kind("missing_fundamental", window=16, fmin=3.0, fmax=7.0)
    Traceback (most recent call last):
    ...
    ValueError: kind 'missing_fundamental' needs harmonics 2 and 3 below Nyquist: 3*fmin=9 must be < window/2=8
    """
    if not isinstance(kind, str) or kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}: expected one of {', '.join(KINDS)}")
    signals.check_frequency_range(window, fmin, fmax)
    need = {"weak_fundamental": (2, "harmonic 2"), "missing_fundamental": (3, "harmonics 2 and 3")}.get(kind)
    if need and need[0] * fmin >= window / 2:
        raise ValueError(f"kind {kind!r} needs {need[1]} below Nyquist: {need[0]}*fmin={need[0] * fmin:g} "
                         f"must be < window/2={window / 2:g}")
    return KINDS.index(kind)


def realistic_windows(n: int, kind: str, window: int = 100, fmin: float = 1.0, fmax: float = 30.0,
                      snr_db=(0.0, 40.0), clean_fraction: float = 0.2, seed=None):
    """Random windows of one kind (see the module docstring) and their fundamental frequency.

    Args:
        n: number of windows (0 is a valid, empty request).
        kind: one of :data:`KINDS`.
        window: samples per window ``N``.
        fmin, fmax: range of ``f0`` in cycles per window, ``0 < fmin <= fmax < N/2``.
        snr_db: ``(low, high)`` range in dB to draw each window's SNR from, one number, or
            ``None`` for no noise at all.
        clean_fraction: fraction of the windows left noiseless, in ``[0, 1]``.
        seed: an int, ``SeedSequence`` or ``Generator``; equal seeds give equal data.

    Returns:
        ``(x, f0, info)``: windows ``[n, window]`` float32, ``f0`` ``[n]`` float32 and a dict of
        per-window arrays: ``snr_db`` (inf: noiseless), ``scale`` and ``offset`` (``x = scale * y +
        offset``), ``f_start`` and ``f_end`` (instantaneous frequency at ``t = 0`` and ``t = 1``),
        ``amplitudes`` (``[n, K]``, ``A_k`` of harmonic ``k = column + 1``, unit power),
        ``f_interferer`` (NaN if none) and ``a_interferer`` (relative to the tone; 0 if none),
        ``bits`` (0 if not quantised), ``lost`` (``[n, window]`` bool) and ``held`` (lost samples
        held, else zeroed), ``disturbances`` (``"+"``-joined names, ``""`` for none).

    Example:

    >>> x, f0, info = realistic_windows(3, "drift", window=64, fmin=2, fmax=10, seed=1)
    >>> bool(np.allclose((info["f_start"] + info["f_end"]) / 2, f0))
    True
    """
    index = check_kind(kind, window, fmin, fmax)
    signals.check_nonnegative_int(n=n)
    if isinstance(clean_fraction, bool) or not isinstance(clean_fraction, numbers.Real) \
            or not 0.0 <= clean_fraction <= 1.0:
        raise ValueError(f"clean_fraction must be a number in [0, 1], got {clean_fraction!r}")
    snr = None if snr_db is None else signals.check_range("snr_db", snr_db, -math.inf)
    return _generate(np.full(n, index), window, float(fmin), float(fmax), snr, float(clean_fraction),
                     signals.as_rng(seed))


def _generate(kind, N, fmin, fmax, snr_range, clean_fraction, rng):
    n, t = len(kind), np.arange(N) / N
    name = np.asarray(KINDS)[kind]
    flags = {d: name == d for d in DISTURBANCES}
    mixed = name == "mixed"
    if mixed.any():
        ranks = rng.random((mixed.sum(), len(MIXABLE))).argsort(1).argsort(1)
        chosen = ranks < rng.integers(1, 4, mixed.sum())[:, None]
        pink = rng.random(mixed.sum()) < 0.5
        for j, m in enumerate(MIXABLE):
            if m == "coloured":
                flags["pink_noise"][mixed], flags["brown_noise"][mixed] = chosen[:, j] & pink, chosen[:, j] & ~pink
            else:
                flags[m][mixed] = chosen[:, j]
    weak, missing = name == "weak_fundamental", name == "missing_fundamental"
    harmonic = rng.random(n) < 0.5
    harmonic[(name == "tone") | (name == "interference")] = False
    harmonic[np.isin(name, WAVEFORMS[1:])] = True

    # Frequencies: f0, the chirp's ends, the AM rate; the highest one present bounds the harmonics.
    cap = np.full(n, fmax)
    cap[weak], cap[missing] = min(fmax, N / 4 * (1 - 1e-9)), min(fmax, N / 6 * (1 - 1e-9))
    f0 = fmin + (np.maximum(cap, fmin) - fmin) * rng.random(n)
    r = np.clip(rng.uniform(-0.1, 0.1, n), -1.8 * (N / (2 * f0) - 1), 1.8 * (N / (2 * f0) - 1)) * flags["drift"]
    fa, fb = f0 * (1 - r / 2), f0 * (1 + r / 2)
    fm = rng.uniform(0.1, 1.0, n) * np.minimum(np.minimum(f0 / 4, 3.0), 0.9 * (N / 2 - np.maximum(fa, fb)))
    env = np.where(flags["am"][:, None],
                   1 + rng.uniform(0.2, 0.8, n)[:, None] * np.sin(2 * np.pi * (fm[:, None] * t + rng.random((n, 1)))),
                   1.0)
    env = env * np.where(flags["damped"][:, None], rng.uniform(0.05, 0.5, n)[:, None] ** t, 1.0)
    f_top = np.maximum(fa, fb) + np.where(flags["am"], fm, 0.0)

    # Harmonic amplitudes and phases, normalised to sum A_k**2 = 1 (power 1/2).
    A, phase = _amplitudes(n, int(math.ceil(N / 2 / fmin)), harmonic, weak | missing, rng)
    A[np.arange(1, A.shape[1] + 1) * f_top[:, None] >= N / 2] = 0.0
    A[weak, 0] = rng.uniform(0.05, 0.3, n)[weak] * A[weak, 1:].max(1)
    A[missing, 0] = 0.0
    A /= np.sqrt(np.sum(A**2, axis=1, keepdims=True))
    theta = 2 * np.pi * (fa[:, None] * t + (fb - fa)[:, None] * t**2 / 2)
    p = np.zeros((n, N))
    for j in range(A.shape[1]):
        rows = np.nonzero(A[:, j])[0]
        if len(rows):
            p[rows] += A[rows, j, None] * np.sin((j + 1) * theta[rows] + phase[rows, j, None])
    p *= env
    power = np.mean(env**2, axis=1) / 2

    # Noise at the SNR: white, or pink / brown (those windows are never the clean ones).
    coloured = flags["pink_noise"] | flags["brown_noise"]
    snr = np.full(n, np.inf) if snr_range is None else rng.uniform(*snr_range, n)
    eligible = rng.permutation(np.nonzero(~coloured)[0])
    snr[eligible[: int(round(len(eligible) * clean_fraction))]] = np.inf
    w = rng.standard_normal((n, N))
    if coloured.any():
        fr = np.arange(N // 2 + 1, dtype=np.float64)
        fr[0] = np.inf  # no DC
        gain = np.where(flags["pink_noise"][coloured, None], fr**-0.5, fr**-1.0)
        shaped = np.fft.irfft(np.fft.rfft(w[coloured], axis=1) * gain, n=N, axis=1)
        w[coloured] = shaped / shaped.std(axis=1, keepdims=True)
    y = p + np.sqrt(power / 10.0 ** (snr / 10.0))[:, None] * w

    f_i, a_i = np.full(n, np.nan), np.zeros(n)
    rows = np.nonzero(flags["interference"])[0]
    f_i[rows], a_i[rows] = _interferers(f0[rows], N, rng), rng.uniform(0.1, 0.5, len(rows))
    y[rows] += a_i[rows, None] * np.sin(2 * np.pi * (f_i[rows, None] * t + rng.random((len(rows), 1))))
    rows = np.nonzero(flags["baseline"])[0]
    y[rows] += _baselines(p[rows], rng)

    rows = np.nonzero(flags["clipped"])[0]
    lo, hi = y[rows].min(1), y[rows].max(1)
    level, side = rng.uniform(0.3, 0.8, len(rows)) * (hi - lo) / 2, rng.integers(0, 3, len(rows))
    upper = np.where(side == 2, np.inf, (hi + lo) / 2 + level)
    lower = np.where(side == 1, -np.inf, (hi + lo) / 2 - level)
    y[rows] = np.clip(y[rows], lower[:, None], upper[:, None])

    rows = np.nonzero(flags["impulsive"])[0]
    count = np.maximum(1, np.round(rng.uniform(0.01, 0.05, len(rows)) * N))
    hit = rng.random((len(rows), N)).argsort(1).argsort(1) < count[:, None]
    spikes = rng.uniform(3, 10, (len(rows), N)) * rng.choice([-1.0, 1.0], (len(rows), N))
    y[rows] += np.where(hit, spikes * np.sqrt(power[rows])[:, None], 0.0)

    bits = rng.integers(3, 7, n) * flags["quantised"]
    rows = np.nonzero(bits)[0]
    lo, hi = y[rows].min(1, keepdims=True), y[rows].max(1, keepdims=True)
    step = np.maximum(hi - lo, 1e-300) / (2.0 ** bits[rows, None] - 1)
    y[rows] = lo + np.round((y[rows] - lo) / step) * step

    scale = 10.0 ** rng.uniform(-1, 1, n)
    offset = rng.uniform(-3, 3, n) * scale
    x = scale[:, None] * y + offset[:, None]
    lost, held = _lost_samples(flags["missing_samples"], N, rng), rng.random(n) < 0.5
    last_good = np.maximum.accumulate(np.where(lost, 0, np.arange(N)), axis=1)
    x = np.where(lost, np.where(held[:, None], np.take_along_axis(x, last_good, axis=1), 0.0), x)

    names = np.asarray(DISTURBANCES)
    table = np.stack([flags[d] for d in DISTURBANCES], axis=1)
    info = {"snr_db": snr, "scale": scale, "offset": offset, "f_start": fa, "f_end": fb, "amplitudes": A,
            "f_interferer": f_i, "a_interferer": a_i, "bits": bits, "lost": lost,
            "held": held & flags["missing_samples"],
            "disturbances": np.array(["+".join(names[row]) for row in table], dtype=object)}
    return x.astype(np.float32), f0.astype(np.float32), info


def _amplitudes(n, K, harmonic, all_harmonics, rng):
    """``A [n, K]`` and phases of harmonics ``k = 1..K``: a tone (``A = e_1``) unless ``harmonic``;
    ``all_harmonics`` rows use a profile with every harmonic (sawtooth, pulse, random)."""
    k = np.arange(1, K + 1, dtype=np.float64)
    profile = rng.integers(0, len(PROFILES), n)
    profile[all_harmonics] = rng.choice([0, 3, 4], n)[all_harmonics]
    duty = rng.uniform(0.05, 0.3, n)[:, None]
    sinc = np.sinc(k * duty)
    random = k ** -rng.uniform(0.5, 2.0, n)[:, None] * np.exp(0.3 * rng.standard_normal((n, K)))
    odd = k % 2 == 1
    A = np.select([profile[:, None] == i for i in range(5)],
                  [np.broadcast_to(1 / k, (n, K)), np.where(odd, 1 / k, 0.0), np.where(odd, k**-2.0, 0.0),
                   np.abs(sinc), random])
    own = np.select([profile[:, None] == i for i in range(5)],
                    [np.where(odd, 0.0, np.pi), np.zeros(K), np.where((k - 1) % 4 == 2, np.pi, 0.0),
                     np.pi / 2 + np.pi * (sinc < 0), np.full(K, np.pi / 2)])
    shift = rng.uniform(0, 2 * np.pi, n)[:, None]
    phase = np.where(rng.random(n)[:, None] < 0.5, rng.uniform(0, 2 * np.pi, (n, K)), own + k * shift)
    A[~harmonic] = np.where(k == 1, 1.0, 0.0)
    phase[~harmonic, 0] = shift[~harmonic, 0]
    return A, phase


def _interferers(f0, N, rng, tries=200):
    """Frequencies in ``[1, N/2 - 1)``, >= 2 cycles/window from ``f0`` and off every ``p/q`` (``p, q <= 4``)."""
    f = np.empty_like(f0)
    todo = np.ones(len(f0), dtype=bool)
    for _ in range(tries):
        f[todo] = rng.uniform(1.0, N / 2 - 1, todo.sum())
        todo &= ~((np.abs(f - f0) >= 2) & np.all(np.abs(f[:, None] / f0[:, None] - _RATIOS) > 0.05, axis=1))
        if not todo.any():
            return f
    raise ValueError(f"kind 'interference': no interferer frequency in [1, {N / 2 - 1:g}) is 2 cycles/window from "
                     f"f0={f0[todo][0]:.3g} and off its small-integer ratios; use a longer window")


def _baselines(p, rng):
    """Slow baselines of peak-to-peak 1..3 times that of ``p``: trend, parabola, smoothed walk, step."""
    m, N = p.shape
    t = np.arange(N) / N
    width = max(2, N // 10)
    walk = np.cumsum(rng.standard_normal((m, N + width)), axis=1)
    c = np.concatenate([np.zeros((m, 1)), np.cumsum(walk, axis=1)], axis=1)
    parts = np.stack([np.broadcast_to(t, (m, N)), (t - rng.random((m, 1))) ** 2, (c[:, width:] - c[:, :-width])[:, :N],
                      (np.arange(N) >= rng.integers(N // 10, N - N // 10, (m, 1))).astype(np.float64)], axis=1)
    parts /= np.maximum(np.ptp(parts, axis=2, keepdims=True), 1e-12)
    use = rng.random((m, 4)) < 0.5
    use[np.arange(m), rng.integers(0, 4, m)] = True
    b = np.sum((use * rng.uniform(0.3, 1.0, (m, 4)) * rng.choice([-1.0, 1.0], (m, 4)))[:, :, None] * parts, axis=1)
    b -= b.mean(axis=1, keepdims=True)
    target = rng.uniform(1, 3, (m, 1)) * np.ptp(p, axis=1, keepdims=True)
    return b * target / np.maximum(np.ptp(b, axis=1, keepdims=True), 1e-12)


def _lost_samples(flag, N, rng):
    """``[n, N]`` mask: in flagged rows 5..20 % of the samples, in separate runs of 1..10, never sample 0."""
    lost = np.zeros((len(flag), N), dtype=bool)
    for i in np.nonzero(flag)[0]:
        target = max(1, int(round(rng.uniform(0.05, 0.2) * N)))
        runs = []
        while sum(runs) < target:
            runs.append(int(min(rng.integers(1, 11), target - sum(runs))))
        gaps = 1 + rng.multinomial(N - target - len(runs), np.full(len(runs) + 1, 1 / (len(runs) + 1)))
        start = 0
        for gap, run in zip(gaps, runs):
            start += gap
            lost[i, start:start + run] = True
            start += run
    return lost

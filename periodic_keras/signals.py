"""Pure NumPy synthesis of periodic signals, deterministic from a seed.

Every task's data starts here: the tf.data pipelines in :mod:`periodic_keras.data`
only wrap these functions, and the classical baselines in :mod:`periodic_keras.classical.dsp`
are tested on them. Nothing here imports TensorFlow.

Conventions
-----------
A *sine window* of length ``N`` and frequency ``f`` (cycles per window) is::

    x[n] = A * sin(2 * pi * f * n / N + phi) + w[n],   n = 0 .. N-1

with random phase ``phi`` in [0, 2 pi), random amplitude ``A`` and white Gaussian
noise ``w`` of variance ``sigma**2``.  The signal-to-noise ratio is the ratio of the
tone's mean power to the noise power, ``SNR = A**2 / (2 * sigma**2)``, given in dB.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = [
    "SECONDS_PER_YEAR", "as_rng", "burst_sequences", "check_frequency_range", "check_nonnegative_int",
    "check_positive_int", "check_range",
    "classic_sine_series", "clock_digits", "clock_times", "daily_cycle_samples",
    "cut_windows", "divider_sequences", "noise_std", "sine_continuation", "sine_windows", "sum_of_sines",
]

MIN_WINDOW = 8


def as_rng(seed=None) -> np.random.Generator:
    """Return a NumPy ``Generator`` from a seed, a seed sequence or a generator.

    >>> int(as_rng(0).integers(10)) == int(as_rng(0).integers(10))
    True
    """
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def check_positive_int(**values) -> None:
    """Raise ``ValueError`` naming the first argument that is not a positive integer.

    >>> check_positive_int(steps=10, batch_size=0)
    Traceback (most recent call last):
    ...
    ValueError: batch_size must be a positive integer, got 0
    """
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


def check_hedge(hedge) -> None:
    """Raise ``ValueError`` unless ``hedge`` is ``None``, ``"learned"`` or a finite temperature > 0.

    >>> check_hedge(0.0)
    Traceback (most recent call last):
    ...
    ValueError: hedge must be None, 'learned' or a temperature > 0, got 0.0
    """
    if hedge is None or (isinstance(hedge, str) and hedge == "learned"):
        return
    if isinstance(hedge, bool) or not isinstance(hedge, numbers.Real) or not (math.isfinite(hedge) and hedge > 0):
        raise ValueError(f"hedge must be None, 'learned' or a temperature > 0, got {hedge!r}")


def check_nonnegative_int(**values) -> None:
    """Raise ``ValueError`` naming the first argument that is not an integer >= 0.

    >>> check_nonnegative_int(refine_steps=-1)
    Traceback (most recent call last):
    ...
    ValueError: refine_steps must be an integer >= 0, got -1
    """
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
            raise ValueError(f"{name} must be an integer >= 0, got {value!r}")


def check_range(name, value, low, integer=False):
    """``(lo, hi)`` from a number or a pair; both finite, ``>= low`` and ``lo <= hi``.

    >>> check_range("periods", (10, 100), 2.0), check_range("tones", 2, 1, integer=True)
    ((10.0, 100.0), (2, 2))
    """
    kind = numbers.Integral if integer else numbers.Real
    pair = (value, value) if isinstance(value, kind) and not isinstance(value, bool) else value
    try:
        lo, hi = pair
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number or a (low, high) pair, got {value!r}") from None
    for v in (lo, hi):
        if isinstance(v, bool) or not isinstance(v, kind) or not math.isfinite(v):
            raise ValueError(f"{name} must hold finite {'integers' if integer else 'numbers'}, got {value!r}")
    if lo > hi:
        raise ValueError(f"{name} range is reversed: low {lo:g} > high {hi:g}")
    if lo < low:
        raise ValueError(f"{name} must be at least {low:g}, got {value!r}")
    return (int(lo), int(hi)) if integer else (float(lo), float(hi))


def cut_windows(a, window: int) -> np.ndarray:
    """Cut ``a [n, length, ...]`` into ``[n * k, window, ...]`` consecutive windows, sequence-major.

    ``k = length // window``; a remainder shorter than a window is dropped.

    >>> cut_windows(np.arange(10).reshape(1, 10), 4).tolist()
    [[0, 1, 2, 3], [4, 5, 6, 7]]
    """
    a = np.asarray(a)
    check_positive_int(window=window)
    if a.ndim < 2 or a.shape[1] < window:
        raise ValueError(f"need sequences [n, length >= window={window}], got shape {a.shape}")
    k = a.shape[1] // window
    return a[:, : k * window].reshape(a.shape[0] * k, window, *a.shape[2:])


def check_frequency_range(window: int, fmin: float, fmax: float) -> None:
    """Raise ``ValueError`` unless ``0 < fmin <= fmax < window / 2``.

    Frequencies are in cycles per window; ``window / 2`` is the Nyquist limit.

    >>> check_frequency_range(100, 1.0, 30.0)
    >>> check_frequency_range(100, 1.0, 50.0)
    Traceback (most recent call last):
    ...
    ValueError: fmax=50.0 cycles/window is at or above the Nyquist limit window/2 = 50.0 for window=100
    """
    if isinstance(window, bool) or not isinstance(window, numbers.Integral):
        raise TypeError(f"window must be an integer number of samples, got {window!r}")
    if window < MIN_WINDOW:
        raise ValueError(f"window={window} is too short: it must be at least {MIN_WINDOW} samples")
    for name, value in (("fmin", fmin), ("fmax", fmax)):
        if not isinstance(value, numbers.Real) or not np.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
    if fmin <= 0:
        raise ValueError(f"fmin={fmin} must be positive (cycles per window)")
    if fmax < fmin:
        raise ValueError(f"fmax={fmax} is below fmin={fmin}")
    if fmax >= window / 2:
        raise ValueError(
            f"fmax={fmax} cycles/window is at or above the Nyquist limit "
            f"window/2 = {window / 2} for window={window}"
        )


def _snr_values(snr_db, n: int, rng: np.random.Generator) -> np.ndarray:
    """Per-window SNR in dB: ``inf`` (noiseless), one value, or uniform in a range."""
    if snr_db is None:
        return np.full(n, np.inf)
    if isinstance(snr_db, numbers.Real):
        if np.isnan(snr_db):
            raise ValueError("snr_db is NaN")
        return np.full(n, float(snr_db))
    try:
        lo, hi = (float(v) for v in snr_db)
    except (TypeError, ValueError):
        raise ValueError(f"snr_db must be None, a number or a (low, high) pair in dB, got {snr_db!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi < lo:
        raise ValueError(f"snr_db range must be finite with low <= high, got {snr_db!r}")
    return rng.uniform(lo, hi, size=n)


def _uniform_or_fixed(value, n: int, rng: np.random.Generator, name: str, low: float = 0.0) -> np.ndarray:
    """``n`` values: ``value`` repeated, or uniform in a ``(low, high)`` range; all must exceed ``low``."""
    if isinstance(value, numbers.Real):
        lo = hi = float(value)
    else:
        try:
            lo, hi = (float(v) for v in value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a number or a (low, high) range, got {value!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and low < lo <= hi):
        raise ValueError(f"{name} must be finite and above {low:g} (a range needs low <= high), got {value!r}")
    return np.full(n, lo) if lo == hi else rng.uniform(lo, hi, size=n)


def noise_std(amplitude, snr_db):
    """Noise standard deviation that gives ``snr_db`` for a tone of ``amplitude``.

    ``SNR = A**2 / (2 sigma**2)``, so ``sigma = A / sqrt(2 * 10**(snr_db / 10))``;
    an infinite SNR gives zero noise.

    >>> round(float(noise_std(1.0, 0.0)), 6)  # 0 dB: noise power equals tone power 1/2
    0.707107
    """
    return np.asarray(amplitude, dtype=np.float64) / np.sqrt(2.0 * 10.0 ** (np.asarray(snr_db) / 10.0))


def sine_windows(
    n: int,
    window: int = 100,
    fmin: float = 1.0,
    fmax: float = 30.0,
    snr_db=None,
    amplitude=(0.5, 2.0),
    integer_frequencies: bool = False,
    seed=None,
):
    """Random noisy sine windows and their frequencies.

    Args:
        n: number of windows.
        window: samples per window (``N``).
        fmin, fmax: frequency range in cycles per window, ``0 < fmin <= fmax < N/2``.
            Frequencies are drawn uniformly (continuous) unless ``integer_frequencies``.
        snr_db: ``None`` for noiseless windows, a number for one SNR in dB, or a
            ``(low, high)`` pair to draw each window's SNR uniformly in that range.
        amplitude: a number, or a ``(low, high)`` range to draw amplitudes from uniformly.
        integer_frequencies: draw integer frequencies in ``[ceil(fmin), floor(fmax)]``
            (the classic toy setup) instead of continuous ones.
        seed: an int, ``SeedSequence`` or ``Generator``; equal seeds give equal data.

    Returns:
        ``(x, f, info)``: windows ``x`` of shape ``[n, window]`` (float32), frequencies
        ``f`` of shape ``[n]`` (float32, cycles per window) and a dict of float64 arrays
        ``amplitude``, ``phase``, ``snr_db`` and ``noise_std`` per window.

    Example:

    >>> x, f, info = sine_windows(4, window=64, fmin=2, fmax=10, snr_db=20, seed=0)
    >>> x.shape, f.shape, x.dtype
    ((4, 64), (4,), dtype('float32'))
    """
    check_frequency_range(window, fmin, fmax)
    if n != 0:  # zero windows is a valid (empty) request
        check_positive_int(n=n)
    rng = as_rng(seed)
    if integer_frequencies:
        lo, hi = int(np.ceil(fmin)), int(np.floor(fmax))
        if hi < lo:
            raise ValueError(f"no integer frequency lies in [{fmin}, {fmax}]")
        f = rng.integers(lo, hi + 1, size=n).astype(np.float64)
    else:
        f = rng.uniform(fmin, fmax, size=n)
    phase = rng.uniform(0.0, 2.0 * np.pi, size=n)
    amp = _uniform_or_fixed(amplitude, n, rng, "amplitude")
    snr = _snr_values(snr_db, n, rng)
    sigma = noise_std(amp, snr)
    t = np.arange(window) / window
    x = amp[:, None] * np.sin(2.0 * np.pi * f[:, None] * t[None, :] + phase[:, None])
    x += sigma[:, None] * rng.standard_normal((n, window))
    info = {"amplitude": amp, "phase": phase, "snr_db": snr, "noise_std": sigma}
    return x.astype(np.float32), f.astype(np.float32), info


def classic_sine_series(n_series: int = 100, length: int = 1000, period: float = 20.0,
                        max_offset: int = 80, seed=2):
    """The classic LSTM time-sequence demo's data: ``x[s, i] = sin((i + offset_s) / period)``.

    Matches PyTorch's ``time_sequence_prediction`` example (``T = 20``, ``L = 1000``,
    ``N = 100``, integer offsets drawn from ``[-4T, 4T)``), so results compare one to one:
    train on series ``3:``, test on ``:3``.

    Returns:
        ``(x, offsets)``: ``x`` of shape ``[n_series, length]`` (float32) and the integer
        offsets, so the true continuation ``sin((length + j + offset) / period)`` is known.

    Example:

    >>> x, offsets = classic_sine_series(4, length=50, seed=0)
    >>> x.shape, bool(abs(x[0, 0] - np.sin(offsets[0] / 20.0)) < 1e-6)
    ((4, 50), True)
    """
    check_positive_int(n_series=n_series, length=length, max_offset=max_offset)
    if not period > 0:
        raise ValueError(f"period must be positive, got {period}")
    offsets = as_rng(seed).integers(-max_offset, max_offset, size=n_series)
    x = np.sin((np.arange(length)[None, :] + offsets[:, None]) / period)
    return x.astype(np.float32), offsets


def sine_continuation(offsets, start: int, length: int, period: float = 20.0) -> np.ndarray:
    """True values ``sin((start + j + offset) / period)``, ``j < length``, per offset.

    >>> x, off = classic_sine_series(2, length=30, seed=0)
    >>> bool(np.allclose(sine_continuation(off, 10, 20), x[:, 10:], atol=1e-6))
    True
    """
    offsets = np.asarray(offsets)
    return np.sin((start + np.arange(length)[None, :] + offsets[:, None]) / period).astype(np.float32)


def sum_of_sines(n_series: int, length: int, n_tones=(1, 3), period=(8.0, 64.0), amplitude=(0.2, 1.0),
                 snr_db=None, seed=None):
    """Random sums of sines for generator training, optional white noise.

    Each series draws its number of tones uniformly in ``n_tones`` (inclusive), each tone a
    period in samples uniform in ``period``, an amplitude uniform in ``amplitude`` and a
    random phase. The clean sum is rescaled to peak magnitude ``<= 1``.

    Returns:
        ``(x, clean)``: noisy and clean series ``[n_series, length]`` (float32).

    Example:

    >>> x, clean = sum_of_sines(3, 200, snr_db=20, seed=0)
    >>> x.shape, bool(np.max(np.abs(clean)) <= 1.0 + 1e-6)
    ((3, 200), True)
    """
    check_positive_int(n_series=n_series, length=length)
    lo, hi = n_tones
    check_positive_int(min_tones=lo, max_tones=hi)
    p_lo, p_hi = period
    if not 2.0 <= p_lo <= p_hi:
        raise ValueError(f"period range must satisfy 2 <= low <= high samples (Nyquist), got {period!r}")
    rng = as_rng(seed)
    t = np.arange(length)
    clean = np.zeros((n_series, length))
    for s in range(n_series):
        for _ in range(rng.integers(lo, hi + 1)):
            clean[s] += rng.uniform(*amplitude) * np.sin(2 * np.pi * t / rng.uniform(p_lo, p_hi) + rng.uniform(0, 2 * np.pi))
    clean /= np.maximum(np.max(np.abs(clean), axis=1, keepdims=True), 1.0)
    x = clean.copy()
    if snr_db is not None:
        power = np.mean(clean**2, axis=1, keepdims=True)
        x += np.sqrt(power / 10.0 ** (np.asarray(snr_db) / 10.0)) * rng.standard_normal(clean.shape)
    return x.astype(np.float32), clean.astype(np.float32)


def divider_sequences(n: int, length: int, period=20.0 * np.pi, amplitude=1.0, snr_db=None, seed=None):
    """The frequency-divider task: input ``A sin(2 pi i / P)``, target ``sin(pi i / P)``.

    Every sequence starts at phase 0 (``t = 0``): the target has half the input's
    frequency, so its sign depends on how many input cycles have passed since the start.
    Windows of the input repeat every ``P`` steps while the target flips sign: a model
    that sees one window cannot beat predicting zero (MSE 0.5); it needs state carried
    from the start (see :mod:`periodic_keras.classical.diagnose`).

    Args:
        n: number of sequences.
        length: steps per sequence.
        period: input period ``P`` in steps (``> 4``), or a ``(low, high)`` range to draw
            one per sequence. The default, ``20 pi``, is a time step of 0.1 in ``sin(t)``.
        amplitude: input amplitude, or a range; the target's amplitude is always 1.
        snr_db: white noise on the input at this SNR (``None``: clean); targets stay clean.
        seed: random seed.

    Returns:
        ``(x, y, info)``: inputs and targets ``[n, length]`` (float32) and a dict with the
        float64 ``period`` and ``amplitude`` per sequence.

    Example:

    >>> x, y, info = divider_sequences(1, 200, period=40)
    >>> float(x[0, 50] - x[0, 10]), float(y[0, 50] + y[0, 10])  # same input, opposite targets
    (0.0, 0.0)
    """
    check_positive_int(n=n, length=length)
    rng = as_rng(seed)
    p = _uniform_or_fixed(period, n, rng, "period", low=4.0)
    amp = _uniform_or_fixed(amplitude, n, rng, "amplitude")
    phase = 2.0 * np.pi * np.arange(length)[None, :] / p[:, None]
    x = amp[:, None] * np.sin(phase)
    if snr_db is not None:
        x += noise_std(amp, snr_db)[:, None] * rng.standard_normal(x.shape)
    y = np.sin(phase / 2.0)
    return x.astype(np.float32), y.astype(np.float32), {"period": p, "amplitude": amp}


def burst_sequences(n: int, length: int = 130, start=(0, 50), burst_length=10, amplitude=1.0, seed=None):
    """The latching burst detector: zeros with one half-sine burst; target 1 until it has ended.

    ``x[s + j] = A sin(j pi / L)`` for ``j < L`` (the burst starts at step ``s``), zeros
    elsewhere; ``y[i] = 1`` for ``i < s + L`` and ``0`` from then on. After the burst the
    input is zero again, as before it, so the target is only predictable by a model that
    remembers the burst within the sequence, and whose memory starts clean at every sequence.

    Args:
        n: number of sequences.
        length: steps per sequence.
        start: burst start, uniform over the integers in ``[low, high)``, or a fixed step.
        burst_length: ``L`` (``>= 3``), or an integer range ``(low, high)``, inclusive.
        amplitude: ``A``, or a ``(low, high)`` range.
        seed: random seed.

    Returns:
        ``(x, y, info)``: inputs ``[n, length]`` float32, targets ``[n, length]`` int32
        (0/1), and a dict with ``start``, ``burst_length`` (int) and ``amplitude`` per sequence.

    Example:

    >>> x, y, info = burst_sequences(3, seed=0)
    >>> s = int(info["start"][0])
    >>> int(y[0, s + 9]), int(y[0, s + 10]), float(x[0, s + 5])
    (1, 0, 1.0)
    """
    check_positive_int(n=n, length=length)
    rng = as_rng(seed)
    s_lo, s_hi = (start, start + 1) if isinstance(start, numbers.Integral) else (int(v) for v in start)
    l_lo, l_hi = (burst_length, burst_length) if isinstance(burst_length, numbers.Integral) else (int(v) for v in burst_length)
    if not 0 <= s_lo < s_hi:
        raise ValueError(f"start must be a step >= 0 or a range [low, high) with 0 <= low < high, got {start!r}")
    if not 3 <= l_lo <= l_hi:
        raise ValueError(f"burst_length must be >= 3 (or a range 3 <= low <= high), got {burst_length!r}")
    if s_hi - 1 + l_hi >= length:
        raise ValueError(f"a burst starting at step {s_hi - 1} with length {l_hi} does not end before "
                         f"the sequence does (length {length})")
    starts = rng.integers(s_lo, s_hi, size=n)
    lengths = rng.integers(l_lo, l_hi + 1, size=n)
    amp = _uniform_or_fixed(amplitude, n, rng, "amplitude")
    i = np.arange(length)[None, :]
    j = i - starts[:, None]
    inside = (j >= 0) & (j < lengths[:, None])
    x = np.where(inside, amp[:, None] * np.sin(np.pi * j / lengths[:, None]), 0.0)
    y = (j < lengths[:, None]).astype(np.int32)
    return x.astype(np.float32), y, {"start": starts, "burst_length": lengths, "amplitude": amp}


#: Mean Gregorian year in seconds (365.2425 days): the clock task's ``years`` unit.
SECONDS_PER_YEAR = 31_556_952


def clock_digits(t) -> np.ndarray:
    """What a 24-hour UTC clock shows at integer seconds ``t`` since the epoch: ``[..., 3]`` HH, MM, SS.

    Integer arithmetic only (floor division, so ``t = -1`` is 23:59:59); float input is
    refused, since float32 cannot hold such seconds.

    >>> clock_digits(np.array([-1, 0, 3_800_000_007])).tolist()
    [[23, 59, 59], [0, 0, 0], [11, 33, 27]]
    """
    t = np.asarray(t)
    if not np.issubdtype(t.dtype, np.integer):
        raise TypeError(f"clock timestamps must be integers (int64 seconds), got dtype {t.dtype}")
    day = np.mod(t.astype(np.int64), 86_400)
    return np.stack([day // 3600, day // 60 % 60, day % 60], axis=-1).astype(np.int64)


def clock_times(n: int, years: float = 120.0, seed=None):
    """Random int64 timestamps uniform over ``±years`` around the epoch, and their clock digits.

    Returns ``(t, digits)``: ``t`` int64 ``[n]`` and :func:`clock_digits` ``[n, 3]``.

    >>> t, d = clock_times(4, seed=0)
    >>> t.dtype.name, d.shape, bool(np.all(np.abs(t) <= 120 * SECONDS_PER_YEAR))
    ('int64', (4, 3), True)
    """
    check_positive_int(n=n)
    if isinstance(years, bool) or not isinstance(years, numbers.Real) or not 0 < years <= 2.9e11:
        raise ValueError(f"years must be a number > 0 (and small enough for int64 seconds), got {years!r}")
    limit = int(years * SECONDS_PER_YEAR)
    t = as_rng(seed).integers(-limit, limit, size=n, endpoint=True, dtype=np.int64)
    return t, clock_digits(t)


def daily_cycle_samples(days: int = 365, snr_db=10.0, seed=None):
    """Jittered hourly int64 timestamps with a daily cycle: the "find the period" task.

    Hourly from 2023-11-14 (``t = 1.7e9 s``), each jittered by up to ±15 min, 10 % dropped;
    ``y = sin(2 pi t / 86400 + 0.7) + 0.4 sin(4 pi t / 86400)`` plus white noise at
    ``snr_db`` for the fundamental (``None``: clean). Returns ``(t int64, y float32)``.

    >>> t, y = daily_cycle_samples(days=2, seed=0)
    >>> t.dtype.name, y.dtype.name, len(t) <= 48
    ('int64', 'float32', True)
    """
    check_positive_int(days=days)
    rng = as_rng(seed)
    n = days * 24
    t = 1_700_000_000 + np.arange(n, dtype=np.int64) * 3600 + rng.integers(-900, 900, n)
    t = t[rng.random(n) > 0.1]
    y = np.sin(2 * np.pi * t / 86400.0 + 0.7) + 0.4 * np.sin(4 * np.pi * t / 86400.0)
    if snr_db is not None:
        y = y + float(noise_std(1.0, snr_db)) * rng.standard_normal(len(t))
    return t, y.astype(np.float32)

"""The family of periodic signals a family generator learns to continue (NumPy only).

A member is a sum of ``k`` sines (``k`` drawn from ``tones``), each with a period in steps
drawn uniformly from ``periods`` (any real value), an amplitude from ``amplitude`` and a
random phase, plus optional white noise. Unlike :func:`periodic_keras.signals.sum_of_sines`
the sum is not rescaled: the amplitudes are the draw's. Every draw returns its parameters,
so evaluations can split errors by period and tone count and fit the oracle (a least-squares
sine fit of the warm-up with the true tone count).
"""

from __future__ import annotations

import dataclasses
import math
import numbers

import numpy as np

from periodic_keras.signals import as_rng, check_positive_int, check_range

__all__ = ["FAMILY_AMPLITUDE", "FAMILY_PERIODS", "FamilyDraws", "check_warmup", "family_draws", "family_split",
           "oracle_forecast"]

#: Periods, in steps, of the family's tones (issue 17: 10-100 steps).
FAMILY_PERIODS = (10.0, 100.0)
#: Amplitude of each tone.
FAMILY_AMPLITUDE = (0.2, 2.0)
_SPLITS = {"train": 0, "validation": 1, "test": 2}


@dataclasses.dataclass(frozen=True)
class FamilyDraws:
    """Series of the family and what was drawn for each.

    Attributes:
        x: the series, ``[n, length]`` float32 (with noise, if any).
        clean: the same without noise, float32.
        periods, amplitudes, phases: ``[n, max tones]`` float64, NaN past a series' tones.
        n_tones: ``[n]`` int, tones in each series.
    """

    x: np.ndarray
    clean: np.ndarray
    periods: np.ndarray
    amplitudes: np.ndarray
    phases: np.ndarray
    n_tones: np.ndarray


def family_draws(n: int, length: int, periods=FAMILY_PERIODS, tones=1, amplitude=FAMILY_AMPLITUDE,
                 noise_std: float = 0.0, seed=None) -> FamilyDraws:
    """``n`` random members of the family, ``length`` steps each.

    Args:
        n, length: series and steps per series.
        periods: ``(low, high)`` period of each tone in steps, ``low >= 2`` (the Nyquist limit).
        tones: tones per series, a number or an inclusive ``(low, high)`` range (>= 1).
        amplitude: amplitude of each tone, a number or a ``(low, high)`` range (> 0).
        noise_std: standard deviation of white noise added to ``x`` (``clean`` has none).
        seed: seed or ``numpy.random.Generator``.

    Example:

    >>> d = family_draws(4, 300, tones=(1, 3), seed=0)
    >>> d.x.shape, bool(np.all((d.periods[:, 0] >= 10) & (d.periods[:, 0] <= 100)))
    ((4, 300), True)
    """
    check_positive_int(n=n, length=length)
    p_lo, p_hi = check_range("periods", periods, 2.0)
    t_lo, t_hi = check_range("tones", tones, 1, integer=True)
    a_lo, a_hi = check_range("amplitude", amplitude, 0.0)
    if not a_lo > 0:
        raise ValueError(f"amplitude must be > 0, got {amplitude!r}")
    if isinstance(noise_std, bool) or not isinstance(noise_std, numbers.Real) or not 0 <= noise_std < math.inf:
        raise ValueError(f"noise_std must be a finite number >= 0, got {noise_std!r}")
    rng = as_rng(seed)
    k = rng.integers(t_lo, t_hi + 1, size=n)
    shape = (n, t_hi)
    used = np.arange(t_hi)[None, :] < k[:, None]
    period = np.where(used, rng.uniform(p_lo, p_hi, shape), np.nan)
    amp = np.where(used, rng.uniform(a_lo, a_hi, shape), np.nan)
    phase = np.where(used, rng.uniform(0.0, 2.0 * np.pi, shape), np.nan)
    t = np.arange(length)
    waves = np.nan_to_num(amp)[:, :, None] * np.sin(
        2.0 * np.pi * t[None, None, :] / np.where(used, period, 1.0)[:, :, None] + np.nan_to_num(phase)[:, :, None])
    clean = waves.sum(axis=1)
    x = clean + noise_std * rng.standard_normal(clean.shape) if noise_std else clean
    return FamilyDraws(x.astype(np.float32), clean.astype(np.float32), period, amp, phase, k)


def family_split(n: int, length: int, split: str = "test", seed: int = 0, **kwargs) -> FamilyDraws:
    """A reproducible set of draws per split (``"train"``, ``"validation"``, ``"test"``):
    each split has its own seed stream, so test draws are never training draws.

    >>> a, b = family_split(3, 50, "test"), family_split(3, 50, "validation")
    >>> bool(np.array_equal(a.x, family_split(3, 50, "test").x)), bool(np.array_equal(a.x, b.x))
    (True, False)
    """
    if split not in _SPLITS:
        raise ValueError(f"unknown split {split!r}: expected one of {sorted(_SPLITS)}")
    return family_draws(n, length, seed=np.random.default_rng([int(seed), _SPLITS[split], 17]), **kwargs)


def check_warmup(warmup: int, length: int | None = None) -> int:
    """``warmup`` as an int: at least one step (and, with ``length``, shorter than the series).

    >>> check_warmup(0)
    Traceback (most recent call last):
    ...
    ValueError: warm-up must be at least one step, got 0
    """
    if isinstance(warmup, bool) or not isinstance(warmup, numbers.Integral) or warmup < 1:
        raise ValueError(f"warm-up must be at least one step, got {warmup!r}")
    if length is not None and warmup >= length:
        raise ValueError(f"warm-up of {warmup} steps leaves nothing to continue in a series of {length}")
    return int(warmup)


def oracle_forecast(draws: FamilyDraws, warmup: int, horizon: int) -> np.ndarray:
    """The classical anchor: a least-squares fit of each draw's first ``warmup`` values with its
    true number of tones and a constant offset (:func:`periodic_keras.fit_frequencies` with
    ``trend=0``: the family has no trend, and a short warm-up's partial cycle would otherwise
    be taken for one), extrapolated ``horizon`` steps.

    Returns ``[n, horizon]`` float32.

    >>> d = family_draws(2, 400, seed=0)
    >>> future = oracle_forecast(d, 300, 100)
    >>> future.shape, bool(np.max(np.abs(future - d.clean[:, 300:])) < 1e-4)
    ((2, 100), True)
    """
    from periodic_keras.classical.fitting import fit_frequencies
    warmup = check_warmup(warmup, draws.x.shape[1])
    check_positive_int(horizon=horizon)
    t = np.arange(warmup + horizon, dtype=np.float64)
    fits = (fit_frequencies(t[:warmup], x[:warmup].astype(np.float64), n_tones=int(k), trend=0)
            for x, k in zip(draws.x, draws.n_tones))
    return np.stack([fit.predict(t[warmup:]) for fit in fits]).astype(np.float32)

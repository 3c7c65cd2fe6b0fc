"""One unit story for every frequency in the package, and the conversions between them.

Two conventions are used, each where it is natural:

- **cycles per window** ``f`` -- the window models and DSP (:mod:`periodic_keras.classical.dsp`,
  :mod:`periodic_keras.signals`, :mod:`periodic_keras.edge`, ``frequency_regressor``): a
  window of ``N`` samples holds ``f`` periods, ``0 < f < N / 2``.
- **angular frequency** ``omega`` in rad per unit of x -- the fits of arbitrary samples
  (:mod:`periodic_keras.classical.fitting`, :mod:`periodic_keras.classical.periods`): ``sin(omega * x)``; for
  pandas time indexes x is in days (or PeriodIndex steps), and periods come back as
  ``pd.Timedelta``.

:func:`convert` moves a value between these and the everyday ones (Hz, periods). A
window of ``N`` samples taken at ``sample_rate`` Hz::

    cycles_per_sample = f / N            hz = cycles_per_sample * sample_rate
    rad_per_sample = 2 pi f / N          rad_per_second = 2 pi hz
    period_samples = N / f               period_seconds = 1 / hz

NumPy only; every function works on scalars and arrays.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["UNITS", "convert"]

#: The units :func:`convert` knows, and what each needs beyond the value.
UNITS = {
    "cycles_per_window": "window",
    "cycles_per_sample": "",
    "rad_per_sample": "",
    "period_samples": "",
    "hz": "sample_rate",
    "rad_per_second": "sample_rate",
    "period_seconds": "sample_rate",
}


def _to_cycles_per_sample(value, unit, window, sample_rate):
    return {
        "cycles_per_window": lambda v: v / window,
        "cycles_per_sample": lambda v: v,
        "rad_per_sample": lambda v: v / (2 * math.pi),
        "period_samples": lambda v: 1.0 / v,
        "hz": lambda v: v / sample_rate,
        "rad_per_second": lambda v: v / (2 * math.pi * sample_rate),
        "period_seconds": lambda v: 1.0 / (v * sample_rate),
    }[unit](value)


def _from_cycles_per_sample(value, unit, window, sample_rate):
    return {
        "cycles_per_window": lambda v: v * window,
        "cycles_per_sample": lambda v: v,
        "rad_per_sample": lambda v: 2 * math.pi * v,
        "period_samples": lambda v: 1.0 / v,
        "hz": lambda v: v * sample_rate,
        "rad_per_second": lambda v: 2 * math.pi * v * sample_rate,
        "period_seconds": lambda v: 1.0 / (v * sample_rate),
    }[unit](value)


def _check(name, value, needed):
    if not needed:
        return None
    if value is None:
        raise ValueError(f"converting {needed[1]} needs {name}=")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite positive number, got {value!r}")
    return float(value)


def convert(value, from_unit: str, to_unit: str, *, window=None, sample_rate=None):
    """Convert a frequency (or period) between the package's units.

    Args:
        value: a scalar or array; positive for the period units.
        from_unit, to_unit: keys of :data:`UNITS` -- ``"cycles_per_window"`` (needs
            ``window``), ``"cycles_per_sample"``, ``"rad_per_sample"``, ``"period_samples"``,
            ``"hz"``, ``"rad_per_second"``, ``"period_seconds"`` (these three need
            ``sample_rate``).
        window: samples per window (``N``).
        sample_rate: samples per second.

    Returns:
        float64 of ``value``'s shape (a float for a scalar).

    >>> round(convert(12.3, "cycles_per_window", "hz", window=100, sample_rate=1000.0), 9)   # a model output
    123.0
    >>> convert(7.0, "period_samples", "rad_per_sample") == 2 * np.pi / 7   # omega for fit_frequency
    True
    >>> convert(np.array([1.0, 2.0]), "hz", "period_seconds", sample_rate=50.0).tolist()
    [1.0, 0.5]
    """
    for unit in (from_unit, to_unit):
        if unit not in UNITS:
            raise ValueError(f"unknown unit {unit!r}: use one of {', '.join(UNITS)}")
    needs = {UNITS[from_unit], UNITS[to_unit]}
    window = _check("window", window, "window" in needs and ("window", "cycles per window"))
    sample_rate = _check("sample_rate", sample_rate,
                         "sample_rate" in needs and ("sample_rate", "Hz, rad per second or seconds"))
    v = np.asarray(value, dtype=np.float64)
    if from_unit.startswith("period") and np.any(v <= 0):
        raise ValueError(f"a period must be positive, got {value!r}")
    out = _from_cycles_per_sample(_to_cycles_per_sample(v, from_unit, window, sample_rate), to_unit, window,
                                  sample_rate)
    return float(out) if np.ndim(out) == 0 else out

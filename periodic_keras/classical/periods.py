"""Which periods are really in a series: a report of significant tones, harmonics and trend.

:func:`find_periods` fits tone after tone (:mod:`periodic_keras.classical.fitting`: trend, periodogram
search, joint least squares) and keeps a tone only while the peak it came from is
significant: its false-alarm probability -- the chance that noise alone puts a peak that
high anywhere in the searched band -- is below ``fap_level``. The probability is Baluev's
(2008) alias-free approximation, the default of astropy's ``LombScargle``, generalised
to the parameters already fitted (trend and earlier tones). Tones whose frequency is a
whole multiple of a stronger, lower one are grouped with it as harmonics.

NumPy and pandas only.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from periodic_keras.classical import fitting, timeaxis
from periodic_keras.classical.search import TWO_PI

#: Highest harmonic number grouped with a fundamental.
MAX_HARMONIC = 10

__all__ = ["MAX_HARMONIC", "PeriodReport", "false_alarm_probability", "find_periods"]


def false_alarm_probability(power, n_samples, max_frequency, t_variance, *, fitted=1) -> float:
    """Baluev's (2008) false-alarm probability of a generalised Lomb–Scargle peak of ``power``.

    The probability that pure Gaussian noise, after the ``fitted`` linear parameters of
    the null model are removed (1: a floating mean, as astropy; the trend's and earlier
    tones' parameters when searching a residual), has a periodogram peak at least this
    high somewhere below ``max_frequency``. It is an upper bound that is tight for small
    probabilities, and equals astropy's ``LombScargle.false_alarm_probability(power,
    method="baluev")`` for ``fitted=1``.

    Args:
        power: the peak's power, the fraction of variance explained, in ``[0, 1]``.
        n_samples: number of samples.
        max_frequency: top of the searched band, ANGULAR (rad per unit of x).
        t_variance: (weighted) variance of the sample times.
        fitted: parameters of the null model (``>= 1``).

    >>> round(false_alarm_probability(0.1, 200, 2 * np.pi * 5.0, 100**2 / 12), 4)
    0.0514
    """
    n_h, n_k = n_samples - fitted, n_samples - fitted - 2
    if n_k < 1:
        raise ValueError(f"{n_samples} samples leave no degrees of freedom after {fitted} fitted parameters")
    z = min(max(float(power), 0.0), 1.0)
    single = (1.0 - z) ** (0.5 * n_k)
    gamma = math.sqrt(2.0 / n_h) * math.exp(math.lgamma(n_h / 2.0) - math.lgamma((n_h - 1) / 2.0))
    width = max_frequency / TWO_PI * math.sqrt(4.0 * math.pi * t_variance)
    tau = gamma * width * (1.0 - z) ** (0.5 * (n_k - 1)) * math.sqrt(0.5 * n_h * z)
    return float(min(1.0, -math.expm1(-tau) + single * math.exp(-tau)))


@dataclasses.dataclass(frozen=True)
class PeriodReport:
    """What :func:`find_periods` found. ``print(report)`` shows it as a table.

    Attributes:
        table: pandas DataFrame, one row per significant tone in the order found
            (strongest peak first): ``period`` (index units: ``pd.Timedelta`` for time
            indexes), ``omega`` (rad per unit of x), ``frequency`` (cycles per unit of x),
            ``amplitude``, ``phase`` (at ``x = 0``), ``power`` (fraction of the residual's
            variance the peak explained), ``fap`` (false-alarm probability),
            ``harmonic`` (1 for a fundamental, ``h`` for ``h`` times a fundamental's
            frequency) and ``fundamental`` (the row of its fundamental, itself for a
            fundamental).
        fit: the joint :class:`~periodic_keras.classical.SinesFit` of the significant tones
            and the trend (no tones when nothing is significant).
        trend_degree: degree of the polynomial trend fitted.
        fap_level: the significance level used.
        next_peak: ``(period, fap)`` of the peak the search stopped at: not significant, or
            less than one cycle over the data (None when it stopped at ``max_periods``).
        samples: number of samples used (missing ones dropped).
        unit: what one unit of x is (``"day"``, a PeriodIndex step, or ``"x"``).
    """

    table: object
    fit: object
    trend_degree: int
    fap_level: float
    next_peak: tuple | None
    samples: int
    unit: str

    @property
    def periods(self) -> list:
        """The significant periods, strongest peak first."""
        return list(self.table["period"])

    def __str__(self) -> str:
        head = (f"{len(self.table)} significant period(s) at false-alarm level {self.fap_level:g} in "
                f"{self.samples} samples; trend: polynomial of degree {self.trend_degree}; "
                + ("x in its own units" if self.unit == "x" else f"x in {self.unit}s"))
        lines = [head]
        if len(self.table):
            shown = self.table.assign(period=[_readable(v) for v in self.table["period"]])
            lines.append(shown.to_string(float_format=lambda v: f"{v:.6g}"))
        if self.next_peak is not None:
            lines.append(f"next peak, not reported: period {_readable(self.next_peak[0])}, false-alarm probability "
                         f"{self.next_peak[1]:.3g}")
        return "\n".join(lines)


def _readable(period):
    """A period for printing: Timedeltas to the second (or to 6 digits below a minute), floats as they are."""
    if hasattr(period, "round") and hasattr(period, "total_seconds"):
        return period.round("s") if period.total_seconds() >= 60 else f"{period.total_seconds():.6g} s"
    return period


def _harmonics(omegas, amplitudes, resolution):
    """``(harmonic, fundamental)`` per tone: tone ``j`` is harmonic ``h`` (2 to
    :data:`MAX_HARMONIC`) of a lower tone ``i`` (the strongest such) when
    ``|omega_j - h omega_i|`` is within half a resolution width, tone ``i`` makes at least
    two cycles over the data (any frequency is near some multiple of a very low one) and is
    at least half as strong (a weak slow tone does not own a strong fast one: CO2's year is
    not the 9th harmonic of a faint 9-year wiggle)."""
    harmonic, fundamental = [1] * len(omegas), list(range(len(omegas)))
    for j, w in enumerate(omegas):
        for i in sorted(range(len(omegas)), key=lambda k: -amplitudes[k]):
            h = round(w / omegas[i])
            if (i != j and 2 <= h <= MAX_HARMONIC and omegas[i] >= 2 * resolution and amplitudes[i] >= 0.5 * amplitudes[j]
                    and abs(w - h * omegas[i]) <= 0.5 * resolution and harmonic[i] == 1):
                harmonic[j], fundamental[j] = h, i
                break
    return harmonic, fundamental


def find_periods(x, y=None, *, max_periods=5, fap_level=0.01, trend="auto", min_frequency=None,
                 max_frequency=None, oversample=5, weights=None) -> PeriodReport:
    """The significant periods of a series, with amplitude, phase, significance and harmonics.

    Fits the trend, then tone after tone as :func:`~periodic_keras.classical.fit_frequencies`
    does; before each tone the highest peak of the residual's periodogram is tested, and
    the search stops at the first peak whose false-alarm probability
    (:func:`false_alarm_probability`, counting the parameters already fitted) is not
    below ``fap_level``, at a tone that makes less than one cycle over the data (it cannot
    be told from trend), or after ``max_periods`` tones.

    Args:
        x, y: as :func:`~periodic_keras.classical.fit_frequencies`: arrays, or a pandas Series
            (DatetimeIndex, PeriodIndex, TimedeltaIndex or numeric index) with ``y``
            omitted; NaN samples are dropped.
        max_periods: most tones reported (``>= 1``).
        fap_level: significance level in ``(0, 1)``.
        trend, min_frequency, max_frequency, oversample, weights: as
            :func:`~periodic_keras.classical.fit_frequencies` (frequencies angular).

    Returns:
        :class:`PeriodReport`; ``report.table`` is a pandas DataFrame.

    >>> import pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> days = pd.date_range("2001-01-01", periods=3 * 365, freq="D")
    >>> t = np.arange(days.size)
    >>> y = 0.01 * t + 2 * np.sin(2 * np.pi * t / 365.25) + np.sin(4 * np.pi * t / 365.25) + rng.normal(0, 0.5, t.size)
    >>> report = find_periods(pd.Series(y, index=days))
    >>> [p.round("D") for p in report.periods], report.table["harmonic"].tolist(), report.trend_degree
    ([Timedelta('365 days 00:00:00'), Timedelta('183 days 00:00:00')], [1, 2], 1)
    >>> print(report)  # doctest: +ELLIPSIS +NORMALIZE_WHITESPACE
    2 significant period(s) at false-alarm level 0.01 in 1095 samples; trend: polynomial of degree 1; x in days
    period omega frequency amplitude phase power fap harmonic fundamental
    rank
    1 364 days 20:04:48 0.0172219 0.00274095 2.04158 ... 1 1
    2 182 days 15:07:52 0.0344038 0.00547554 0.993039 ... 2 1
    next peak, not reported: period 7 days 16:32:29, false-alarm probability 0.139
    >>> find_periods(rng.normal(size=300)).table.empty    # noise: nothing significant
    True
    """
    import pandas as pd

    if isinstance(max_periods, bool) or not isinstance(max_periods, int) or max_periods < 1:
        raise ValueError(f"max_periods must be an integer >= 1, got {max_periods!r}")
    if isinstance(fap_level, bool) or not isinstance(fap_level, (int, float)) or not 0 < fap_level < 1:
        raise ValueError(f"fap_level must be a number in (0, 1), got {fap_level!r}")
    if y is None and not timeaxis.is_pandas(x):
        x, y = np.arange(np.size(x), dtype=np.float64), x  # a bare array: sample index as x
    p = fitting.prepare_fit(x, y, 1, min_frequency=min_frequency, max_frequency=max_frequency, oversample=oversample,
                       weights=weights, trend=trend)
    t, w = p["t"], p["w"]
    ws = w / w.sum()
    t_var = float(ws @ (t - ws @ t) ** 2)
    n = int(np.count_nonzero(w))
    fit, found, next_peak = _significant(p, n, t_var, max_periods, fap_level)
    degree = len(fit.trend)
    rows = []
    if found:
        by_omega = {round(w_, 12): (a, ph) for w_, a, ph in zip(fit.omegas, fit.amplitudes, fit.phases)}
        final = sorted(by_omega)
        for omega, peak, fap in found:
            key = min(final, key=lambda v: abs(v - omega))  # the same tone after the joint refits
            amplitude, phase = by_omega[key]
            rows.append(dict(period=_period(p, key), omega=key, frequency=key / TWO_PI, amplitude=amplitude,
                             phase=phase, power=peak, fap=fap))
    table = pd.DataFrame(rows, columns=["period", "omega", "frequency", "amplitude", "phase", "power", "fap"])
    resolution = TWO_PI / (t[-1] - t[0])
    harmonic, fundamental = _harmonics(list(table["omega"]), list(table["amplitude"]), resolution)
    table["harmonic"], table["fundamental"] = harmonic, [f + 1 for f in fundamental]
    table.index = pd.RangeIndex(1, len(table) + 1, name="rank")
    unit = "x" if p["axis"] is None else p["axis"].unit_name
    return PeriodReport(table, fit, degree, float(fap_level), next_peak, n, unit)


def _significant(p, n, t_var, max_periods, fap_level):
    """Tones while their peaks are significant: ``(fit, [(omega, power, fap), ...], next_peak)``.

    The trend degree is the one whose fit with the first tone has the lowest BIC, or, when
    that tone is not significant, the one the polynomial alone supports best."""
    poly, stages, stage = fitting.best_trend(p)
    found, next_peak = [], None
    spread = float(np.sqrt(p["w"] @ (p["y"] - p["w"] @ p["y"] / p["w"].sum()) ** 2 / p["w"].sum()))
    for k in range(max_periods):
        fitted = poly.shape[1] + 3 * k
        if k and n - fitted - 2 < 4:  # too few samples left for another tone
            break
        if k and fit.rmse <= 1e-9 * spread * p["y_scale"]:  # the fit is exact to rounding: nothing left to find
            break
        omegas, coef, trial, peak = stage if k == 0 else next(stages)
        fap = false_alarm_probability(peak, n, p["band"][1], t_var, fitted=fitted)
        if fap >= fap_level or abs(omegas[-1]) * (p["t"][-1] - p["t"][0]) < TWO_PI:  # or under a cycle: trend
            next_peak = (_period(p, abs(omegas[-1])), fap)
            break
        found.append((abs(float(omegas[-1])), peak, fap))
        fit = fitting.fit_result(p, omegas, coef, trial)
    if not found:  # no tone: the trend alone, of the degree the polynomial supports best
        poly = p["polys"][-1]
        sw = np.sqrt(p["w"])
        coef = np.linalg.lstsq(poly * sw[:, None], p["y"] * sw, rcond=None)[0]
        fit = fitting.fit_result(p, np.zeros(0), coef, poly @ coef)
    return fit, found, next_peak


def _period(p, omega):
    length = TWO_PI / omega
    return length if p["axis"] is None else p["axis"].period(length)

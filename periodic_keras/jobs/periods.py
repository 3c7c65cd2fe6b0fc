"""The period-report benchmark: :func:`periodic_keras.classical.find_periods` against astropy's
``LombScargle`` on the same series, in the same run.

:func:`benchmark_find_periods` measures:

1. **Calibration on pure noise** (``draws`` irregular series): how often each method
   reports a period at false-alarm levels 1 % and 5 % (it should be at most the level).
   astropy: its Baluev false-alarm probability of the highest peak of ``autopower`` over
   the same band; ours: ``find_periods`` with ``trend=0`` (astropy's null model: a
   floating mean) and with the default ``trend="auto"``.
2. **Agreement on weak signals** (``draws`` series with one sine near the detection
   limit): how often the two detect alike at 1 %, how often their periods agree to half a
   resolution width, and how far their false-alarm probabilities differ (in decades).
3. **Real series** shipped inside packages (yearly sunspots, raw weekly CO2 with its gaps,
   hourly San Francisco temperatures): the periods each method reports, the first
   false-alarm probability, and the time taken.

astropy is a comparison-only dependency (``pip install 'periodic-keras[bench]'``).
"""

from __future__ import annotations

import math
import numbers
import os
import time
import warnings

import numpy as np

from periodic_keras.jobs.common import check_benchmark_args, job, open_output, summary
from periodic_keras.signals import as_rng, check_positive_int

__all__ = ["COLUMNS", "benchmark_find_periods", "find_periods_summary"]

#: Columns of the results table.
COLUMNS = ("case", "name", "method", "metric", "measured", "notes")
_SPAN, _CYCLES = 100.0, 5.0  # irregular series over [0, 100], searched up to 5 cycles per unit
_WEAK_AMPLITUDE = 0.7  # sine amplitude of case 2 (noise std 1): near the 1 % detection limit at 100 samples
_LEVELS = (0.01, 0.05)


def _check_args(draws, seed, output_dir, verbose, n_points):
    check_positive_int(draws=draws)
    if isinstance(n_points, bool) or not isinstance(n_points, numbers.Integral) or n_points < 20:
        raise ValueError(f"n_points must be an integer >= 20, got {n_points!r}")
    check_benchmark_args(seed, output_dir)
    if isinstance(verbose, bool) or verbose not in (0, 1):
        raise ValueError(f"verbose must be 0 or 1, got {verbose!r}")


def _astropy():
    try:
        from astropy.timeseries import LombScargle
    except ImportError:
        raise ImportError("benchmark_find_periods compares with astropy: pip install 'periodic-keras[bench]'") from None
    return LombScargle


def _astropy_peak(LombScargle, t, y, max_cycles):
    """astropy's best period, its power and Baluev false-alarm probability, over ``(0, max_cycles]``."""
    ls = LombScargle(t, y)
    freq, power = ls.autopower(maximum_frequency=max_cycles, samples_per_peak=5)
    k = int(np.argmax(power))
    return 1.0 / freq[k], float(power[k]), float(ls.false_alarm_probability(power[k], maximum_frequency=max_cycles))


def _series(rng, n_points, amplitude):
    t = np.sort(rng.uniform(0.0, _SPAN, n_points))
    omega = rng.uniform(2 * math.pi * 0.05, 2 * math.pi * 0.9 * _CYCLES)
    return t, amplitude * np.sin(omega * t + rng.uniform(0, 2 * math.pi)) + rng.normal(0.0, 1.0, n_points), omega


@job()
def benchmark_find_periods(draws: int = 500, seed: int = 0, output_dir: str = "runs/find_periods", verbose: int = 1,
                           n_points: int = 100) -> dict:
    """Measure :func:`~periodic_keras.classical.find_periods` against astropy's LombScargle.

    Cases 1 and 2 draw ``n_points`` samples uniform in ``[0, 100]`` (noise std 1; case 2
    adds a sine of amplitude 0.7 at a random frequency below 4.5 cycles per unit), both
    methods searching up to 5 cycles per unit. Case 3 runs both on the real series with
    their default bands (astropy's ``autopower`` default; ours the Nyquist frequency), as
    a user would. See the module docstring for what is measured.

    Outputs in ``output_dir``: ``results.csv``/``.md`` (columns :data:`COLUMNS`) and
    ``calibration.png`` (false alarms against the level, both methods).

    Returns:
        dict with ``table``, ``table_paths``, ``plot``, ``train_seconds`` (0: nothing is
        trained) and ``seconds``.

    Example (a small run, a few seconds)::

        out = benchmark_find_periods(draws=20, output_dir="/tmp/periods", verbose=0)
        print(out["table"][["case", "method", "metric", "measured"]])
    """
    _check_args(draws, seed, output_dir, verbose, n_points)
    LombScargle = _astropy()
    open_output(output_dir)

    import pandas as pd

    from periodic_keras.jobs import results
    from periodic_keras.classical import find_periods, series_xy

    begin = time.perf_counter()
    rows = []

    def add(case, name, method, metric, measured, notes=""):
        rows.append(dict(case=case, name=name, method=method, metric=metric, measured=measured, notes=notes))
        if verbose:
            shown = f"{measured:.4g}" if isinstance(measured, float) else measured
            print(f"case {case} {name} [{method}]: {metric} {shown}", flush=True)

    band = 2 * math.pi * _CYCLES
    # 1. pure noise: the fraction of draws reporting a period, per level
    rng = as_rng([seed, 1])
    levels = np.array([0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2])
    ours, ours_auto, theirs = [], [], []
    for _ in range(draws):
        t, y = np.sort(rng.uniform(0.0, _SPAN, n_points)), rng.normal(0.0, 1.0, n_points)
        for trend, out in ((0, ours), ("auto", ours_auto)):
            report = find_periods(t, y, max_periods=1, fap_level=0.5, trend=trend, max_frequency=band)
            out.append(report.table["fap"].iloc[0] if len(report.table) else report.next_peak[1])
        theirs.append(_astropy_peak(LombScargle, t, y, _CYCLES)[2])
    ours, ours_auto, theirs = map(np.asarray, (ours, ours_auto, theirs))
    for level in _LEVELS:
        for method, faps in (("find_periods, trend=0", ours), ("find_periods, trend=auto", ours_auto),
                             ("astropy LombScargle", theirs)):
            add(1, f"pure noise, {draws} draws", method, f"false alarms at level {level:g}",
                float(np.mean(faps < level)), f"{n_points} samples uniform in [0, {_SPAN:g}], std 1; band 5 cycles/unit")
    plot = _plot_calibration(levels, {"find_periods, trend=0": ours, "find_periods, trend=auto": ours_auto,
                                      "astropy (Baluev)": theirs}, os.path.join(output_dir, "calibration.png"))

    # 2. weak signals: agreement of decisions, periods and false-alarm probabilities
    rng = as_rng([seed, 2])
    same_decision, same_period, both, log_gap = 0, 0, 0, []
    width = 1.0 / _SPAN  # resolution, cycles per unit
    for _ in range(draws):
        t, y, _omega = _series(rng, n_points, _WEAK_AMPLITUDE)
        report = find_periods(t, y, max_periods=1, fap_level=0.5, trend=0, max_frequency=band)
        period = report.table["period"].iloc[0] if len(report.table) else report.next_peak[0]
        fap = report.table["fap"].iloc[0] if len(report.table) else report.next_peak[1]
        a_period, _, a_fap = _astropy_peak(LombScargle, t, y, _CYCLES)
        same_decision += (fap < 0.01) == (a_fap < 0.01)
        if fap < 0.01 and a_fap < 0.01:
            both += 1
            same_period += abs(1 / period - 1 / a_period) <= 0.5 * width
        log_gap.append(abs(math.log10(max(fap, 1e-300)) - math.log10(max(a_fap, 1e-300))))
    notes = f"amplitude {_WEAK_AMPLITUDE} on noise std 1, {n_points} samples; level 0.01"
    add(2, f"weak sine, {draws} draws", "both", "same detection decision", same_decision / draws, notes)
    add(2, f"weak sine, {draws} draws", "both", "same period (half a resolution width), when both detect",
        same_period / max(both, 1), f"{both} draws detected by both")
    add(2, f"weak sine, {draws} draws", "both", "median abs. difference of log10 FAP", float(np.median(log_gap)),
        "ours: the polished peak (continuous frequency); astropy: its grid's highest point")

    # 3. real series
    for name, series in _real_series():
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = find_periods(series)
        seconds = time.perf_counter() - start
        shown = ", ".join(_short(p) for p in report.periods)
        first = f"{report.table['fap'].iloc[0]:.3g}" if len(report.table) else "-"
        add(3, name, "find_periods", "periods (strongest first)", shown,
            f"trend degree {report.trend_degree}; first FAP {first}; harmonics "
            f"{report.table['harmonic'].tolist()}; {seconds:.2f} s")
        t, y, _, axis = series_xy(series, None)  # what astropy is given: days since the start for time indexes
        unit = "units" if axis is None else f"{axis.unit_name}s"
        nyquist = 0.5 / float(np.median(np.diff(t)))  # ours searches to here on (gappy) regular series
        for label, top in (("astropy LombScargle, its default grid", None),
                           ("astropy LombScargle, up to the Nyquist frequency", nyquist)):
            start = time.perf_counter()
            ls = LombScargle(t, y)
            freq, power = ls.autopower(maximum_frequency=top)
            k = int(np.argmax(power))
            fap = float(ls.false_alarm_probability(power[k], maximum_frequency=freq.max()))
            seconds = time.perf_counter() - start
            add(3, name, label, "best period", f"{1 / freq[k]:.4g} {unit}",
                f"FAP {fap:.3g}; grid up to {freq.max():.3g} cycles/{unit[:-1]}; {seconds:.2f} s")

    table = pd.DataFrame(rows, columns=list(COLUMNS))
    paths = results.write_table(table, os.path.join(output_dir, "results"))
    return dict(table=table, table_paths=paths, plot=plot, train_seconds=0.0, seconds=time.perf_counter() - begin)


def _real_series():
    """(name, Series) for the real series whose packages are installed."""
    from periodic_keras.data import real

    out = []
    for name, load in (("sunspots, yearly", real.sunspots_yearly), ("CO2 weekly, raw (gaps)",
                                                                     lambda: real.co2_weekly(raw=True)),
                       ("SF temperature, hourly", real.sf_temps)):
        try:
            out.append((name, load()))
        except ImportError:
            continue
    return out


def _short(period):
    if hasattr(period, "total_seconds"):
        days = period.total_seconds() / 86400
        return f"{days:.4g} d" if days >= 1 else f"{days * 24:.4g} h"
    return f"{period:.4g}"


def _plot_calibration(levels, faps: dict, path):
    from periodic_keras.jobs import results

    plt = results.pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for label, values in faps.items():
        ax.plot(levels, [np.mean(values < level) for level in levels], "o-", label=label, ms=3)
    ax.plot(levels, levels, "k--", lw=1, label="false alarms = level")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("false-alarm level")
    ax.set_ylabel("fraction of pure-noise draws with a period")
    ax.legend(fontsize=8)
    return results.save_figure(fig, path)


def find_periods_summary(result: dict) -> str:
    """Human-readable summary of :func:`benchmark_find_periods`: table, paths, time."""
    return f"benchmark {result['seconds']:.0f} s\n\n{summary(result)}"

"""find_periods: significance against astropy's LombScargle, noise, harmonics, trend, report."""

import numpy as np
import pandas as pd
import pytest
from astropy.timeseries import LombScargle

from periodic_keras.classical import PeriodReport, false_alarm_probability, find_periods


@pytest.mark.parametrize("power", [0.03, 0.06, 0.1, 0.2])
def test_false_alarm_probability_is_astropys_baluev(power):
    rng = np.random.default_rng(3)
    t = np.sort(rng.uniform(0, 80, 150))
    expected = LombScargle(t, rng.normal(size=t.size)).false_alarm_probability(
        power, maximum_frequency=4.0, method="baluev")
    got = false_alarm_probability(power, t.size, 2 * np.pi * 4.0, float(np.var(t)))
    assert got == pytest.approx(float(expected), rel=1e-3, abs=1e-12)


def test_more_fitted_parameters_make_a_peak_less_surprising():
    args = (0.1, 120, 10.0, 300.0)
    assert false_alarm_probability(*args, fitted=4) > false_alarm_probability(*args, fitted=1)
    with pytest.raises(ValueError, match="degrees of freedom"):
        false_alarm_probability(0.1, 5, 1.0, 1.0, fitted=3)


def test_peaks_and_significance_agree_with_astropy():
    rng = np.random.default_rng(0)
    t = np.sort(rng.uniform(0, 200, 300))
    y = 1.0 * np.sin(2 * np.pi * t / 13.0) + 0.5 * np.sin(2 * np.pi * t / 4.7 + 1) + rng.normal(0, 0.8, t.size)
    report = find_periods(t, y, trend=0, max_frequency=2 * np.pi * 1.0)
    assert report.periods[:2] == pytest.approx([13.0, 4.7], rel=1e-2)
    ls = LombScargle(t, y)
    freq, power = ls.autopower(maximum_frequency=1.0, samples_per_peak=20)
    assert 1 / freq[np.argmax(power)] == pytest.approx(report.periods[0], rel=2e-3)
    # the first peak's power and false-alarm probability are astropy's (finer: polished peak)
    assert report.table["power"].iloc[0] == pytest.approx(power.max(), rel=2e-3)
    astropy_fap = ls.false_alarm_probability(power.max(), maximum_frequency=1.0)
    assert np.log10(report.table["fap"].iloc[0]) == pytest.approx(np.log10(astropy_fap), rel=0.02)


def test_pure_noise_gives_no_period_at_the_stated_level():
    rng = np.random.default_rng(7)
    false = 0
    for _ in range(40):
        t = np.sort(rng.uniform(0, 100, 120))
        report = find_periods(t, rng.normal(size=t.size), fap_level=0.05)
        false += len(report.table)
        assert report.next_peak is not None or len(report.table)
    assert false <= 4  # 40 draws at 5 %: 2 expected, Baluev's bound errs on the safe side


def test_harmonics_are_grouped_with_their_fundamental():
    t = np.arange(600.0)
    y = (np.sin(2 * np.pi * t / 50) + 0.5 * np.sin(4 * np.pi * t / 50 + 0.3) + 0.3 * np.sin(6 * np.pi * t / 50)
         + 0.6 * np.sin(2 * np.pi * t / 17.3) + np.random.default_rng(1).normal(0, 0.2, t.size))
    table = find_periods(t, y).table
    by_period = {round(p, 1): (h, f) for p, h, f in zip(table["period"], table["harmonic"], table["fundamental"])}
    fundamental = table.index[np.argmin(np.abs(table["period"] - 50))]
    assert by_period[50.0] == (1, fundamental) and by_period[17.3][0] == 1
    assert by_period[25.0] == (2, fundamental) and by_period[16.7] == (3, fundamental)


def test_report_has_trend_frame_and_text():
    days = pd.date_range("2010-01-01", periods=900, freq="D")
    t = np.arange(900)
    y = pd.Series(5 + 0.02 * t + np.sin(2 * np.pi * t / 7) + np.random.default_rng(2).normal(0, 0.3, 900), index=days)
    report = find_periods(y)
    assert isinstance(report, PeriodReport) and report.trend_degree >= 1
    assert report.periods[0] / pd.Timedelta(days=7) == pytest.approx(1, rel=1e-3)
    assert list(report.table.columns) == ["period", "omega", "frequency", "amplitude", "phase", "power", "fap",
                                          "harmonic", "fundamental"]
    assert report.fit.trend_at(days[-1:])[0] == pytest.approx(5 + 0.02 * 899, abs=0.1)
    text = str(report)
    assert "significant period(s)" in text and "7 days" in text and "degree" in text


def test_nothing_significant_still_reports_the_trend():
    report = find_periods(np.arange(50.0) * 0.5 + np.random.default_rng(0).normal(size=50))
    assert report.table.empty and len(report.fit) == 0 and report.trend_degree >= 1
    assert report.fit.trend_at([10.0, 40.0]) == pytest.approx([5.0, 20.0], abs=1.0)
    assert "0 significant period(s)" in str(report) and "next peak, not reported" in str(report)


@pytest.mark.parametrize("kwargs, match", [
    (dict(max_periods=0), "max_periods"),
    (dict(fap_level=1.5), "fap_level"),
    (dict(fap_level=0), "fap_level"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        find_periods(np.sin(np.arange(100.0)), **kwargs)

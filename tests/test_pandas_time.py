"""fit_frequency / fit_frequencies on pandas Series: time indexes, gaps, trend, units, bad input."""

import numpy as np
import pandas as pd
import pytest

import periodic_keras
from periodic_keras.classical import fit_frequencies, fit_frequency


YEAR = pd.Timedelta(days=365.2422)


def co2_like(seed=0):
    """Weekly series shaped like Mauna Loa CO2: 2284 weeks from 1958, a curved trend of ~60
    ppm, a 2.8 ppm annual and 0.7 ppm semi-annual cycle, noise, 59 missing weeks and one
    missing half-year."""
    rng = np.random.default_rng(seed)
    index = pd.date_range("1958-03-29", periods=2284, freq="W-SAT")
    years = np.asarray((index - index[0]) / YEAR)
    y = (316 + 0.8 * years + 0.012 * years**2 + 2.8 * np.sin(2 * np.pi * years + 0.4)
         + 0.7 * np.sin(4 * np.pi * years + 1.1) + rng.normal(0, 0.3, index.size))
    y[rng.choice(index.size, 59, replace=False)] = np.nan
    y[400:426] = np.nan
    return pd.Series(y, index=index)


def test_co2_shaped_series_gives_its_year_with_default_arguments():
    fit = fit_frequency(co2_like())
    assert isinstance(fit.period, pd.Timedelta)
    assert abs(fit.period / YEAR - 1) < 2e-3
    assert len(fit.trend) >= 1  # the trend was fitted, not left to a low-frequency tone
    assert fit.amplitude == pytest.approx(2.8, rel=0.05)
    residual = co2_like().dropna() - fit.predict(co2_like().dropna().index)
    assert float(np.std(residual)) < 0.9  # trend + tone fit the series (the semi-annual tone remains)


def test_without_the_trend_the_raw_co2_shape_fails_as_reported():
    period = fit_frequency(co2_like(), trend=0).period  # why the trend matters: a period far beyond the data
    assert (period / YEAR if isinstance(period, pd.Timedelta) else period * pd.Timedelta(days=1) / YEAR) > 10


def test_two_tones_from_a_series_positional_count():
    fit = fit_frequencies(co2_like(), 2)
    assert [p / YEAR for p in fit.periods] == pytest.approx([1.0, 0.5], rel=2e-3)
    assert fit.samples == co2_like().notna().sum()


@pytest.mark.parametrize("make, unit", [
    (lambda n: pd.date_range("2021-01-01", periods=n, freq="h", tz="Europe/Paris"), pd.Timedelta(hours=1)),
    (lambda n: pd.timedelta_range(0, periods=n, freq="30min"), pd.Timedelta(minutes=30)),
    (lambda n: pd.period_range("2000-01-01", periods=n, freq="D"), pd.Timedelta(days=1)),
    (lambda n: pd.period_range("2000-01-03", periods=n, freq="W"), pd.Timedelta(weeks=1)),
])
def test_time_indexes_give_periods_as_timedeltas(make, unit):
    n = 600
    index = make(n)
    y = np.sin(2 * np.pi * np.arange(n) / 24.5) + 0.01 * np.arange(n)
    y[::7] = np.nan  # gaps
    fit = fit_frequency(pd.Series(y, index=index))
    assert isinstance(fit.period, pd.Timedelta)
    assert fit.period / unit == pytest.approx(24.5, rel=1e-9)
    np.testing.assert_allclose(fit.predict(index[1:4]), y[1:4], atol=1e-8)


def test_calendar_period_index_gives_periods_in_its_steps():
    index = pd.period_range("1950-01", periods=480, freq="M")
    fit = fit_frequency(pd.Series(np.cos(2 * np.pi * np.arange(480) / 12.0), index=index))
    assert isinstance(fit.period, float) and fit.period == pytest.approx(12.0, rel=1e-9)
    assert fit.axis.unit_name == "M"


def test_numeric_index_and_datetime64_x():
    x = np.sort(np.random.default_rng(1).uniform(0, 50, 300))
    series = pd.Series(np.sin(1.7 * x), index=x)
    assert fit_frequency(series).omega == pytest.approx(1.7, rel=1e-9)
    stamps = np.datetime64("2024-01-01T00:00") + (x * 3600).astype("timedelta64[s]")
    fit = fit_frequency(stamps, np.sin(2 * np.pi * (stamps - stamps[0]) / np.timedelta64(5, "h")))
    assert fit.period / pd.Timedelta(hours=5) == pytest.approx(1.0, rel=1e-6)


def test_nan_samples_are_dropped_and_counted():
    x = np.arange(200.0)
    y = np.sin(0.3 * x)
    y[50:80] = np.nan
    fit = fit_frequencies(x, y, 1)
    assert fit.samples == 170 and fit.omegas[0] == pytest.approx(0.3, rel=1e-9)


@pytest.mark.parametrize("series, error, match", [
    (pd.Series([1.0, 2.0, 3.0], index=pd.DatetimeIndex(["2020-01-03", "2020-01-01", "2020-01-02"])), ValueError,
     "increasing order"),
    (pd.Series(np.ones(6), index=pd.Index([pd.Timestamp("2020-01-01", tz="UTC") + pd.Timedelta(hours=k)
                                           for k in range(3)] + [pd.Timestamp("2020-01-01 05:00", tz="US/Eastern")
                                                                 + pd.Timedelta(hours=k) for k in range(3)],
                                          dtype=object)), TypeError, "mixes timezones"),
    (pd.Series(np.full(10, np.nan), index=pd.date_range("2020", periods=10)), ValueError, "every sample is missing"),
    (pd.Series([1.0, np.nan, 2.0, np.nan], index=pd.date_range("2020", periods=4)), ValueError, "at least 4"),
    (pd.Series(np.full(20, 3.0), index=pd.date_range("2020", periods=20)), ValueError, "constant"),
    (pd.Series(np.arange(5.0), index=list("abcde")), TypeError, "the index holds str values"),
    (pd.Series(["a"] * 8, index=pd.date_range("2020", periods=8)), TypeError, "real numbers"),
])
def test_bad_series_raise_clear_errors(series, error, match):
    with pytest.raises(error, match=match):
        fit_frequency(series)


def test_y_is_required_for_arrays_and_counts_must_be_integers():
    with pytest.raises(TypeError, match="y is required"):
        fit_frequency(np.arange(10.0))
    with pytest.raises(ValueError, match="n_tones"):
        fit_frequencies(co2_like(), 0)
    with pytest.raises(ValueError, match="trend"):
        fit_frequency(co2_like(), trend=-1)
    with pytest.raises(ValueError, match="trend"):
        fit_frequency(co2_like(), trend="quadratic")


def test_package_level_names():
    assert periodic_keras.fit_frequency is fit_frequency
    from periodic_keras.classical import find_periods
    assert periodic_keras.find_periods is find_periods

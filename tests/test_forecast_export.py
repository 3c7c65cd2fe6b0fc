"""A fitted Forecaster exported for the edge runtime: edge ≡ Keras for each kind of time index,
the time axis, and clear errors on bad histories."""

import json
import os

import numpy as np
import pandas as pd
import pytest

from periodic_keras import edge
from periodic_keras.data import RegularSeries
from periodic_keras.export import time_axis
from periodic_keras.forecasting import Forecaster
from periodic_keras.runs import NotOwnedError
from script_runner import run_python

#: Fixtures that train or run a job: the tests using them are marked slow (tests/conftest.py).
SLOW_FIXTURES = ('hourly_export',)

t = np.arange(400)
SINE = 10 + 0.01 * t + np.sin(2 * np.pi * t / 24) + np.random.default_rng(0).normal(0, 0.1, t.size)


def edge_times(index):
    """The timestamps a device holds: UTC datetime64 or numbers."""
    if isinstance(index, pd.PeriodIndex):
        index = index.to_timestamp()
    if isinstance(index, pd.DatetimeIndex) and index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    return np.asarray(index)


def fitted(series, **kw):
    return Forecaster(horizon=12, steps=30, units=4, hidden=8, **kw).fit(series)


@pytest.fixture(scope="module")
def hourly_export(tmp_path_factory):
    s = pd.Series(SINE, index=pd.date_range("2024-03-20", periods=t.size, freq="h", tz="Europe/Berlin"))
    s.iloc[[50, 390]] = np.nan  # gaps, one inside the last context
    f = fitted(s)
    out = str(tmp_path_factory.mktemp("fc") / "export")
    return f, s, out, f.export(out)


def test_hourly_export_matches_keras_through_the_edge_runtime(hourly_export):
    f, s, out, meta = hourly_export
    assert meta["tflite"]["float32"]["parity_max_abs_diff"] <= 1e-4 and meta["parity"]["origins"] == 8
    assert meta["time"] == {"unit": "ns", "origin": pd.Timestamp("2024-03-19 23:00").value,
                            "step": 3_600_000_000_000, "anchor": None, "timezone": "Europe/Berlin"}
    assert meta["forecaster"]["periods"] == pytest.approx(f.periods_) and meta["forecaster"]["context"] == f.context_
    assert json.load(open(os.path.join(out, "metadata.json")))["task"] == "forecaster"
    runner = edge.load_forecaster(out)
    got = runner.forecast(s.to_numpy(), edge_times(s.index))
    want = f.predict()
    np.testing.assert_allclose(got.values, want.to_numpy(), atol=1e-4)
    assert np.array_equal(got.times, edge_times(want.index)) and got.values.dtype == np.float32
    # a gap given as a missing time is the same as a NaN value
    keep = np.isfinite(s.to_numpy())
    again = runner.forecast(s.to_numpy()[keep], edge_times(s.index)[keep])
    np.testing.assert_array_equal(again.values, got.values)
    # ISO strings are times too
    np.testing.assert_array_equal(runner.forecast(s.to_numpy(), edge_times(s.index).astype(str)).values, got.values)


@pytest.mark.parametrize("index, unit", [
    (pd.period_range("1990-01", periods=160, freq="M"), "month"),
    (pd.date_range("1990-01-31", periods=160, freq="ME"), "month"),
    (pd.date_range("1990-01-06", periods=160, freq="W-SAT"), "ns"),
    (pd.Index(100 + 0.5 * np.arange(160)), "number"),
])
@pytest.mark.slow
def test_other_indexes_export_with_their_time_axis(tmp_path, index, unit):
    s = pd.Series(SINE[:160], index=index)
    f = fitted(s, periods=[12.0])
    meta = f.export(str(tmp_path / "e"))
    assert meta["time"]["unit"] == unit and meta["tflite"]["float32"]["parity_max_abs_diff"] <= 1e-4
    got = edge.load_forecaster(str(tmp_path / "e")).forecast(s.to_numpy(), edge_times(s.index))
    want = f.predict()
    np.testing.assert_allclose(got.values, want.to_numpy(), atol=1e-4)
    if unit == "number":
        np.testing.assert_allclose(got.times, want.index.to_numpy(np.float64))
    else:
        day = "datetime64[D]"
        assert np.array_equal(got.times.astype(day), edge_times(want.index).astype(day))


@pytest.mark.slow
def test_a_blended_forecaster_with_anchored_candidates_exports(tmp_path):
    k = np.arange(1100)
    s = pd.Series(10 + 0.002 * k + np.sin(2 * np.pi * k / 24) + np.random.default_rng(1).normal(0, 0.1, k.size),
                  index=pd.date_range("2024-01-01", periods=k.size, freq="h"))
    f = fitted(s, periods=[24.0])
    assert f.blended_ and f.model.get_layer("lags").anchored
    meta = f.export(str(tmp_path / "blended"))
    assert meta["tflite"]["float32"]["parity_max_abs_diff"] <= 1e-4
    got = edge.load_forecaster(str(tmp_path / "blended")).forecast(s.to_numpy()[-200:], edge_times(s.index)[-200:])
    np.testing.assert_allclose(got.values, f.predict().to_numpy(), atol=1e-4)


@pytest.mark.slow
def test_parity_is_relative_for_large_values(tmp_path):
    s = pd.Series(30_000 + 5_000 * np.sin(2 * np.pi * np.arange(160) / 12),
                  index=pd.period_range("1980-01", periods=160, freq="M"))
    meta = fitted(s, periods=[12.0]).export(str(tmp_path / "big"))
    parity = meta["parity"]
    assert parity["forecast_magnitude"] > 20_000 and parity["max_abs_diff_allowed"] == 1e-4 * parity["forecast_magnitude"]
    assert meta["tflite"]["float32"]["parity_max_abs_diff"] <= parity["max_abs_diff_allowed"]


def test_time_axis_refuses_steps_it_cannot_place():
    s = RegularSeries(np.zeros(5), pd.Timestamp("2024-01-01"), pd.offsets.BusinessDay(), "datetime")
    with pytest.raises(ValueError, match="neither a fixed duration nor whole months"):
        time_axis(s)
    quarterly = RegularSeries(np.zeros(5), pd.Timestamp("2024-01-01"), pd.offsets.QuarterBegin(startingMonth=1),
                              "datetime")
    assert time_axis(quarterly) == {"unit": "month", "origin": 648, "step": 3, "anchor": "start", "timezone": None}


@pytest.mark.parametrize("values, times, error, match", [
    (np.ones(10), None, ValueError, r"history spans 10 steps; the forecaster reads the last"),
    (np.ones(100), np.arange(100), TypeError, "times must be datetime64"),
    ("last", "+30min", ValueError, "not on the grid"),
    ("last", "shuffle", ValueError, "strictly increasing"),
    (np.full(100, np.nan), "last", ValueError, "no value in the last"),
    (np.r_[np.ones(99), np.inf], "last", ValueError, "inf"),
    (np.ones((2, 50)), None, ValueError, "1-D"),
])
def test_edge_forecaster_rejects_bad_histories(hourly_export, values, times, error, match):
    _, s, out, _ = hourly_export
    stamps = edge_times(s.index)[-100:]
    if isinstance(values, str):
        values = s.to_numpy()[-100:]
    if isinstance(times, str):
        times = {"last": stamps, "+30min": stamps + np.timedelta64(30, "m"), "shuffle": stamps[::-1]}[times]
    with pytest.raises(error, match=match):
        edge.load_forecaster(out).forecast(values, times)


def test_wrong_loader_and_unfitted_or_foreign_targets(hourly_export, tmp_path):
    _, _, out, _ = hourly_export
    with pytest.raises(edge.ExportedModelError, match="load it with edge.load_forecaster"):
        edge.load(out)
    freq = os.path.join(os.path.dirname(__file__), "..", "exported", "freq")
    with pytest.raises(edge.ExportedModelError, match="not a forecaster export"):
        edge.load_forecaster(freq)
    with pytest.raises(ValueError, match="call fit"):
        Forecaster(horizon=4).export(str(tmp_path / "x"))
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(NotOwnedError):
        hourly_export[0].export(str(tmp_path / "mine"))
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"


def test_edge_forecaster_imports_no_tensorflow_keras_or_pandas(hourly_export):
    _, s, out, _ = hourly_export
    code = (
        "import sys, numpy as np\n"
        "from periodic_keras import edge\n"
        f"f = edge.load_forecaster({out!r})\n"
        "v = np.sin(2 * np.pi * np.arange(200) / 24) + 10\n"
        f"times = np.datetime64('{str(edge_times(s.index)[199])}') + np.arange(-199, 1) * np.timedelta64(1, 'h')\n"
        "print(f.forecast(v, times).values[0])\n"
        "bad = [k for k in sys.modules if k.split('.')[0] in ('tensorflow', 'keras', 'pandas')]\n"
        "assert not bad, bad\n"
    )
    done = run_python("-c", code, timeout=120)
    assert done.returncode == 0, done.stderr
    assert np.isfinite(float(done.stdout.split()[-1]))

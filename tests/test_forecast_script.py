"""scripts/forecast.py end to end on a tiny CSV, and its one-line errors."""

import os

import numpy as np
import pandas as pd
import pytest

from script_runner import main_runner as runner  # main(argv), in this process

run = runner("forecast.py")


def tiny_csv(path, n=400, gaps=(100, 101, 300)):
    t = np.arange(n)
    y = 10 + 0.01 * t + 2 * np.sin(2 * np.pi * t / 24) + np.random.default_rng(0).normal(0, 0.2, n)
    frame = pd.DataFrame({"time": pd.date_range("2024-01-01", periods=n, freq="h").astype(str), "y": y})
    frame.loc[list(gaps), "y"] = np.nan
    frame.to_csv(path, index=False)
    return path


@pytest.mark.slow
def test_forecast_csv_end_to_end(tmp_path):
    csv = tiny_csv(tmp_path / "in.csv")
    out = tmp_path / "run"
    done = run("--csv", str(csv), "--column", "y", "--time-column", "time", "--horizon", "12", "--steps", "60",
               "--units", "8", "--origins", "2", "--output-dir", str(out), "--export-dir", str(tmp_path / "edge"),
               "--statsforecast", "no")
    assert done.returncode == 0, done.stderr
    forecast = pd.read_csv(out / "forecast.csv")
    assert list(forecast.columns) == ["time", "forecast"] and len(forecast) == 12
    assert forecast.time.iloc[0] == "2024-01-17 16:00:00" and np.isfinite(forecast.forecast).all()
    backtest = pd.read_csv(out / "backtest.csv")
    methods = {"forecaster", "seasonal_naive_24", "seasonal_naive_drift", "naive"}
    assert set(backtest.method) == methods and (backtest.origin == "mean").sum() == 4
    assert (out / "backtest.md").exists() and (out / "forecast.png").read_bytes()[:4] == b"\x89PNG"
    assert "origin 2/2" in done.stdout and "periods (steps): 24" in done.stdout
    # the export forecasts the same from the CSV's own history, and carries the backtest's verdict
    from periodic_keras import edge

    runner = edge.load_forecaster(str(tmp_path / "edge"))
    frame = pd.read_csv(csv)
    got = runner.forecast(frame.y.to_numpy(), pd.to_datetime(frame.time).to_numpy())
    np.testing.assert_allclose(got.values, forecast.forecast.to_numpy(), atol=1e-4)
    assert str(got.times[0]).startswith("2024-01-17T16:00")
    summary = runner.metadata["backtest"]
    mase = summary["mean_mase"]
    assert summary["origins"] == 2 and set(mase) == methods
    assert summary["beats_seasonal_naive"] == (mase["forecaster"] < min(mase["seasonal_naive_24"],
                                                                        mase["seasonal_naive_drift"]))
    assert "exported for the edge runtime" in done.stdout
    assert summary["note"] in done.stdout and ("LOST" in summary["note"]) != summary["beats_seasonal_naive"]


@pytest.mark.parametrize("args, message", [
    (["--column", "z"], r"column 'z' not found"),
    (["--horizon", "0"], r"horizon must be a positive integer, got 0"),
    (["--time-column", "when"], r"column 'when' not found"),
    (["--periods", "300"], r"fewer than two of its longest period"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, args, message):
    csv = tiny_csv(tmp_path / "in.csv")
    base = {"--csv": str(csv), "--column": "y", "--time-column": "time", "--horizon": "12"}
    for flag, value in zip(args[::2], args[1::2]):
        base[flag] = value
    done = run(*[v for kv in base.items() for v in kv], "--output-dir", str(tmp_path / "out"), timeout=120)
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("forecast.py")]
    assert len(lines) == 1 and __import__("re").search(message, lines[0]), done.stderr
    assert not os.path.exists(tmp_path / "out")


def test_non_numeric_values_and_irregular_times(tmp_path):
    frame = pd.read_csv(tiny_csv(tmp_path / "in.csv"))
    frame["y"] = frame["y"].astype(object)
    frame.loc[7, "y"] = "n/a?"
    frame.to_csv(tmp_path / "text.csv", index=False)
    done = run("--csv", str(tmp_path / "text.csv"), "--column", "y", "--horizon", "4", "--output-dir",
               str(tmp_path / "o1"), timeout=120)
    assert done.returncode == 2 and "non-numeric values, first 'n/a?' at data row 8" in done.stderr
    frame = pd.read_csv(tiny_csv(tmp_path / "in.csv"))
    frame.loc[5, "time"] = "2024-01-01 05:17:00"
    frame.to_csv(tmp_path / "odd.csv", index=False)
    done = run("--csv", str(tmp_path / "odd.csv"), "--column", "y", "--time-column", "time", "--horizon", "4",
               "--output-dir", str(tmp_path / "o2"), timeout=120)
    assert done.returncode == 2 and "the time index is irregular" in done.stderr


def test_an_export_dir_holding_other_files_is_refused_before_any_work(tmp_path):
    csv = tiny_csv(tmp_path / "in.csv")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    done = run("--csv", str(csv), "--column", "y", "--time-column", "time", "--horizon", "12", "--output-dir",
               str(tmp_path / "out"), "--export-dir", str(tmp_path / "mine"), timeout=120)
    assert done.returncode == 2 and "mine" in done.stderr.splitlines()[-1], done.stderr
    assert not os.path.exists(tmp_path / "out") and (tmp_path / "mine" / "notes.txt").read_text() == "keep"


def test_the_verdict_names_the_method_to_prefer():
    from periodic_keras.forecasting import guarded_statsforecast as _statsforecast_baselines
    from periodic_keras.jobs.forecast import _backtest_summary

    def means(**mase):
        return pd.DataFrame({"method": list(mase), "mase": list(mase.values())})

    best = _backtest_summary(means(forecaster=0.5, seasonal_naive_24=0.8, MSTL=0.6), 3)
    assert best["best_method"] == "forecaster" and best["beats_seasonal_naive"] and "lowest" in best["note"]
    second = _backtest_summary(means(forecaster=0.5, seasonal_naive_24=0.8, MSTL=0.4, AutoARIMA=np.nan), 3)
    assert second["beats_seasonal_naive"] and "but MSTL did better (0.4)" in second["note"]
    assert second["mean_mase"]["AutoARIMA"] is None
    lost = _backtest_summary(means(forecaster=1.2, seasonal_naive_12=1.0, seasonal_naive_drift=1.1, MSTL=0.9), 3)
    assert not lost["beats_seasonal_naive"] and "LOST to seasonal_naive_12" in lost["note"]
    assert "prefer MSTL (0.9) or it" in lost["note"]
    with pytest.raises(ValueError, match="statsforecast must be"):
        _statsforecast_baselines("sometimes")
    assert _statsforecast_baselines(False) == {}


def test_statsforecast_required_but_missing(monkeypatch):
    import sys

    from periodic_keras.forecasting import guarded_statsforecast as _statsforecast_baselines
    monkeypatch.setitem(sys.modules, "statsforecast.models", None)  # as if not installed
    assert _statsforecast_baselines("auto") == {}
    with pytest.raises(ImportError, match="statsforecast"):
        _statsforecast_baselines(True)

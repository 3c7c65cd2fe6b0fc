"""periodic_keras.forecasting: the grid, the windows, the model's layers, a small fit, backtests."""

import numpy as np
import pandas as pd
import pytest

from periodic_keras.data import forecast_windows, regular_series, window_scale
from periodic_keras.forecasting import Forecaster, backtest, forecast_metrics, seasonal_naive

#: Fixtures that train or run a job: the tests using them are marked slow (tests/conftest.py).
SLOW_FIXTURES = ('fitted',)


def hourly(n=700, seed=0, trend=0.01):
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    y = 10 + trend * t + 2 * np.sin(2 * np.pi * t / 24) + 0.5 * np.sin(2 * np.pi * t / 168 + 1) + rng.normal(0, 0.2, n)
    return pd.Series(y, index=pd.date_range("2024-01-01", periods=n, freq="h"))


# --- the grid -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("index, step, future", [
    (pd.date_range("2024-01-01", periods=6, freq="h"), pd.Timedelta(hours=1), "2024-01-01 06:00:00"),
    (pd.date_range("2020-01-01", periods=6, freq="MS"), "MS", "2020-07-01 00:00:00"),
    (pd.period_range("2020-01", periods=6, freq="M"), "M", "2020-07"),
    (pd.RangeIndex(10, 22, 2), 2, "22"),
])
def test_index_types_and_the_future_index(index, step, future):
    s = regular_series(pd.Series(np.arange(6.0), index=index))
    assert len(s) == 6 and str(s.future_index(3)[0]) == future
    assert s.future_index(3).size == 3 and s.to_series().index.equals(s.index)


def test_gaps_become_missing_steps_and_are_interpolated():
    index = pd.date_range("2024-01-01", periods=10, freq="D").delete([3, 4, 7])
    s = regular_series(pd.Series(np.arange(10.0)[[0, 1, 2, 5, 6, 8, 9]], index=index))
    assert len(s) == 10 and s.observed.sum() == 7
    np.testing.assert_allclose(s.filled(), np.arange(10.0))
    assert regular_series(np.array([np.nan, 1.0, 2.0, np.nan])).values.tolist() == [1.0, 2.0]  # ends trimmed


@pytest.mark.parametrize("series, error, match", [
    (pd.Series([1.0, 2.0, 3.0], index=pd.to_datetime(["2024-01-01 00:00", "2024-01-02 00:00", "2024-01-02 07:00"])), ValueError,
     "irregular"),
    (pd.Series([1.0, 2.0, 3.0], index=pd.to_datetime(["2024-01-03", "2024-01-02", "2024-01-04"])), ValueError,
     "strictly increasing"),
    (pd.Series(["a", "b"]), TypeError, "numbers"),
    (pd.Series([np.nan, np.nan]), ValueError, "every value is missing"),
    (pd.Series([1.0, np.inf]), ValueError, "inf"),
    (pd.Series([1.0, 2.0], index=["x", "y"]), TypeError, "DatetimeIndex"),
])
def test_bad_series_raise_clear_errors(series, error, match):
    with pytest.raises(error, match=match):
        regular_series(series)


# --- windows and layers ---------------------------------------------------------------------------------


def test_windows_targets_starts_and_gap_weights():
    values = np.arange(100.0)
    values[60] = np.nan
    s = regular_series(values)
    (v, m, start), y = next(iter(forecast_windows(s, 10, 5, season=4, batch_size=256, seed=1)))
    v, m, start, y = v.numpy(), m.numpy(), start.numpy()[:, 0], y.numpy()
    np.testing.assert_allclose(v[:, -1] + 1, start)  # the context ends just before the first forecast step
    np.testing.assert_allclose(y[..., 0], start[:, None] + np.arange(5))  # gaps interpolated in targets too
    gap = (start[:, None] + np.arange(5)) == 60
    assert gap.any() and np.all(y[..., 1][gap] == 0) and np.all(y[..., 1][~gap] > 0)
    assert np.all(m[(start[:, None] - 10 + np.arange(10)) == 60] == 0)
    again = next(iter(forecast_windows(s, 10, 5, season=4, batch_size=256, seed=1)))[0][2].numpy()[:, 0]
    np.testing.assert_array_equal(again, start)  # seeded


def test_window_scale_matches_the_models_scaler():
    import keras

    from periodic_keras.layers import WindowScaler
    rng = np.random.default_rng(0)
    x = rng.normal(5, 2, 40)
    mask = rng.uniform(size=40) > 0.2
    z, level, scale = WindowScaler(season=8)([np.where(mask, x, 0)[None].astype("float32"),
                                              mask[None].astype("float32")])
    assert float(np.asarray(scale)[0, 0]) == pytest.approx(window_scale(x, mask, 40, 8, [0])[0], rel=1e-4)
    assert float(np.asarray(level)[0, 0]) != pytest.approx(float(np.asarray(scale)[0, 0]))  # distinct outputs
    assert keras.ops.convert_to_numpy(z).shape == (1, 40)


def test_forecaster_layers_serialise_and_load_safely(tmp_path):
    import keras

    from periodic_keras.models import forecaster_model
    model = forecaster_model(24, 6, periods=[12.0], lags=[1, 12], units=4, hidden=8)
    inputs = [np.random.default_rng(0).normal(size=(2, 24)).astype("float32"), np.ones((2, 24), "float32"),
              np.array([[100], [7]], "int64")]
    model.save(tmp_path / "f.keras")
    loaded = keras.models.load_model(tmp_path / "f.keras", safe_mode=True)
    np.testing.assert_allclose(loaded(inputs), model(inputs), atol=1e-6)


def test_anchored_lags_move_the_last_season_to_the_last_value():
    import keras

    from periodic_keras.layers import SeasonalLags
    x = np.random.default_rng(1).normal(size=(3, 30)).astype("float32")
    plain = SeasonalLags([1, 7, 12], context=30, horizon=16)
    anchored = SeasonalLags([1, 7, 12], context=30, horizon=16, anchored=True)
    out, base = keras.ops.convert_to_numpy(anchored(x)), keras.ops.convert_to_numpy(plain(x))
    assert out.shape == (3, 16, anchored.channels) and anchored.channels == plain.channels + 2  # not for lag 1
    np.testing.assert_array_equal(out[..., :plain.channels - 1], base[..., :-1])
    for j, lag in enumerate([7, 12]):
        k = np.arange(16)
        expected = x[:, 30 + k - lag * (k // lag + 1)] + (x[:, -1:] - x[:, -1 - lag:-lag]) * (k // lag + 1)
        np.testing.assert_allclose(out[..., plain.channels - 1 + j], expected, rtol=1e-6, atol=1e-6)
    config = plain.get_config()
    assert config["anchored"] is False and SeasonalLags.from_config({**config, "anchored": True}).anchored
    del config["anchored"]                                     # a model saved before the option
    assert SeasonalLags.from_config(config).channels == plain.channels


def test_the_blend_starts_from_a_better_mix_than_seasonal_naive():
    from periodic_keras.forecasting import blend_seasonal_candidates
    from periodic_keras.models import forecaster_model
    s = regular_series(hourly(1200, trend=0.004).to_numpy())
    model = forecaster_model(48, 24, periods=[24.0], lags=[1, 24], units=4, hidden=8, anchored=True)
    ds = forecast_windows(s, 48, 24, season=24, seed=0)
    skip = blend_seasonal_candidates(model, ds, batches=8)
    assert skip.shape == (model.get_layer("lags").channels,) and np.abs(skip).sum() > 0.5
    assert not any(np.any(w) for w in model.get_layer("decoder_out").get_weights())
    errors = []
    for (values, observed, start), target in ds.skip(8).take(4):        # windows it was not fitted on
        y = np.asarray(target)[..., 0]
        errors.append([np.mean((model.predict_on_batch([values, observed, start]) - y) ** 2),
                       np.mean((np.asarray(values)[:, -24:] - y) ** 2)])   # seasonal naive (lag 24)
    blend, naive = np.mean(errors, axis=0)
    assert blend < 0.8 * naive


@pytest.mark.slow
def test_only_a_long_series_is_blended(monkeypatch):
    from periodic_keras.forecasting import forecaster as forecasting

    calls = []
    monkeypatch.setattr(forecasting, "blend_seasonal_candidates", lambda *args: calls.append(args[2]))
    short = Forecaster(horizon=24, periods=[24.0], steps=1, units=4, hidden=8).fit(hourly(200))
    assert calls == [] and not short.blended_                  # 129 windows
    assert short.model.get_layer("lags").channels == 5        # lags 1 and 24, two drifts, the place
    long = Forecaster(horizon=24, periods=[24.0], steps=1, units=4, hidden=8).fit(hourly(1100))
    assert calls == [forecasting.BLEND_BATCHES] and long.blended_ and 1100 - 48 - 24 + 1 >= forecasting.BLEND_MIN_WINDOWS
    assert long.model.get_layer("lags").channels == 6         # + lag 24 anchored


# --- fitting, forecasting, backtests --------------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted():
    series = hourly()
    return series, Forecaster(horizon=24, steps=300, units=16, hidden=32).fit(series.iloc[:-24])


def test_periods_are_discovered_and_the_forecast_beats_seasonal_naive(fitted):
    series, f = fitted
    assert len(f.periods_) == 2 and f.periods_ == pytest.approx([24.0, 168.0], rel=0.02)
    assert f.context_ == 2 * round(f.periods_[1]) and f.lags_ == [1, 24, round(f.periods_[1])]
    forecast = f.predict()
    assert forecast.index.equals(series.index[-24:]) and forecast.name == "forecast"
    truth = series.iloc[-24:].to_numpy()
    naive = seasonal_naive(f.series_, 24, 24)
    assert np.mean(np.abs(forecast.to_numpy() - truth)) < 0.8 * np.mean(np.abs(naive - truth))


@pytest.mark.slow
def test_the_same_seed_gives_the_same_forecast(fitted):
    series, f = fitted
    again = Forecaster(horizon=24, steps=300, units=16, hidden=32).fit(series.iloc[:-24])
    np.testing.assert_allclose(again.predict(), f.predict(), atol=1e-5)


def test_predict_from_new_history_and_refuse_another_origin(fitted):
    series, f = fitted
    later = f.predict(series.iloc[:-12])
    assert later.index[0] == series.index[-12]
    with pytest.raises(ValueError, match="same start"):
        f.predict(series.iloc[5:-12])


def test_short_series_and_bad_arguments():
    with pytest.raises(ValueError, match="fewer than two of its longest period"):
        Forecaster(horizon=6, periods=[24.0]).fit(hourly(50))
    with pytest.raises(ValueError, match="horizon"):
        Forecaster(horizon=0)
    with pytest.raises(ValueError, match="periods"):
        Forecaster(horizon=4, periods=[1.0])
    with pytest.raises(RuntimeError, match="fit"):
        Forecaster(horizon=4).predict()


@pytest.mark.slow
def test_backtest_table_with_baselines():
    table = backtest(hourly(600), horizon=24, origins=2, periods=[24.0, 168.0], steps=150, units=8, hidden=16)
    assert list(table.columns) == ["origin", "method", "mae", "rmse", "mase", "smape", "seconds"]
    assert set(table.method) == {"forecaster", "seasonal_naive_24", "seasonal_naive_168", "seasonal_naive_drift",
                                 "naive"}
    assert (table.origin == "mean").sum() == 5 and len(table) == 2 * 5 + 5
    means = table[table.origin == "mean"].drop(columns="origin").set_index("method")
    assert np.isfinite(means.to_numpy(dtype=float)).all()
    assert means.loc["naive", "mase"] > means.loc["seasonal_naive_24", "mase"]


def test_metrics():
    history = regular_series(np.array([1.0, 2.0, 1.0, 2.0, 1.0, 2.0]))
    m = forecast_metrics([1.0, np.nan, 2.0], [1.5, 0.0, 2.5], history, season=2)
    assert m["mae"] == 0.5 and m["rmse"] == 0.5 and np.isnan(m["mase"])  # seasonal naive is exact: no scale
    assert forecast_metrics([1.0, 2.0], [1.5, 2.5], history, season=1)["mase"] == 0.5
    assert np.isnan(forecast_metrics([1.0, 2.0], [np.nan, np.nan], history, season=1)["smape"])  # not run


def test_best_lag_snaps_a_fractional_period_to_the_better_step():
    from periodic_keras.forecasting import best_lag

    y = regular_series(np.sin(2 * np.pi * np.arange(2000) / 336.0))
    assert best_lag(y, 336.45) == 336 and best_lag(y, 335.6) == 336
    assert best_lag(regular_series(np.arange(5.0)), 9.5) == 1  # no lag fits: the last value


def test_statsforecast_baselines_name_their_extra(monkeypatch):
    import sys

    from periodic_keras.forecasting import baselines as forecast_baselines

    with pytest.raises(ValueError, match="unknown statsforecast baseline"):
        forecast_baselines.statsforecast_baselines(["Prophet"])
    monkeypatch.setitem(sys.modules, "statsforecast.models", None)  # as if not installed
    with pytest.raises(ImportError, match=r"periodic-keras\[bench\]"):
        forecast_baselines.statsforecast_baselines()


@pytest.mark.slow
def test_benchmark_forecast_small_run(tmp_path):
    from periodic_keras import jobs

    out = jobs.benchmark_forecast(series=["synthetic"], origins=1, steps=20, statsforecast=False,
                                  generator_steps=3, output_dir=str(tmp_path / "bench"), verbose=0)
    table = out["table"]
    assert list(table.columns) == ["series", "method", "mae", "rmse", "mase", "smape", "seconds"]
    panel = table[table.series == "panel (mean over series)"]
    assert {"forecaster", "seasonal naive (best period)", "naive", "lstm_generator"} <= set(panel.method)
    assert len(panel) == 6
    assert np.isfinite(panel.mase).all() and (tmp_path / "bench" / "results.md").exists()
    assert "benchmark" in jobs.forecast_benchmark_summary(out)
    with pytest.raises(ValueError, match="unknown series"):
        jobs.benchmark_forecast(series=["m4"], output_dir=str(tmp_path / "other"), statsforecast=False)
    with pytest.raises(ValueError, match="origins"):
        jobs.benchmark_forecast(series=["air"], origins=0, output_dir=str(tmp_path / "other"), statsforecast=False)
    assert not (tmp_path / "other").exists()


@pytest.mark.slow
def test_benchmark_origins_per_series(tmp_path, monkeypatch):
    from periodic_keras import forecasting, jobs
    from periodic_keras.jobs import forecast_bench

    seen, real = [], forecasting.backtest
    monkeypatch.setattr(forecasting, "backtest", lambda *a, **k: seen.append(k["origins"]) or real(*a, **k))
    monkeypatch.setitem(forecast_bench.SERIES_ORIGINS, "synthetic", 2)
    assert forecast_bench.SERIES_ORIGINS["sf"] > forecast_bench.DEFAULT_ORIGINS == 5
    out = jobs.benchmark_forecast(series=["synthetic"], steps=5, statsforecast=False, generator_steps=0,
                                  output_dir=str(tmp_path / "bench"), verbose=0)
    assert seen == [2] and out["train_seconds"] > 0


def test_generator_baseline_trains_once_on_the_first_history():
    from periodic_keras.forecasting import GeneratorBaseline
    s = regular_series(np.sin(2 * np.pi * np.arange(300) / 20))
    g = GeneratorBaseline(units=(4,), windows=(100, 400), steps=3)  # 400 does not fit: shortened
    first = g(s.head(250), 10, [20])
    model = g.model
    second = g(s, 10, [20])
    assert g.model is model and first.shape == second.shape == (10,) and np.isfinite(second).all()
    assert not np.allclose(first, second)  # warmed up on each history's own last steps


@pytest.mark.parametrize("key", ["sunspots", "elnino", "seattle", "wine", "lynx", "wool"])
def test_unseen_benchmark_series_load_offline(key):
    from periodic_keras.jobs.forecast_bench import UNSEEN, _loader

    if key in ("wine", "lynx", "wool"):
        pytest.importorskip("pmdarima")
    s = _loader(key)()
    grid = regular_series(s)
    assert len(grid) >= 100 and grid.observed.mean() > 0.99 and len(grid) > 3 * UNSEEN[key][1]

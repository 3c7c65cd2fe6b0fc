"""Rolling-origin backtests: :func:`backtest` refits a :class:`~periodic_keras.forecasting.Forecaster`
at each origin and scores it next to baselines with :func:`forecast_metrics` (MAE, RMSE, MASE
and sMAPE per origin, and their means)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from periodic_keras.data import RegularSeries, regular_series
from periodic_keras.forecasting.baselines import seasonal_naive, seasonal_naive_drift
from periodic_keras.forecasting.forecaster import Forecaster
from periodic_keras.signals import check_positive_int

__all__ = ["backtest", "forecast_metrics"]


def forecast_metrics(truth, forecast, history: RegularSeries, season: int) -> dict:
    """MAE, RMSE, MASE and sMAPE (%) of ``forecast`` on the observed steps of ``truth``.

    MASE divides the MAE by the in-sample MAE of the seasonal-naive forecast of period
    ``season`` (one step apart, on observed pairs of ``history``): below 1 beats it.

    >>> h = regular_series(np.array([0.0, 1.0, 0.0, 1.0, 0.0, 1.0]))
    >>> m = forecast_metrics([0.0, 1.0], [0.5, 0.5], h, season=1)
    >>> m["mae"], m["mase"], round(m["smape"], 1)
    (0.5, 0.5, 133.3)
    """
    truth, forecast = np.asarray(truth, dtype=np.float64), np.asarray(forecast, dtype=np.float64)
    if not np.isfinite(forecast).all():  # a baseline that did not run (or failed): no scores
        return dict(mae=float("nan"), rmse=float("nan"), mase=float("nan"), smape=float("nan"))
    ok = np.isfinite(truth)
    err = forecast[ok] - truth[ok]
    v, seen = history.values, history.observed
    pairs = seen[season:] & seen[:-season]
    scale = float(np.mean(np.abs(v[season:][pairs] - v[:-season][pairs]))) if pairs.any() else float("nan")
    denom = np.abs(truth[ok]) + np.abs(forecast[ok])
    smape = float(np.mean(np.where(denom > 0, 2 * np.abs(err) / np.where(denom > 0, denom, 1), 0.0)) * 100)
    mae = float(np.mean(np.abs(err)))
    return dict(mae=mae, rmse=float(np.sqrt(np.mean(err**2))), mase=mae / scale if scale > 0 else float("nan"),
                smape=smape)


def backtest(series, horizon: int, origins: int = 5, step=None, baselines=None, extra_baselines=None,
             verbose: int = 0, return_forecasts: bool = False, **forecaster_args):
    """Score a :class:`Forecaster` at ``origins`` rolling origins, next to baselines.

    The last ``origins * horizon`` steps are cut into consecutive blocks of ``horizon``;
    for each, everything before it is the history: the forecaster is refitted on it
    (periods discovered anew), and it and every baseline forecast the block.

    Args:
        series, step: as :class:`Forecaster` (and :func:`regular_series`).
        horizon, origins: block length and count.
        baselines: ``{name: fn(history: RegularSeries, horizon, seasons) -> array}``
            (``seasons``: the whole-step lags of the periods the forecaster found at that
            origin, :func:`best_lag`, strongest first);
            default: seasonal naive for each discovered period, seasonal naive with drift
            (:func:`seasonal_naive_drift`, the strongest period) and naive (last value).
        extra_baselines: more of them, added to ``baselines`` (e.g.
            :func:`periodic_keras.forecasting.statsforecast_baselines`).
        verbose: 1 prints one line per origin.
        return_forecasts: also return, per origin, ``{method: forecast Series}``.
        **forecaster_args: passed to :class:`Forecaster`.

    Returns:
        DataFrame with one row per origin and method (``origin`` is the first forecast
        time; ``mean`` rows average the origins): ``method``, ``mae``, ``rmse``, ``mase``
        (against seasonal naive with the strongest period's lag), ``smape``, ``seconds``; with
        ``return_forecasts``, ``(table, [forecasts per origin])``.
    """
    check_positive_int(horizon=horizon, origins=origins)
    full = regular_series(series, step=step)
    if len(full) <= origins * horizon:
        raise ValueError(f"the series has {len(full)} steps: too few for {origins} origins of {horizon} steps")
    rows, kept = [], []
    for i in range(origins):
        end = len(full) - (origins - i) * horizon
        history, truth = full.head(end), full.values[end:end + horizon]
        start = time.perf_counter()
        model = Forecaster(horizon, step=step, **forecaster_args).fit(history)
        forecasts = {"forecaster": (model.predict().to_numpy(), time.perf_counter() - start)}
        season = model.seasons_[0]
        for name, fn in {**(baselines or _default_baselines(model.seasons_)), **(extra_baselines or {})}.items():
            begin = time.perf_counter()
            forecasts[name] = (np.asarray(fn(history, horizon, model.seasons_), dtype=np.float64),
                               time.perf_counter() - begin)
        for name, (forecast, seconds) in forecasts.items():
            rows.append(dict(origin=str(full.times([end])[0]), method=name,
                             **forecast_metrics(truth, forecast, history, season), seconds=seconds))
        index = full.times(end + np.arange(horizon))
        kept.append({name: pd.Series(f, index=index, name=name) for name, (f, _) in forecasts.items()})
        if verbose:
            scores = ", ".join(f"{r['method']} {r['mase']:.3f}" for r in rows[-len(forecasts):])
            print(f"origin {i + 1}/{origins} ({rows[-1]['origin']}): MASE {scores}", flush=True)
    table = pd.DataFrame(rows)
    means = table.drop(columns="origin").groupby("method", sort=False).mean().reset_index()
    table = pd.concat([table, means.assign(origin="mean")], ignore_index=True)[
        ["origin", "method", "mae", "rmse", "mase", "smape", "seconds"]]
    return (table, kept) if return_forecasts else table


def _default_baselines(seasons) -> dict:
    out = {f"seasonal_naive_{lag}": (lambda h, n, _, lag=lag: seasonal_naive(h, n, lag)) for lag in seasons}
    out["seasonal_naive_drift"] = lambda h, n, _: seasonal_naive_drift(h, n, seasons[0])
    out["naive"] = lambda h, n, _: seasonal_naive(h, n, 1)
    return out

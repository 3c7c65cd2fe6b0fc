"""The baselines a forecast must beat, as :func:`periodic_keras.forecasting.backtest` takes them:
seasonal naive (with and without drift) on the regular grid, and the statistical forecasters
practitioners already trust -- statsforecast's AutoETS, MSTL and AutoARIMA (an optional
dependency: ``pip install 'periodic-keras[bench]'``).

Each baseline is ``fn(history: RegularSeries, horizon, periods) -> forecast array``: it sees
the same history (gaps linearly interpolated: statsforecast takes no missing values) and the
periods the forecaster discovered on it, strongest first.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from periodic_keras.classical import seasonal_naive as repeat_last
from periodic_keras.data import RegularSeries

__all__ = ["GeneratorBaseline", "MAX_ARIMA_LENGTH", "MAX_ARIMA_SEASON", "best_lag", "guarded", "guarded_statsforecast",
           "seasonal_naive", "seasonal_naive_drift", "statsforecast_baselines"]

#: AutoARIMA is skipped (NaN in the table) for longer seasons or series: measured here, a
#: season of 24 on 3000 hourly values took 319 s per origin.
MAX_ARIMA_SEASON = 60
MAX_ARIMA_LENGTH = 1500


def best_lag(series: RegularSeries, period: float) -> int:
    """The whole number of steps, ``floor(period)`` or ``ceil(period)``, whose seasonal difference
    ``|y[t] - y[t - lag]|`` is smallest on average (a period of 336.4 half-hours is a lag of 336).

    >>> from periodic_keras.data import regular_series
    >>> best_lag(regular_series(np.sin(2 * np.pi * np.arange(300) / 24)), 24.4)
    24
    """
    values = series.filled()
    candidates = sorted({max(1, math.floor(period)), max(1, math.ceil(period))})
    candidates = [lag for lag in candidates if lag < values.size] or [1]
    return min(candidates, key=lambda lag: float(np.mean(np.abs(values[lag:] - values[:-lag]))))


def seasonal_naive(history: RegularSeries, horizon: int, period: int) -> np.ndarray:
    """Repeat the last ``period`` steps of ``history`` (gaps interpolated) over ``horizon`` steps.

    >>> from periodic_keras.data import regular_series
    >>> seasonal_naive(regular_series(np.arange(6.0)), 4, 3).tolist()
    [3.0, 4.0, 5.0, 3.0]
    """

    return repeat_last(history.filled(), period, horizon)


def seasonal_naive_drift(history: RegularSeries, horizon: int, period: int) -> np.ndarray:
    """Seasonal naive plus the drift of the season's mean: the last ``period`` steps repeated,
    each repeat shifted by the mean of the last season less the mean of the one before
    (needs two seasons of history; with fewer, plain :func:`seasonal_naive`).

    >>> from periodic_keras.data import regular_series
    >>> seasonal_naive_drift(regular_series(np.arange(6.0)), 4, 3).tolist()
    [6.0, 7.0, 8.0, 9.0]
    """
    base = seasonal_naive(history, horizon, period)
    values = history.filled()
    if period < 1 or values.size < 2 * period:
        return base
    drift = values[-period:].mean() - values[-2 * period:-period].mean()
    return base + drift * (np.arange(horizon) // period + 1)


def _models():
    try:
        from statsforecast.models import MSTL, AutoARIMA, AutoETS
    except ImportError:
        raise ImportError("the statsforecast baselines need statsforecast: pip install 'periodic-keras[bench]'") from None
    return AutoETS, MSTL, AutoARIMA


def _forecast(model, history, horizon) -> np.ndarray:
    from statsforecast import StatsForecast

    y = history.filled()
    frame = pd.DataFrame({"unique_id": 0, "ds": np.arange(y.size), "y": y})
    out = StatsForecast(models=[model], freq=1, n_jobs=1).forecast(df=frame, h=horizon)
    return out.iloc[:, -1].to_numpy(dtype=np.float64)


def statsforecast_baselines(names=("AutoETS", "MSTL", "AutoARIMA")) -> dict:
    """``{name: fn}`` baselines for :func:`~periodic_keras.forecasting.backtest`.

    ``periods`` here are the whole-step seasons the forecaster chose (strongest first):
    ``AutoETS`` and ``AutoARIMA`` take the strongest as their season, ``MSTL`` all of them
    (its trend by its default AutoETS); AutoARIMA returns NaN above
    :data:`MAX_ARIMA_SEASON` steps of season or :data:`MAX_ARIMA_LENGTH` of history (too
    slow), which the table shows.
    """

    def season(periods):
        return max(1, int(periods[0]))

    makers = {
        "AutoETS": lambda p, n: auto_ets(season_length=season(p)),
        "MSTL": lambda p, n: mstl(season_length=sorted({max(2, q) for q in p})),
        "AutoARIMA": lambda p, n: (auto_arima(season_length=season(p))
                                   if season(p) <= MAX_ARIMA_SEASON and n <= MAX_ARIMA_LENGTH else None),
    }
    unknown = set(names) - set(makers)
    if unknown:
        raise ValueError(f"unknown statsforecast baseline(s) {sorted(unknown)}: use {sorted(makers)}")
    auto_ets, mstl, auto_arima = _models()

    def baseline(make):
        def fn(history, horizon, periods):
            model = make(periods, len(history))
            return np.full(horizon, np.nan) if model is None else _forecast(model, history, horizon)
        return fn

    return {name: baseline(makers[name]) for name in names}


def guarded(fn):
    """``fn`` returning NaN forecasts instead of raising: a failing third-party model is a
    result for the table (its scores are NaN), not a crash of the whole backtest.

    >>> guarded(lambda h, n, p: 1 / 0)(None, 3, [2]).tolist()
    [nan, nan, nan]
    """
    def run(history, horizon, periods):
        try:
            return fn(history, horizon, periods)
        except Exception:  # noqa: BLE001 - a failing baseline is a result, not a crash
            return np.full(horizon, np.nan)
    return run


def guarded_statsforecast(mode="auto") -> dict:
    """:func:`statsforecast_baselines`, each :func:`guarded`: ``mode`` ``"auto"`` (none when
    statsforecast is not installed), ``True`` (ImportError without it) or ``False`` (none).

    >>> guarded_statsforecast(False)
    {}
    """
    if mode not in ("auto", True, False):
        raise ValueError(f"statsforecast must be 'auto', True or False, got {mode!r}")
    if mode is False:
        return {}
    try:
        return {name: guarded(fn) for name, fn in statsforecast_baselines().items()}
    except ImportError:
        if mode is True:
            raise
        return {}


class GeneratorBaseline:
    """The first release's recipe as a baseline: a stateful-LSTM sequence generator
    (:func:`periodic_keras.models.sequence_generator`, the sf-temps settings) trained with
    teacher forcing on random windows of the standardised history
    (:func:`periodic_keras.data.random_windows`), warmed up on the last
    ``warmup`` steps (default: two of the strongest season, at least 168) and run
    closed-loop (:func:`periodic_keras.models.generate`).

    Like the sf-temps job it trains once, on the first history it is given (a backtest's
    earliest origin, so nothing after it is seen), and forecasts every later origin with
    that model. Windows longer than the history allows are shortened.

    >>> from periodic_keras.data import regular_series
    >>> g = GeneratorBaseline(units=(4,), windows=(20,), steps=5)
    >>> g(regular_series(np.sin(np.arange(200) / 3.0)), 6, [19]).shape
    (6,)
    """

    def __init__(self, units=(64, 64), windows=(100, 300), steps: int = 1000, warmup: int | None = None,
                 batch_size: int = 64, learning_rate: float = 3e-3, seed: int = 0):
        self.units, self.windows, self.steps, self.warmup = tuple(units), tuple(windows), int(steps), warmup
        self.batch_size, self.learning_rate, self.seed = batch_size, learning_rate, seed
        self.model = None

    def _train(self, z):
        from periodic_keras import training
        from periodic_keras.data import random_windows
        from periodic_keras.models import sequence_generator

        windows = sorted({min(w, z.size - 2) for w in self.windows})
        training.set_seed(self.seed)
        data = random_windows(z[None].astype(np.float32), windows if len(windows) > 1 else windows[0],
                              self.batch_size, 0.1, 50, mix=None if len(windows) == 1 else (0.8, 0.2), seed=self.seed)
        self.model = sequence_generator(self.units)
        training.compile_regressor(self.model, self.steps, self.learning_rate)
        self.model.fit(data, steps_per_epoch=self.steps, epochs=1, verbose=0)

    def __call__(self, history, horizon, periods):
        from periodic_keras.models import generate

        values = history.filled()
        if self.model is None:
            self.mean, self.std = float(values.mean()), float(values.std()) or 1.0
            self._train((values - self.mean) / self.std)
        warmup = min(values.size, self.warmup or max(168, 2 * int(periods[0])))
        z = ((values[-warmup:] - self.mean) / self.std).astype(np.float32)[None]
        return generate(self.model, z, horizon)[0].astype(np.float64) * self.std + self.mean

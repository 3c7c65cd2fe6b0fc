"""The statistical forecasters practitioners already trust, as :func:`periodic_keras.forecasting.backtest`
baselines: statsforecast's AutoETS, MSTL and AutoARIMA (an optional dependency:
``pip install 'periodic-keras[bench]'``).

Each baseline is ``fn(history: RegularSeries, horizon, periods) -> forecast array``: it sees
the same history (gaps linearly interpolated: statsforecast takes no missing values) and the
periods the forecaster discovered on it, strongest first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["MAX_ARIMA_LENGTH", "MAX_ARIMA_SEASON", "statsforecast_baselines"]

#: AutoARIMA is skipped (NaN in the table) for longer seasons or series: measured here, a
#: season of 24 on 3000 hourly values took 319 s per origin.
MAX_ARIMA_SEASON = 60
MAX_ARIMA_LENGTH = 1500


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

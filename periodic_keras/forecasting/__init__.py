"""Forecast a user's periodic series, and score forecasts honestly.

- :class:`Forecaster`: fits a small Keras forecaster (exact periodic encodings of the time
  grid, seasonal candidates, an LSTM) to one series and forecasts its next ``horizon`` steps.
- :func:`backtest`, :func:`forecast_metrics`: rolling-origin scores (MAE, RMSE, MASE, sMAPE)
  beside baselines.
- Baselines: :func:`seasonal_naive`, :func:`seasonal_naive_drift`, :func:`best_lag`, and
  statsforecast's models (:func:`statsforecast_baselines`, ``[bench]`` extra).

>>> import numpy as np
>>> from periodic_keras.forecasting import forecast_metrics, seasonal_naive
>>> from periodic_keras.data import regular_series
>>> seasonal_naive(regular_series(np.arange(6.0)), 4, 3).tolist()
[3.0, 4.0, 5.0, 3.0]
"""

from periodic_keras.forecasting.backtest import backtest, forecast_metrics
from periodic_keras.forecasting.baselines import (MAX_ARIMA_LENGTH, MAX_ARIMA_SEASON, GeneratorBaseline, best_lag,
                                                  guarded, guarded_statsforecast, seasonal_naive,
                                                  seasonal_naive_drift, statsforecast_baselines)
from periodic_keras.forecasting.forecaster import (BLEND_MIN_WINDOWS, DISCOVERY_STEPS, Forecaster,
                                                   blend_seasonal_candidates, check_values)

__all__ = ["BLEND_MIN_WINDOWS", "DISCOVERY_STEPS", "MAX_ARIMA_LENGTH", "MAX_ARIMA_SEASON", "Forecaster",
           "GeneratorBaseline", "backtest", "best_lag", "blend_seasonal_candidates", "check_values",
           "forecast_metrics", "guarded", "guarded_statsforecast", "seasonal_naive", "seasonal_naive_drift",
           "statsforecast_baselines"]

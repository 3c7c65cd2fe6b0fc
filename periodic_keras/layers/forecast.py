"""Layers of the forecaster (:func:`periodic_keras.models.forecaster_model`), ``keras.ops`` only.

- :class:`WindowScaler`: each context window less its level (the mean of its last season)
  and over its scale, and the inverse for the forecast.
- :class:`StepPositions`: the grid positions of every context and horizon step from the
  position of the first forecast step (int64, exact), for a periodic encoding.
- :class:`SeasonalLags`: for each horizon step, the context's value one (or more) seasons
  earlier, plus the step's place in the horizon: seasonal-naive candidates the decoder
  can take, correct or ignore.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from periodic_keras.signals import check_positive_int

__all__ = ["SeasonalLags", "StepPositions", "WindowScaler"]


@keras.saving.register_keras_serializable(package="periodic_keras")
class WindowScaler(keras.layers.Layer):
    """Normalise windows by their own level and scale: ``(x - level) / scale``.

    ``level`` is the mean of the last ``season`` observed values of the window, ``scale``
    the RMS of the observed values about it (so a window spanning a whole season has its
    seasonal swing as scale), floored at ``floor``. Call on ``[values, observed]`` (each
    ``[batch, steps]``; ``observed`` 1 where a value was given); returns
    ``[normalised, level, scale]`` (``[batch, steps]``, ``[batch, 1]``, ``[batch, 1]``).

    >>> x = np.array([[1.0, 3.0, 1.0, 3.0]], "float32")
    >>> z, level, scale = WindowScaler(season=2)([x, np.ones_like(x)])
    >>> keras.ops.convert_to_numpy(z).round(5).tolist(), float(level[0, 0]), round(float(scale[0, 0]), 5)
    ([[-1.0, 1.0, -1.0, 1.0]], 2.0, 1.0)
    """

    def __init__(self, season: int, floor: float = 1e-6, **kwargs):
        super().__init__(**kwargs)
        check_positive_int(season=season)
        self.season = int(season)
        self.floor = float(floor)

    def call(self, inputs):
        values, observed = inputs
        observed = ops.cast(observed, values.dtype)
        last_v, last_m = values[:, -self.season:], observed[:, -self.season:]
        level = ops.sum(last_v * last_m, axis=1, keepdims=True) / ops.maximum(
            ops.sum(last_m, axis=1, keepdims=True), 1.0)
        spread = ops.sum(ops.square(values - level) * observed, axis=1, keepdims=True) / ops.maximum(
            ops.sum(observed, axis=1, keepdims=True), 1.0)
        scale = ops.sqrt(spread) + self.floor
        return [(values - level) / scale * observed, level, scale]

    def compute_output_spec(self, inputs):
        values = inputs[0]
        return [keras.KerasTensor(values.shape, dtype=values.dtype)] + [
            keras.KerasTensor((values.shape[0], 1), dtype=values.dtype) for _ in range(2)]  # distinct tensors

    def get_config(self):
        return {**super().get_config(), "season": self.season, "floor": self.floor}


@keras.saving.register_keras_serializable(package="periodic_keras")
class StepPositions(keras.layers.Layer):
    """Grid positions ``start - context .. start + horizon - 1`` of every step, from ``start``.

    Input: int64 ``[batch, 1]``, the position of the first forecast step. Output: int64
    ``[batch, context + horizon, 1]`` (context steps first), for an encoding such as
    :class:`~periodic_keras.layers.LearnedPeriodicEncoding`.

    >>> p = StepPositions(3, 2)(np.array([[10]], "int64"))
    >>> keras.ops.convert_to_numpy(p)[0, :, 0].tolist()
    [7, 8, 9, 10, 11]
    """

    def __init__(self, context: int, horizon: int, **kwargs):
        super().__init__(**kwargs)
        check_positive_int(context=context, horizon=horizon)
        self.context, self.horizon = int(context), int(horizon)

    def call(self, start):
        offsets = np.arange(-self.context, self.horizon, dtype=np.int64)[None, :, None]
        return ops.cast(start, "int64")[:, :, None] + offsets

    def compute_output_spec(self, start):
        return keras.KerasTensor((start.shape[0], self.context + self.horizon, 1), dtype="int64")

    def get_config(self):
        return {**super().get_config(), "context": self.context, "horizon": self.horizon}


def lag_indices(context: int, horizon: int, lag: int) -> np.ndarray:
    """For each horizon step ``k``, the context index ``lag * m`` steps earlier (the smallest
    whole number of lags that reaches back into the context).

    >>> lag_indices(6, 4, 3).tolist()   # steps 6..9 read 3..5, then 6 - 3 * 2 + 3 = 3
    [3, 4, 5, 3]
    """
    k = np.arange(horizon)
    return context + k - lag * (k // lag + 1)


@keras.saving.register_keras_serializable(package="periodic_keras")
class SeasonalLags(keras.layers.Layer):
    """Seasonal-naive candidates for every horizon step, from a (normalised) context.

    For each lag ``L`` in ``lags`` (whole steps, at most ``context``), horizon step ``k``
    gets the context value ``L * m`` steps before it (:func:`lag_indices`) and, where the
    context holds two lags, the same plus ``m`` times the drift over one lag (the mean of
    the last ``L`` values less the mean of the ``L`` before): seasonal naive with drift,
    which follows a trend. With ``anchored=True`` each lag ``2 <= L < context`` also gets the
    seasonal-naive value plus ``m`` times the change of the *last* value over one lag
    (``x[-1] - x[-1 - L]``): the last season's shape moved to where the series is now, which
    follows a level that drifts smoothly within the season (hourly temperature normals: see
    ``docs/forecasting.md``). A last channel holds ``(k + 1) / horizon``. Input
    ``[batch, context]``; output ``[batch, horizon, channels]``, ``channels`` =
    ``len(lags)`` + the number of lags ``<= context / 2`` (+ the number of lags
    ``2 <= L < context`` when anchored) + 1.

    >>> x = np.array([[1.0, 2.0, 3.0, 4.0]], "float32")
    >>> out = SeasonalLags([2], context=4, horizon=3)(x)
    >>> [[round(float(v), 3) for v in row] for row in keras.ops.convert_to_numpy(out)[0]]
    [[3.0, 5.0, 0.333], [4.0, 6.0, 0.667], [3.0, 7.0, 1.0]]
    >>> out = SeasonalLags([2], context=4, horizon=3, anchored=True)(x)
    >>> keras.ops.convert_to_numpy(out)[0, :, 2].tolist()   # last value 4 is 2 above x[-3]
    [5.0, 6.0, 7.0]
    """

    def __init__(self, lags, context: int, horizon: int, anchored: bool = False, **kwargs):
        super().__init__(**kwargs)
        check_positive_int(context=context, horizon=horizon)
        self.anchored = bool(anchored)
        for lag in lags:
            check_positive_int(lag=lag)
        self.context, self.horizon, self.lags = int(context), int(horizon), [int(lag) for lag in lags]
        if not self.lags or max(self.lags) > self.context:
            raise ValueError(f"lags must be 1..context={self.context}, got {self.lags}")

    def call(self, context):
        plain = [ops.take(context, lag_indices(self.context, self.horizon, lag), axis=1) for lag in self.lags]
        drifted, anchored = [], []
        for lag, column in zip(self.lags, plain):
            cycles = (np.arange(self.horizon) // lag + 1).astype(np.float32)[None, :]
            if 2 * lag <= self.context:
                drift = ops.mean(context[:, -lag:], axis=1, keepdims=True) - ops.mean(
                    context[:, -2 * lag:-lag], axis=1, keepdims=True)
                drifted.append(column + drift * cycles)
            if self.anchored and 2 <= lag < self.context:
                anchored.append(column + (context[:, -1:] - context[:, -1 - lag:-lag]) * cycles)
        place = np.arange(1, self.horizon + 1, dtype=np.float32) / np.float32(self.horizon)
        columns = plain + drifted + anchored
        return ops.stack(columns + [ops.zeros_like(columns[0]) + place[None, :]], axis=-1)

    @property
    def channels(self) -> int:
        return (len(self.lags) + sum(2 * lag <= self.context for lag in self.lags)
                + self.anchored * sum(2 <= lag < self.context for lag in self.lags) + 1)

    def compute_output_spec(self, context):
        return keras.KerasTensor((context.shape[0], self.horizon, self.channels), dtype=context.dtype)

    def get_config(self):
        return {**super().get_config(), "lags": list(self.lags), "context": self.context, "horizon": self.horizon,
                "anchored": self.anchored}


def patch_size(context: int, most_steps: int = 48) -> int:
    """Steps per LSTM input so that the LSTM runs at most ``most_steps`` steps.

    >>> patch_size(672), patch_size(24)
    (14, 1)
    """
    return max(1, math.ceil(context / most_steps))

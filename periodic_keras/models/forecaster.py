"""The forecaster: an LSTM over a window of recent values, conditioned on exact periodic
encodings of the time grid, forecasting the next ``horizon`` steps at once.

``forecaster_model`` takes the raw recent values (and which were observed) and the grid
position of the first forecast step, and returns the raw forecast:

1. :class:`~periodic_keras.layers.WindowScaler` normalises the window by its
   level (the mean of its last season) and scale, so the model sees shapes, not levels.
2. Every context and horizon step is encoded by
   :class:`~periodic_keras.layers.LearnedPeriodicEncoding` (fixed periods, ``harmonics``
   sin/cos pairs each) of its grid position (int64, exact).
3. An LSTM reads the context in patches of a few steps (value, mask, encoding), at most
   48 LSTM steps however long the context.
4. For each horizon step a small MLP combines the LSTM's summary, the step's encoding and
   its seasonal-naive candidates (:class:`~periodic_keras.layers.SeasonalLags`),
   plus a linear skip from those candidates; the result is scaled back. With
   ``anchored=True`` the candidates include the last season moved to the last value;
   :func:`periodic_keras.forecasting.blend_seasonal_candidates` can start the skip at their
   least-squares blend.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from periodic_keras.layers import LearnedPeriodicEncoding, SeasonalLags, StepPositions, WindowScaler, patch_size

__all__ = ["forecaster_model", "masked_scaled_mse"]


@keras.saving.register_keras_serializable(package="periodic_keras")
def masked_scaled_mse(y_true, y_pred):
    """The forecaster's loss: ``y_true[..., 0]`` targets, ``y_true[..., 1]`` per-step weights
    (0 for gaps, ``1 / scale**2`` otherwise); the weighted mean squared error per window."""
    weight = y_true[..., 1]
    return ops.sum(ops.square(y_true[..., 0] - y_pred) * weight, axis=-1) / ops.maximum(
        ops.sum(ops.cast(weight > 0, weight.dtype), axis=-1), 1.0)


def forecaster_model(context: int, horizon: int, periods, lags, harmonics: int = 3, units: int = 32,
                     hidden: int = 64, anchored: bool = False, name: str = "forecaster") -> keras.Model:
    """Functional Keras forecaster (see the module docstring).

    Args:
        context: steps of history per window (a whole number of LSTM patches is used; the
            oldest steps beyond that are dropped).
        horizon: steps forecast at once.
        periods: the series' periods in steps (floats; e.g. ``[24.0, 168.0]``); at least one.
        lags: seasonal lags in whole steps (``<= context``), e.g. ``[1, 24, 168]``.
        harmonics: sin/cos pairs per period.
        units: LSTM units; ``hidden``: width of the per-step MLP.
        anchored: add the anchored seasonal candidates (the last season moved to the last
            value; :class:`~periodic_keras.layers.SeasonalLags`).

    Inputs: ``values`` ``[batch, context]`` float32 (gaps filled), ``observed``
    ``[batch, context]`` (1 where given), ``start`` ``[batch, 1]`` int64 (grid position of
    the first forecast step). Output: ``[batch, horizon]``, the forecast in the series' units.

    >>> m = forecaster_model(24, 6, periods=[12.0], lags=[1, 12], units=4, hidden=8)
    >>> [tuple(t.shape) for t in m.inputs], tuple(m.output.shape)
    ([(None, 24), (None, 24), (None, 1)], (None, 6))
    """
    periods = [float(p) for p in periods]
    if not periods:
        raise ValueError("forecaster_model needs at least one period")
    values = keras.Input((context,), name="values")
    observed = keras.Input((context,), name="observed")
    start = keras.Input((1,), dtype="int64", name="start")
    season = max(1, min(context, round(max(periods))))
    normalised, level, scale = WindowScaler(season, name="scaler")([values, observed])

    encoding = LearnedPeriodicEncoding(periods, harmonics=harmonics, origin=0, trainable_periods=False,
                                       name="encoding")(StepPositions(context, horizon, name="positions")(start))
    enc_context, enc_horizon = encoding[:, :context], encoding[:, context:]

    step = patch_size(context)
    used = (context // step) * step
    features = ops.concatenate([normalised[..., None], observed[..., None], enc_context], axis=-1)[:, context - used:]
    patches = layers.Reshape((used // step, step * features.shape[-1]), name="patches")(features)
    summary = layers.LSTM(units, name="lstm")(patches)

    candidates = SeasonalLags(lags, context, horizon, anchored=anchored, name="lags")(normalised)
    per_step = ops.concatenate([layers.RepeatVector(horizon)(summary), enc_horizon, candidates], axis=-1)
    x = layers.Dense(hidden, activation="relu", name="decoder_1")(per_step)
    x = layers.Dense(hidden, activation="relu", name="decoder_2")(x)
    direct = layers.Dense(1, name="decoder_out")(x)[..., 0]
    skip = layers.Dense(1, use_bias=False, kernel_initializer="zeros", name="lag_skip")(candidates)[..., 0]
    forecast = (direct + skip) * scale + level
    return keras.Model([values, observed, start], forecast, name=name)

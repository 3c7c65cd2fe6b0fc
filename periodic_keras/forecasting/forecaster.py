"""Forecast a user's periodic series: :class:`Forecaster`.

A :class:`Forecaster` takes a pandas Series (DatetimeIndex, PeriodIndex, or a numeric index
with a step) or an array, places it on its regular time grid (gaps become missing steps:
interpolated in the model's inputs, masked in its loss), finds its periods
(:func:`periodic_keras.classical.find_periods`, trend fitted) unless given, and trains
:func:`periodic_keras.models.forecaster_model` -- an LSTM over a context of at least two of
the longest period, conditioned on exact periodic encodings of the time grid -- on windows
cut from the series (:func:`periodic_keras.data.forecast_windows`). ``predict``
returns the next ``horizon`` steps as a Series indexed by their times.

The Keras model (``forecaster.model``) and the training pipeline
(``forecaster.dataset()``) are ordinary Keras and tf.data objects: ``model.fit`` them in
your own code as you like.
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np
import pandas as pd

from periodic_keras.data import RegularSeries, forecast_windows, regular_series
from periodic_keras.forecasting.baselines import best_lag
from periodic_keras.signals import check_positive_int

__all__ = ["BLEND_MIN_WINDOWS", "DISCOVERY_STEPS", "Forecaster", "blend_seasonal_candidates", "check_values"]


#: Discovered periods weaker than this fraction of the strongest tone are left out.
MIN_RELATIVE_AMPLITUDE = 0.2
#: A short series is not trained for more than this many passes over its windows (``steps``
#: shrinks): 800 steps over air passengers' 50-100 windows overfit them (5 origins: mean MASE
#: 0.828 with 800 steps, 0.604 with this cap; the long panel series are not affected).
MAX_EPOCHS = 200
#: Discovered periods seen fewer times than this in the series are left out: a context of two
#: of them would leave too few training windows (sunspots' "101-year period" in 309 years).
MIN_CYCLES = 4


#: Periods are discovered on at most this many of the most recent steps (2**16): the
#: classical search costs about ``n log n`` plus a least-squares fit per tone, minutes on a
#: million steps, and a period longer than a quarter of this (16 384 steps) would need a
#: context of twice its length. A longer series is still trained on all of its windows.
DISCOVERY_STEPS = 65_536
#: The model computes in float32 (the window scaler squares deviations): values beyond this
#: magnitude would overflow it, so they are refused.
MAX_ABS_VALUE = 1e15
#: The model's window scale is floored at 1e-6: a series varying less than this (standard
#: deviation) would be flattened by the floor, so it is refused (scale it up first).
MIN_SPREAD = 1e-4
#: A series whose standard deviation is below this fraction of its largest magnitude varies
#: by fewer than about 100 float32 steps (float32 resolves 1.2e-7 of a value): refused
#: (subtract its level first).
MIN_RELATIVE_SPREAD = 1e-5


def check_values(series: RegularSeries) -> None:
    """Refuse values the float32 model cannot forecast correctly, before any work.

    The forecaster's model computes in float32 and normalises each window by its level and
    scale. Values beyond :data:`MAX_ABS_VALUE` in magnitude would overflow it (NaN
    forecasts), and a series whose spread (standard deviation of its observed values) is
    below :data:`MIN_SPREAD`, or below :data:`MIN_RELATIVE_SPREAD` of its largest magnitude,
    is flattened by float32 rounding or the scale's floor (forecasts near zero or near the
    level, whatever the data). Such series are refused with a ValueError saying how to
    rescale them (divide or multiply by a power of ten, or subtract the level); nothing is
    rescaled silently, so the forecast and an exported model always work in the series' own
    units. A constant series is accepted (its forecast is that constant).

    >>> from periodic_keras.data import regular_series
    >>> check_values(regular_series(np.sin(np.arange(50.0))))
    >>> check_values(regular_series(1e-300 * np.sin(np.arange(50.0))))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: the series varies too little for the float32 model: standard deviation 7...e-301 is below 0.0001; multiply the series by a power of ten first (and divide the forecast by it)
    """
    v = series.values[series.observed]
    peak = float(np.max(np.abs(v)))
    if peak > MAX_ABS_VALUE:
        at = int(np.argmax(np.abs(np.where(series.observed, series.values, 0.0))))
        raise ValueError(f"the series holds {series.values[at]:.4g} at step {at}: beyond the magnitude the float32 "
                         f"model computes with (|value| <= {MAX_ABS_VALUE:.0e}); divide the series by a power of ten "
                         "first (and multiply the forecast by it)")
    std = peak * float(np.std(v / peak)) if peak > 0 else 0.0  # scaled: squares of 1e-300 underflow
    if 0 < std < MIN_SPREAD or (std == 0 and 0 < peak < MIN_SPREAD):
        raise ValueError(f"the series varies too little for the float32 model: standard deviation {std:.3g} is below "
                         f"{MIN_SPREAD:g}; multiply the series by a power of ten first (and divide the forecast by it)")
    if 0 < std < MIN_RELATIVE_SPREAD * peak:
        raise ValueError(f"the series varies by a standard deviation of {std:.3g} around values up to {peak:.4g}: "
                         f"below float32's resolution there ({peak * 2.0**-23:.3g}); subtract its level (e.g. its "
                         "mean) first and add it back to the forecast")


#: Training batches :func:`blend_seasonal_candidates` fits the skip on (64 x 64 windows).
BLEND_BATCHES = 64
#: A series with at least this many training windows gets the anchored seasonal candidates
#: (``forecaster_model(anchored=True)``) and starts from their least-squares blend
#: (:func:`blend_seasonal_candidates`). Both are estimates that need data: over air
#: passengers' 60-130 windows the blend overfits (5 origins: mean MASE 0.717 with both, 0.620
#: with the anchored candidates alone, 0.604 with neither); anchored candidates on every
#: series raised the mean MASE of the six unseen series (3 origins) from 1.198 to 1.222, and
#: 1.210 with this threshold (Seattle, 1282 windows, is blended: 0.555 -> 0.624).
BLEND_MIN_WINDOWS = 1000


def blend_seasonal_candidates(model, dataset, batches: int = BLEND_BATCHES):
    """Start a :func:`~periodic_keras.models.forecaster_model` from its best linear blend of
    seasonal-naive candidates: set its linear skip (``lag_skip``) to the least-squares
    combination of the candidates (:class:`~periodic_keras.layers.SeasonalLags`)
    over ``batches`` batches of ``dataset`` (normalised targets, gaps weigh nothing; a tiny
    ridge keeps it solvable) and its MLP's output layer to zero. Training then learns only
    what the blend misses; untrained, the model forecasts the blend. Returns the skip weights.

    >>> from periodic_keras.data import forecast_windows, regular_series
    >>> from periodic_keras.models import forecaster_model
    >>> s = regular_series(np.sin(2 * np.pi * np.arange(400) / 12) + 0.01 * np.arange(400))
    >>> m = forecaster_model(24, 6, periods=[12.0], lags=[1, 12], units=4, hidden=8)
    >>> w = blend_seasonal_candidates(m, forecast_windows(s, 24, 6, season=12), batches=4)
    >>> y = m.predict([s.filled()[None, -24:].astype("float32"), np.ones((1, 24), "float32"),
    ...                np.array([[400]])], verbose=0)
    >>> bool(np.abs(y - (np.sin(2 * np.pi * np.arange(400, 406) / 12) + 0.01 * np.arange(400, 406))).max() < 1e-3)
    True
    """
    import keras

    check_positive_int(batches=batches)
    _, levels, scales = model.get_layer("scaler").output
    probe = keras.Model(model.inputs, [model.get_layer("lags").output, levels, scales])
    rows, targets, weights = [], [], []
    for inputs, target in dataset.take(batches):
        candidates, level, scale = (np.asarray(t, np.float64) for t in probe(inputs))
        target = np.asarray(target, np.float64)
        rows.append(candidates.reshape(-1, candidates.shape[-1]))
        targets.append(((target[..., 0] - level) / scale).ravel())
        weights.append((target[..., 1] > 0).ravel())
    c, r, w = np.concatenate(rows), np.concatenate(targets), np.concatenate(weights).astype(np.float64)
    gram = (c * w[:, None]).T @ c
    ridge = 1e-6 * max(np.trace(gram) / len(gram), 1e-12) * np.eye(len(gram))
    skip = np.linalg.solve(gram + ridge, (c * w[:, None]).T @ r)
    model.get_layer("lag_skip").set_weights([skip[:, None].astype(np.float32)])
    out = model.get_layer("decoder_out")
    out.set_weights([np.zeros_like(v) for v in out.get_weights()])
    return skip


def _discover_periods(series: RegularSeries, max_periods: int) -> list:
    """Significant periods (in steps, strongest first) worth encoding: fundamentals with at least
    :data:`MIN_RELATIVE_AMPLITUDE` of the strongest tone's amplitude, seen at least
    :data:`MIN_CYCLES` times in the series, not within 5 % of a stronger one (harmonics 2 and
    3 are in the encoding). Searched on the last :data:`DISCOVERY_STEPS` steps."""
    from periodic_keras.classical import find_periods

    recent = series.values[-DISCOVERY_STEPS:]  # a long series: its most recent steps (see DISCOVERY_STEPS)
    k = np.flatnonzero(np.isfinite(recent))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = find_periods(k.astype(np.float64), recent[k], max_periods=max_periods + 3)
    table = report.table.sort_values("amplitude", ascending=False)
    found = []
    for period, amplitude, harmonic in zip(table["period"], table["amplitude"], table["harmonic"]):
        strong = amplitude >= MIN_RELATIVE_AMPLITUDE * table["amplitude"].iloc[0]
        if (strong and harmonic not in (2, 3) and 2.0 <= period <= recent.size / MIN_CYCLES
                and all(abs(period / p - 1) > 0.05 for p in found)):
            found.append(float(period))
    return found[:max_periods]  # strongest first


class Forecaster:
    """An LSTM forecaster for one periodic series (see the module docstring).

    Args:
        horizon: steps forecast at once.
        periods: the periods in steps (floats), or None to discover them.
        context: history steps per window; default twice the longest period (at least
            ``horizon``), shortened when the series is short, never below one period.
        step: the grid step of the series' index (see :func:`regular_series`).
        harmonics, units, hidden: model size (:func:`periodic_keras.models.forecaster_model`).
        steps, batch_size, learning_rate: training (Adam, cosine decay); a short series gets
            fewer steps, at most :data:`MAX_EPOCHS` passes over its windows (``steps_``). A
            series with at least :data:`BLEND_MIN_WINDOWS` windows also gets the anchored
            seasonal candidates and starts from their least-squares blend (``blended_``).
        max_periods: most periods discovered.
        seed: seeds the weights and the windows: the same seed gives the same forecast.

    >>> t = np.arange(600)
    >>> y = pd.Series(10 + 0.01 * t + np.sin(2 * np.pi * t / 24), index=pd.date_range("2024-01-01", periods=600, freq="h"))
    >>> f = Forecaster(horizon=24, steps=60, units=8, hidden=16).fit(y)
    >>> [round(p, 6) for p in f.periods_], f.context_, f.predict().index[0]
    ([24.0], 48, Timestamp('2024-01-26 00:00:00'))
    """

    def __init__(self, horizon: int, periods=None, context: int | None = None, step=None, harmonics: int = 3,
                 units: int = 32, hidden: int = 64, steps: int = 800, batch_size: int = 64,
                 learning_rate: float = 3e-3, max_periods: int = 3, seed: int = 0):
        check_positive_int(horizon=horizon, harmonics=harmonics, units=units, hidden=hidden, steps=steps,
                           batch_size=batch_size, max_periods=max_periods)
        if context is not None:
            check_positive_int(context=context)
        if periods is not None:
            try:
                periods = [float(p) for p in np.atleast_1d(periods)]
            except (TypeError, ValueError):
                raise ValueError(f"periods must be numbers of steps >= 2, got {periods!r}") from None
            if not periods or not all(math.isfinite(p) and p >= 2 for p in periods):
                raise ValueError(f"periods must be finite numbers of steps >= 2, got "
                                 f"[{', '.join(f'{p:.6g}' for p in periods)}]")
        if not (isinstance(learning_rate, (int, float)) and learning_rate > 0):
            raise ValueError(f"learning_rate must be positive, got {learning_rate!r}")
        self.horizon, self.periods, self.context, self.step = int(horizon), periods, context, step
        self.harmonics, self.units, self.hidden = harmonics, units, hidden
        self.steps, self.batch_size, self.learning_rate = steps, batch_size, float(learning_rate)
        self.max_periods, self.seed = max_periods, int(seed)
        self.model = None

    def prepare(self, series) -> "Forecaster":
        """Place ``series`` on its grid and plan the model: periods (found unless given),
        context, lags. Refuses, before any training: a series shorter than two periods plus
        the horizon, a given period not shorter than the series, values the float32 model
        cannot forecast (:func:`check_values`), and a grid whose forecast times cannot be
        represented (e.g. numeric times near the float64 or int64 limit). :meth:`fit` calls
        it; call it first to check a series cheaply.

        A long series costs little more here than one of :data:`DISCOVERY_STEPS` steps:
        periods are searched on its most recent :data:`DISCOVERY_STEPS` steps (a million
        hourly steps: about 4 s on one core).
        """
        series_ = regular_series(series, step=self.step)
        check_values(series_)
        series_.future_index(self.horizon)  # forecast times beyond what the index holds: ValueError now
        self.series_ = series_
        self.periods_, self.context_, self.lags_, self.seasons_ = self._plan(self.series_)
        return self

    def _plan(self, series: RegularSeries):
        """Periods, context, lags and whole-step seasons for ``series``."""
        periods = self.periods
        n = len(series)
        if periods is not None and max(periods) >= n:
            raise ValueError(f"a period of {max(periods):.6g} steps is not shorter than the series ({n} steps): give "
                             "periods in steps of the series' grid, below its length")
        if periods is None:
            periods = _discover_periods(series, self.max_periods)
            if not periods:
                warnings.warn("no significant period was found: the forecaster falls back to one period of "
                              f"{self.horizon} steps (the horizon); pass periods= if you know them", stacklevel=3)
                periods = [float(max(2, self.horizon))]
        longest = round(max(periods))
        if n < 2 * longest + self.horizon:
            raise ValueError(f"the series has {n} steps, fewer than two of its longest period ({longest} steps) plus "
                             f"the horizon ({self.horizon}): give more history, a shorter horizon or shorter periods")
        context = self.context or max(2 * longest, self.horizon)
        context = max(longest, min(context, n - self.horizon - min(n // 4, 64)))
        seasons = [best_lag(series, p) for p in periods]
        lags = sorted({1} | {lag for lag in seasons if lag <= context})
        return periods, context, lags, seasons

    def fit(self, series=None, verbose: int = 0) -> "Forecaster":
        """:meth:`prepare` ``series`` (None: the one already prepared), build and train the model. Returns self."""
        from periodic_keras import training
        from periodic_keras.models import forecaster_model, masked_scaled_mse

        if series is not None:
            self.prepare(series)
        elif not hasattr(self, "series_"):
            raise ValueError("fit() needs a series (none was prepared)")
        training.set_seed(self.seed)
        windows = len(self.series_) - self.context_ - self.horizon + 1
        self.blended_ = windows >= BLEND_MIN_WINDOWS
        self.model = forecaster_model(self.context_, self.horizon, self.periods_, self.lags_, self.harmonics,
                                      self.units, self.hidden, anchored=self.blended_)
        self.steps_ = int(min(self.steps, max(50, math.ceil(MAX_EPOCHS * windows / self.batch_size))))
        start = time.perf_counter()
        if self.blended_:  # its own pipeline: a second pass over fit's dataset would reshuffle its windows
            blend_seasonal_candidates(self.model, self.dataset(), BLEND_BATCHES)
        self.model.compile(optimizer=training.adam_cosine(self.steps_, self.learning_rate), loss=masked_scaled_mse)
        self.model.fit(self.dataset(), steps_per_epoch=self.steps_, epochs=1, verbose=verbose, shuffle=False)
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def dataset(self, series=None):
        """The training windows (``tf.data``) of ``series`` (default: the fitted one)."""
        rs = self.series_ if series is None else regular_series(series, step=self.step)
        return forecast_windows(rs, self.context_, self.horizon, season=round(max(self.periods_)),
                                batch_size=self.batch_size, seed=self.seed)

    def inputs(self, series: RegularSeries):
        """Model inputs for a forecast after the last step of ``series``."""
        if len(series) < self.context_:
            raise ValueError(f"the history has {len(series)} steps; the forecaster needs its context of "
                             f"{self.context_}")
        values = series.filled()[-self.context_:].astype(np.float32)[None]
        observed = series.observed[-self.context_:].astype(np.float32)[None]
        return [values, observed, np.array([[len(series)]], dtype=np.int64)]

    def predict(self, series=None) -> pd.Series:
        """The next ``horizon`` steps after ``series`` (default: the fitted series), indexed by time.

        A new ``series`` must continue the fitted one's grid from the same start (its
        position feeds the periodic encodings).
        """
        if self.model is None:
            raise RuntimeError("call fit() before predict()")
        rs = self.series_ if series is None else regular_series(series, step=self.series_.step)
        if rs.start != self.series_.start:
            raise ValueError(f"the series starts at {rs.start}, the fitted one at {self.series_.start}: pass the "
                             "history from the same start (the time grid's origin)")
        forecast = np.asarray(self.model(self.inputs(rs), training=False), dtype=np.float64)[0]
        return pd.Series(forecast, index=rs.future_index(self.horizon), name="forecast")

    def export(self, out_dir: str, **kwargs) -> dict:
        """Export the fitted model for the edge runtime (SavedModel, builtin-ops TFLite,
        metadata with the periods, context and time axis), verified against :meth:`predict`:
        :func:`periodic_keras.export.export_forecaster` (``kwargs``: ``variants``,
        ``tolerance``, ``checks``, ``metadata``). Load it with
        :func:`periodic_keras.edge.load_forecaster`. Returns the metadata."""
        from periodic_keras.export import export_forecaster

        return export_forecaster(self, out_dir, **kwargs)

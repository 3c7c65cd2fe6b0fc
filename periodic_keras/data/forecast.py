"""A user's series on a regular time grid, and the windows a forecaster trains on.

:func:`regular_series` places a pandas Series (DatetimeIndex, PeriodIndex, or a numeric or
Range index) or an array on a regular grid of steps: every sample must fall on a whole
number of steps from the first (missing steps become NaN, "gaps"). Calendar steps (months,
quarters, years) are placed by their calendar, not by a duration.

:func:`forecast_windows` cuts endless, shuffled training windows from it as a ``tf.data``
pipeline: ``context`` steps in, the next ``horizon`` steps out. Gaps are linearly
interpolated in the inputs (a mask channel marks them) and weigh nothing in the loss.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pandas as pd

from periodic_keras.signals import check_positive_int

__all__ = ["RegularSeries", "csv_series", "forecast_windows", "regular_series", "window_scale"]


@dataclasses.dataclass(frozen=True)
class RegularSeries:
    """Values on a regular grid: ``values[k]`` at ``start + k * step`` (NaN: missing).

    ``kind`` is ``"datetime"`` (``start`` a Timestamp, ``step`` a Timedelta or a calendar
    offset), ``"period"`` (a Period and its frequency) or ``"number"`` (numbers).

    >>> s = regular_series(pd.Series([1.0, 2.0, 4.0], index=pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-04"])))
    >>> s.values.tolist(), s.step, [str(t.date()) for t in s.future_index(2)]
    ([1.0, 2.0, nan, 4.0], Timedelta('1 days 00:00:00'), ['2024-01-05', '2024-01-06'])
    """

    values: np.ndarray
    start: object
    step: object
    kind: str
    name: object = None

    def __len__(self) -> int:
        return int(self.values.size)

    @property
    def observed(self) -> np.ndarray:
        """Boolean mask of the steps that hold a value."""
        return np.isfinite(self.values)

    def filled(self) -> np.ndarray:
        """The values with gaps linearly interpolated (ends: the nearest value), float64."""
        ok = self.observed
        if ok.all():
            return self.values.copy()
        k = np.arange(self.values.size)
        return np.interp(k, k[ok], self.values[ok])

    def times(self, positions) -> pd.Index:
        """The times of grid ``positions`` (integers from the first step)."""
        positions = np.asarray(positions, dtype=np.int64)
        if self.kind == "number":
            return pd.Index(self.start + positions * self.step)
        if self.kind == "period":
            return pd.PeriodIndex.from_ordinals(self.start.ordinal + positions, freq=self.step)
        if isinstance(self.step, pd.Timedelta):
            return pd.DatetimeIndex(self.start + positions * self.step)
        return pd.DatetimeIndex([self.start + int(p) * self.step for p in positions])

    @property
    def index(self) -> pd.Index:
        """The times of every step."""
        return self.times(np.arange(len(self)))

    def future_index(self, horizon: int) -> pd.Index:
        """The times of the ``horizon`` steps after the last one."""
        check_positive_int(horizon=horizon)
        return self.times(len(self) + np.arange(horizon))

    def head(self, n: int) -> "RegularSeries":
        """The first ``n`` steps (for backtests: the history before an origin)."""
        return dataclasses.replace(self, values=self.values[:n])

    def to_series(self) -> pd.Series:
        return pd.Series(self.values, index=self.index, name=self.name)


def _values(values) -> np.ndarray:
    try:
        v = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError("the series must hold numbers (some values could not be read as float)") from None
    if v.ndim != 1:
        raise ValueError(f"the series must be 1-D, got shape {v.shape}")
    if np.isinf(v).any():
        raise ValueError(f"the series holds inf at position {int(np.flatnonzero(np.isinf(v))[0])}")
    return v


def _place(positions, values, what):
    """Values on the grid from integer-valued float ``positions``; refuses off-grid or repeated ones."""
    if np.any(np.diff(positions) <= 0):
        raise ValueError("the time index must be strictly increasing (sorted, no repeated times)")
    rounded = np.round(positions)
    if positions.size and np.max(np.abs(positions - rounded)) > 1e-6:
        bad = int(np.argmax(np.abs(positions - rounded)))
        raise ValueError(f"the time index is irregular: sample {bad} lies {positions[bad]:.4g} steps from the first, "
                         f"not a whole number of {what}; pass step= or resample the series first")
    k = rounded.astype(np.int64)
    if np.any(np.diff(k) <= 0):
        raise ValueError("two times fall on the same step of the grid: pass a finer step= or aggregate them first")
    grid = np.full(int(k[-1]) + 1, np.nan)
    grid[k] = values
    return grid


def regular_series(series, step=None, name=None) -> RegularSeries:
    """Place ``series`` on a regular grid (see the module docstring).

    Args:
        series: a pandas Series (its index is the time) or a 1-D array (steps 0, 1, ...);
            a :class:`RegularSeries` is returned as it is.
        step: the grid step: a ``pd.Timedelta``, an offset or frequency string (``"h"``,
            ``"W-SAT"``, ``"MS"``) for time indexes, a number for numeric ones. Default: the
            index's own frequency, else its smallest spacing.
        name: the series' name (default: the Series' name).

    Raises:
        ValueError: an empty or all-missing series; inf values; a time index out of order,
            repeated or not on a grid of ``step``; TypeError: non-numeric values or index.
    """
    if isinstance(series, RegularSeries):
        return series
    if not isinstance(series, pd.Series):
        values = _values(series)
        check = float(step) if step is not None else 1.0
        out = RegularSeries(values, 0, check if check != int(check) else int(check), "number", name)
    else:
        numeric = pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype)
        values = _values(series.to_numpy(dtype=np.float64, na_value=np.nan) if numeric else series.to_numpy())
        out = _indexed(series.index, values, step, series.name if name is None else name)
    if len(out) == 0 or not out.observed.any():
        raise ValueError("the series is empty or every value is missing")
    first, last = np.flatnonzero(out.observed)[[0, -1]]
    if first > 0 or last < len(out) - 1:  # leading/trailing gaps: start at the first value, end at the last
        out = dataclasses.replace(out, values=out.values[first:last + 1], start=out.times([first])[0]
                                  if out.kind != "number" else out.start + first * out.step)
    return out


def _indexed(index, values, step, name) -> RegularSeries:
    if isinstance(index, pd.PeriodIndex):
        if step is not None and pd.tseries.frequencies.to_offset(step) != index.freq:
            index = index.asfreq(step)
        ordinals = index.asi8.astype(np.float64)
        return RegularSeries(_place(ordinals - ordinals[0], values, index.freqstr), index[0], index.freqstr,
                             "period", name)
    if isinstance(index, pd.DatetimeIndex):
        if index.hasnans:
            raise ValueError("the time index holds NaT")
        offset = _datetime_step(index, step)
        if isinstance(offset, pd.Timedelta):
            positions = np.asarray((index - index[0]) / offset, dtype=np.float64)
            return RegularSeries(_place(positions, values, str(offset)), index[0], offset, "datetime", name)
        # calendar steps (months, quarters, years): each time's place on the calendar grid from the first
        grid = pd.date_range(index[0], index[-1], freq=offset)
        positions = grid.get_indexer(index).astype(np.float64)
        if np.any(positions < 0):
            bad = int(np.flatnonzero(positions < 0)[0])
            raise ValueError(f"the time index is irregular: {index[bad]} is not on the {offset.freqstr} grid "
                             f"from {index[0]}; pass step= or resample the series first")
        return RegularSeries(_place(positions, values, offset.freqstr), index[0], offset, "datetime", name)
    if pd.api.types.is_numeric_dtype(index.dtype) and not pd.api.types.is_bool_dtype(index.dtype):
        x = index.to_numpy(dtype=np.float64)
        if step is None:
            gaps = np.diff(x)
            step = float(gaps[gaps > 0].min()) if np.any(gaps > 0) else 1.0
        if not step > 0:
            raise ValueError(f"step must be positive, got {step!r}")
        step = int(step) if float(step).is_integer() else float(step)
        start = int(x[0]) if float(x[0]).is_integer() else float(x[0])
        return RegularSeries(_place((x - x[0]) / step, values, f"step {step:g}"), start, step, "number", name)
    raise TypeError(f"the index holds {index.dtype} values: give a DatetimeIndex, PeriodIndex or a numeric index "
                    "(or a time column parsed as dates)")


def _datetime_step(index, step):
    """A Timedelta for fixed steps, a calendar offset (month, quarter, year...) otherwise."""
    if step is None:
        freq = index.freq or (pd.infer_freq(index) if index.size >= 3 else None)
        if freq is None:
            gaps = np.diff(index.asi8)
            if not np.any(gaps > 0):
                raise ValueError("the time index needs two distinct times to find its step; pass step=")
            return pd.Timedelta(int(gaps[gaps > 0].min()), unit=index.unit)
        step = freq
    if isinstance(step, pd.Timedelta):
        return step
    offset = pd.tseries.frequencies.to_offset(step)
    try:
        return pd.Timedelta(offset)  # days, hours, ... (fixed durations)
    except (TypeError, ValueError):
        return offset


def csv_series(path, column: str, time_column: str | None = None) -> pd.Series:
    """Column ``column`` of the CSV file at ``path`` as a Series, indexed by ``time_column``
    (parsed as dates unless numeric) or by row number. Empty cells are missing values.

    Raises:
        FileNotFoundError, KeyError (a missing column), ValueError (an empty file, a time
        column that is not dates or numbers), TypeError (non-numeric values, naming the first).
    """
    from periodic_keras.data.adapters import read_csv

    data = read_csv(path, column)
    for name in (column, time_column):
        if name is not None and name not in data.columns:
            raise KeyError(f"column {name!r} not found in {os.fspath(path)!r}; columns are {list(data.columns)}")
    values = pd.to_numeric(data[column], errors="coerce")
    bad = values.isna() & data[column].notna()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise TypeError(f"column {column!r} holds non-numeric values, first {data[column].iloc[row]!r} at data row "
                        f"{row + 1}")
    if time_column is None:
        return pd.Series(values.to_numpy(np.float64), name=column)
    times = data[time_column]
    if not pd.api.types.is_numeric_dtype(times):
        try:
            times = pd.to_datetime(times, format="mixed")
        except (TypeError, ValueError) as err:
            raise ValueError(f"time column {time_column!r} holds values that are not dates: {err}") from None
    return pd.Series(values.to_numpy(np.float64), index=pd.Index(times), name=column)


def window_scale(filled, observed, context: int, season: int, starts) -> np.ndarray:
    """Per-window loss scale: the RMS of each context (``filled[s:s + context]``, observed
    steps only) about its level, the mean of its last ``season`` observed steps; floored at
    1e-3 of the series' RMS. float64 ``[len(starts)]``.

    >>> window_scale(np.array([1.0, 3.0, 1.0, 3.0]), np.ones(4, bool), 4, 2, [0]).round(6).tolist()
    [1.0]
    """
    starts = np.asarray(starts, dtype=np.int64)
    w = observed.astype(np.float64)
    x = np.where(observed, filled, 0.0)
    c0, c1, c2 = (np.concatenate([[0.0], np.cumsum(a)]) for a in (w, w * x, w * x * x))

    def window_sum(c, lo, hi):
        return c[hi] - c[lo]

    end = starts + context
    count = np.maximum(window_sum(c0, starts, end), 1.0)
    level = window_sum(c1, end - season, end) / np.maximum(window_sum(c0, end - season, end), 1.0)
    mean, square = window_sum(c1, starts, end) / count, window_sum(c2, starts, end) / count
    rms = np.sqrt(np.maximum(square - 2.0 * level * mean + level * level, 0.0))
    floor = 1e-3 * float(np.sqrt(np.mean(x[observed] ** 2))) + 1e-12
    return np.maximum(rms, floor)


def forecast_windows(series: RegularSeries, context: int, horizon: int, season: int, batch_size: int = 64,
                     seed=0, end: int | None = None):
    """Endless shuffled training windows of ``series[:end]``, as a ``tf.data.Dataset``.

    Each element is ``((values, observed, start), target)``: ``values`` ``[batch, context]``
    float32 (gaps interpolated), ``observed`` ``[batch, context]`` (1 where a value was
    given), ``start`` ``[batch, 1]`` int64 (the grid position of the first forecast step);
    ``target`` ``[batch, horizon, 2]``: the next ``horizon`` values and their loss weight,
    0 for a gap and ``1 / scale**2`` otherwise (:func:`window_scale`), so that every window
    counts alike whatever its level. Windows whose targets are all missing are left out.

    >>> s = regular_series(np.sin(np.arange(200.0)))
    >>> (v, m, t), y = next(iter(forecast_windows(s, 20, 5, season=6, batch_size=4)))
    >>> v.shape, m.shape, t.shape, y.shape
    (TensorShape([4, 20]), TensorShape([4, 20]), TensorShape([4, 1]), TensorShape([4, 5, 2]))
    """
    import tensorflow as tf

    check_positive_int(context=context, horizon=horizon, season=season, batch_size=batch_size)
    end = len(series) if end is None else int(end)
    filled, observed = series.filled()[:end], series.observed[:end]
    starts = np.arange(0, end - context - horizon + 1)
    if starts.size:
        targets_seen = np.convolve(observed.astype(np.int64), np.ones(horizon, np.int64), "valid")
        starts = starts[targets_seen[starts + context] > 0]
    if starts.size == 0:
        raise ValueError(f"the series ({end} steps) is too short for one training window of {context} context "
                         f"+ {horizon} horizon steps")
    weights = (1.0 / window_scale(filled, observed, context, min(season, context), starts) ** 2).astype(np.float32)
    values = tf.constant(filled.astype(np.float32))
    mask = tf.constant(observed.astype(np.float32))
    c_offsets, h_offsets = tf.range(context, dtype=tf.int64), tf.range(horizon, dtype=tf.int64)

    def window(s, weight):
        c_idx = s[:, None] + c_offsets[None]
        h_idx = s[:, None] + context + h_offsets[None]
        target = tf.stack([tf.gather(values, h_idx), tf.gather(mask, h_idx) * weight[:, None]], axis=-1)
        return (tf.gather(values, c_idx), tf.gather(mask, c_idx), (s + context)[:, None]), target

    ds = tf.data.Dataset.from_tensor_slices((starts.astype(np.int64), weights))
    ds = ds.repeat().shuffle(min(starts.size, 100_000), seed=int(np.random.default_rng(seed).integers(2**31)))
    return ds.batch(batch_size, drop_remainder=True).map(window, num_parallel_calls=1).prefetch(2)

"""A user's series on a regular time grid.

:func:`regular_series` places a pandas Series (DatetimeIndex, PeriodIndex, or a numeric or
Range index) or an array on a regular grid of steps: every sample must fall on a whole
number of steps from the first (missing steps become NaN, "gaps"). Calendar steps (months,
quarters, years) are placed by their calendar, not by a duration. :class:`RegularSeries`
holds the result: the values, the first time and the step, and the times of any step
(numeric times exact in int64, datetimes and periods within what pandas can hold).
:func:`check_increasing` refuses a time index out of order or repeated.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from periodic_keras.signals import check_positive_int

__all__ = ["RegularSeries", "check_increasing", "regular_series"]


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
        """The times of grid ``positions`` (integers from the first step).

        Raises ValueError (not an OverflowError deep in pandas) when a time lies beyond what
        the index can hold: int64 or finite float64 numbers, pandas' Timestamps (years
        1677-2262) or Periods.
        """
        positions = np.asarray(positions, dtype=np.int64)
        try:
            if self.kind == "number":
                return pd.Index(_number_times(self.start, self.step, positions))
            if self.kind == "period":
                return pd.PeriodIndex.from_ordinals(self.start.ordinal + positions, freq=self.step)
            if isinstance(self.step, pd.Timedelta):
                return pd.DatetimeIndex(self.start + positions * self.step)
            return pd.DatetimeIndex([self.start + int(p) * self.step for p in positions])
        except (OverflowError, pd.errors.OutOfBoundsDatetime, pd.errors.OutOfBoundsTimedelta) as err:
            last = int(positions.max()) if positions.size else 0
            raise ValueError(f"step {last} of the time grid (start {self.start}, step {_compact(self.step)}) lies "
                             f"beyond the times the index can hold ({err})") from None

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


def _compact(value) -> str:
    """A number (however large) in a few characters; anything else as ``str``."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return f"{value:.6g}"
    return str(value)


#: Largest int64, the bound of integer grid times.
_INT64_MAX = np.iinfo(np.int64).max


def _number_times(start, step, positions) -> np.ndarray:
    """``start + positions * step`` for a numeric grid: int64 when start and step are integers
    (OverflowError beyond int64: floats would not hold those times exactly), float64
    otherwise (OverflowError when a time is not finite)."""
    if positions.size == 0:
        return positions
    lo, hi = int(positions.min()), int(positions.max())
    if isinstance(start, (int, np.integer)) and isinstance(step, (int, np.integer)):
        ends = (int(start) + lo * int(step), int(start) + hi * int(step))
        if not all(-_INT64_MAX <= e <= _INT64_MAX for e in ends):
            raise OverflowError(f"time {max(ends, key=abs)} is beyond int64")
        return np.int64(start) + positions * np.int64(step)
    with np.errstate(over="ignore", invalid="ignore"):  # refused just below
        times = float(start) + positions.astype(np.float64) * float(step)
    if not np.isfinite(times).all():
        raise OverflowError(f"time {float(start) + hi * float(step):.6g} overflows float64")
    return times


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


#: A grid may hold at most this many times more steps than values (and at least this many
#: steps in all): times far apart on a fine step would otherwise allocate a grid of gaps.
MAX_GRID_FACTOR = 100
MIN_GRID_LIMIT = 1_000_000


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
    length = float(rounded[-1]) + 1 if rounded.size else 0.0
    if length > max(MAX_GRID_FACTOR * positions.size, MIN_GRID_LIMIT):
        raise ValueError(f"the times span {length:.4g} steps of {what} for only {positions.size} values: the grid "
                         "would be almost all gaps; pass a coarser step= or check the time column")
    grid = np.full(int(k[-1]) + 1, np.nan)
    grid[k] = values
    return grid


def check_increasing(index, where="the time index", rows="position", first_row=0):
    """Refuse times out of order or repeated, naming the first offending pair: a descending
    index would otherwise be read as a negative step and forecast backwards."""
    if index.is_monotonic_increasing and index.is_unique:
        return
    order = np.asarray(index[1:] <= index[:-1]) if not isinstance(index, pd.PeriodIndex) else \
        np.asarray(index.asi8[1:] <= index.asi8[:-1])
    bad = int(np.flatnonzero(order)[0]) + 1
    a, b = bad - 1 + first_row, bad + first_row
    if index[bad] == index[bad - 1]:
        raise ValueError(f"{where} must be strictly increasing: time {index[bad]} is repeated ({rows}s {a} and {b}); "
                         "drop or aggregate the repeated times first")
    raise ValueError(f"{where} must be strictly increasing: time {index[bad]} ({rows} {b}) comes before "
                     f"{index[bad - 1]} ({rows} {a}); sort the series by time first (e.g. series.sort_index())")


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
        start = out.times([first])[0]
        out = dataclasses.replace(out, values=out.values[first:last + 1],
                                  start=start.item() if out.kind == "number" and hasattr(start, "item") else start)
    out.times([0, len(out) - 1])  # every time of the grid can be represented (ValueError otherwise)
    return out


def _indexed(index, values, step, name) -> RegularSeries:
    numeric = pd.api.types.is_numeric_dtype(index.dtype) and not pd.api.types.is_bool_dtype(index.dtype)
    if isinstance(index, pd.DatetimeIndex) and index.hasnans:
        at = int(np.flatnonzero(index.isna())[0])
        raise ValueError(f"the time index holds NaT (a missing time) at position {at}")
    if numeric and not isinstance(index, pd.RangeIndex):
        x = index.to_numpy(dtype=np.float64)
        if not np.isfinite(x).all():
            bad = int(np.flatnonzero(~np.isfinite(x))[0])
            raise ValueError(f"the time index holds {x[bad]} at position {bad}: every time must be a finite number")
    if isinstance(index, (pd.PeriodIndex, pd.DatetimeIndex)) or numeric:
        check_increasing(index)
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
    if numeric:
        return _numbered(index, values, step, name)
    raise TypeError(f"the index holds {index.dtype} values: give a DatetimeIndex, PeriodIndex or a numeric index "
                    "(or a time column parsed as dates)")


def _numbered(index, values, step, name) -> RegularSeries:
    """A numeric index on its grid: exact integer arithmetic for integer times (timestamps in
    nanoseconds exceed float64's 2**53), floats otherwise; refuses a step below float64's
    resolution at the times' magnitude (the grid could not tell its steps apart)."""
    integer = pd.api.types.is_integer_dtype(index.dtype)
    x = index.to_numpy(dtype=np.float64)
    if integer and (index.max() > _INT64_MAX or float(index.max()) - float(index.min()) >= 2.0**63):
        raise ValueError(f"the times span {float(index.min()):.6g} to {float(index.max()):.6g}: beyond int64; "
                         "subtract an origin from the time column first")
    if step is None:
        if integer:
            gaps = np.diff(index.to_numpy(dtype=np.int64))
            step = int(gaps.min()) if gaps.size else 1
        else:
            gaps = np.diff(x)
            step = float(gaps.min()) if gaps.size and gaps.min() > 0 else 1.0
    try:
        step = float(step)
    except (TypeError, ValueError):
        raise ValueError(f"step must be a positive number for a numeric time index, got {step!r}") from None
    if not (math.isfinite(step) and step > 0):
        raise ValueError(f"step must be a positive finite number, got {_compact(step)}")
    magnitude = float(np.max(np.abs(x)))
    resolution = float(np.spacing(magnitude))
    if not integer and resolution > 1e-6 * step:
        raise ValueError(f"the times reach {magnitude:.6g}, where float64 resolves only {resolution:.3g}: too coarse "
                         f"for a step of {step:.6g}; subtract an origin from the time column first")
    as_int = step.is_integer() and step < 2.0**63
    step = int(step) if as_int else step
    if integer and as_int:
        offsets = index.to_numpy(dtype=np.int64) - int(index[0])  # exact (span checked above)
        positions = offsets // step + (offsets % step) / step
        start = int(index[0])
    else:
        positions = (x - x[0]) / step
        start = float(x[0])
        start = int(start) if start.is_integer() and abs(start) < 2.0**63 else start
    return RegularSeries(_place(positions.astype(np.float64), values, f"step {step:.6g}"), start, step, "number", name)


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
        offset = step
    else:
        offset = pd.tseries.frequencies.to_offset(step)
        try:
            offset = pd.Timedelta(offset)  # days, hours, ... (fixed durations)
        except (TypeError, ValueError):
            if getattr(offset, "n", 1) <= 0:
                raise ValueError(f"the time step must be positive, got {offset.freqstr}") from None
            return offset
    if offset <= pd.Timedelta(0):
        raise ValueError(f"the time step must be positive, got {offset}")
    return offset


"""pandas time as numbers for the fits: a Series (or time-like x) becomes float64 ``x`` and a
:class:`TimeAxis` that turns fitted periods back into the index's own units.

Units of ``x`` (so of ``omega``, in rad per unit of x):

- DatetimeIndex / TimedeltaIndex (or datetime64 / timedelta64 ``x``): days since the first
  sample; periods come back as ``pd.Timedelta``.
- PeriodIndex: steps of its frequency since the first sample (months for ``'M'``); periods
  come back as ``pd.Timedelta`` when the step has a fixed length (days, weeks, hours...),
  as a float number of steps otherwise (months, quarters, years).
- numeric index: its values; periods are floats.

NaN values (and NaT times) are dropped: gaps are irregular sampling. pandas is imported
only when pandas or datetime input is given.
"""

from __future__ import annotations

import dataclasses

import numpy as np

DAY_NS = 86_400 * 10**9


@dataclasses.dataclass(frozen=True)
class TimeAxis:
    """How float ``x`` maps to the time index it came from.

    ``kind`` is ``"datetime"``, ``"timedelta"`` or ``"period"``; ``origin`` the first
    sample's time (``x = 0``); ``unit`` the length of one unit of ``x`` as a
    ``pd.Timedelta`` (``None`` for calendar steps such as months); ``freq`` the
    PeriodIndex frequency string, if any.

    >>> import pandas as pd
    >>> axis = TimeAxis("datetime", pd.Timestamp("2020-01-01"), pd.Timedelta(days=1))
    >>> axis.to_x(pd.DatetimeIndex(["2020-01-02 12:00"])).tolist(), axis.period(7.0)
    ([1.5], Timedelta('7 days 00:00:00'))
    """

    kind: str
    origin: object
    unit: object
    freq: str | None = None

    @property
    def unit_name(self) -> str:
        """What one unit of ``x`` is: ``"day"``, or the PeriodIndex step (``"M"``, ``"W-SUN"``)."""
        return self.freq if self.kind == "period" else "day"

    def to_x(self, values) -> np.ndarray:
        """Times of this axis's kind (index, Series, array, scalar) as float64 ``x``."""
        import pandas as pd

        try:
            if self.kind == "period":
                index = pd.PeriodIndex(np.atleast_1d(values), freq=self.freq)
                return (index.asi8 - self.origin.ordinal).astype(np.float64)
            index = (pd.TimedeltaIndex if self.kind == "timedelta" else pd.DatetimeIndex)(np.atleast_1d(values))
            return _ns_to_days(index - self.origin)
        except (TypeError, ValueError) as err:
            raise TypeError(f"x must be {self.kind} values comparable with {self.origin!r}: {err}") from None

    def period(self, length: float):
        """A period of ``length`` units of ``x`` in the index's units: a ``pd.Timedelta``, or a
        float in units of x for calendar steps (months) and beyond Timedelta's +-292 years."""
        import pandas as pd

        ns = float(length) * self.unit.as_unit("ns").value if self.unit is not None else None
        if ns is None or not abs(ns) < 2**63 - 1:  # calendar steps, or beyond Timedelta's +-292 years
            return float(length)
        return pd.Timedelta(round(ns), unit="ns")


def _ns_to_days(delta) -> np.ndarray:
    ns = np.asarray(delta.as_unit("ns").asi8, dtype=np.int64)
    days, rest = np.divmod(ns, DAY_NS)  # exact integer part, so spans of centuries keep ns resolution
    return days.astype(np.float64) + rest.astype(np.float64) / DAY_NS


def is_pandas(a) -> bool:
    return type(a).__module__.split(".")[0] == "pandas"


def _time_like(a) -> bool:
    dtype = getattr(a, "dtype", None)
    if dtype is None:
        return False
    kind = getattr(dtype, "kind", "")
    return kind in "mM" or str(dtype).startswith(("period", "datetime64", "timedelta64"))


def axis_of(index):
    """``(x, axis)`` for time-like ``index`` (``axis`` None and ``x`` unchanged otherwise).

    Raises ``TypeError`` for an object index mixing timezones or types, ``ValueError`` for
    a time index that is not in increasing order.
    """
    import pandas as pd

    text = is_pandas(index) and (getattr(index, "dtype", None) == object
                                  or pd.api.types.is_string_dtype(getattr(index, "dtype", None)))
    if not (_time_like(index) or text):
        return index, None
    index = pd.Index(index)
    if index.dtype == object or pd.api.types.is_string_dtype(index.dtype):  # object (pandas 2) or str (pandas 3)
        kinds = {type(v).__name__ for v in index if v is not None and v == v}
        tzs = {str(getattr(v, "tz", None)) for v in index if isinstance(v, pd.Timestamp)}
        if len(tzs) > 1:
            raise TypeError(f"the time index mixes timezones ({', '.join(sorted(tzs))}): convert it to one, e.g. "
                            "pd.to_datetime(index, utc=True)")
        if kinds <= {"int", "float"}:
            return index.to_numpy(dtype=np.float64), None
        raise TypeError(f"the index holds {', '.join(sorted(kinds))} values: give a DatetimeIndex, PeriodIndex, "
                        "TimedeltaIndex or a numeric index")
    valid = ~index.isna()
    if not index[valid].is_monotonic_increasing:
        raise ValueError("the time index is not in increasing order: sort it first (series.sort_index())")
    if not valid.any():
        raise ValueError("the time index holds no valid times (all NaT)")
    first = index[valid][0]
    if isinstance(index, pd.PeriodIndex):
        step = _fixed_step(index.freq)
        axis = TimeAxis("period", first, step, index.freqstr)
    else:
        axis = TimeAxis("timedelta" if isinstance(index, pd.TimedeltaIndex) else "datetime", first,
                        pd.Timedelta(days=1))
    x = np.full(index.size, np.nan)
    x[valid] = axis.to_x(index[valid])
    return x, axis


def _fixed_step(freq):
    """The length of one PeriodIndex step as a Timedelta when it is fixed (ticks, weeks), else None."""
    import pandas as pd
    from pandas.tseries.offsets import Day, Tick, Week

    if isinstance(freq, Tick):
        return pd.Timedelta(freq)
    if isinstance(freq, Day):  # not a Tick since pandas 3, but a PeriodIndex day is 24 hours
        return pd.Timedelta(days=freq.n)
    if isinstance(freq, Week):
        return pd.Timedelta(weeks=freq.n)
    return None


def series_xy(x, y, weights=None):
    """``(x, y, weights, axis)``: a pandas Series ``x`` (with ``y`` None) split into its index
    and values; time-like ``x`` converted. Rows with NaN (or NaT) in x or y are dropped."""
    if y is None:
        if not is_pandas(x) or not hasattr(x, "index"):
            raise TypeError("y is required unless x is a pandas Series (its index is the time, its values y)")
        if getattr(x, "ndim", 1) != 1:
            raise ValueError(f"x must be a pandas Series, got a {type(x).__name__} of shape {x.shape}")
        y = x.to_numpy()
        x = x.index
    if is_pandas(y):
        y = y.to_numpy()
    x, axis = axis_of(x)
    x, y = np.asarray(x), np.asarray(y)
    if y.dtype == object:
        try:
            y = y.astype(np.float64)
        except (TypeError, ValueError):
            raise TypeError("y must hold real numbers (its values could not be read as float)") from None
    if x.ndim == 1 and y.ndim == 1 and x.size == y.size and x.dtype.kind in "fiu" and y.dtype.kind in "fiu":
        keep = ~(np.isnan(x) | np.isnan(y.astype(np.float64)))
        if not keep.any() and x.size:
            raise ValueError("every sample is missing (NaN in y or in the time)")
        if weights is not None and np.ndim(weights) == 1 and np.size(weights) == keep.size:
            weights = np.asarray(weights)[keep]
        x, y = x[keep], y[keep]
    return x, y, weights, axis

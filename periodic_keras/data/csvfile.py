"""A series read from a CSV file: :func:`csv_series` reads one column, indexed by a time
column (dates or numbers) or by row number, and names every problem with the file and its
data row (times out of order or repeated, empty times, True/False cells, non-numeric values,
a file that is not UTF-8 text). (Named ``csvfile`` so that it can never shadow the standard
library's ``csv``.)
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from periodic_keras.data.grid import check_increasing

__all__ = ["csv_series"]


def csv_series(path, column: str, time_column: str | None = None) -> pd.Series:
    """Column ``column`` of the CSV file at ``path`` as a Series, indexed by ``time_column``
    (parsed as dates unless numeric) or by row number. Empty cells are missing values.

    Every problem is named with the file and, where there is one, its data row (1 is the
    first row after the header): the times must be strictly increasing -- a file sorted
    newest first is refused, not forecast backwards, and a repeated time is refused, not
    averaged -- and present in every row; numeric times must be finite.

    Raises:
        FileNotFoundError, KeyError (a missing column), ValueError (an empty file, a file
        that is not UTF-8 text, a time column that is not dates or numbers, is out of order,
        repeats a time or has an empty cell), TypeError (non-numeric or True/False values,
        naming the first).

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "s.csv")
    >>> pd.DataFrame({"time": ["2024-01-02", "2024-01-01"], "y": [1.0, 2.0]}).to_csv(path, index=False)
    >>> csv_series(path, "y", "time")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: time column 'time' of '...s.csv' must be strictly increasing: data row 2 (2024-01-01 00:00:00) comes before data row 1 (2024-01-02 00:00:00); sort the file by time first
    """
    from periodic_keras.data.adapters import read_csv

    name = os.fspath(path)
    try:
        data = read_csv(path, column)
    except UnicodeDecodeError as err:
        raise ValueError(_not_utf8(name, err)) from None
    for col in (column, time_column):
        if col is not None and col not in data.columns:
            raise KeyError(f"column {col!r} not found in {name!r}; columns are {list(data.columns)}")
    _refuse_bool(data[column], f"column {column!r} of {name!r}")
    values = pd.to_numeric(data[column], errors="coerce")
    bad = values.isna() & data[column].notna()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise TypeError(f"column {column!r} holds non-numeric values, first {data[column].iloc[row]!r} at data row "
                        f"{row + 1}")
    if time_column is None:
        return pd.Series(values.to_numpy(np.float64), name=column)
    where = f"time column {time_column!r} of {name!r}"
    times = data[time_column]
    _refuse_bool(times, where)
    if times.isna().any():
        raise ValueError(f"{where} has an empty cell at data row {int(np.flatnonzero(times.isna())[0]) + 1}: every "
                         "row needs its time")
    if pd.api.types.is_numeric_dtype(times):
        x = times.to_numpy(dtype=np.float64)
        if not np.isfinite(x).all():
            bad = int(np.flatnonzero(~np.isfinite(x))[0])
            raise ValueError(f"{where} holds {x[bad]:g} at data row {bad + 1}: times must be finite numbers")
    else:
        try:
            times = pd.to_datetime(times, format="mixed")
        except (TypeError, ValueError) as err:
            raise ValueError(f"time column {time_column!r} holds values that are not dates: {err}") from None
    index = pd.Index(times)
    try:
        check_increasing(index)
    except ValueError:
        order = np.asarray(index[1:] <= index[:-1])
        row = int(np.flatnonzero(order)[0]) + 2  # data rows count from 1
        if index[row - 1] == index[row - 2]:
            raise ValueError(f"{where} repeats time {index[row - 1]} (data rows {row - 1} and {row}): drop or "
                             "aggregate the repeated times first") from None
        raise ValueError(f"{where} must be strictly increasing: data row {row} ({index[row - 1]}) comes before data "
                         f"row {row - 1} ({index[row - 2]}); sort the file by time first") from None
    return pd.Series(values.to_numpy(np.float64), index=index, name=column)


def _refuse_bool(column, where):
    """True/False cells are not numbers: refuse them rather than read them as 1/0 (as
    :func:`periodic_keras.classical.fit_frequency` refuses a bool array)."""
    if pd.api.types.is_bool_dtype(column.dtype) or (
            column.dtype == object and any(isinstance(v, (bool, np.bool_)) for v in column)):
        row = 1 if pd.api.types.is_bool_dtype(column.dtype) else 1 + next(
            i for i, v in enumerate(column) if isinstance(v, (bool, np.bool_)))
        raise TypeError(f"{where} holds True/False values (first {column.iloc[row - 1]!r} at data row {row}), not "
                        "numbers: convert them to numbers first if you mean 1/0")


def _not_utf8(path, err) -> str:
    """Where the first byte that is not UTF-8 lies in the file: its line and column."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
        raw.decode("utf-8")
        return f"series CSV file {path!r} is not UTF-8 text ({err.reason}); save it as UTF-8"
    except UnicodeDecodeError as found:
        line = raw.count(b"\n", 0, found.start) + 1
        column = found.start - (raw.rfind(b"\n", 0, found.start) + 1) + 1
        return (f"series CSV file {path!r} is not UTF-8 text: byte 0x{raw[found.start]:02x} at line {line}, column "
                f"{column} ({found.reason}); save the file as UTF-8")


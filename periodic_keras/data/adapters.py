"""Adapters from a user's own series (NumPy, pandas, CSV) to windowed datasets."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import keras

from periodic_keras.generation import as_float32
from periodic_keras.signals import check_positive_int

__all__ = ["as_series", "windowed_dataset"]


def read_csv(path, column: str | None) -> pd.DataFrame:
    """The CSV file at ``path`` as a DataFrame, refusing a missing file, a missing ``column``
    name, an empty file or one without data rows (each with a message naming the problem)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"series CSV file not found: {path!r}")
    if column is None:
        raise ValueError("reading a CSV file needs column=<name of the series column>")
    try:
        data = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise ValueError(f"series CSV file {path!r} is empty: no header and no data rows") from None
    if data.empty:
        raise ValueError(f"series CSV file {path!r} holds no data rows (columns {list(data.columns)})")
    return data


def as_series(data, column: str | None = None) -> np.ndarray:
    """Validate a 1-D series and return it as a float32 NumPy array.

    Args:
        data: a 1-D array-like, a pandas ``Series``, a ``DataFrame`` (with ``column``)
            or the path of a CSV file (with ``column``).
        column: the column to read from a DataFrame or CSV file.

    Raises:
        FileNotFoundError: a CSV path that does not exist.
        KeyError: a missing column.
        ValueError: a series that is not 1-D, is empty, holds NaN/inf or values beyond the
            float32 range (``|x| > 3.4e38``); a CSV file that is empty or has no data rows.
        TypeError: non-numeric values.

    Example:

    >>> import pandas as pd
    >>> as_series(pd.Series([0.0, 1.0, 0.0, -1.0])).dtype
    dtype('float32')
    >>> as_series([0.0, 1e39])
    Traceback (most recent call last):
    ...
    ValueError: series holds values beyond the float32 range (|x| > 3.403e+38): up to 1e+39
    """
    if isinstance(data, (str, os.PathLike)):
        data = read_csv(data, column)
    if isinstance(data, pd.DataFrame):
        if column is None:
            raise ValueError(f"a DataFrame needs column=...; its columns are {list(data.columns)}")
        if column not in data.columns:
            raise KeyError(f"column {column!r} not found; columns are {list(data.columns)}")
        data = data[column]
    if isinstance(data, pd.Series):
        data = data.to_numpy()
    arr = np.asarray(data)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"series must hold real numbers, got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"series must be 1-D, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError("series is empty")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValueError(f"series holds {int(bad.sum())} NaN/inf value(s), first at index {int(np.argmax(bad))}")
    return as_float32(arr, "series")


def windowed_dataset(
    data,
    window: int,
    stride: int = 1,
    batch_size: int = 256,
    targets=None,
    column: str | None = None,
    shuffle: bool = False,
    seed: int | None = None,
):
    """Cut a 1-D series into windows ``[batch, window, 1]``, ready for ``model.predict``.

    Built on ``keras.utils.timeseries_dataset_from_array``. With ``targets``, element
    ``i`` of ``targets`` is the target of the window that starts at sample ``i``, and the
    dataset yields ``(windows, targets)`` pairs for ``fit``/``evaluate``.

    Args:
        data: series (array, ``Series``, ``DataFrame`` or CSV path, see :func:`as_series`).
        window: samples per window.
        stride: samples between the starts of consecutive windows.
        batch_size: windows per batch.
        targets: optional per-start-sample targets, same length as the series.
        column: column to read from a DataFrame or CSV file.
        shuffle, seed: shuffle the windows (for training).

    Example:

    >>> import numpy as np
    >>> t = np.arange(1000)
    >>> ds = windowed_dataset(np.sin(2 * np.pi * 5 * t / 100), window=100, stride=50)
    >>> next(iter(ds)).shape
    TensorShape([19, 100, 1])
    """
    series = as_series(data, column)
    check_positive_int(window=window, stride=stride, batch_size=batch_size)
    if series.size < window:
        raise ValueError(f"series has {series.size} samples, fewer than one window of {window}")
    if targets is not None:
        targets = np.asarray(targets, dtype=np.float64)
        if targets.shape[:1] != series.shape:
            raise ValueError(f"targets has length {targets.shape[:1]}, the series {series.size}")
        if not np.all(np.isfinite(targets)):
            raise ValueError("targets hold NaN/inf")
        targets = as_float32(targets, "targets")
        # Keras pairs targets[i] with the window starting at i; none start past len - window.
        targets = targets[: series.size - window + 1]
    return keras.utils.timeseries_dataset_from_array(
        series[:, None],
        targets,
        sequence_length=window,
        sequence_stride=stride,
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
    )

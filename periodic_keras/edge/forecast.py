"""Edge runtime for exported forecasters: NumPy and LiteRT only (no TensorFlow, Keras or pandas).

An export written by :func:`periodic_keras.export.export_forecaster` holds the
forecaster as a TFLite model and, in ``metadata.json``, the time axis of the series it was
fitted on. :class:`EdgeForecaster` takes the recent history as a device has it -- values
(NaN for a missing reading) and their timestamps -- places them on that grid, interpolates
gaps exactly as the Keras forecaster does, and returns the next ``horizon`` values with
their times.

Example::

    from periodic_keras import edge
    f = edge.load_forecaster("exported/my_forecast")
    out = f.forecast(values, times)     # times: datetime64 (UTC) or numbers, one per value
    out.times, out.values               # the next `horizon` steps
"""

from __future__ import annotations

import os
from typing import NamedTuple

import numpy as np

from periodic_keras.edge.metadata import METADATA, check_forecaster
from periodic_keras.edge.runtime import finite_output, open_model, signature_order
from periodic_keras.errors import ExportedModelError

__all__ = ["EdgeForecast", "EdgeForecaster", "load_forecaster"]


class EdgeForecast(NamedTuple):
    """A forecast: ``times`` (datetime64 or float) and ``values`` (float32), ``horizon`` each."""

    times: np.ndarray
    values: np.ndarray


class EdgeForecaster:
    """An exported forecaster run with LiteRT. Use :func:`load_forecaster`.

    Attributes: ``context`` (history steps the model reads), ``horizon``, ``periods``
    (steps), ``time_axis`` (the metadata's ``time`` field), ``metadata``. Safe to share
    between threads (each concurrent ``forecast`` runs in an interpreter of its own).
    """

    def __init__(self, task_dir: str, variant: str = "float32", num_threads: int | None = None,
                 max_interpreters: int | None = None):
        self.task_dir, self.variant = task_dir, variant
        self.metadata, self._runner, path = open_model(task_dir, variant, num_threads,
                                                       max_interpreters=max_interpreters)
        meta = self.metadata
        if meta.get("task") != "forecaster" or not isinstance(meta.get("forecaster"), dict):
            raise ExportedModelError(f"{task_dir!r} is not a forecaster export (task {meta.get('task')!r})")
        check_forecaster(meta, os.path.join(task_dir, METADATA))
        plan, axis = meta["forecaster"], meta["time"]
        self.context, self.horizon = plan["context"], plan["horizon"]
        self.periods, self.time_axis = plan.get("periods"), axis
        # positional inputs args_0, args_0_1, args_0_2
        details = self._runner.inputs
        self._inputs = signature_order(details)
        shapes = [[int(d) for d in details[n]["shape"]] for n in self._inputs]
        dtypes = [details[n]["dtype"].name for n in self._inputs]
        want = ([[1, self.context], [1, self.context], [1, 1]], ["float32", "float32", "int64"])
        if (shapes, dtypes) != want:
            raise ExportedModelError(f"{path!r} takes inputs {list(zip(shapes, dtypes))}, but {METADATA} "
                                          f"describes a forecaster with context {self.context}")
        outputs = self._runner.outputs
        if len(outputs) != 1 or [int(d) for d in outputs[next(iter(outputs))]["shape"]] != [1, self.horizon]:
            raise ExportedModelError(f"{path!r} gives outputs "
                                     f"{[[int(d) for d in o['shape']] for o in outputs.values()]}, but {METADATA} "
                                     f"describes a forecaster with horizon {self.horizon} (one output [1, horizon])")
        (self._output,) = outputs

    def positions(self, times) -> np.ndarray:
        """Grid positions (int64, steps from the fitted series' first step) of ``times``.

        Raises:
            TypeError: numbers where the axis is time, or times where it is numeric.
            ValueError: a time between two grid steps.
        """
        axis = self.time_axis
        t = np.asarray(times)
        if t.ndim != 1:
            raise ValueError(f"times must be 1-D, got shape {t.shape}")
        if axis["unit"] == "number":
            if not (np.issubdtype(t.dtype, np.number) and not np.issubdtype(t.dtype, np.complexfloating)):
                raise TypeError(f"the series' index is numeric: times must be numbers, got {t.dtype}")
            steps = (t.astype(np.float64) - axis["origin"]) / axis["step"]
            whole = np.round(steps)
            off = np.abs(steps - whole) > 1e-6
            if off.any() or not np.isfinite(steps).all():
                raise ValueError(f"time {t[np.argmax(off | ~np.isfinite(steps))]} is not on the grid "
                                 f"{axis['origin']} + k * {axis['step']}")
            return whole.astype(np.int64)
        if t.dtype.kind in "USO":
            try:
                t = t.astype("datetime64[ns]")
            except (TypeError, ValueError):
                raise TypeError("times must be datetime64 values or ISO date strings") from None
        if t.dtype.kind != "M":
            raise TypeError(f"the series' index is time: times must be datetime64 (UTC), got {t.dtype}")
        if np.isnat(t).any():
            raise ValueError("times hold NaT")
        if axis["unit"] == "month":
            offset = t.astype("datetime64[M]").astype(np.int64) - int(axis["origin"])
        else:
            offset = t.astype("datetime64[ns]").astype(np.int64) - int(axis["origin"])
        step = int(axis["step"])
        bad = offset % step != 0
        if bad.any():
            raise ValueError(f"time {t[np.argmax(bad)]} is not on the grid of the fitted series (a whole number of "
                             f"{step} {'months' if axis['unit'] == 'month' else 'ns'} from its start)")
        return offset // step

    def times(self, positions) -> np.ndarray:
        """The times of grid ``positions``: datetime64 (UTC) or floats."""
        axis, p = self.time_axis, np.asarray(positions, dtype=np.int64)
        if axis["unit"] == "number":
            return axis["origin"] + p * float(axis["step"])
        if axis["unit"] == "ns":
            return (int(axis["origin"]) + p * int(axis["step"])).astype("datetime64[ns]")
        months = (int(axis["origin"]) + p * int(axis["step"])).astype("datetime64[M]")
        if axis.get("anchor") == "end":
            return (months + 1).astype("datetime64[D]").astype("datetime64[ns]") - np.timedelta64(1, "D")
        if axis.get("anchor") == "period":
            return months
        return months.astype("datetime64[ns]")

    def inputs(self, values, times=None) -> list:
        """The model's inputs (``values``, ``observed``, ``start``) for a forecast after the last of ``times``.

        ``values``: the history, 1-D (NaN: a missing reading); ``times``: their timestamps
        (default: the fitted series' steps 0, 1, ..., i.e. ``values`` is the whole series
        from its first step). Gaps, given as NaN or as missing times, are linearly
        interpolated from the nearest readings, as the Keras forecaster does.
        """
        v = np.asarray(values)
        if v.dtype == object or not (np.issubdtype(v.dtype, np.floating) or np.issubdtype(v.dtype, np.integer)):
            raise TypeError(f"values must be real numbers, got dtype {v.dtype}")
        v = v.astype(np.float64)
        if v.ndim != 1 or v.size == 0:
            raise ValueError(f"values must be a non-empty 1-D array, got shape {v.shape}")
        if np.isinf(v).any():
            raise ValueError("values hold inf (use NaN for a missing reading)")
        p = np.arange(v.size, dtype=np.int64) if times is None else self.positions(times)
        if p.shape != v.shape:
            raise ValueError(f"{v.size} values but {p.size} times")
        if np.any(np.diff(p) <= 0):
            raise ValueError("times must be strictly increasing, one per grid step at most")
        if p[-1] - p[0] + 1 < self.context:
            raise ValueError(f"the history spans {p[-1] - p[0] + 1} steps; the forecaster reads the last "
                             f"{self.context}")
        ok = np.isfinite(v)
        window = np.arange(p[-1] - self.context + 1, p[-1] + 1)
        seen = np.isin(window, p[ok])
        if not seen.any():
            raise ValueError(f"no value in the last {self.context} steps of the history")
        filled = np.interp(window, p[ok], v[ok])
        return [filled.astype(np.float32)[None], seen.astype(np.float32)[None], np.array([[p[-1] + 1]], np.int64)]

    def forecast(self, values, times=None) -> EdgeForecast:
        """The next ``horizon`` values after the history (see :meth:`inputs`) and their times."""
        x = self.inputs(values, times)
        out = self._runner(**dict(zip(self._inputs, x)))[self._output]
        start = int(x[2][0, 0])
        return EdgeForecast(self.times(start + np.arange(self.horizon)),
                            finite_output(np.asarray(out, np.float32).reshape(-1)))


def load_forecaster(task_dir: str, variant: str = "float32", num_threads: int | None = None,
                    max_interpreters: int | None = None) -> EdgeForecaster:
    """Load a forecaster export (NumPy + LiteRT only). ``num_threads``, ``max_interpreters``: as
    :func:`periodic_keras.edge.load`.

    Raises:
        periodic_keras.edge.ExportedModelError: as :func:`periodic_keras.edge.load`, or an
            export that is not a forecaster.
    """
    return EdgeForecaster(task_dir, variant, num_threads, max_interpreters)

"""Export a fitted :class:`~periodic_keras.forecasting.Forecaster` for the edge runtime.

:func:`export_forecaster` writes, like :func:`periodic_keras.export.export_model`, into a
staging directory that is verified and then renamed into place:

- ``saved_model/``: the Keras forecaster with batch 1 (signature ``serve``, inputs
  positional: ``values``, ``observed``, ``start``);
- ``model.tflite`` (and the other requested variants): the same, builtin ops only;
- ``metadata.json``: the inputs, the forecaster's plan (context, horizon, periods, lags),
  its normalisation (per window, inside the graph), the series' **time axis** (origin, step
  and unit, so that :mod:`periodic_keras.edge.forecast` turns timestamps into the grid
  positions the periodic encodings read, with NumPy only) and the parity figures.

Parity is measured the way a device forecasts: :func:`periodic_keras.edge.load_forecaster`
on the staged files, given the history (values and timestamps) up to several origins of
the fitted series, against ``Forecaster.predict`` on the same histories; the forecast
times must agree too.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd

from periodic_keras import edge
from periodic_keras._io import atomic_write_text
from periodic_keras.data import RegularSeries
from periodic_keras.errors import ExportError
from periodic_keras.export.artifacts import build_metadata, check_variants, staging, verify_and_publish, write_tflite
from periodic_keras.export.convert import export_fixed_saved_model
from periodic_keras.export.keep import check_nothing_lost
from periodic_keras.runs import check_export_target

__all__ = ["export_forecaster", "time_axis"]

#: Calendar offsets counted in whole months: (months per step, anchor of the step's time).
_MONTHLY = {"MonthBegin": (1, "start"), "MonthEnd": (1, "end"), "QuarterBegin": (3, "start"),
            "QuarterEnd": (3, "end"), "YearBegin": (12, "start"), "YearEnd": (12, "end")}


def _naive_utc(times):
    """A Timestamp or DatetimeIndex in UTC without its timezone (unchanged when it has none)."""
    return times.tz_convert("UTC").tz_localize(None) if times.tz is not None else times


def time_axis(series: RegularSeries) -> dict:
    """How the edge runtime turns a timestamp into a grid position: ``unit`` ``"ns"``
    (fixed steps: ``origin`` and ``step`` in nanoseconds, UTC), ``"month"`` (calendar
    steps: months since 1970-01, ``anchor`` of the forecast times ``start``/``end`` of
    the month, or ``period``) or ``"number"`` (a numeric index).

    >>> s = RegularSeries(np.zeros(3), pd.Timestamp("2024-01-01"), pd.Timedelta("1h"), "datetime")
    >>> time_axis(s)["step"], time_axis(s)["unit"]
    (3600000000000, 'ns')

    Raises:
        ValueError: a step that is neither a fixed duration nor whole months (e.g.
            business days): the edge runtime could not place timestamps on it.
    """
    if series.kind == "number":
        return {"unit": "number", "origin": float(series.start), "step": float(series.step)}
    if series.kind == "period":
        offset, start, anchor = series.start.freq, series.start.start_time, "period"
    else:
        offset, start, anchor = series.step, series.start, None
    timezone = None if getattr(start, "tz", None) is None else str(start.tz)
    if not isinstance(offset, pd.Timedelta):
        months = _MONTHLY.get(type(offset).__name__)
        if months is not None:
            origin = (start.year - 1970) * 12 + start.month - 1
            return {"unit": "month", "origin": origin, "step": months[0] * offset.n, "anchor": anchor or months[1],
                    "timezone": timezone}
        first = series.times([0, 1, 2]) if series.kind == "datetime" else series.times([0, 1, 2]).to_timestamp()
        steps = np.diff(first.as_unit("ns").asi8)
        if steps[0] != steps[1] or type(offset).__name__ not in ("Week", "Day"):
            raise ValueError(f"the time step {getattr(offset, 'freqstr', offset)} is neither a fixed duration nor "
                             "whole months: the edge runtime cannot place timestamps on it")
        offset = pd.Timedelta(int(steps[0]), unit="ns")
    return {"unit": "ns", "origin": int(_naive_utc(start).as_unit("ns").value),
            "step": int(offset.as_unit("ns").value), "anchor": anchor, "timezone": timezone}


def _check_times(expected: pd.Index, got: np.ndarray, unit: str) -> None:
    """The edge runtime's forecast times must be the Forecaster's."""
    want = _edge_times(expected, unit)
    if unit == "number":
        same = np.allclose(want, got, rtol=0, atol=1e-9 * max(1.0, np.abs(got).max()))
    else:
        same = np.array_equal(want.astype(np.int64), got.astype("datetime64[ns]").astype(np.int64))
    if not same:
        raise ExportError(f"the edge runtime's forecast times {got[:3]}... differ from the forecaster's "
                          f"{list(expected[:3])}...")


def export_forecaster(forecaster, out_dir: str, variants=("float32",), tolerance: float = 1e-4, checks: int = 8,
                      metadata: dict | None = None) -> dict:
    """Export a fitted forecaster to ``out_dir`` atomically; return the written metadata.

    Args:
        forecaster: a fitted :class:`~periodic_keras.forecasting.Forecaster`.
        out_dir: the export directory (new, empty, or a previous export).
        variants: TFLite variants (:data:`periodic_keras.export.TFLITE_VARIANTS`);
            ``"float32"`` is required.
        tolerance: the largest difference allowed between the Keras forecast and the edge
            runtime's (float32 variant and SavedModel), relative to the largest forecast
            magnitude when that exceeds 1 (float32 resolves 30 000 only to 0.002), absolute
            otherwise: the bound is ``tolerance * max(1, max|forecast|)``.
        checks: forecast origins compared (the last ``checks`` steps of the fitted series
            that hold a value, spread over its last horizon).
        metadata: extra fields (e.g. the backtest's scores).

    Raises:
        periodic_keras.export.ExportError: conversion failed or parity beyond ``tolerance``;
            nothing is replaced. ValueError: an unfitted forecaster, or a time step the
            edge runtime cannot place (:func:`time_axis`).

    Example (``f`` a fitted Forecaster)::

        meta = export_forecaster(f, "exported/my_forecast")
        meta["tflite"]["float32"]["parity_max_abs_diff"]     # <= 1e-4 * max(1, max|forecast|)
    """
    import tensorflow as tf

    if getattr(forecaster, "model", None) is None:
        raise ValueError("export a fitted forecaster: call fit() first")
    check_variants(variants)
    check_export_target(out_dir)
    check_nothing_lost(out_dir)
    series, model = forecaster.series_, forecaster.model
    axis = time_axis(series)
    ends = _check_ends(series, forecaster.context_, forecaster.horizon, checks)
    histories = [series.head(end) for end in ends]
    inputs = [forecaster.inputs(h) for h in histories]
    reference = np.stack([np.asarray(model(x, training=False), np.float64)[0] for x in inputs])
    times = series.index
    magnitude = max(1.0, float(np.max(np.abs(reference))))
    bound = tolerance * magnitude

    with staging(out_dir) as tmp:
        saved = os.path.join(tmp, "saved_model")
        export_fixed_saved_model(model, saved)
        loaded = tf.saved_model.load(saved)  # keep a reference: its variables die with it
        served = np.stack([np.asarray(loaded.serve([tf.constant(v) for v in x]))[0] for x in inputs])
        saved_diff = float(np.max(np.abs(served - reference)))
        tflite = write_tflite(tmp, model, variants, saved_model=saved)
        meta = build_metadata(
            "forecaster", tflite, metadata,
            input={"names": [t.name for t in model.inputs], "shapes": [[1, *t.shape[1:]] for t in model.inputs],
                   "dtype": "mixed", "dtypes": [str(t.dtype) for t in model.inputs],
                   "meaning": "values: the last `context` values, gaps interpolated; observed: 1 where a value was "
                              "given; start: the grid position of the first forecast step"},
            output={"shape": [1, forecaster.horizon], "dtype": "float32", "meaning": "the next `horizon` values"},
            forecaster={"context": forecaster.context_, "horizon": forecaster.horizon,
                        "periods": [float(p) for p in forecaster.periods_], "lags": list(forecaster.lags_),
                        "seasons": list(forecaster.seasons_), "harmonics": forecaster.harmonics,
                        "units": forecaster.units, "hidden": forecaster.hidden, "steps": forecaster.steps_,
                        "seed": forecaster.seed},
            normalisation={"where": "inside the model (WindowScaler)",
                           "level": f"mean of the last {max(1, min(forecaster.context_, round(max(forecaster.periods_))))}"
                                    " observed values of the window",
                           "scale": "RMS of the window's observed values about the level"},
            time=axis,
            series={"name": None if series.name is None else str(series.name), "steps": len(series),
                    "first": str(times[0]), "last": str(times[-1])},
            saved_model={"dir": "saved_model", "signature": "serve", "inputs": "positional, in input.names order",
                         "parity_max_abs_diff": saved_diff},
            parity={"origins": len(ends), "tolerance": tolerance, "forecast_magnitude": magnitude,
                    "max_abs_diff_allowed": bound})
        if not saved_diff <= bound:
            raise ExportError(f"SavedModel differs from Keras by {saved_diff:.3g} > {bound:.3g}")
        atomic_write_text(os.path.join(tmp, edge.METADATA), json.dumps(meta, indent=2))
        raw = series.to_series()
        stamps = _edge_times(raw.index, axis["unit"])
        for variant, entry in tflite.items():
            runner = edge.load_forecaster(tmp, variant)
            diffs = []
            for end, want in zip(ends, reference):
                got = runner.forecast(raw.to_numpy()[:end], stamps[:end])
                _check_times(series.head(end).future_index(forecaster.horizon), got.times, axis["unit"])
                diffs.append(float(np.max(np.abs(got.values - want))))
            entry["parity_max_abs_diff"] = max(diffs)
        verify_and_publish(tmp, out_dir, meta, bound, "the float32 TFLite forecast")
    return meta


def _check_ends(series: RegularSeries, context: int, horizon: int, checks: int) -> list:
    """History lengths to compare forecasts after: up to ``checks`` observed steps of the last horizon."""
    if isinstance(checks, bool) or not isinstance(checks, int) or checks < 1:
        raise ValueError(f"checks must be a positive integer, got {checks!r}")
    ends = [end for end in range(max(context, len(series) - horizon), len(series) + 1)
            if series.observed[end - 1]]
    pick = np.unique(np.linspace(0, len(ends) - 1, min(checks, len(ends))).round().astype(int))
    return [ends[i] for i in pick]


def _edge_times(index: pd.Index, unit: str) -> np.ndarray:
    """The timestamps a device would give: numbers, or UTC datetime64[ns]."""
    if unit == "number":
        return index.to_numpy(np.float64)
    if isinstance(index, pd.PeriodIndex):
        index = index.to_timestamp()
    return _naive_utc(index).as_unit("ns").to_numpy()

"""Forecast a series from a CSV file: backtest, fit, forecast, table and plot.

:func:`forecast_csv` is the job behind ``scripts/forecast.py``: it reads one column (and an
optional time column) of a CSV file, backtests :class:`periodic_keras.forecasting.Forecaster`
at rolling origins next to seasonal-naive baselines, fits it on the whole series and writes
the next ``horizon`` steps, the backtest table and a plot.
"""

from __future__ import annotations

import os
import time

from periodic_keras.jobs.common import check_benchmark_args, job, open_output, summary
from periodic_keras.signals import check_positive_int

__all__ = ["forecast_csv", "forecast_summary"]


@job()
def forecast_csv(csv: str, column: str, horizon: int, output_dir: str = "runs/forecast", time_column=None,
                 step=None, periods=None, context=None, steps: int = 800, units: int = 32, origins: int = 3,
                 seed: int = 0, export_dir: str | None = None, statsforecast="auto", verbose: int = 1) -> dict:
    """Backtest, fit and forecast column ``column`` of ``csv``; write the results to ``output_dir``.

    Args:
        csv, column, time_column: the file, its value column and its time column (parsed as
            dates unless numeric; default: the row number). Empty cells are gaps.
        horizon: steps to forecast after the last row.
        step: the time grid's step (e.g. ``"h"``, ``"W-SAT"``, ``"MS"``); default inferred.
        periods: periods in steps (default: discovered); ``context``, ``steps``, ``units``,
            ``seed``: as :class:`~periodic_keras.forecasting.Forecaster`.
        origins: rolling backtest origins (0: no backtest).
        statsforecast: also backtest statsforecast's AutoETS, MSTL and AutoARIMA
            (:func:`~periodic_keras.forecasting.statsforecast_baselines`): ``"auto"``
            when statsforecast is installed, ``True`` (ImportError without it) or ``False``.
        export_dir: also export the fitted forecaster there for the edge runtime
            (:meth:`~periodic_keras.forecasting.Forecaster.export`; the backtest's mean
            scores go into its metadata); checked before any work.

    Outputs in ``output_dir``: ``forecast.csv`` (columns ``time``, ``forecast``),
    ``backtest.csv``/``.md`` (:func:`~periodic_keras.forecasting.backtest`, baselines beside
    the forecaster) and ``forecast.png`` (history, the last backtest origin's forecast against
    the held-out truth, and the forecast). Every input is checked before anything is written
    (:func:`~periodic_keras.data.csv_series`: times strictly increasing, never sorted or
    averaged for you; :meth:`~periodic_keras.forecasting.Forecaster.prepare`: values the
    float32 model can compute with, periods shorter than the series, forecast times that
    can be represented).

    Returns:
        dict with ``table`` (the backtest means), ``table_paths``, ``plot``, ``forecast``
        (Series), ``forecast_path``, ``periods``, ``verdict`` (the backtest's mean MASE per
        method, ``beats_seasonal_naive`` and a ``note`` naming the method to prefer when the
        forecaster lost), ``export`` (the export's metadata, or None),
        ``train_seconds`` and ``seconds``.

    Example (a small run)::

        out = forecast_csv("my.csv", "y", horizon=24, time_column="time", output_dir="/tmp/fc", steps=100)
    """
    begin = time.perf_counter()
    check_positive_int(horizon=horizon, steps=steps, units=units)
    if isinstance(origins, bool) or not isinstance(origins, int) or origins < 0:
        raise ValueError(f"origins must be an integer >= 0, got {origins!r}")
    check_benchmark_args(seed, output_dir)
    from periodic_keras.forecasting import guarded_statsforecast

    extra = guarded_statsforecast(statsforecast)
    from periodic_keras.runs import check_export_target, check_inputs

    check_inputs([csv], output_dir, export_dir)  # forecast.csv in the output directory must not be the input
    if export_dir is not None:
        check_export_target(export_dir, output_dir)
    from periodic_keras.data import csv_series, regular_series
    from periodic_keras.forecasting import Forecaster, backtest

    series = csv_series(csv, column, time_column)
    grid = regular_series(series, step=step)
    args = dict(periods=periods, context=context, steps=steps, units=units, seed=seed)
    forecaster = Forecaster(horizon, step=step, **args).prepare(grid)  # a too short series fails before any work
    if export_dir is not None:
        from periodic_keras.export import time_axis

        time_axis(grid)  # a time step the edge runtime cannot place fails here, not after the fits
    open_output(output_dir)  # the CSV was checked against both directories above

    import pandas as pd

    from periodic_keras.jobs import results
    from periodic_keras._io import atomic_write_text

    table, last = None, None
    if origins:
        table, forecasts = backtest(grid, horizon, origins=origins, step=step, verbose=verbose,
                                    return_forecasts=True, extra_baselines=extra, **args)
        row = table[(table.method == "forecaster") & (table.origin != "mean")].iloc[-1]
        last = (forecasts[-1]["forecaster"], row.mase)
    start = time.perf_counter()
    forecaster.fit()  # the series prepared above
    train_seconds = time.perf_counter() - start
    forecast = forecaster.predict()
    forecast_path = os.path.join(output_dir, "forecast.csv")
    atomic_write_text(forecast_path, pd.DataFrame({"time": forecast.index.astype(str), "forecast": forecast.to_numpy()})
                      .to_csv(index=False))
    if table is None:
        table = pd.DataFrame(columns=["origin", "method", "mae", "rmse", "mase", "smape", "seconds"])
    paths = results.write_table(table, os.path.join(output_dir, "backtest"))
    plot = _plot(grid, forecaster, forecast, horizon, last, os.path.join(output_dir, "forecast.png"))
    means = table[table.origin == "mean"].drop(columns="origin").reset_index(drop=True)
    verdict = _backtest_summary(means, origins)
    exported = None
    if export_dir is not None:
        exported = forecaster.export(export_dir, metadata={"backtest": verdict})
    return dict(table=means, table_paths=paths, plot=plot, forecast=forecast, forecast_path=forecast_path,
                periods=forecaster.periods_, export=exported, verdict=verdict, train_seconds=train_seconds,
                seconds=time.perf_counter() - begin)


def _backtest_summary(means, origins: int) -> dict:
    """The backtest's mean MASE per method, whether the forecaster beat every seasonal naive,
    the best method, and a one-line ``note`` saying which method to trust."""
    if not len(means):
        return {"origins": 0, "note": "no backtest was run: the forecast's quality is unmeasured"}
    mase = {m: (None if v != v else float(v)) for m, v in zip(means.method, means.mase)}
    scored = {m: v for m, v in mase.items() if v is not None}
    naive = {m: v for m, v in scored.items() if m.startswith("seasonal_naive")}
    mine = mase.get("forecaster")
    beats = bool(mine is not None and naive and mine < min(naive.values()))
    best = min(scored, key=scored.get) if scored else None
    if best == "forecaster":
        note = f"the forecaster had the lowest mean MASE of every method in the backtest ({mine:.3g})"
    elif beats:
        note = (f"the forecaster beat every seasonal naive in the backtest (mean MASE {mine:.3g}), but {best} did "
                f"better ({scored[best]:.3g}): consider it for this series")
    else:
        fallback = min(naive, key=naive.get) if naive else best
        note = (f"the forecaster LOST to {fallback} in the backtest (mean MASE {mine:.3g} against "
                f"{scored.get(fallback, float('nan')):.3g}): prefer "
                f"{'it' if best == fallback else f'{best} ({scored[best]:.3g}) or it'} for this series")
    return {"origins": origins, "mean_mase": mase, "beats_seasonal_naive": beats, "best_method": best, "note": note}


def _plot(grid, forecaster, forecast, horizon, last, path):
    """History, the last backtest origin's forecast (over the held-out truth) and the forecast."""
    from periodic_keras.jobs import results

    plt = results.pyplot()
    fig, ax = plt.subplots(figsize=(11, 3.8))
    shown = min(len(grid), max(3 * round(max(forecaster.periods_)), 4 * horizon))
    history = grid.to_series().iloc[-shown:]
    ax.plot(history.index, history.to_numpy(), lw=0.8, color="0.3", label="history (last backtest block: truth)")
    if last is not None:
        back, mase = last
        ax.plot(back.index, back.to_numpy(), lw=1.2, color="tab:orange", label=f"backtest forecast (MASE {mase:.2f})")
    ax.plot(forecast.index, forecast.to_numpy(), lw=1.4, color="tab:blue", label="forecast")
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title(f"{grid.name}: periods {', '.join(f'{p:.4g}' for p in forecaster.periods_)} steps")
    return results.save_figure(fig, path)


def forecast_summary(result: dict) -> str:
    """Human-readable summary of :func:`forecast_csv`."""
    periods = ", ".join(f"{p:.4g}" for p in result["periods"])
    head = f"periods (steps): {periods}; forecast: {result['forecast_path']}"
    first = result["forecast"]
    head += f" ({len(first)} steps from {first.index[0]}, first value {first.iloc[0]:.4g})"
    if result.get("verdict") is not None:
        head += f"\n{result['verdict']['note']}"
    if result.get("export") is not None:
        parity = result["export"]["tflite"]["float32"]["parity_max_abs_diff"]
        head += f"\nexported for the edge runtime (float32 TFLite vs Keras: max difference {parity:.2g})"
    return f"{head}\n\n{summary(result)}"

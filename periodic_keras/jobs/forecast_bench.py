"""The forecasting benchmark: the forecaster against seasonal naive and statsforecast's models
on real series that ship inside packages, at rolling origins, in one run.

:func:`benchmark_forecast` backtests (:func:`periodic_keras.forecasting.backtest`) every
panel series with a horizon of one season (one week for taylor): the forecaster, seasonal
naive for each discovered period, naive, and -- when statsforecast is installed
(``[bench]`` extra) -- AutoETS, MSTL and AutoARIMA on the same histories. It writes the mean
scores per series and method, and the panel's mean MASE per method.
"""

from __future__ import annotations

import os
import time

import numpy as np

from periodic_keras.jobs.common import check_benchmark_args, job, open_output, summary
from periodic_keras.signals import check_positive_int

__all__ = ["DEFAULT_ORIGINS", "PANEL", "SERIES_ORIGINS", "UNSEEN", "benchmark_forecast", "forecast_benchmark_summary"]


def _synthetic():
    import pandas as pd

    t = np.arange(3000)
    rng = np.random.default_rng(0)
    y = 10 + 0.002 * t + np.sin(2 * np.pi * t / 24) + 0.5 * np.sin(2 * np.pi * t / 168 + 1) + rng.normal(0, 0.2, t.size)
    return pd.Series(y, index=pd.date_range("2024-01-01", periods=t.size, freq="h"), name="synthetic")


def _monthly(values, start):
    import pandas as pd

    values = np.asarray(values, dtype=np.float64)
    return pd.Series(values, index=pd.period_range(start, periods=values.size, freq="M"))


def _unseen(name):
    """Series the forecaster was not tuned on (all inside installed packages)."""
    import pandas as pd

    from periodic_keras.data import real

    if name == "sunspots":
        return real.sunspots_yearly()
    if name == "elnino":
        data = real.statsmodels_dataset("elnino")
        return _monthly(data.iloc[:, 1:].to_numpy().ravel(), f"{int(data.iloc[0, 0])}-01")
    if name == "seattle":
        from vega_datasets import local_data

        df = local_data.seattle_weather()
        return pd.Series(df["temp_max"].to_numpy(float), index=pd.to_datetime(df["date"]), name="temp_max")
    data = real.pmdarima_dataset({"wine": "wineind", "lynx": "lynx", "wool": "woolyrnq"}[name])
    return pd.Series(data.to_numpy(float), name=name)


def _loader(name):
    from periodic_keras.data import real

    if name in UNSEEN:
        return lambda: _unseen(name)
    return {"sf": real.sf_temps, "taylor": real.taylor_demand, "co2": lambda: real.co2_weekly(raw=True),
            "air": real.air_passengers, "synthetic": _synthetic}[name]


#: Panel series: key -> (description, horizon in steps).
PANEL = {
    "sf": ("SF temperature, hourly (vega_datasets)", 24),
    "taylor": ("taylor demand, half-hourly (pmdarima)", 336),
    "co2": ("CO2 weekly, raw with gaps (statsmodels)", 52),
    "air": ("air passengers, monthly (pmdarima)", 12),
    "synthetic": ("synthetic hourly: 24 h + 168 h sines, trend, noise 0.2", 24),
}

#: Rolling origins per series when ``benchmark_forecast(origins=None)``: the hourly day-ahead
#: series get 30 (a month of daily forecasts): 5 would be the year's last 5 days, when SF's
#: hourly temperatures barely move (59 % of hours repeat the day before exactly; seasonal
#: naive's MAE 0.047 against 0.124 over the month).
SERIES_ORIGINS = {"sf": 30, "synthetic": 30}
#: Rolling origins of every other series when ``origins=None``.
DEFAULT_ORIGINS = 5

#: Series it was not tuned on (``--series`` picks them; not in the default panel).
UNSEEN = {
    "sunspots": ("sunspots, yearly (statsmodels)", 11),
    "wine": ("Australian wine sales, monthly (pmdarima wineind)", 12),
    "lynx": ("lynx trappings, yearly (pmdarima)", 10),
    "wool": ("wool production, quarterly (pmdarima woolyrnq)", 4),
    "elnino": ("El Nino sea temperature, monthly (statsmodels)", 12),
    "seattle": ("Seattle daily maximum temperature (vega_datasets)", 30),
}


@job()
def benchmark_forecast(series=None, origins: int | None = None, steps: int = 800, seed: int = 0,
                       output_dir: str = "runs/forecast_benchmark", verbose: int = 1, statsforecast: bool = True,
                       generator_steps: int = 1000) -> dict:
    """Backtest the forecaster and its baselines on the panel (see the module docstring).

    Args:
        series: keys of :data:`PANEL` (default: all whose package is installed) or of
            :data:`UNSEEN`, series the forecaster was not tuned on.
        origins: rolling origins per series (None: :data:`SERIES_ORIGINS`, else
            :data:`DEFAULT_ORIGINS`).
        steps, seed: the forecaster's training steps and seed.
        statsforecast: add AutoETS, MSTL and AutoARIMA (needs statsforecast).
        generator_steps: training steps of the first release's LSTM generator recipe
            (:class:`~periodic_keras.forecasting.GeneratorBaseline`, trained once per
            series on the history before the first origin); 0 leaves it out.

    Outputs in ``output_dir``: ``results.csv``/``.md`` (``series``, ``method``, ``mae``,
    ``rmse``, ``mase``, ``smape``, ``seconds`` -- means over the origins -- and ``panel``
    rows: each method's mean MASE over the series, seasonal naive with each series' best
    period).

    Returns:
        dict with ``table``, ``table_paths``, ``plot`` (None), ``train_seconds`` (the
        forecaster's fits) and ``seconds``.
    """
    check_positive_int(steps=steps)
    if origins is not None:
        check_positive_int(origins=origins)
    if isinstance(generator_steps, bool) or not isinstance(generator_steps, int) or generator_steps < 0:
        raise ValueError(f"generator_steps must be an integer >= 0, got {generator_steps!r}")
    check_benchmark_args(seed, output_dir)
    names = list(PANEL) if series is None else list(series)
    unknown = set(names) - set(PANEL) - set(UNSEEN)
    if unknown:
        raise ValueError(f"unknown series {sorted(unknown)}: use {sorted(PANEL) + sorted(UNSEEN)}")
    from periodic_keras.forecasting import guarded_statsforecast

    extra = guarded_statsforecast(bool(statsforecast))
    open_output(output_dir)

    import pandas as pd

    from periodic_keras.jobs import results
    from periodic_keras.forecasting import backtest

    begin, rows, train = time.perf_counter(), [], 0.0
    for key in names:
        description, horizon = {**PANEL, **UNSEEN}[key]
        try:
            data = _loader(key)()
        except ImportError as err:
            if verbose:
                print(f"{description}: skipped ({err})", flush=True)
            continue

        per_series = dict(extra)
        if generator_steps:
            from periodic_keras.forecasting import GeneratorBaseline, guarded

            per_series["lstm_generator"] = guarded(GeneratorBaseline(steps=generator_steps, seed=seed))
        count = origins or SERIES_ORIGINS.get(key, DEFAULT_ORIGINS)
        table = backtest(data, horizon, origins=count, steps=steps, seed=seed, verbose=verbose,
                         extra_baselines=per_series)
        means = table[table.origin == "mean"].drop(columns="origin")
        train += float(means.loc[means.method == "forecaster", "seconds"].iloc[0]) * count
        rows.append(means.assign(series=description))
        if verbose:
            shown = ", ".join(f"{m} {v:.3f}" for m, v in zip(means.method, means.mase))
            print(f"{description}: mean MASE {shown}", flush=True)
    table = pd.concat(rows, ignore_index=True)[["series", "method", "mae", "rmse", "mase", "smape", "seconds"]]
    # each series' best seasonal naive (lowest MASE) counts as one method across the panel
    best = {s: _best_seasonal_naive(table, s) for s in table.series.unique()}
    names = ["seasonal naive (best period)" if m == best[s] else m for m, s in zip(table.method, table.series)]
    panel = table.assign(method=names).groupby("method", sort=False)["mase"].agg(["mean", "count"]).reset_index()
    panel = panel[panel["count"] == table.series.nunique()]
    table = pd.concat([table, pd.DataFrame({"series": "panel (mean over series)", "method": panel["method"],
                                            "mase": panel["mean"]})], ignore_index=True)
    paths = results.write_table(table, os.path.join(output_dir, "results"))
    return dict(table=table, table_paths=paths, plot=None, train_seconds=train, seconds=time.perf_counter() - begin)


def _best_seasonal_naive(table, series):
    names = table[(table.series == series) & table.method.str.fullmatch(r"seasonal_naive_\d+")]
    return names.sort_values("mase").method.iloc[0] if len(names) else None


def forecast_benchmark_summary(result: dict) -> str:
    """Human-readable summary of :func:`benchmark_forecast`."""
    head = f"benchmark {result['seconds']:.0f} s (forecaster fits {result['train_seconds']:.0f} s)"
    return f"{head}\n\n{summary({**result, 'plot': '-'})}"

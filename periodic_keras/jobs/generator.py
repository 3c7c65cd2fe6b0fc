"""The generator jobs: learn a periodic series and generate its future.

- :func:`train_generator`: the classic demo's data (``sin((i + offset) / 20)``,
  97 training and 3 test series of 1000 steps), teacher-forced and free-running test
  errors, a plot, a results table and the streaming export to ``exported/generator/``.
- :func:`forecast_sf_temps`: hourly San Francisco temperatures; 48-hour closed-loop
  forecasts from a week of warm-up, next to the seasonal-naive baseline.

``scripts/train_generator.py`` parses arguments and calls one of them.
"""

from __future__ import annotations

import os
import time

import numpy as np

from periodic_keras.jobs.common import finish, job, phase, start_strategy, summary
from periodic_keras.signals import check_positive_int

__all__ = ["forecast_sf_temps", "generator_summary", "train_generator"]


def _training_options(units, windows, long_fraction, steps, batch_size, learning_rate, noise_std, noise_ramp,
                      length, early_weight=None, closed_loop_fraction=0.0, closed_loop_windows=(50, 150),
                      closed_loop_noise=0.03) -> dict:
    """Check the training options (before TensorFlow loads); return them for :func:`_fit_generator`."""
    units, windows = tuple(units), tuple(windows)
    check_positive_int(steps=steps, batch_size=batch_size)
    for u in units:
        check_positive_int(units=u)
    for w in windows:
        check_positive_int(window=w)
    if not units or not 1 <= len(windows) <= 2:
        raise ValueError(f"need at least one LSTM width and one or two window lengths, got {units}, {windows}")
    if max(windows) >= length:
        raise ValueError(f"window {max(windows)} does not fit in the training series of {length} steps")
    if not 0.0 <= long_fraction <= 1.0:
        raise ValueError(f"long_fraction must lie in [0, 1], got {long_fraction}")
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be positive, got {learning_rate}")
    if not (np.isfinite(noise_std) and noise_std >= 0):
        raise ValueError(f"noise_std must be >= 0, got {noise_std}")
    if noise_ramp < 0:
        raise ValueError(f"noise_ramp must be >= 0, got {noise_ramp}")
    if early_weight is not None:
        n, w = early_weight
        check_positive_int(early_weight_steps=n)
        if not (np.isfinite(w) and w > 0):
            raise ValueError(f"early_weight's weight must be positive, got {w}")
        early_weight = (int(n), float(w))
    if not 0.0 <= closed_loop_fraction < 1.0:
        raise ValueError(f"closed_loop_fraction must lie in [0, 1), got {closed_loop_fraction}")
    warm, free = (int(v) for v in closed_loop_windows)
    check_positive_int(closed_loop_warm=warm, closed_loop_free=free)
    if closed_loop_fraction and warm + free >= length:
        raise ValueError(f"closed-loop window {warm} + {free} does not fit in the training series of {length} steps")
    if not (np.isfinite(closed_loop_noise) and closed_loop_noise >= 0):
        raise ValueError(f"closed_loop_noise must be >= 0, got {closed_loop_noise}")
    return dict(units=units, windows=windows, long_fraction=long_fraction, steps=steps, batch_size=batch_size,
                learning_rate=learning_rate, noise_std=noise_std, noise_ramp=noise_ramp, early_weight=early_weight,
                closed_loop_fraction=closed_loop_fraction, closed_loop_windows=(warm, free),
                closed_loop_noise=closed_loop_noise)


def _fit_generator(train, units, windows, long_fraction, steps, batch_size, learning_rate, noise_std,
                   noise_ramp, early_weight, closed_loop_fraction, closed_loop_windows, closed_loop_noise, seed,
                   run_dir, verbose, strategy):
    """Train a sequence generator on random windows of ``train``; return (model, seconds).

    The first ``1 - closed_loop_fraction`` of the ``steps`` are teacher-forced; the rest
    fine-tune closed-loop (:func:`periodic_keras.training.fit_closed_loop`) on windows of
    ``warm + free`` steps, inputs noisy at ``closed_loop_noise``, with the same optimizer
    and learning-rate schedule.
    """
    from periodic_keras import training
    from periodic_keras.data import random_windows
    from periodic_keras.models import sequence_generator

    training.set_seed(seed)
    closed = int(round(closed_loop_fraction * steps))
    teacher = steps - closed
    mix = None if len(windows) == 1 else (1.0 - long_fraction, long_fraction)
    data = random_windows(train, windows, batch_size, noise_std, int(noise_ramp), mix=mix, seed=seed,
                          early_weight=early_weight)
    with strategy.scope():
        model = sequence_generator(units)
        training.compile_regressor(model, steps, learning_rate)
    start = time.time()
    training.fit(model, data, teacher, steps_per_epoch=500, run_dir=run_dir, verbose=verbose, strategy=strategy)
    if training.is_multi_worker(strategy):
        model = training.local_model(model)
    if closed:
        warm, free = closed_loop_windows
        loop_data = random_windows(train, warm + free, batch_size, closed_loop_noise, int(noise_ramp),
                                   seed=seed + 1000, early_weight=early_weight)
        training.fit_closed_loop(model, loop_data, closed, warm, verbose=verbose,
                                 run_dir=None if run_dir is None else os.path.join(run_dir, "closed_loop"))
    return model, time.time() - start


@job(evaluation_only=("horizon",))
def train_generator(
    units=(64, 64),
    windows=(100, 300),
    long_fraction: float = 0.2,
    steps: int = 2400,
    batch_size: int = 64,
    learning_rate: float = 3e-3,
    noise_std: float = 0.1,
    noise_ramp: int = 50,
    early_weight=(10, 3.0),
    closed_loop_fraction: float = 0.2,
    closed_loop_windows=(50, 150),
    closed_loop_noise: float = 0.03,
    horizon: int = 1000,
    seed: int = 0,
    data_seed: int = 2,
    output_dir: str = "runs/generator",
    export_dir: str | None = "exported/generator",
    no_export: bool = False,
    verbose: int = 1,
    strategy: str = "default",
    restart: bool = False,
) -> dict:
    """Train the sine generator on the classic demo's data, evaluate it, export it.

    Training: random windows of ``windows`` steps (mixed, ``long_fraction`` of the
    batches long), noise ``noise_std`` on the inputs ramped in over ``noise_ramp``
    steps, loss weight ``early_weight = (n, w)`` on the first ``n`` steps of every
    window, Adam with cosine decay. The last ``closed_loop_fraction`` of the steps
    fine-tune closed-loop: ``closed_loop_windows = (warm, free)``, teacher-forced on
    inputs with noise ``closed_loop_noise`` for ``warm`` steps, then fed back for
    ``free`` steps (fixes the slow phase drift of long generations). Evaluation on the 3 test series: teacher-forced
    MSE over their 999 next-step pairs, then ``horizon`` steps generated closed-loop
    after warming up on all 1000 values, against the true continuation.

    Outputs in ``output_dir``: ``results.csv``/``.md`` (per test series and overall),
    ``generation.png``; the step-model export in ``export_dir``.

    Returns:
        dict with ``model``, ``table``, ``table_paths``, ``plot``, ``train_seconds``,
        ``forecast`` and ``export`` (metadata or ``None``).

    Example (a tiny run)::

        out = train_generator(units=(8,), windows=(50,), steps=20, horizon=50,
                              output_dir="/tmp/g", no_export=True)
        print(out["table"])
    """
    check_positive_int(horizon=horizon)
    options = _training_options(units, windows, long_fraction, steps, batch_size, learning_rate, noise_std,
                                noise_ramp, length=1000, early_weight=early_weight,
                                closed_loop_fraction=closed_loop_fraction, closed_loop_windows=closed_loop_windows,
                                closed_loop_noise=closed_loop_noise)
    strat, output_dir, export_dir, no_export = start_strategy(
        strategy, output_dir, export_dir, no_export, None if options["closed_loop_fraction"] == 0 else
        "the closed-loop fine-tune is its own training loop (set closed_loop_fraction=0 to use it)")

    from periodic_keras import export, signals
    from periodic_keras.jobs import evaluate, results
    from periodic_keras.models import step_model

    x, offsets = signals.classic_sine_series(seed=data_seed)
    train, test = x[3:], x[:3]
    model, train_seconds = _fit_generator(train, **options, seed=seed, run_dir=phase(output_dir, "train"),
                                          verbose=verbose, strategy=strat)
    truth = signals.sine_continuation(offsets[:3], x.shape[1], horizon)
    table, forecast = evaluate.generation_table(model, test, truth)
    table_paths = results.write_table(table, os.path.join(output_dir, "results"))
    plot = results.plot_generation(test, forecast, truth, os.path.join(output_dir, "generation.png"),
                                   titles=[f"test series {i} (offset {offsets[i]})" for i in range(3)])

    meta = None
    if not no_export:
        overall = table.set_index("series").loc["all"]
        meta = export.export_step_model(
            step_model(model, batch_size=1), export_dir, "generator", test, n_steps=horizon,
            variants=("float32", "float16", "int8"), reference=forecast,
            evaluate=lambda runner, *_: {"free_mse_1000": float(np.mean((runner.generate(test, horizon) - truth) ** 2))},
            metadata={
                "description": "next-step sine generator (stacked LSTM); stream it: warm up, then feed y back",
                "data": "classic demo: x[i] = sin((i + offset) / 20), offsets in [-80, 80)",
                "normalisation": "none (values in [-1, 1])",
                "evaluation": {k: float(v) for k, v in overall.items()},
                "training": {**options, "units": list(options["units"]), "windows": list(options["windows"]),
                             "early_weight": None if options["early_weight"] is None else list(options["early_weight"]),
                             "closed_loop_windows": list(options["closed_loop_windows"]),
                             "seed": seed, "seconds": round(train_seconds, 1)},
            },
        )
    finish(output_dir)  # the run is complete: a rerun starts afresh
    return dict(model=model, table=table, table_paths=table_paths, plot=plot, train_seconds=train_seconds,
                forecast=forecast, export=meta, export_dir=None if no_export else export_dir)


@job(evaluation_only=("horizon", "warmup"))
def forecast_sf_temps(
    horizon: int = 48,
    warmup: int = 168,
    period: int = 24,
    test_fraction: float = 0.2,
    units=(64, 64),
    windows=(100, 300),
    long_fraction: float = 0.2,
    steps: int = 3000,
    batch_size: int = 64,
    learning_rate: float = 3e-3,
    noise_std: float = 0.1,
    noise_ramp: int = 50,
    seed: int = 0,
    output_dir: str = "runs/sf_temps",
    verbose: int = 1,
    strategy: str = "default",
    restart: bool = False,
) -> dict:
    """Forecast hourly San Francisco temperatures ``horizon`` hours ahead, vs seasonal naive.

    The series (:func:`periodic_keras.data.real.sf_temps`) is split in time: the first
    ``1 - test_fraction`` trains the generator (standardised with the training mean and
    standard deviation), the rest is for testing. From every midnight of the test part
    the model warms up on the previous ``warmup`` hours and generates ``horizon`` hours
    closed-loop; the seasonal-naive forecast repeats the last ``period`` hours.

    Outputs in ``output_dir``: ``results.csv``/``.md`` (MAE/RMSE in °F per method) and
    ``forecasts.png`` (three test origins).

    Example (a tiny run)::

        out = forecast_sf_temps(units=(8,), windows=(50,), steps=20, output_dir="/tmp/sf")
    """
    check_positive_int(horizon=horizon, warmup=warmup, period=period)
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction}")
    if warmup < period:
        raise ValueError(f"warmup ({warmup}) must cover at least one period ({period}) for the baseline")

    from periodic_keras.data import real

    series = real.sf_temps()
    split = int(round(len(series) * (1.0 - test_fraction)))
    options = _training_options(units, windows, long_fraction, steps, batch_size, learning_rate, noise_std,
                                noise_ramp, length=split)
    strat, output_dir, _, _ = start_strategy(strategy, output_dir, None, True)  # no closed-loop phase here

    from periodic_keras import classical
    from periodic_keras.jobs import evaluate, results
    from periodic_keras.models import generate

    values = series.to_numpy(np.float64)
    mean, std = values[:split].mean(), values[:split].std()
    z = ((values - mean) / std).astype(np.float32)
    model, train_seconds = _fit_generator(z[None, :split], **options, seed=seed,
                                          run_dir=phase(output_dir, "train"), verbose=verbose, strategy=strat)
    hours = series.index.hour.to_numpy()
    origins = [o for o in range(split + warmup, len(values) - horizon + 1) if hours[o] == 0]
    if not origins:
        raise ValueError("no forecast origin fits in the test part; lower warmup or horizon")
    history = np.stack([values[o - warmup:o] for o in origins])
    truth = np.stack([values[o:o + horizon] for o in origins])
    lstm = generate(model, np.stack([z[o - warmup:o] for o in origins]), horizon) * std + mean
    table = evaluate.forecast_table({"lstm": lstm, "seasonal_naive": classical.seasonal_naive(history, period, horizon),
                                     "last_value": np.repeat(history[:, -1:], horizon, axis=1)}, truth)
    table_paths = results.write_table(table, os.path.join(output_dir, "results"))
    pick = np.linspace(0, len(origins) - 1, 3).astype(int)
    plot = results.plot_generation(history[pick], lstm[pick], truth[pick], os.path.join(output_dir, "forecasts.png"),
                                   titles=[f"from {series.index[origins[i]]:%Y-%m-%d %H:%M}" for i in pick],
                                   start=-warmup, xlabel="hours from the forecast origin", ylabel="°F")
    finish(output_dir)  # the run is complete: a rerun starts afresh
    return dict(model=model, table=table, table_paths=table_paths, plot=plot, train_seconds=train_seconds,
                forecast=lstm, truth=truth, export=None, export_dir=None)


def generator_summary(result: dict) -> str:
    """Human-readable summary of :func:`train_generator` or :func:`forecast_sf_temps`."""
    return summary(result, lambda k, v, meta: f"{k} max|diff| {v['parity_max_abs_diff']:.2g} over "
                                              f"{meta['parity']['generated_steps']} steps, "
                                              f"{v['ms_per_step']:.3f} ms/step")

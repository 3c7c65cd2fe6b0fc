"""The clock job: learn HH:MM:SS from int64 seconds since the epoch, next to the naive baselines.

:func:`train_clock` trains :func:`periodic_keras.models.clock_model` on a stream of
random int64 timestamps over ``±years``, the naive SIREN and GELU MLP on the same
timestamps as float32 seconds, and checks every model exhaustively (each second of
a day) and on ``n_test`` held-out random timestamps against integer arithmetic. The
clock model is exported (int64 input, builtin-ops TFLite) and the exported file is
checked again on the same held-out timestamps through :mod:`periodic_keras.edge`.
"""

from __future__ import annotations

import os
import time

import numpy as np

from periodic_keras.jobs.common import finish, job, phase, start_strategy, summary
from periodic_keras.signals import SECONDS_PER_YEAR, check_positive_int, clock_times

__all__ = ["NAIVE_CLOCKS", "clock_summary", "train_clock"]

#: ``periodic_keras.models.NAIVE_CLOCKS``, repeated so that checking a command line loads no
#: Keras; a test keeps the two equal.
NAIVE_CLOCKS = ("siren", "gelu_mlp")
#: Timestamps every results table shows: -1 s, the epoch, and a value float32 cannot hold.
SPOT_CHECKS = (-1, 0, 3_800_000_007)


def _shown(digits) -> str:
    return ", ".join(f"{h:02d}:{m:02d}:{s:02d}" for h, m, s in np.asarray(digits).reshape(-1, 3))


def _train(build, data, steps, learning_rate, run_dir, verbose, strategy):
    """Build and compile under ``strategy``, train; return (a model with plain variables, seconds)."""
    from periodic_keras import training

    with strategy.scope():
        model = build()
        model.compile(optimizer=training.adam_cosine(steps, learning_rate),
                      loss={k: "sparse_categorical_crossentropy" for k in ("hh", "mm", "ss")})
    start = time.time()
    training.fit(model, data, steps, run_dir=run_dir, verbose=verbose, strategy=strategy)
    seconds = time.time() - start
    return (training.local_model(model) if training.is_multi_worker(strategy) else model), seconds


@job(evaluation_only=("n_test",))
def train_clock(
    hidden: int = 128,
    harmonics: int = 1,
    steps: int = 3400,
    batch_size: int = 1024,
    learning_rate: float = 1e-2,
    years: float = 120.0,
    n_test: int = 1_000_000,
    naive: tuple = ("siren", "gelu_mlp"),
    naive_steps: int = 3400,
    naive_learning_rate: float = 1e-3,
    seed: int = 0,
    output_dir: str = "runs/clock",
    export_dir: str | None = "exported/clock",
    no_export: bool = False,
    verbose: int = 1,
    strategy: str = "default",
    restart: bool = False,
) -> dict:
    """Train the clock model and the naive baselines; table, plot, export.

    Every model trains on the same endless stream of random timestamps over
    ``±years`` (:func:`periodic_keras.data.clock_dataset`, batch ``batch_size``, Adam
    with cosine decay from ``learning_rate``; ``naive_learning_rate`` for the baselines,
    which diverge at the clock model's rate). Evaluation: all 86 400 seconds of a day,
    ``n_test`` held-out random timestamps over ``±years``, and :data:`SPOT_CHECKS`.

    Outputs in ``output_dir``: ``results.csv``/``.md``, ``clock.png`` (shown vs true
    time of day); the clock model, read out as int32 HH, MM, SS, in ``export_dir``
    (its TFLite model is then checked on the ``n_test`` timestamps too). ``strategy``: see
    :func:`periodic_keras.jobs.train_frequency`, as ``output_dir``, ``export_dir`` and ``restart`` are.

    Example (a tiny run)::

        out = train_clock(steps=20, naive_steps=5, n_test=1000, output_dir="/tmp/c", no_export=True)
    """
    check_positive_int(hidden=hidden, harmonics=harmonics, steps=steps, batch_size=batch_size, n_test=n_test,
                       naive_steps=naive_steps)
    for name, value in (("learning_rate", learning_rate), ("naive_learning_rate", naive_learning_rate)):
        if not value > 0:
            raise ValueError(f"{name} must be positive, got {value}")
    unknown = sorted(set(naive) - set(NAIVE_CLOCKS))
    if unknown:
        raise ValueError(f"unknown naive baseline(s) {unknown}: expected some of {list(NAIVE_CLOCKS)}")
    clock_times(1, years)  # checks years before TensorFlow loads
    strat, output_dir, export_dir, no_export = start_strategy(strategy, output_dir, export_dir, no_export)
    from periodic_keras.data import clock_arrays, clock_dataset

    t_test, _ = clock_arrays(n_test, "test", years, seed)  # checks years

    import pandas as pd
    import tensorflow as tf

    from periodic_keras import training
    from periodic_keras.jobs import results
    from periodic_keras.jobs.evaluate import clock_exact_rates as exact_rates
    from periodic_keras.models import clock_model, clock_reader, naive_clock_model

    day = np.arange(86_400, dtype=np.int64)[:, None]
    spots = np.array(SPOT_CHECKS, dtype=np.int64)[:, None]
    rows, shown, total = [], {}, 0.0

    def evaluate(name, read, inputs, seconds):
        pred_test = read(t_test)
        shown[name] = pred_test
        rows.append({"model": name, "input": inputs, "exact_day": exact_rates(read(day), day)["exact"],
                     **{f"{k}_test": v for k, v in exact_rates(pred_test, t_test).items()},
                     "shows_" + "_".join(str(s) for s in SPOT_CHECKS): _shown(read(spots)),
                     "train_s": None if seconds is None else round(seconds, 1)})

    training.set_seed(seed)
    model, seconds = _train(lambda: clock_model(hidden, harmonics), clock_dataset("train", batch_size, years, seed=seed),
                            steps, learning_rate, phase(output_dir, "clock"), verbose, strat)
    total += seconds
    reader = clock_reader(model)
    evaluate("clock_model", lambda t: reader.predict(t, batch_size=8192, verbose=0), "int64 seconds", seconds)

    for kind in naive:
        training.set_seed(seed)
        as_float = clock_dataset("train", batch_size, years, seed=seed).map(lambda t, y: (tf.cast(t, tf.float32), y))
        baseline, seconds = _train(lambda k=kind: naive_clock_model(k, scale=years * SECONDS_PER_YEAR), as_float,
                                   naive_steps, naive_learning_rate, phase(output_dir, f"naive_{kind}"),
                                   verbose, strat)
        total += seconds
        naive_reader = clock_reader(baseline)
        evaluate(f"naive {kind}", lambda t, r=naive_reader: r.predict(t.astype(np.float32), batch_size=8192, verbose=0),
                 "float32 seconds", seconds)

    meta = None
    if not no_export:
        from periodic_keras import export

        first = rows[0]
        def exactness(runner, variant, runtime):  # each exported variant, in each runtime that runs it
            evaluate(f"clock_model {'TFLM' if runtime == 'tflm' else 'TFLite'} {variant}", runner.predict,
                     "int64 seconds", None)
            return {"exact_day": rows[-1]["exact_day"], "exact_test": rows[-1]["exact_test"], "n_test": n_test}

        # The exported reader takes int32 (days, seconds of day), which TFLM runs; the edge runtime splits t.
        meta = export.export_model(
            clock_reader(model, split_days=True), export_dir, "clock", t_test[:500], input_encoding="days_seconds",
            variants=("float32", "float16", "int8"), evaluate=exactness, metadata={
                "description": "digital clock: int64 seconds since 1970-01-01T00:00:00Z -> int32 [HH, MM, SS] (UTC); "
                               "the model takes them as int32 days since the epoch and seconds of the day",
                "output": {"columns": ["hh", "mm", "ss"]},
                "data": f"random int64 timestamps uniform over ±{years} years",
                "int8_note": "no int8 variant: the exact integer arithmetic on the seconds cannot be calibrated "
                             "(not_converted), and an int8 or int16 tensor cannot hold the 86 400 seconds of a day "
                             "exactly; the float32 variant runs in TFLM, exact",
                "evaluation": {"exact_day": first["exact_day"], "exact_test": first["exact_test"], "n_test": n_test},
                "training": {"hidden": hidden, "harmonics": harmonics, "steps": steps, "batch_size": batch_size,
                             "seed": seed, "seconds": rows[0]["train_s"]},
            })
    table = pd.DataFrame(rows)
    table_paths = results.write_table(table, os.path.join(output_dir, "results"))
    truth = t_test[:2000, 0] % 86_400 / 3600.0
    panels = {name: (truth, (d[:2000].astype(np.int64) @ np.array([3600, 60, 1])) / 3600.0) for name, d in shown.items()
              if "TFLite" not in name and "TFLM" not in name}
    plot = results.plot_predictions(panels, os.path.join(output_dir, "clock.png"), xlabel="true time of day (h)",
                                    ylabel="time of day shown (h)")
    finish(output_dir)  # the run is complete: a rerun starts afresh
    return dict(model=model, table=table, table_paths=table_paths, plot=plot, train_seconds=total, export=meta,
                export_dir=None if no_export else export_dir)


def clock_summary(result: dict) -> str:
    """Human-readable summary of :func:`train_clock`."""
    return summary(result, lambda k, v, meta: f"{k} parity max|diff| {v['parity_max_abs_diff']:.2g}, "
                                              f"{v['latency_ms']:.3f} ms/timestamp")

"""Train a task's default model with several seeds and report the spread of its key figures.

- ``freq``: each seed is a full :func:`~periodic_keras.jobs.train_frequency` run (no export); key
  figures are the noiseless MAE, RMSE/CRLB from 40 to 0 dB, and the RMSE against the ML
  estimator's on the same windows at -3, -6 and -10 dB, next to the bound there (the MMSE
  estimator told the SNR).
- ``generator``: each seed is a full :func:`~periodic_keras.jobs.train_generator` run (no
  export); key figures are the teacher-forced test MSE and the free-running MSE over 100 and
  1000 steps.
- ``clock``: each seed is a :func:`~periodic_keras.jobs.train_clock` run without the naive
  baselines (no export); key figures are the exact rates on every second of a day and on 10^6
  held-out timestamps.
"""

from __future__ import annotations

import os

from periodic_keras import runs
from periodic_keras.jobs.clock import train_clock
from periodic_keras.jobs.frequency import train_frequency
from periodic_keras.jobs.generator import train_generator
from periodic_keras.signals import check_nonnegative_int, check_positive_int

__all__ = ["SEED_TASKS", "benchmark_seeds", "seeds_summary"]


def _freq_row(out) -> dict:
    import numpy as np

    table = out["table"]
    lstm = table[table.estimator == "lstm"].set_index("snr_db")
    ml = table[table.estimator == "ml"].set_index("snr_db")
    row = {"mae_clean": lstm.loc[np.inf, "mae"]}
    for snr in (40.0, 30.0, 20.0, 10.0, 5.0, 0.0):
        if snr in lstm.index:
            row[f"rmse/crlb_{snr:g}dB"] = lstm.loc[snr, "rmse_over_crlb"]
    mmse = table[table.estimator == "mmse_known_snr"].set_index("snr_db")
    for snr in (-3.0, -6.0, -10.0):  # at and below the ML estimator's threshold: against it, on the same windows
        if snr in lstm.index:
            row[f"rmse/ml_{snr:g}dB"] = lstm.loc[snr, "rmse"] / ml.loc[snr, "rmse"]
            row[f"mmse/ml_{snr:g}dB"] = mmse.loc[snr, "rmse"] / ml.loc[snr, "rmse"]  # the bound on those windows
    return row


def _generator_row(out) -> dict:
    overall = out["table"].set_index("series").loc["all"]
    return {k: overall[k] for k in overall.index}


def _clock_row(out) -> dict:
    model = out["table"].set_index("model").loc["clock_model"]
    return {k: model[k] for k in ("exact_day", "exact_test", "errors_test")}


#: task -> (job, key figures of one run, extra job arguments)
SEED_TASKS = {"freq": (train_frequency, _freq_row, {}), "generator": (train_generator, _generator_row, {}),
              "clock": (train_clock, _clock_row, {"naive": ()})}


def benchmark_seeds(task: str = "freq", seeds=(0, 1, 2, 3, 4), steps: int | None = None, n_test: int | None = None,
                    output_dir: str | None = None, verbose: int = 1) -> dict:
    """Run ``task``'s default job once per seed (no export) into ``output_dir/seed<k>``; write
    ``seeds.csv``/``.md`` (one row of key figures per seed) and ``spread.csv``/``.md`` (min,
    median, max) to ``output_dir`` (default ``runs/<task>-seeds``).

    Returns a dict with ``seeds``, ``spread`` (DataFrames), ``table_paths`` and ``output_dir``.

    Example::

        out = benchmark_seeds("clock", seeds=[3], steps=20, output_dir="/tmp/clock-seeds")
        print(out["spread"])
    """
    if task not in SEED_TASKS:
        raise ValueError(f"unknown task {task!r}: expected one of {sorted(SEED_TASKS)}")
    if isinstance(seeds, (str, bytes)) or not len(seeds):
        raise ValueError(f"seeds must be a non-empty list of integers, got {seeds!r}")
    for seed in seeds:
        check_nonnegative_int(seed=seed)
    for name, value in (("steps", steps), ("n_test", n_test)):
        if value is not None:
            check_positive_int(**{name: value})
    job, key_figures, extra = SEED_TASKS[task]
    output_dir = output_dir or os.path.join("runs", f"{task}-seeds")
    runs.claim_output_dir(output_dir)  # its tables go there, beside one folder per seed

    import pandas as pd

    from periodic_keras.jobs import results

    rows = []
    for seed in seeds:
        kwargs = dict(seed=seed, no_export=True, verbose=0, output_dir=os.path.join(output_dir, f"seed{seed}"), **extra)
        kwargs.update({k: v for k, v in (("steps", steps), ("n_test", n_test)) if v is not None})
        out = job(**kwargs)
        rows.append({"seed": seed, "train_s": round(out["train_seconds"], 1), **key_figures(out)})
        if verbose:
            print(results.to_markdown(pd.DataFrame(rows[-1:])), flush=True)
    table = pd.DataFrame(rows)
    spread = table.drop(columns="seed").agg(["min", "median", "max"]).reset_index(names="stat")
    paths = results.write_table(table, os.path.join(output_dir, "seeds"))
    paths += results.write_table(spread, os.path.join(output_dir, "spread"))
    return dict(seeds=table, spread=spread, table_paths=paths, output_dir=output_dir)


def seeds_summary(result: dict) -> str:
    """The per-seed table and the spread of :func:`benchmark_seeds`, as markdown."""
    from periodic_keras.jobs import results

    return "\n\n".join([results.to_markdown(result["seeds"]), results.to_markdown(result["spread"]),
                        f"tables: {', '.join(result['table_paths'])}"])

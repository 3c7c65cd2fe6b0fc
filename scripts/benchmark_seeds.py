#!/usr/bin/env python
"""Train a task's default model with several seeds and report the spread.

--task freq: each seed is a full `train_freq.py` run (no export); key figures are the
noiseless MAE, RMSE/CRLB from 40 to 0 dB, and the RMSE against the ML estimator's on the
same windows at -3, -6 and -10 dB, next to the bound there (the MMSE estimator told the SNR).
--task generator: each seed is a full `train_generator.py` run (no export); key figures
are the teacher-forced test MSE and the free-running MSE over 100 and 1000 steps.
--task clock: each seed is a `train_clock.py` run without the naive baselines (no export);
key figures are the exact rates on every second of a day and on 10^6 held-out timestamps.

Writes seeds.csv/.md (one row per seed) and spread.csv/.md (min, median, max) to
--output-dir (default runs/<task>-seeds).
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from periodic_keras import quiet_tensorflow  # noqa: E402

quiet_tensorflow()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from periodic_keras import jobs, results, runs  # noqa: E402


def freq_row(out) -> dict:
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


def generator_row(out) -> dict:
    overall = out["table"].set_index("series").loc["all"]
    return {k: overall[k] for k in overall.index}


def clock_row(out) -> dict:
    model = out["table"].set_index("model").loc["clock_model"]
    return {k: model[k] for k in ("exact_day", "exact_test", "errors_test")}


#: task -> (job, key figures of one run, extra job arguments)
TASKS = {"freq": (jobs.train_frequency, freq_row, {}), "generator": (jobs.train_generator, generator_row, {}),
         "clock": (jobs.train_clock, clock_row, {"naive": ()})}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--task", choices=sorted(TASKS), default="freq", help="which default run to repeat")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4], help="seeds to train")
    p.add_argument("--steps", type=int, default=None, help="optimizer steps per run (default: the job's)")
    p.add_argument("--n-test", type=int, default=None, help="held-out windows per SNR (default: the job's)")
    p.add_argument("--output-dir", default=None, help="where the tables go (default: runs/<task>-seeds)")
    args = p.parse_args(argv)
    job, key_figures, extra = TASKS[args.task]
    output_dir = args.output_dir or os.path.join("runs", f"{args.task}-seeds")
    if jobs.run_cli(runs.claim_output_dir, {"output_dir": output_dir}) is None:  # its tables go there too
        return 2
    rows = []
    for seed in args.seeds:
        kwargs = dict(seed=seed, no_export=True, verbose=0, output_dir=os.path.join(output_dir, f"seed{seed}"), **extra)
        kwargs.update({k: v for k, v in (("steps", args.steps), ("n_test", args.n_test)) if v is not None})
        out = jobs.run_cli(job, kwargs)
        if out is None:
            return 2
        row = {"seed": seed, "train_s": round(out["train_seconds"], 1), **key_figures(out)}
        rows.append(row)
        print(results.to_markdown(pd.DataFrame([row])), flush=True)
    seeds = pd.DataFrame(rows)
    spread = seeds.drop(columns="seed").agg(["min", "median", "max"]).reset_index(names="stat")
    results.write_table(seeds, os.path.join(output_dir, "seeds"))
    results.write_table(spread, os.path.join(output_dir, "spread"))
    print(results.to_markdown(seeds), results.to_markdown(spread), sep="\n\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

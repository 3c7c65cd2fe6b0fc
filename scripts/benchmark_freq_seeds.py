#!/usr/bin/env python
"""Train the default frequency regressor with several seeds and report the spread.

Each seed is a full `train_freq.py` run (same defaults, no export). Writes
seeds.csv/.md (one row per seed: key figures) and spread.csv/.md (min, median, max).
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

from periodic_keras import jobs, results  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4], help="seeds to train")
    p.add_argument("--steps", type=int, default=4000, help="optimizer steps per run")
    p.add_argument("--n-test", type=int, default=2000, help="held-out windows per SNR")
    p.add_argument("--output-dir", default="runs/freq-seeds", help="where the tables go")
    args = p.parse_args(argv)
    rows = []
    for seed in args.seeds:
        out = jobs.run_cli(jobs.train_frequency, dict(
            seed=seed, steps=args.steps, n_test=args.n_test, no_export=True, verbose=0,
            output_dir=os.path.join(args.output_dir, f"seed{seed}")))
        if out is None:
            return 2
        lstm = out["table"][out["table"].estimator == "lstm"].set_index("snr_db")
        row = {"seed": seed, "train_s": round(out["train_seconds"], 1), "mae_clean": lstm.loc[np.inf, "mae"]}
        for snr in (20.0, 10.0, 0.0):
            row[f"rmse_{snr:g}dB"] = lstm.loc[snr, "rmse"]
            row[f"rmse/crlb_{snr:g}dB"] = lstm.loc[snr, "rmse_over_crlb"]
        rows.append(row)
        print(results.to_markdown(pd.DataFrame([row])), flush=True)
    seeds = pd.DataFrame(rows)
    spread = seeds.drop(columns="seed").agg(["min", "median", "max"]).reset_index(names="stat")
    results.write_table(seeds, os.path.join(args.output_dir, "seeds"))
    results.write_table(spread, os.path.join(args.output_dir, "spread"))
    print(results.to_markdown(seeds), results.to_markdown(spread), sep="\n\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

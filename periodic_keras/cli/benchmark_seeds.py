"""Train a task's default model with several seeds and report the spread.

--task freq: each seed is a full `train_freq` run (no export); key figures are the
noiseless MAE, RMSE/CRLB from 40 to 0 dB, and the RMSE against the ML estimator's on the
same windows at -3, -6 and -10 dB, next to the bound there (the MMSE estimator told the SNR).
--task generator: each seed is a full `train_generator` run (no export); key figures
are the teacher-forced test MSE and the free-running MSE over 100 and 1000 steps.
--task clock: each seed is a `train_clock` run without the naive baselines (no export);
key figures are the exact rates on every second of a day and on 10^6 held-out timestamps.

Writes seeds.csv/.md (one row per seed) and spread.csv/.md (min, median, max) to
--output-dir (default runs/<task>-seeds).
"""

from __future__ import annotations

import argparse

from periodic_keras import quiet_tensorflow

quiet_tensorflow()

from periodic_keras import jobs


def main(argv=None, prog=None) -> int:
    p = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--task", choices=sorted(jobs.SEED_TASKS), default="freq", help="which default run to repeat")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4], help="seeds to train")
    p.add_argument("--steps", type=int, default=None, help="optimizer steps per run (default: the job's)")
    p.add_argument("--n-test", type=int, default=None, help="held-out windows per SNR (default: the job's)")
    p.add_argument("--output-dir", default=None, help="where the tables go (default: runs/<task>-seeds)")
    args = p.parse_args(argv)
    return jobs.run_script(jobs.benchmark_seeds, vars(args), jobs.seeds_summary)

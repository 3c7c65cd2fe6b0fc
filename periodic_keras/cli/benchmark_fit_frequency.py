"""Frequency-fitting benchmark: periodic_keras.classical.fitting against the issue's targets, and
gradient descent for comparison.

Cases: (1) omega = 31 on --n-points uniform in [-1000, 1000], noiseless: relative error
and median time of one fit; (2) the same at --snr-db over --trials Monte-Carlo trials:
RMSE over the Cramer-Rao bound; (3) two-tone sums (3.0 + 3.7, and a pair 1.5 resolution
widths apart) with small noise; (4) Adam on sin(omega x) with the single parameter omega
from --gd-starts random starts in [1, 40] and from 31.0001; (5) the daily period of a
jittered hourly year of int64 timestamps: LearnedPeriodicEncoding.from_data, then a small
Keras model trained for --epochs, next to a start 2 % off. Writes results.csv/.md and
fit_frequency.png to --output-dir. Timings depend on the machine's load and threads
(OMP_NUM_THREADS etc.).
"""

from __future__ import annotations

import argparse
import os

from periodic_keras import quiet_tensorflow

quiet_tensorflow()

from periodic_keras import jobs


def parse_args(argv=None, prog=None):
    p = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--trials", type=int, default=200, help="Monte-Carlo trials of cases 2 and 3")
    p.add_argument("--n-points", type=int, default=1000, help="samples of cases 1, 2 and 4")
    p.add_argument("--half-span", type=float, default=1000.0, help="x uniform in [-half_span, half_span]")
    p.add_argument("--snr-db", type=float, default=0.0, help="SNR of case 2, A^2 / (2 sigma^2) in dB")
    p.add_argument("--repeats", type=int, default=5, help="timed fits of case 1 (median reported)")
    p.add_argument("--draws", type=int, default=100, help="fresh draws fitted with default arguments (case 1)")
    p.add_argument("--gd-starts", type=int, default=8, help="random starts of gradient descent (case 4)")
    p.add_argument("--gd-steps", type=int, default=300, help="Adam steps per start (case 4)")
    p.add_argument("--gd-learning-rate", type=float, default=1e-2, help="Adam learning rate (case 4)")
    p.add_argument("--epochs", type=int, default=6, help="Keras training epochs (case 5)")
    p.add_argument("--seed", type=int, default=0, help="seed for all data")
    p.add_argument("--output-dir", default=os.path.join("runs", "fit_frequency"), help="results table and plot")
    p.add_argument("--quick", action="store_true", help="smoke run: 10 trials, 2 timed fits, 10 draws, 1 epoch")
    p.add_argument("--verbose", type=int, choices=(0, 1), default=1, help="1: one line per measured target")
    args = p.parse_args(argv)
    if args.quick:
        args.trials, args.repeats, args.epochs = min(args.trials, 10), min(args.repeats, 2), min(args.epochs, 1)
        args.draws = min(args.draws, 10)
    return args


def main(argv=None, prog=None) -> int:
    args = parse_args(argv, prog)
    kwargs = {k: v for k, v in vars(args).items() if k != "quick"}
    return jobs.run_script(jobs.benchmark_fit_frequency, kwargs, jobs.fit_frequency_summary)


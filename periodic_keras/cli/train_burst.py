"""Latching burst detector: the state carried between batches (naive) next to the state
reset for every sequence (the fix).

Input: zeros with one burst sin((j - start) pi / 10) of 10 steps, start uniform in
[0, 50); target per step: 1 until the burst has ended, then 0. Trains
- the naive setup: stateful SimpleRNN and LSTM whose state is carried over from the
  previous batch (in training and testing);
- the fix: an LSTM whose state starts at zero for every sequence, on fixed bursts and
  on bursts of random length and amplitude;
counts per-step errors on --n-test held-out sequences of each --test-lengths, writes
results.csv/.md, burst.png and diagnosis.txt (periodic_keras.classical.diagnose on windows of
--window steps) to --output-dir, and exports the fix as a streaming step model to
--export-dir.
"""

from __future__ import annotations

import argparse

from periodic_keras import quiet_tensorflow

quiet_tensorflow()

from periodic_keras import jobs


def parse_args(argv=None, prog=None):
    p = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--units", type=int, default=16, help="recurrent units")
    p.add_argument("--length", type=int, default=130, help="steps per training sequence")
    p.add_argument("--test-lengths", type=int, nargs="+", default=[130, 1300], help="held-out sequence lengths")
    p.add_argument("--random-length", type=int, nargs=2, default=[5, 20],
                   help="random variant: burst length range (inclusive)")
    p.add_argument("--random-amplitude", type=float, nargs=2, default=[0.2, 2.0],
                   help="random variant: burst amplitude range")
    p.add_argument("--n-train", type=int, default=8192, help="training sequences")
    p.add_argument("--n-test", type=int, default=1000, help="held-out sequences per length")
    p.add_argument("--steps", type=int, default=1500, help="fix: optimizer steps per model")
    p.add_argument("--naive-steps", type=int, default=1500, help="naive: optimizer steps per model")
    p.add_argument("--batch-size", type=int, default=32, help="sequences per batch")
    p.add_argument("--learning-rate", type=float, default=1e-2, help="peak learning rate (cosine decay)")
    p.add_argument("--window", type=int, default=16, help="window length for the diagnosis")
    jobs.add_run_arguments(p, "burst")
    args = p.parse_args(argv)
    if args.quick:
        args.steps, args.naive_steps, args.n_train, args.n_test = min(args.steps, 30), min(args.naive_steps, 30), 256, 16
    return jobs.resolve_run_arguments(args, "burst")


def main(argv=None, prog=None) -> int:
    args = parse_args(argv, prog)
    kwargs = {k: v for k, v in vars(args).items() if k != "quick"}
    return jobs.run_script(jobs.train_burst, kwargs, jobs.memory_summary)


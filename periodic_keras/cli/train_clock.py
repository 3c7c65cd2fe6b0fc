"""Clock: learn what a digital clock shows (HH:MM:SS, UTC) from int64 seconds since the epoch.

Trains periodic_keras.models.clock_model (exact int64 periodic encoding, learned
heads) and, for comparison, the naive setups people try first (a SIREN and a GELU MLP
on float32 seconds) on random timestamps over +-120 years; checks each on every
second of a day and on --n-test held-out timestamps against integer arithmetic;
writes results.csv/.md and clock.png to --output-dir; exports the clock model
(int64 input, builtin-ops TFLite) to --export-dir and checks the TFLite file the same way.
"""

from __future__ import annotations

import argparse

from periodic_keras import quiet_tensorflow

quiet_tensorflow()

from periodic_keras import jobs


def parse_args(argv=None, prog=None):
    p = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--hidden", type=int, default=128, help="ReLU units per head")
    p.add_argument("--harmonics", type=int, default=1, help="sin/cos harmonics per circle")
    p.add_argument("--steps", type=int, default=3400, help="optimizer steps")
    p.add_argument("--batch-size", type=int, default=1024, help="timestamps per batch")
    p.add_argument("--learning-rate", type=float, default=1e-2, help="peak learning rate (cosine decay)")
    p.add_argument("--years", type=float, default=120.0, help="timestamps uniform over +- this many years")
    p.add_argument("--n-test", type=int, default=1_000_000, help="held-out random timestamps")
    p.add_argument("--naive", nargs="*", default=["siren", "gelu_mlp"], help="naive baselines to train (none: skip)")
    p.add_argument("--naive-steps", type=int, default=3400, help="optimizer steps per naive baseline")
    p.add_argument("--naive-learning-rate", type=float, default=1e-3, help="peak learning rate of the baselines")
    jobs.add_run_arguments(p, "clock")
    args = p.parse_args(argv)
    if args.quick:
        args.steps, args.naive_steps, args.n_test = min(args.steps, 40), min(args.naive_steps, 10), min(args.n_test, 2000)
    return jobs.resolve_run_arguments(args, "clock")


def main(argv=None, prog=None) -> int:
    args = parse_args(argv, prog)
    kwargs = {k: v for k, v in vars(args).items() if k != "quick"}
    kwargs["naive"] = tuple(args.naive)
    return jobs.run_script(jobs.train_clock, kwargs, jobs.clock_summary)


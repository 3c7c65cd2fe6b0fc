"""Frequency divider: learn sin(t) -> sin(t/2), naive windowed setup next to the fix.

Prints the diagnosis of the windowed data (periodic_keras.classical.diagnose: near-identical
input windows with opposite targets, the best MSE a memoryless model can reach, and
the context that removes the conflict), then trains
- the naive setup: SimpleRNN and LSTM on shuffled windows of --naive-window steps, each
  from a zero state (it predicts zero: MSE ~0.5);
- the fix: a stateful LSTM on consecutive windows of --window steps, the state carried
  within a sequence from t = 0 and reset between sequences;
tests both on held-out sequences --test-factor times longer than the training ones,
writes results.csv/.md, divider.png and diagnosis.txt to --output-dir, and exports the
fix as a streaming step model to --export-dir.
"""

from __future__ import annotations

import argparse

from periodic_keras import quiet_tensorflow

quiet_tensorflow()

from periodic_keras import jobs


def parse_args(argv=None, prog=None):
    p = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--units", type=int, default=32, help="recurrent units")
    p.add_argument("--period", type=float, nargs="+", default=[40.0, 80.0],
                   help="input period in steps: one value, or a range to draw one per sequence")
    p.add_argument("--length", type=int, default=512, help="steps per training sequence")
    p.add_argument("--window", type=int, default=256, help="fix: window of truncated back-propagation")
    p.add_argument("--n-train", type=int, default=4096, help="training sequences")
    p.add_argument("--n-test", type=int, default=64, help="held-out sequences")
    p.add_argument("--test-factor", type=int, default=10, help="held-out sequences are this many times longer")
    p.add_argument("--steps", type=int, default=3000, help="fix: optimizer steps")
    p.add_argument("--batch-size", type=int, default=32, help="fix: sequences per batch")
    p.add_argument("--learning-rate", type=float, default=1e-2, help="peak learning rate (cosine decay)")
    p.add_argument("--naive-window", type=int, default=16, help="naive: window length")
    p.add_argument("--naive-steps", type=int, default=1000, help="naive: optimizer steps per model")
    jobs.add_run_arguments(p, "divider")
    args = p.parse_args(argv)
    if len(args.period) > 2:
        p.error(f"--period takes one value or a range of two, got {len(args.period)}")
    if args.quick:
        args.steps, args.naive_steps = min(args.steps, 40), min(args.naive_steps, 20)
        args.length, args.window, args.n_train, args.n_test = 128, 64, 128, 4
    return jobs.resolve_run_arguments(args, "divider")


def main(argv=None, prog=None) -> int:
    args = parse_args(argv, prog)
    kwargs = {k: v for k, v in vars(args).items() if k != "quick"}
    kwargs["period"] = args.period[0] if len(args.period) == 1 else tuple(args.period)
    return jobs.run_script(jobs.train_divider, kwargs, jobs.memory_summary)


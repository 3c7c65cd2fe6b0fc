"""Extrapolation study: small MLPs with ReLU, tanh, Snake, Sine (SIREN), Fourier
features and FAN layers, trained on one interval of a periodic function and tested inside and beyond it.

For every --functions (sin: sin(x); x_plus_sin: x + sin(x); two_sines: sin(x) +
0.5 sin(2.5 x)) and every --activations (relu, tanh, snake, sine, fourier, fan): --n-train
points drawn uniformly from --train-interval, the input scaled to [-1, 1] by that
interval for every model, --depth hidden layers of --width units, --steps Adam steps
with cosine decay. MSE on evenly spaced held-out points inside the interval and on the
--extrapolation interval widths beyond each side, next to two baselines (training mean,
least-squares line). Writes results.csv/.md and activations.png to --output-dir.
"""

from __future__ import annotations

import argparse
import math
import os

from periodic_keras import quiet_tensorflow

quiet_tensorflow()

from periodic_keras import jobs


def parse_args(argv=None, prog=None):
    p = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--functions", nargs="+", default=list(jobs.BENCHMARK_FUNCTIONS),
                   help=f"target functions, of {list(jobs.BENCHMARK_FUNCTIONS)}")
    p.add_argument("--activations", nargs="+", default=list(jobs.BENCHMARK_ACTIVATIONS),
                   help=f"hidden-layer kinds, of {list(jobs.BENCHMARK_ACTIVATIONS)}")
    p.add_argument("--train-interval", type=float, nargs=2, default=[-2 * math.pi, 2 * math.pi],
                   metavar=("LOW", "HIGH"), help="interval of x the models are trained on")
    p.add_argument("--extrapolation", type=float, default=1.0,
                   help="width of the test interval beyond each side, in training-interval widths")
    p.add_argument("--n-train", type=int, default=512, help="training points")
    p.add_argument("--n-eval", type=int, default=1000, help="evenly spaced test points per interval")
    p.add_argument("--width", type=int, default=64, help="units per hidden layer")
    p.add_argument("--depth", type=int, default=3, help="hidden layers")
    p.add_argument("--steps", type=int, default=3000, help="optimizer steps per model")
    p.add_argument("--batch-size", type=int, default=128, help="points per batch")
    p.add_argument("--learning-rate", type=float, default=3e-3, help="peak learning rate (cosine decay)")
    p.add_argument("--snake-alpha", type=float, default=5.0, help="Snake: initial a (learnable)")
    p.add_argument("--sine-omega0", type=float, default=30.0, help="SIREN: omega0")
    p.add_argument("--fourier-scale", type=float, default=1.0,
                   help="Fourier features: std of the random frequencies, cycles per unit of scaled input")
    p.add_argument("--seed", type=int, default=0, help="seed for data and weights")
    p.add_argument("--output-dir", default=os.path.join("runs", "activations"), help="results table and plot")
    p.add_argument("--quick", action="store_true", help="smoke run: 60 steps, 200 test points per interval")
    p.add_argument("--verbose", type=int, choices=(0, 1), default=1, help="1: one line per trained model")
    args = p.parse_args(argv)
    if args.quick:
        args.steps, args.n_eval = min(args.steps, 60), min(args.n_eval, 200)
    return args


def main(argv=None, prog=None) -> int:
    args = parse_args(argv, prog)
    kwargs = {k: v for k, v in vars(args).items() if k != "quick"}
    return jobs.run_script(jobs.benchmark_activations, kwargs, jobs.activations_summary)


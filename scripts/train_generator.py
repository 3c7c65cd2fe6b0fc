#!/usr/bin/env python
"""Train a stacked-LSTM sequence generator and let it generate the future by itself.

--dataset classic (default): the classic demo's sine series (97 train, 3 test, 1000
steps each). Reports the teacher-forced test MSE and the free-running forecast MSE
over the first 100 and all --horizon generated steps against the true continuation,
writes results.csv/.md and generation.png to --output-dir, and exports the step model
(SavedModel, builtin-ops TFLite with h and c as explicit inputs/outputs,
metadata.json with parity figures) to --export-dir. Training: random windows with input
noise (denoising) and a heavier loss on each window's first steps (warm-up), then the last
--closed-loop-fraction of the steps fine-tune closed-loop (the model fed its own output).

--dataset sf-temps: hourly San Francisco temperatures (2010, from vega_datasets).
Forecasts 48 hours from each midnight of the last 20 % of the year after a week of
warm-up, next to the seasonal-naive baseline (repeat the last 24 hours); no export.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from periodic_keras import quiet_tensorflow  # noqa: E402

quiet_tensorflow()

from periodic_keras import jobs  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--dataset", choices=("classic", "sf-temps"), default="classic", help="what to learn")
    p.add_argument("--units", type=int, nargs="+", default=[64, 64], help="width of each stacked LSTM layer")
    p.add_argument("--windows", type=int, nargs="+", default=[100, 300],
                   help="training window lengths (one or two: short for warm-ups, long for the horizon)")
    p.add_argument("--long-fraction", type=float, default=0.2, help="fraction of batches with the long window")
    p.add_argument("--steps", type=int, default=None,
                   help="optimizer steps (batches; default: 2400 classic, 3000 sf-temps)")
    p.add_argument("--batch-size", type=int, default=64, help="windows per batch")
    p.add_argument("--learning-rate", type=float, default=3e-3, help="peak learning rate (cosine decay)")
    p.add_argument("--noise-std", type=float, default=0.1, help="input noise std (denoising), targets clean")
    p.add_argument("--noise-ramp", type=int, default=50, help="steps over which the noise ramps up from 0")
    p.add_argument("--early-weight", type=float, nargs=2, default=[10, 3.0], metavar=("STEPS", "WEIGHT"),
                   help="classic: loss weight on the first STEPS steps of every window (warm-up)")
    p.add_argument("--closed-loop-fraction", type=float, default=0.2,
                   help="classic: fraction of the steps that fine-tune closed-loop at the end (0: off)")
    p.add_argument("--closed-loop-windows", type=int, nargs=2, default=[50, 150], metavar=("WARM", "FREE"),
                   help="classic: closed-loop windows: WARM teacher-forced steps, then FREE fed-back steps")
    p.add_argument("--closed-loop-noise", type=float, default=0.03, help="classic: input noise while fine-tuning")
    p.add_argument("--horizon", type=int, default=None,
                   help="generated steps to evaluate (default: 1000 classic, 48 sf-temps)")
    p.add_argument("--seed", type=int, default=0, help="seed for weights and training data")
    p.add_argument("--output-dir", default=None, help="results and training backups (default: runs/<dataset>)")
    p.add_argument("--export-dir", default=None,
                   help="export directory, classic only (default: exported/generator; with --quick: "
                        "<output-dir>/exported)")
    p.add_argument("--no-export", action="store_true", help="skip the export")
    p.add_argument("--quick", action="store_true", help="smoke run: 60 steps")
    p.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1 if sys.stdout.isatty() else 2,
                   help="Keras progress: 0 silent, 1 bar, 2 one line per epoch (default: 1 on a terminal, else 2)")
    jobs.add_strategy_argument(p)
    args = p.parse_args(argv)
    if args.steps is None:
        args.steps = 2400 if args.dataset == "classic" else 3000
    if args.quick:
        args.steps = min(args.steps, 60)
    if args.output_dir is None:
        args.output_dir = os.path.join("runs", "generator" if args.dataset == "classic" else "sf_temps")
    if args.export_dir is None:
        args.export_dir = os.path.join(args.output_dir, "exported") if args.quick else os.path.join("exported",
                                                                                                     "generator")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    common = dict(units=args.units, windows=args.windows, long_fraction=args.long_fraction, steps=args.steps,
                  batch_size=args.batch_size, learning_rate=args.learning_rate, noise_std=args.noise_std,
                  noise_ramp=args.noise_ramp, seed=args.seed, output_dir=args.output_dir, verbose=args.verbose,
                  strategy=args.strategy)
    if args.dataset == "classic":
        job = jobs.train_generator
        steps, weight = args.early_weight
        if steps != int(steps):
            print(f"{os.path.basename(sys.argv[0])}: error: --early-weight STEPS must be an integer, got {steps}",
                  file=sys.stderr)
            return 2
        common.update(horizon=1000 if args.horizon is None else args.horizon, export_dir=args.export_dir,
                      no_export=args.no_export, early_weight=(int(steps), weight),
                      closed_loop_fraction=args.closed_loop_fraction, closed_loop_windows=args.closed_loop_windows,
                      closed_loop_noise=args.closed_loop_noise)
    else:
        job = jobs.forecast_sf_temps
        common.update(horizon=48 if args.horizon is None else args.horizon)
    return jobs.run_script(job, common, jobs.generator_summary)


if __name__ == "__main__":
    sys.exit(main())

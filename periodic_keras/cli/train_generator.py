"""Train a stacked-LSTM sequence generator and let it generate the future by itself.

--dataset classic (default): the classic demo's sine series (97 train, 3 test, 1000
steps each). Reports the teacher-forced test MSE and the free-running forecast MSE
over the first 100 and all --horizon generated steps against the true continuation,
writes results.csv/.md and generation.png to --output-dir, and exports the step model
(SavedModel, builtin-ops TFLite with h and c as explicit inputs/outputs,
metadata.json with parity figures) to --export-dir. Training: random windows with input
noise (denoising) and a heavier loss on each window's first steps (warm-up), then the last
--closed-loop-fraction of the steps fine-tune closed-loop (the model fed its own output).

--dataset family: one generator for any sum of up to three sines with periods 10-100 steps
(periodic_keras.models.oscillator_generator: an exact least-squares oscillator beside an LSTM
residual, trained with --steps > 0). Evaluates 1000-step closed-loop continuations after a
--warmup of 300 steps on unseen single sines, two- and three-sine sums and noisy warm-ups,
beside the least-squares oracle, the classic generator (--classic-dir) and zero, writes
results.csv/.md, draws.csv and generation.png, and exports the step model to
exported/generator_family.

--dataset sf-temps: hourly San Francisco temperatures (2010, from vega_datasets).
Forecasts 48 hours from each midnight of the last 20 % of the year after a week of
warm-up, next to the seasonal-naive baseline (repeat the last 24 hours); no export.
"""

from __future__ import annotations

import argparse
import os
import sys

from periodic_keras import quiet_tensorflow

quiet_tensorflow()

from periodic_keras import jobs


def parse_args(argv=None, prog=None):
    p = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--dataset", choices=("classic", "family", "sf-temps"), default="classic", help="what to learn")
    p.add_argument("--units", type=int, nargs="+", default=None,
                   help="width of each stacked LSTM layer (default: 64 64; family: one layer, 8)")
    p.add_argument("--windows", type=int, nargs="+", default=None,
                   help="training window lengths (one or two: short for warm-ups, long for the horizon; "
                        "default: 100 300; family: one, 200)")
    p.add_argument("--long-fraction", type=float, default=0.2, help="fraction of batches with the long window")
    p.add_argument("--steps", type=int, default=None,
                   help=f"optimizer steps (batches; default: 2400 classic, 3000 sf-temps, {jobs.FAMILY_STEPS} family)")
    p.add_argument("--batch-size", type=int, default=None, help="windows per batch (default: 64; family: 32)")
    p.add_argument("--learning-rate", type=float, default=None,
                   help="peak learning rate, cosine decay (default: 3e-3; family: 1e-3)")
    p.add_argument("--noise-std", type=float, default=None,
                   help="input noise std (denoising), targets clean (default: 0.1; family: 0.01)")
    p.add_argument("--noise-ramp", type=int, default=50, help="steps over which the noise ramps up from 0")
    p.add_argument("--early-weight", type=float, nargs=2, default=[10, 3.0], metavar=("STEPS", "WEIGHT"),
                   help="classic: loss weight on the first STEPS steps of every window (warm-up)")
    p.add_argument("--closed-loop-fraction", type=float, default=0.2,
                   help="classic: fraction of the steps that fine-tune closed-loop at the end (0: off)")
    p.add_argument("--closed-loop-windows", type=int, nargs=2, default=[50, 150], metavar=("WARM", "FREE"),
                   help="classic: closed-loop windows: WARM teacher-forced steps, then FREE fed-back steps")
    p.add_argument("--closed-loop-noise", type=float, default=0.03, help="classic: input noise while fine-tuning")
    p.add_argument("--horizon", type=int, default=None,
                   help="generated steps to evaluate (default: 1000 classic and family, 48 sf-temps)")
    p.add_argument("--warmup", type=int, default=300, help="family: warm-up steps before generating")
    p.add_argument("--test-draws", type=int, default=50, help="family: unseen draws per evaluation set")
    p.add_argument("--eval-noise", type=float, default=0.01, help="family: noise std of the noisy warm-ups")
    p.add_argument("--tolerance", type=float, default=1e-3,
                   help="family: relative least-squares residual under which the oscillator accepts an order")
    p.add_argument("--classic-dir", default=os.path.join("exported", "generator"),
                   help="family: the classic generator's export, evaluated beside it (skipped if absent)")
    p.add_argument("--seed", type=int, default=0, help="seed for weights and training data")
    p.add_argument("--output-dir", default=None, help="results and training backups (default: runs/<dataset>)")
    p.add_argument("--export-dir", default=None,
                   help="export directory, classic and family (default: exported/generator or "
                        "exported/generator_family; with --quick: <output-dir>/exported)")
    p.add_argument("--no-export", action="store_true", help="skip the export")
    p.add_argument("--quick", action="store_true", help="smoke run: 60 steps")
    p.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1 if sys.stdout.isatty() else 2,
                   help="Keras progress: 0 silent, 1 bar, 2 one line per epoch (default: 1 on a terminal, else 2)")
    jobs.add_strategy_argument(p)
    args = p.parse_args(argv)
    family = args.dataset == "family"
    defaults = dict(units=[8] if family else [64, 64], windows=[200] if family else [100, 300],
                    steps={"classic": 2400, "sf-temps": 3000, "family": jobs.FAMILY_STEPS}[args.dataset],
                    batch_size=32 if family else 64, learning_rate=1e-3 if family else 3e-3,
                    noise_std=0.01 if family else 0.1)
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if family and (len(args.units) != 1 or len(args.windows) != 1):
        p.error("--dataset family takes one --units width and one --windows length")
    if family and args.strategy != "default":
        p.error("--dataset family trains on one device: --strategy must be 'default'")
    if args.quick:
        args.steps = min(args.steps, 60)
    if args.output_dir is None:
        args.output_dir = os.path.join("runs", {"classic": "generator", "sf-temps": "sf_temps",
                                                "family": "generator_family"}[args.dataset])
    if args.export_dir is None:
        args.export_dir = os.path.join(args.output_dir, "exported") if args.quick else os.path.join(
            "exported", "generator_family" if family else "generator")
    return args


def main(argv=None, prog=None) -> int:
    args = parse_args(argv, prog)
    if args.dataset == "family":
        return jobs.run_script(jobs.train_family_generator, dict(
            units=args.units[0], tolerance=args.tolerance, steps=args.steps, batch_size=args.batch_size,
            window=args.windows[0], learning_rate=args.learning_rate, noise_std=args.noise_std, warmup=args.warmup,
            horizon=1000 if args.horizon is None else args.horizon, test_draws=args.test_draws,
            eval_noise=args.eval_noise, classic_dir=args.classic_dir, seed=args.seed, output_dir=args.output_dir,
            export_dir=args.export_dir, no_export=args.no_export, verbose=args.verbose), jobs.family_generator_summary)
    common = dict(units=args.units, windows=args.windows, long_fraction=args.long_fraction, steps=args.steps,
                  batch_size=args.batch_size, learning_rate=args.learning_rate, noise_std=args.noise_std,
                  noise_ramp=args.noise_ramp, seed=args.seed, output_dir=args.output_dir, verbose=args.verbose,
                  strategy=args.strategy)
    if args.dataset == "classic":
        job = jobs.train_generator
        steps, weight = args.early_weight
        if steps != int(steps):
            name = prog or os.path.basename(sys.argv[0])
            print(f"{name}: error: --early-weight STEPS must be an integer, got {steps}", file=sys.stderr)
            return 2
        common.update(horizon=1000 if args.horizon is None else args.horizon, export_dir=args.export_dir,
                      no_export=args.no_export, early_weight=(int(steps), weight),
                      closed_loop_fraction=args.closed_loop_fraction, closed_loop_windows=args.closed_loop_windows,
                      closed_loop_noise=args.closed_loop_noise)
    else:
        job = jobs.forecast_sf_temps
        common.update(horizon=48 if args.horizon is None else args.horizon)
    return jobs.run_script(job, common, jobs.generator_summary)


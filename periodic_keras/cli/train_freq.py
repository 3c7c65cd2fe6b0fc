"""Train the LSTM frequency regressor on sine windows, evaluate it, export it.

Trains on an endless stream of fresh windows (continuous frequencies, random phase
and amplitude, mixed SNR), evaluates on held-out windows without noise and at 20, 10
and 0 dB SNR next to Candan's interpolated-FFT estimator and the Cramér–Rao bound,
writes a results table (CSV + markdown) and a plot to --output-dir, and exports the
model (SavedModel, TFLite, metadata.json) to --export-dir.
"""

from __future__ import annotations

import argparse

from periodic_keras import quiet_tensorflow

quiet_tensorflow()

from periodic_keras import jobs


PRESETS = ("default", "micro")


def parse_args(argv=None, prog=None):
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--preset", choices=PRESETS, default="default")
    preset = pre.parse_known_args(argv)[0].preset
    task = "freq" if preset == "default" else "freq_micro"
    p = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--preset", choices=PRESETS, default="default",
                   help="'micro': the microcontroller model (periodic_keras.jobs.FREQ_MICRO: 16 features per bin, "
                        "8 LSTM units trained on their own estimate, a 2-step refinement, no hedge; a 60 KB mixed "
                        "int8 file) in runs/freq_micro and exported/freq_micro; the defaults below become its own")
    p.add_argument("--window", type=int, default=100, help="samples per window N")
    p.add_argument("--fmin", type=float, default=1.0, help="lowest frequency, cycles per window")
    p.add_argument("--fmax", type=float, default=30.0, help="highest frequency, cycles per window (< N/2)")
    p.add_argument("--train-snr", type=float, nargs=2, default=(-12.0, 40.0), metavar=("LOW", "HIGH"),
                   help="training SNR range in dB (each noisy window draws one)")
    p.add_argument("--clean-fraction", type=float, default=0.25, help="fraction of training windows without noise")
    p.add_argument("--eval-snr", type=jobs.snr_arg, nargs="+", default=list(jobs.DEFAULT_EVAL_SNRS),
                   help="evaluation SNRs in dB; 'inf' or 'clean' for noiseless windows")
    p.add_argument("--steps", type=int, default=4000, help="optimizer steps (batches)")
    p.add_argument("--batch-size", type=int, default=256, help="windows per batch")
    p.add_argument("--learning-rate", type=float, default=3e-3, help="peak learning rate (cosine decay)")
    p.add_argument("--lstm-units", type=int, default=24, help="LSTM units")
    p.add_argument("--frontend", choices=jobs.FRONTENDS, default="spectral", help="front end before the LSTM")
    p.add_argument("--dense-units", type=int, default=64, help="width of the dense layer after the LSTM")
    p.add_argument("--bidirectional", action="store_true", help="the LSTM sweeps the DFT bins both ways")
    p.add_argument("--bin-stride", type=int, default=4, help="Conv1D stride shortening the bin sequence (1: none)")
    p.add_argument("--refine-steps", type=int, default=3,
                   help="Gauss-Newton steps refining the LSTM's estimate in the graph (0: none)")
    p.add_argument("--hedge", type=jobs.hedge_arg, default=jobs.HEDGE_TEMPERATURE,
                   help="temperature of the posterior-mean hedge of the refined estimate towards the band's "
                        "other peaks; 'learned' (one per window, from the LSTM's features) or 'none'")
    p.add_argument("--oversample", type=int, default=2, help="DFT oversampling of the spectral front end")
    p.add_argument("--bin-units", type=int, default=32, help="width of the per-bin features and the strided Conv1D")
    p.add_argument("--refine-from", choices=jobs.REFINE_FROM, default="all",
                   help="starts of the refinement: the LSTM's estimate and the spectral peaks, or the estimate only")
    p.add_argument("--train-on-estimate", action=argparse.BooleanOptionalAction, default=False,
                   help="train with the loss on the LSTM's own estimate (no refinement), then add the refinement")
    p.add_argument("--n-test", type=int, default=2000, help="held-out windows per SNR")
    jobs.add_run_arguments(p, task)
    if preset == "micro":
        p.set_defaults(**jobs.FREQ_MICRO)
    args = p.parse_args(argv)
    if args.quick:
        args.steps, args.n_test = min(args.steps, 60), min(args.n_test, 200)
    return jobs.resolve_run_arguments(args, task)


def main(argv=None, prog=None) -> int:
    args = parse_args(argv, prog)
    kwargs = {k: v for k, v in vars(args).items() if k not in ("quick", "preset")}
    return jobs.run_script(jobs.train_frequency, kwargs, jobs.frequency_summary)


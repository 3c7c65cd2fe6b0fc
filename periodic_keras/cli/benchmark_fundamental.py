"""Fundamental frequency on realistic windows: the learned candidate choice against the classical estimators.

Trains the fundamental model (periodic_keras.models.fundamental_regressor) on the realistic window
family (harmonic waveforms, weak or missing fundamentals, baselines, coloured and impulsive noise,
clipping, interference, modulation, drift, quantisation, lost samples), sets its trust threshold on
validation windows, and scores it per kind on test windows and on the real recordings that are
installed (pip install 'periodic-keras[recordings]'), next to its ablations and to single-tone ML,
ML with a trend, harmonic NLS with order selection and YIN. Writes results.csv/.md and
gross.csv/.md to --output-dir, and exports the model with its trust flag computed in the graph
(SavedModel, TFLite, metadata.json) to --export-dir.
"""

from __future__ import annotations

import argparse

from periodic_keras import jobs


def main(argv=None, prog=None) -> int:
    p = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--steps", type=int, default=15000, help="optimizer steps (batches)")
    p.add_argument("--batch-size", type=int, default=128, help="windows per batch")
    p.add_argument("--units", type=int, default=32, help="width of the candidate network")
    p.add_argument("--n-test", type=int, default=400, help="test windows per kind")
    p.add_argument("--no-recordings", dest="recordings", action="store_false",
                   help="leave out the real recordings")
    jobs.add_run_arguments(p, "fundamental", strategy=False)
    args = jobs.resolve_run_arguments(p.parse_args(argv), "fundamental")
    if args.quick:
        args.steps, args.n_test = min(args.steps, 40), min(args.n_test, 20)
    kwargs = {k: v for k, v in vars(args).items() if k != "quick"}
    return jobs.run_script(jobs.benchmark_fundamental, kwargs, jobs.fundamental_summary)

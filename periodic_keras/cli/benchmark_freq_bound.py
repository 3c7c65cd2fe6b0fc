"""The exported frequency model against the ML estimator and the MMSE bound, on many windows.

Runs the export through the edge runtime (one LiteRT thread) on --n fresh windows per SNR
(default 20 000 at 0, -3, -6 and -10 dB, where a few outliers set every RMSE), next to the
maximum-likelihood estimator, Candan's, and the Bayes posterior-mean estimator told each
window's SNR: no estimator that does not know the SNR has a lower expected squared error.
Writes results.csv/.md (every estimator and SNR) and ratios.csv/.md (RMSE over ML's) to
--output-dir.
"""

from __future__ import annotations

import argparse

from periodic_keras import jobs


def main(argv=None, prog=None) -> int:
    p = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    jobs.add_export_benchmark_arguments(p, "freq_bound")
    p.add_argument("--snr", dest="snrs", type=float, nargs="+", default=[0.0, -3.0, -6.0, -10.0],
                   help="SNRs in dB")
    p.add_argument("--n", type=int, default=20000, help="windows per SNR")
    p.add_argument("--seed", type=int, default=7, help="seed of the test windows")
    args = p.parse_args(argv)
    return jobs.run_script(jobs.benchmark_frequency_bound, vars(args), jobs.frequency_bound_summary)


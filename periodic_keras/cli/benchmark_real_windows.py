"""Real windows: the exported frequency model on windows cut from real series.

Cuts windows of the export's length from real series that ship inside installed packages
(hourly San Francisco and Seattle temperatures from vega_datasets; weekly Mauna Loa CO2 and
yearly sunspots from statsmodels: pip install 'periodic-keras[real]'), runs the export through
the edge runtime with its quality figures, and counts, per series, the answers within
--tolerance cycles/window of the maximum-likelihood estimate (tone and straight line fitted
jointly), the flagged ones, and the failures (trusted but disagreeing). Writes
results.csv/.md to --output-dir.
"""

from __future__ import annotations

import argparse

from periodic_keras import jobs


def main(argv=None, prog=None) -> int:
    p = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    jobs.add_export_benchmark_arguments(p, "real_windows")
    p.add_argument("--tolerance", type=float, default=0.1, help="agreement with ML, cycles per window")
    args = p.parse_args(argv)
    return jobs.run_script(jobs.benchmark_real_windows, vars(args), jobs.real_windows_summary)


"""Forecasting benchmark: periodic_keras's forecaster against seasonal naive, naive and
statsforecast's AutoETS, MSTL and AutoARIMA, at rolling origins, on series that ship inside
packages (hourly SF temperatures, half-hourly taylor demand, raw weekly CO2 with gaps,
monthly air passengers) and a synthetic series. Horizon: one season (taylor: one week).
Writes results.csv/.md (mean scores per series and method, and each method's mean MASE over
the panel) to --output-dir. Needs pip install 'periodic-keras[bench]' for the full panel.
"""

from __future__ import annotations

import argparse
import os

from periodic_keras import quiet_tensorflow

quiet_tensorflow()

from periodic_keras import jobs


def parse_args(argv=None, prog=None):
    p = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--series", nargs="+", default=None,
                   help="panel keys (sf taylor co2 air synthetic; default: all) or series it was not tuned on "
                        "(sunspots wine lynx wool elnino seattle)")
    p.add_argument("--origins", type=int, default=None,
                   help="rolling origins per series (default: 30 for the hourly day-ahead series sf and synthetic, "
                        "5 for the others)")
    p.add_argument("--steps", type=int, default=800, help="forecaster optimizer steps per fit")
    p.add_argument("--seed", type=int, default=0, help="forecaster seed")
    p.add_argument("--no-statsforecast", action="store_true", help="leave out AutoETS, MSTL and AutoARIMA")
    p.add_argument("--generator-steps", type=int, default=1000,
                   help="training steps of the first release's LSTM generator recipe, trained once per series (0: leave out)")
    p.add_argument("--output-dir", default=os.path.join("runs", "forecast_benchmark"), help="results table")
    p.add_argument("--verbose", type=int, choices=(0, 1), default=1, help="1: one line per origin")
    return p.parse_args(argv)


def main(argv=None, prog=None) -> int:
    args = parse_args(argv, prog)
    kwargs = {k: v for k, v in vars(args).items() if k != "no_statsforecast"}
    kwargs["statsforecast"] = not args.no_statsforecast
    return jobs.run_script(jobs.benchmark_forecast, kwargs, jobs.forecast_benchmark_summary)


"""Forecast a periodic series from a CSV file with periodic_keras's LSTM forecaster.

Reads --column (and --time-column, parsed as dates unless numeric; default: the row
number) from --csv; places it on its regular time grid (empty cells and missing times are
gaps); finds its periods (or takes --periods, in steps); backtests the forecaster at
--origins rolling origins next to seasonal-naive baselines; fits it on the whole series;
writes to --output-dir: forecast.csv (time, forecast) for the --horizon steps after the
last row, backtest.csv/.md and forecast.png; with --export-dir, the forecaster exported for
the edge runtime (periodic_keras.edge.load_forecaster). Bad input exits 2 with one line.
"""

from __future__ import annotations

import argparse
import os

from periodic_keras import quiet_tensorflow

quiet_tensorflow()

from periodic_keras import jobs


def parse_args(argv=None, prog=None):
    p = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--csv", required=True, help="the CSV file")
    p.add_argument("--column", required=True, help="the column holding the series")
    p.add_argument("--time-column", default=None, help="the column holding the times (default: row number)")
    p.add_argument("--horizon", type=int, required=True, help="steps to forecast after the last row")
    p.add_argument("--step", default=None, help="time grid step, e.g. h, D, W-SAT, MS (default: inferred)")
    p.add_argument("--periods", type=float, nargs="+", default=None, help="periods in steps (default: discovered)")
    p.add_argument("--context", type=int, default=None, help="history steps per window (default: 2 x longest period)")
    p.add_argument("--steps", type=int, default=800, help="optimizer steps per fit")
    p.add_argument("--units", type=int, default=32, help="LSTM units")
    p.add_argument("--origins", type=int, default=3, help="rolling backtest origins (0: none)")
    p.add_argument("--seed", type=int, default=0, help="seed: the same seed gives the same forecast")
    p.add_argument("--output-dir", default=os.path.join("runs", "forecast"), help="forecast, backtest table and plot")
    p.add_argument("--statsforecast", choices=("auto", "yes", "no"), default="auto",
                   help="also backtest statsforecast's AutoETS, MSTL and AutoARIMA (auto: when installed)")
    p.add_argument("--export-dir", default=None,
                   help="also export the fitted forecaster there (SavedModel, TFLite, metadata) for periodic_keras.edge")
    p.add_argument("--verbose", type=int, choices=(0, 1), default=1, help="1: one line per backtest origin")
    return p.parse_args(argv)


def main(argv=None, prog=None) -> int:
    args = vars(parse_args(argv))
    args["statsforecast"] = {"auto": "auto", "yes": True, "no": False}[args["statsforecast"]]
    return jobs.run_script(jobs.forecast_csv, args, jobs.forecast_summary)


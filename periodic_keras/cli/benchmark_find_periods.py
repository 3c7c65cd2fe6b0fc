"""Period-report benchmark: periodic_keras.find_periods against astropy's LombScargle on the
same series, in the same run.

Cases: (1) pure noise, --draws irregular series: how often each method reports a period at
false-alarm levels 1 % and 5 % (at most the level is right); (2) a weak sine near the
detection limit, --draws series: agreement of detections, periods and false-alarm
probabilities; (3) real series shipped in packages (yearly sunspots, raw weekly CO2 with
gaps, hourly SF temperatures): the periods each reports. Writes results.csv/.md and
calibration.png to --output-dir. Needs astropy: pip install 'periodic-keras[bench]'.
"""

from __future__ import annotations

import argparse
import os

from periodic_keras import quiet_tensorflow

quiet_tensorflow()

from periodic_keras import jobs


def parse_args(argv=None, prog=None):
    p = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--draws", type=int, default=500, help="random series in cases 1 and 2")
    p.add_argument("--n-points", type=int, default=100, help="samples per random series")
    p.add_argument("--seed", type=int, default=0, help="seed for all data")
    p.add_argument("--output-dir", default=os.path.join("runs", "find_periods"), help="results table and plot")
    p.add_argument("--quick", action="store_true", help="smoke run: 20 draws")
    p.add_argument("--verbose", type=int, choices=(0, 1), default=1, help="1: one line per measurement")
    args = p.parse_args(argv)
    if args.quick:
        args.draws = min(args.draws, 20)
    return args


def main(argv=None, prog=None) -> int:
    args = parse_args(argv, prog)
    kwargs = {k: v for k, v in vars(args).items() if k != "quick"}
    return jobs.run_script(jobs.benchmark_find_periods, kwargs, jobs.find_periods_summary)


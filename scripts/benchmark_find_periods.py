#!/usr/bin/env python
"""Period-report benchmark: periodic_keras.find_periods against astropy's LombScargle on the

The command line lives in :mod:`periodic_keras.cli.benchmark_find_periods` (installed: ``periodic-keras benchmark-find-periods``);
``python scripts/benchmark_find_periods.py --help`` lists its options.
"""

from periodic_keras.cli import exit_command, benchmark_find_periods

if __name__ == "__main__":
    exit_command(benchmark_find_periods.main())

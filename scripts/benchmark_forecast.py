#!/usr/bin/env python
"""Forecasting benchmark: periodic_keras's forecaster against seasonal naive, naive and

The command line lives in :mod:`periodic_keras.cli.benchmark_forecast` (installed: ``periodic-keras benchmark-forecast``);
``python scripts/benchmark_forecast.py --help`` lists its options.
"""

from periodic_keras.cli import exit_command, benchmark_forecast

if __name__ == "__main__":
    exit_command(benchmark_forecast.main())

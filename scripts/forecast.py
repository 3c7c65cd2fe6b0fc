#!/usr/bin/env python
"""Forecast a periodic series from a CSV file with periodic_keras's LSTM forecaster.

The command line lives in :mod:`periodic_keras.cli.forecast` (installed: ``periodic-keras forecast``);
``python scripts/forecast.py --help`` lists its options.
"""

from periodic_keras.cli import exit_command, forecast

if __name__ == "__main__":
    exit_command(forecast.main())

#!/usr/bin/env python
"""Fundamental frequency on realistic windows: the learned candidate choice against the classical estimators.

The command line lives in :mod:`periodic_keras.cli.benchmark_fundamental` (installed: ``periodic-keras benchmark-fundamental``);
``python scripts/benchmark_fundamental.py --help`` lists its options.
"""

from periodic_keras.cli import exit_command, benchmark_fundamental

if __name__ == "__main__":
    exit_command(benchmark_fundamental.main())

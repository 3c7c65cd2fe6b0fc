#!/usr/bin/env python
"""Frequency-fitting benchmark: periodic_keras.classical.fitting against the issue's targets, and

The command line lives in :mod:`periodic_keras.cli.benchmark_fit_frequency` (installed: ``periodic-keras benchmark-fit-frequency``);
``python scripts/benchmark_fit_frequency.py --help`` lists its options.
"""

from periodic_keras.cli import exit_command, benchmark_fit_frequency

if __name__ == "__main__":
    exit_command(benchmark_fit_frequency.main())

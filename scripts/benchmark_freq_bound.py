#!/usr/bin/env python
"""The exported frequency model against the ML estimator and the MMSE bound, on many windows.

The command line lives in :mod:`periodic_keras.cli.benchmark_freq_bound` (installed: ``periodic-keras benchmark-freq-bound``);
``python scripts/benchmark_freq_bound.py --help`` lists its options.
"""

from periodic_keras.cli import exit_command, benchmark_freq_bound

if __name__ == "__main__":
    exit_command(benchmark_freq_bound.main())

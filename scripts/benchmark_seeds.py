#!/usr/bin/env python
"""Train a task's default model with several seeds and report the spread.

The command line lives in :mod:`periodic_keras.cli.benchmark_seeds` (installed: ``periodic-keras benchmark-seeds``);
``python scripts/benchmark_seeds.py --help`` lists its options.
"""

from periodic_keras.cli import exit_command, benchmark_seeds

if __name__ == "__main__":
    exit_command(benchmark_seeds.main())

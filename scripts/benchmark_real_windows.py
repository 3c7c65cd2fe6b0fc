#!/usr/bin/env python
"""Real windows: the exported frequency model on windows cut from real series.

The command line lives in :mod:`periodic_keras.cli.benchmark_real_windows` (installed: ``periodic-keras benchmark-real-windows``);
``python scripts/benchmark_real_windows.py --help`` lists its options.
"""

from periodic_keras.cli import exit_command, benchmark_real_windows

if __name__ == "__main__":
    exit_command(benchmark_real_windows.main())

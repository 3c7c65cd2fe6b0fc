#!/usr/bin/env python
"""Frequency divider: learn sin(t) -> sin(t/2), naive windowed setup next to the fix.

The command line lives in :mod:`periodic_keras.cli.train_divider` (installed: ``periodic-keras train-divider``);
``python scripts/train_divider.py --help`` lists its options.
"""

from periodic_keras.cli import exit_command, train_divider

if __name__ == "__main__":
    exit_command(train_divider.main())

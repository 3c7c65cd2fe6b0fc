#!/usr/bin/env python
"""Clock: learn what a digital clock shows (HH:MM:SS, UTC) from int64 seconds since the epoch.

The command line lives in :mod:`periodic_keras.cli.train_clock` (installed: ``periodic-keras train-clock``);
``python scripts/train_clock.py --help`` lists its options.
"""

from periodic_keras.cli import exit_command, train_clock

if __name__ == "__main__":
    exit_command(train_clock.main())

#!/usr/bin/env python
"""Latching burst detector: the state carried between batches (naive) next to the state

The command line lives in :mod:`periodic_keras.cli.train_burst` (installed: ``periodic-keras train-burst``);
``python scripts/train_burst.py --help`` lists its options.
"""

from periodic_keras.cli import exit_command, train_burst

if __name__ == "__main__":
    exit_command(train_burst.main())

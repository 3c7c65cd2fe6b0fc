#!/usr/bin/env python
"""Latching burst detector: the state carried between batches (naive) next to the state

The command line lives in :mod:`periodic_keras.cli.train_burst` (installed: ``periodic-keras train-burst``);
``python scripts/train_burst.py --help`` lists its options.
"""

import sys

from periodic_keras.cli import train_burst

if __name__ == "__main__":
    sys.exit(train_burst.main())

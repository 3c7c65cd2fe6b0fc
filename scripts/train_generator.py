#!/usr/bin/env python
"""Train a stacked-LSTM sequence generator and let it generate the future by itself.

The command line lives in :mod:`periodic_keras.cli.train_generator` (installed: ``periodic-keras train-generator``);
``python scripts/train_generator.py --help`` lists its options.
"""

import sys

from periodic_keras.cli import train_generator

if __name__ == "__main__":
    sys.exit(train_generator.main())

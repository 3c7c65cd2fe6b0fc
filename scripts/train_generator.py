#!/usr/bin/env python
"""Train a stacked-LSTM sequence generator and let it generate the future by itself.

The command line lives in :mod:`periodic_keras.cli.train_generator` (installed: ``periodic-keras train-generator``);
``python scripts/train_generator.py --help`` lists its options.
"""

from periodic_keras.cli import exit_command, train_generator

if __name__ == "__main__":
    exit_command(train_generator.main())

#!/usr/bin/env python
"""Train the LSTM frequency regressor on sine windows, evaluate it, export it.

The command line lives in :mod:`periodic_keras.cli.train_freq` (installed: ``periodic-keras train-freq``);
``python scripts/train_freq.py --help`` lists its options.
"""

from periodic_keras.cli import exit_command, train_freq

if __name__ == "__main__":
    exit_command(train_freq.main())

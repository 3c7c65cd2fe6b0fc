#!/usr/bin/env python
"""Tabulate every exported variant and where it runs: LiteRT and TensorFlow Lite Micro.

The command line lives in :mod:`periodic_keras.cli.export_table` (installed: ``periodic-keras export-table``);
``python scripts/export_table.py --help`` lists its options.
"""

import sys

from periodic_keras.cli import export_table

if __name__ == "__main__":
    sys.exit(export_table.main())

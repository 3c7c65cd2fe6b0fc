#!/usr/bin/env python
"""Tabulate every exported variant and where it runs: LiteRT and TensorFlow Lite Micro.

The command line lives in :mod:`periodic_keras.cli.export_table` (installed: ``periodic-keras export-table``);
``python scripts/export_table.py --help`` lists its options.
"""

from periodic_keras.cli import exit_command, export_table

if __name__ == "__main__":
    exit_command(export_table.main())

"""Tabulate every exported variant and where it runs: LiteRT and TensorFlow Lite Micro.

Reads ``exported/<task>/metadata.json`` (what each export measured when it was written) and
prints, per task, variant and runtime: bytes, the max abs difference to Keras, the TFLM
arena, the task's own figure, or why a variant does not run or did not convert.

    periodic-keras export-table [--exported DIR] [--output PATH.md]
"""

from __future__ import annotations

import argparse

from periodic_keras import jobs


def main(argv=None, prog=None) -> int:
    p = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--exported", default="exported", help="directory holding one export per task (default exported)")
    p.add_argument("--output", help="also write the markdown table here (a new file)")
    args = p.parse_args(argv)
    return jobs.run_script(jobs.export_table, vars(args), jobs.export_table_summary)

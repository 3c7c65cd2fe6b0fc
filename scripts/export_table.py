"""Tabulate every exported variant and where it runs: LiteRT and TensorFlow Lite Micro.

Reads ``exported/<task>/metadata.json`` (what each export measured when it was written) and
prints, per task, variant and runtime: bytes, the max abs difference to Keras, the TFLM
arena, the task's own figure, or why a variant does not run or did not convert.

    python scripts/export_table.py [--exported DIR] [--output PATH.md]
"""

from __future__ import annotations

import argparse
import os
import sys


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--exported", default="exported", help="directory holding one export per task (default exported)")
    p.add_argument("--output", help="also write the markdown table here (a new file)")
    args = p.parse_args(argv)
    from periodic_keras import edge, results

    if not os.path.isdir(args.exported):
        print(f"export_table.py: error: {args.exported!r} is not a directory", file=sys.stderr)
        return 2
    dirs = sorted(os.path.join(args.exported, d) for d in os.listdir(args.exported)
                  if os.path.isfile(os.path.join(args.exported, d, edge.METADATA)))
    if not dirs:
        print(f"export_table.py: error: no export (metadata.json) under {args.exported!r}", file=sys.stderr)
        return 2
    table = results.to_markdown(results.variants_table(dirs))
    print(table)
    if args.output:
        if os.path.exists(args.output):
            print(f"export_table.py: error: {args.output!r} exists; it will not be replaced", file=sys.stderr)
            return 2
        with open(args.output, "x") as fh:
            fh.write(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Tabulate every exported variant and where it runs: LiteRT and TensorFlow Lite Micro.

Reads ``<exported>/<task>/metadata.json`` (what each export measured when it was written):
per task, variant and runtime, the bytes, the max abs difference to Keras, the TFLM arena,
the task's own figure, or why a variant does not run or did not convert.
"""

from __future__ import annotations

import os

__all__ = ["export_table", "export_table_summary"]


def export_table(exported: str = "exported", output: str | None = None) -> dict:
    """The variants table of every export under ``exported`` (read only), as a DataFrame and
    markdown; with ``output``, the markdown is also written to that new file (an existing
    file is never replaced).

    Returns a dict with ``table``, ``markdown`` and ``output``.

    >>> import os
    >>> out = export_table(os.path.join(os.path.dirname(__file__), "..", "..", "exported"))
    >>> sorted(set(out["table"]["task"]))[:2]
    ['burst', 'clock']
    """
    from periodic_keras import edge
    from periodic_keras.jobs import results

    if not os.path.isdir(exported):
        raise ValueError(f"{exported!r} is not a directory")
    dirs = sorted(os.path.join(exported, d) for d in os.listdir(exported)
                  if os.path.isfile(os.path.join(exported, d, edge.METADATA)))
    if not dirs:
        raise ValueError(f"no export (metadata.json) under {exported!r}")
    if output is not None and os.path.lexists(output):
        raise FileExistsError(f"{output!r} exists; it will not be replaced")
    table = results.variants_table(dirs)
    markdown = results.to_markdown(table)
    if output is not None:
        with open(output, "x") as fh:
            fh.write(markdown + "\n")
    return dict(table=table, markdown=markdown, output=output)


def export_table_summary(result: dict) -> str:
    """The markdown table (and where it was written)."""
    return result["markdown"] + (f"\n\nwritten: {result['output']}" if result["output"] else "")

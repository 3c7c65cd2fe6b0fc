"""Result tables (CSV + markdown) and plots, written atomically."""

from __future__ import annotations

import io
import math
import os

import numpy as np
import pandas as pd

from periodic_keras._io import atomic_write_bytes, atomic_write_text

__all__ = ["plot_predictions", "to_markdown", "write_table"]


def _cell(value) -> str:
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return ""
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return f"{value:.4g}"
    return str(value)


def to_markdown(df: pd.DataFrame) -> str:
    """A GitHub markdown table of ``df`` (floats to 4 significant digits, NaN blank).

    >>> print(to_markdown(pd.DataFrame({"a": [1.23456], "b": ["x"]})))
    | a | b |
    |---|---|
    | 1.235 | x |
    """
    header = "| " + " | ".join(map(str, df.columns)) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    rows = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


def write_table(df: pd.DataFrame, path_stem: str) -> tuple[str, str]:
    """Write ``df`` to ``<path_stem>.csv`` and ``<path_stem>.md``; return both paths.

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> [os.path.basename(p) for p in write_table(pd.DataFrame({"a": [1]}), os.path.join(d, "t"))]
    ['t.csv', 't.md']
    """
    csv_path, md_path = f"{path_stem}.csv", f"{path_stem}.md"
    atomic_write_text(csv_path, df.to_csv(index=False))
    atomic_write_text(md_path, to_markdown(df) + "\n")
    return csv_path, md_path


def plot_predictions(panels: dict, path: str, xlabel: str = "true frequency (cycles/window)",
                     ylabel: str = "predicted", baseline: dict | None = None) -> str:
    """Predicted against true values (top row) and the error against truth (bottom row).

    Args:
        panels: ``{title: (true, predicted)}``, one column each.
        path: PNG file to write.
        baseline: optional ``{title: predicted}`` of a reference estimator, drawn in the
            error row for comparison.

    >>> import tempfile, os
    >>> p = plot_predictions({"a": ([1, 2], [1.1, 1.9])}, os.path.join(tempfile.mkdtemp(), "p.png"))
    >>> os.path.getsize(p) > 0
    True
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(panels)
    fig, axes = plt.subplots(2, n, figsize=(4 * n, 7), squeeze=False, sharex="col")
    for col, (title, (true, pred)) in enumerate(panels.items()):
        true, pred = np.asarray(true, np.float64), np.asarray(pred, np.float64)
        top, bottom = axes[0, col], axes[1, col]
        top.scatter(true, pred, s=2, alpha=0.5)
        lo, hi = float(np.min(true)), float(np.max(true))
        top.plot([lo, hi], [lo, hi], "k--", lw=0.8)
        top.set_title(title)
        top.set_ylabel(ylabel)
        if baseline is not None and title in baseline:
            bottom.scatter(true, np.asarray(baseline[title]) - true, s=2, alpha=0.4, color="tab:orange",
                           label=baseline.get("_label", "baseline"))
        bottom.scatter(true, pred - true, s=2, alpha=0.5, label="model")
        bottom.axhline(0.0, color="k", lw=0.8)
        bottom.set_xlabel(xlabel)
        bottom.set_ylabel("error")
        if baseline is not None:
            bottom.legend(loc="upper right", markerscale=4)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
    return os.fspath(path)

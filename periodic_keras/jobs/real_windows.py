"""Real windows: an exported frequency model on windows cut from real series, answer or flag.

:func:`benchmark_real_windows` loads an export through :mod:`periodic_keras.edge` (as a
device does), cuts windows from the real series that ship inside installed packages
(:func:`periodic_keras.data.real.real_series`), and checks every answer: within
``tolerance`` of the maximum-likelihood estimate (tone and straight line fitted jointly),
or flagged by the model's quality figures. A trusted answer that disagrees is a failure.
"""

from __future__ import annotations

import os

from periodic_keras.jobs.common import job, load_frequency_export, open_output

__all__ = ["benchmark_real_windows", "real_windows_summary"]


@job()
def benchmark_real_windows(export_dir: str = "exported/freq", variant: str = "float32", tolerance: float = 0.1,
                           output_dir: str = "runs/real_windows", verbose: int = 1) -> dict:
    """Run the export in ``export_dir`` on real windows; write ``results.csv``/``.md``.

    Returns a dict with ``table`` (one row per series, see
    :func:`periodic_keras.jobs.evaluate.real_window_table`) and ``table_paths``.

    Example (with the committed model; statsmodels adds the CO2 and sunspot series)::

        out = benchmark_real_windows(output_dir="/tmp/real")
        print(out["table"])
    """
    model = load_frequency_export(export_dir, variant, "real windows need")  # checked before anything is written
    meta = model.metadata
    if not (isinstance(tolerance, (int, float)) and tolerance > 0):
        raise ValueError(f"tolerance must be a positive number of cycles per window, got {tolerance!r}")
    open_output(output_dir)

    from periodic_keras.jobs import evaluate, results
    from periodic_keras.data.real import REAL_SERIES, real_series

    windows = real_series(int(meta["window"]))
    if not windows:
        raise ImportError("no real series could be loaded: pip install vega_datasets statsmodels")
    table = evaluate.real_window_table(lambda x: model.predict(x, return_quality=True), windows,
                                       float(meta["fmin"]), float(meta["fmax"]), tolerance)
    missing = sorted(set(REAL_SERIES) - set(windows))
    table_paths = results.write_table(table, os.path.join(output_dir, "results"))
    return dict(table=table, table_paths=table_paths, missing=missing)


def real_windows_summary(result: dict) -> str:
    """Human-readable summary of :func:`benchmark_real_windows`."""
    from periodic_keras.jobs import results

    lines = [results.to_markdown(result["table"]), "", f"table: {', '.join(result['table_paths'])}"]
    if result["missing"]:
        lines.append(f"not loaded (package missing): {', '.join(result['missing'])}")
    return "\n".join(lines)

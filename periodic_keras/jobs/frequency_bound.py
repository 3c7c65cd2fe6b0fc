"""An exported frequency model against the ML estimator and the MMSE bound, on many windows.

Below the ML estimator's threshold SNR a few outliers set every RMSE, so the ratios of
``train_freq.py``'s 2000 windows per SNR move by several percent from one set to the next.
:func:`benchmark_frequency_bound` runs an export through :mod:`periodic_keras.edge` (one
thread, as a device does) on many fresh windows per SNR, next to the ML estimator, Candan's
and the Bayes estimator told the SNR (:func:`periodic_keras.classical.mmse_frequency`).
"""

from __future__ import annotations

import os

from periodic_keras.jobs.common import job, load_frequency_export, open_output
from periodic_keras.signals import check_positive_int

__all__ = ["benchmark_frequency_bound", "frequency_bound_summary"]


@job()
def benchmark_frequency_bound(export_dir: str = "exported/freq", variant: str = "float32",
                              snrs=(0.0, -3.0, -6.0, -10.0), n: int = 20000, seed: int = 7,
                              output_dir: str = "runs/freq_bound", verbose: int = 1) -> dict:
    """Score the export in ``export_dir`` on ``n`` windows per SNR; write ``results.csv``/``.md``.

    Returns a dict with ``table`` (the rows of :func:`periodic_keras.jobs.evaluate.frequency_table`:
    ``model``, ``ml``, ``candan``, ``mmse_known_snr`` and ``crlb``), ``ratios`` (each
    estimator's RMSE over the ML estimator's, one row per SNR) and ``table_paths``.

    Example (with the committed model)::

        out = benchmark_frequency_bound(n=2000, output_dir="/tmp/bound")
        print(out["ratios"])
    """
    check_positive_int(n=n)
    # Checked before anything is written; one thread, as a device runs it.
    model = load_frequency_export(export_dir, variant, "the bound needs", num_threads=1)
    meta = model.metadata
    open_output(output_dir)

    import numpy as np

    from periodic_keras.jobs import evaluate, results

    window, fmin, fmax = int(meta["window"]), float(meta["fmin"]), float(meta["fmax"])
    sets = evaluate.frequency_test_sets(window, fmin, fmax, snrs, n, seed)
    estimators = {"model": lambda x: model.predict(x), "ml": evaluate.ml_estimator(fmin, fmax),
                  "candan": evaluate.candan_estimator(fmin, fmax)}
    table, _ = evaluate.frequency_table(estimators, sets, window,
                                        oracles={"mmse_known_snr": evaluate.mmse_estimator(fmin, fmax)})
    rmse = table.pivot_table(index="snr_db", columns="estimator", values="rmse", sort=False)
    ratios = rmse.drop(columns="crlb").div(rmse["ml"], axis=0).add_suffix("/ml")
    ratios.insert(0, "ml/crlb", rmse["ml"] / rmse["crlb"].replace(0.0, np.nan))
    ratios = ratios.reset_index()
    paths = results.write_table(table, os.path.join(output_dir, "results"))
    paths += results.write_table(ratios, os.path.join(output_dir, "ratios"))
    return dict(table=table, ratios=ratios, table_paths=paths)


def frequency_bound_summary(result: dict) -> str:
    """Human-readable summary of :func:`benchmark_frequency_bound`."""
    from periodic_keras.jobs import results

    ms = result["table"].groupby("estimator", sort=False)["ms_per_window"].mean().dropna()
    timing = ", ".join(f"{name} {value:.3g}" for name, value in ms.items())
    return "\n".join([results.to_markdown(result["ratios"]), "", f"ms per window: {timing}",
                      f"tables: {', '.join(result['table_paths'])}"])

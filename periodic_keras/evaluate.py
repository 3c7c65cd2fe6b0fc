"""Per-task metrics and side-by-side baselines as pandas tables."""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np
import pandas as pd

from periodic_keras import dsp
from periodic_keras.data.frequency import frequency_arrays

__all__ = ["DEFAULT_SNRS", "frequency_table", "frequency_test_sets", "keras_estimator", "candan_estimator"]

#: Evaluation conditions: noiseless, then 20, 10 and 0 dB SNR.
DEFAULT_SNRS = (None, 20.0, 10.0, 0.0)


def frequency_test_sets(window=100, fmin=1.0, fmax=30.0, snrs=DEFAULT_SNRS, n=2000, seed=0,
                        split="test") -> dict:
    """Held-out windows per SNR: ``{snr_db or inf: (x[n, N, 1], f[n])}``.

    >>> sets = frequency_test_sets(window=32, fmin=1, fmax=8, snrs=(None, 10.0), n=5)
    >>> sorted(sets)
    [10.0, inf]
    """
    out = {}
    for i, snr in enumerate(snrs):
        x, f = frequency_arrays(n, split, window, fmin, fmax, snr_db=snr, seed=seed * 1000 + i)
        out[np.inf if snr is None else float(snr)] = (x, f)
    return out


def keras_estimator(model, batch_size: int = 1024) -> Callable:
    """Wrap a Keras frequency model as ``windows -> frequencies`` (1-D float64)."""
    return lambda x: np.asarray(model.predict(x, batch_size=batch_size, verbose=0), np.float64).reshape(-1)


def candan_estimator(fmin: float, fmax: float) -> Callable:
    """Candan's interpolated-FFT estimator searching ``[fmin, fmax]``, as a callable."""
    return lambda x: dsp.candan_frequency(np.asarray(x)[..., 0], fmin=fmin, fmax=fmax)


def frequency_table(estimators: Mapping[str, Callable], test_sets: Mapping, window: int):
    """Score estimators on each test set; add the Cramér–Rao bound as its own rows.

    Args:
        estimators: ``{name: callable(windows[n, N, 1]) -> frequencies[n]}``.
        test_sets: from :func:`frequency_test_sets`.
        window: window length ``N`` (for the CRLB).

    Returns:
        ``(table, predictions)``: a DataFrame with one row per (estimator, SNR) and
        columns ``estimator, snr_db, mae, rmse, crlb, rmse_over_crlb, n`` (frequencies
        in cycles per window; ``snr_db`` is ``inf`` for noiseless windows, where the
        CRLB is 0 and the ratio is left blank), and ``{(name, snr): predictions}``.

    Example:

    >>> sets = frequency_test_sets(window=64, fmin=2, fmax=20, snrs=(10.0,), n=50)
    >>> table, _ = frequency_table({"candan": candan_estimator(2, 20)}, sets, window=64)
    >>> list(table["estimator"])
    ['candan', 'crlb']
    """
    rows, predictions = [], {}
    for snr, (x, f) in test_sets.items():
        crlb = float(dsp.crlb_frequency_std(snr, window))
        for name, estimate in estimators.items():
            pred = np.asarray(estimate(x), np.float64).reshape(-1)
            predictions[(name, snr)] = pred
            err = pred - f.astype(np.float64)
            rmse = float(np.sqrt(np.mean(err**2)))
            rows.append(dict(estimator=name, snr_db=snr, mae=float(np.mean(np.abs(err))), rmse=rmse,
                             crlb=crlb, rmse_over_crlb=rmse / crlb if crlb > 0 else np.nan, n=len(f)))
        rows.append(dict(estimator="crlb", snr_db=snr, mae=np.nan, rmse=crlb, crlb=crlb,
                         rmse_over_crlb=1.0 if crlb > 0 else np.nan, n=len(f)))
    return pd.DataFrame(rows), predictions

"""Per-task metrics and side-by-side baselines as pandas tables."""

from __future__ import annotations

import time
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from periodic_keras import signals
from periodic_keras import classical
from periodic_keras.data import frequency_arrays
from periodic_keras.generation import as_batch

__all__ = ["DEFAULT_SNRS", "candan_estimator", "clock_exact_rates", "family_errors", "family_summary", "forecast_table",
           "frequency_table", "frequency_test_sets",
           "generation_table", "keras_estimator", "ml_estimator", "mmse_estimator", "real_window_table", "trust_columns"]

#: Evaluation conditions: noiseless, then 40 dB down to -10 dB SNR (past the ML estimator's threshold).
DEFAULT_SNRS = (None, 40.0, 30.0, 20.0, 10.0, 5.0, 0.0, -3.0, -6.0, -10.0)


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
    return lambda x: classical.candan_frequency(np.asarray(x)[..., 0], fmin=fmin, fmax=fmax)


def ml_estimator(fmin: float, fmax: float) -> Callable:
    """The maximum-likelihood estimator :func:`periodic_keras.classical.ml_frequency` over ``[fmin, fmax]``."""
    return lambda x: classical.ml_frequency(np.asarray(x)[..., 0], fmin=fmin, fmax=fmax)


def mmse_estimator(fmin: float, fmax: float) -> Callable:
    """The posterior-mean estimator that knows the SNR, :func:`periodic_keras.classical.mmse_frequency`,
    as ``(windows, snr_db) -> frequencies``: the bound below the ML estimator's threshold."""
    return lambda x, snr: classical.mmse_frequency(np.asarray(x)[..., 0], snr, fmin=fmin, fmax=fmax)


def frequency_table(estimators: Mapping[str, Callable], test_sets: Mapping, window: int,
                    oracles: Mapping[str, Callable] | None = None):
    """Score estimators on each test set; add the Cramér–Rao bound as its own rows.

    Args:
        estimators: ``{name: callable(windows[n, N, 1]) -> frequencies[n]}``.
        test_sets: from :func:`frequency_test_sets`.
        window: window length ``N`` (for the CRLB).
        oracles: ``{name: callable(windows, snr_db) -> frequencies}``, estimators told the
            SNR (such as :func:`mmse_estimator`), scored on the noisy sets only.

    Returns:
        ``(table, predictions)``: a DataFrame with one row per (estimator, SNR) and
        columns ``estimator, snr_db, mae, rmse, crlb, rmse_over_crlb, n, ms_per_window``
        (frequencies in cycles per window; ``snr_db`` is ``inf`` for noiseless windows,
        where the CRLB is 0 and the ratio is left blank; ``ms_per_window``: the
        estimator's wall time on the set, per window, measured here), and
        ``{(name, snr): predictions}``.

    Example:

    >>> sets = frequency_test_sets(window=64, fmin=2, fmax=20, snrs=(10.0,), n=50)
    >>> table, _ = frequency_table({"candan": candan_estimator(2, 20)}, sets, window=64)
    >>> list(table["estimator"])
    ['candan', 'crlb']
    """
    rows, predictions = [], {}
    for snr, (x, f) in test_sets.items():
        crlb = float(classical.crlb_frequency_std(snr, window))
        told = {name: (lambda x, e=estimate, s=snr: e(x, s)) for name, estimate in (oracles or {}).items()}
        for name, estimate in (estimators | (told if np.isfinite(snr) else {})).items():
            start = time.perf_counter()
            pred = np.asarray(estimate(x), np.float64).reshape(-1)
            seconds = time.perf_counter() - start
            predictions[(name, snr)] = pred
            err = pred - f.astype(np.float64)
            rmse = float(np.sqrt(np.mean(err**2)))
            rows.append(dict(estimator=name, snr_db=snr, mae=float(np.mean(np.abs(err))), rmse=rmse,
                             crlb=crlb, rmse_over_crlb=rmse / crlb if crlb > 0 else np.nan, n=len(f),
                             ms_per_window=1e3 * seconds / len(f)))
        rows.append(dict(estimator="crlb", snr_db=snr, mae=np.nan, rmse=crlb, crlb=crlb,
                         rmse_over_crlb=1.0 if crlb > 0 else np.nan, n=len(f)))
    return pd.DataFrame(rows), predictions


def trust_columns(table: pd.DataFrame, predictions: Mapping, test_sets: Mapping, fmin: float, fmax: float,
                  **thresholds) -> pd.DataFrame:
    """Add what :func:`periodic_keras.classical.tone_quality` says of each estimator's answers.

    Columns ``trusted`` (fraction of windows not flagged) and ``max_err_trusted`` (the
    largest error among them, cycles per window) on every estimator row of
    :func:`frequency_table`'s ``table``; blank on the CRLB rows.

    >>> sets = frequency_test_sets(window=64, fmin=2, fmax=20, snrs=(10.0,), n=50)
    >>> table, pred = frequency_table({"ml": ml_estimator(2, 20)}, sets, window=64)
    >>> float(trust_columns(table, pred, sets, 2, 20)["trusted"][0])
    1.0
    """
    from periodic_keras.classical import tone_quality

    trusted, worst = [], []
    for row in table.itertuples():
        if (row.estimator, row.snr_db) not in predictions:
            trusted.append(np.nan)
            worst.append(np.nan)
            continue
        x, f = test_sets[row.snr_db]
        pred = predictions[(row.estimator, row.snr_db)]
        ok = tone_quality(np.asarray(x)[..., 0], pred, fmin, fmax, **thresholds)["trusted"]
        trusted.append(float(ok.mean()))
        worst.append(float(np.max(np.abs(pred - f)[ok])) if ok.any() else np.nan)
    return table.assign(trusted=trusted, max_err_trusted=worst)


def real_window_table(estimate, windows: Mapping[str, np.ndarray], fmin: float, fmax: float,
                      tolerance: float = 0.1) -> pd.DataFrame:
    """Answers on real windows against the ML estimate of each detrended window, or flagged.

    The reference is :func:`periodic_keras.classical.ml_frequency` with ``detrend=True``: the
    tone fitted jointly with a straight line (detrending first would bias it).

    Args:
        estimate: ``windows [k, N] -> (frequencies [k], quality dict with 'trusted')``, e.g.
            ``lambda x: edge_model.predict(x, return_quality=True)``.
        windows: ``{series name: windows [k, N]}`` (e.g. :func:`periodic_keras.data.real.real_series`).
        fmin, fmax: the model's band; the ML estimate searches it too.
        tolerance: cycles per window within which an answer agrees with the ML estimate.

    Returns:
        one row per series: ``windows``, ``agree`` (within ``tolerance`` of ML on the
        linearly detrended window), ``flagged`` (not trusted), ``agree_or_flagged`` and
        ``neither`` (a trusted answer that disagrees: the failures), plus the median
        ML frequency.

    >>> x = np.sin(2 * np.pi * 5.3 * np.arange(64) / 64)[None] + np.arange(64)[None] / 64
    >>> est = lambda w: (ml_estimator(2, 20)(w[..., None]), {"trusted": np.ones(len(w), bool)})
    >>> real_window_table(est, {"toy": x}, 2, 20)[["windows", "agree", "neither"]].values.tolist()
    [[1, 1, 0]]
    """
    rows = []
    for name, x in windows.items():
        x = np.asarray(x, np.float64)
        f, quality = estimate(x)
        f = np.asarray(f, np.float64).reshape(-1)
        ml = classical.ml_frequency(x, fmin=fmin, fmax=fmax, detrend=True)
        agree, flagged = np.abs(f - ml) <= tolerance, ~np.asarray(quality["trusted"], bool)
        rows.append(dict(series=name, windows=len(x), agree=int(agree.sum()), flagged=int(flagged.sum()),
                         agree_or_flagged=int((agree | flagged).sum()), neither=int((~agree & ~flagged).sum()),
                         median_ml_frequency=float(np.median(ml))))
    return pd.DataFrame(rows)


def generation_table(model, series, truth, n_first: int = 100):
    """Teacher-forced and free-running errors of a next-step generator, per series.

    Teacher forcing: the model reads ``series[:, :-1]`` from a zero state and predicts
    ``series[:, 1:]`` (the classic demo's test loss). Free running: it warms up on the
    whole of ``series`` and generates ``truth.shape[1]`` values closed-loop
    (:func:`periodic_keras.models.generate`), compared with ``truth``.

    Returns:
        ``(table, forecast)``: one row per series and an ``all`` row, columns ``series,
        teacher_forced_mse, free_mse_first<k>, free_mse_<horizon>, free_max_abs_error``;
        and the forecast ``[n, horizon]``.

    Example:

    >>> from periodic_keras.models import sequence_generator
    >>> x = np.sin(np.arange(60) / 5.0)[None]
    >>> table, _ = generation_table(sequence_generator(units=(4,)), x[:, :40], x[:, 40:], n_first=5)
    >>> list(table.columns)
    ['series', 'teacher_forced_mse', 'free_mse_first5', 'free_mse_20', 'free_max_abs_error']
    """
    from periodic_keras.models import generate

    x = as_batch(series, "series", min_steps=2)
    truth = as_batch(truth, "truth")
    if len(truth) != len(x):
        raise ValueError(f"truth has {len(truth)} series, series has {len(x)}")
    horizon, k = truth.shape[1], min(n_first, truth.shape[1])
    teacher = np.asarray(model.predict(x[:, :-1, None], verbose=0))[..., 0]
    tf_err = (teacher.astype(np.float64) - x[:, 1:]) ** 2
    forecast = generate(model, x, horizon)
    err = forecast.astype(np.float64) - truth
    cols = ["teacher_forced_mse", f"free_mse_first{k}", f"free_mse_{horizon}", "free_max_abs_error"]

    def row(name, sl):
        return dict(zip(["series", *cols], [name, tf_err[sl].mean(), (err[sl][:, :k] ** 2).mean(),
                                            (err[sl] ** 2).mean(), np.abs(err[sl]).max()]))

    rows = [row(str(i), slice(i, i + 1)) for i in range(len(x))] + [row("all", slice(None))]
    return pd.DataFrame(rows), forecast


def forecast_table(forecasts: Mapping[str, np.ndarray], truth) -> pd.DataFrame:
    """MAE and RMSE of several forecasts of the same targets ``[n, horizon]``, one row each.

    >>> forecast_table({"zero": np.zeros((2, 3))}, np.ones((2, 3)))[["method", "mae"]].values.tolist()
    [['zero', 1.0]]
    """
    truth = np.asarray(truth, np.float64)
    rows = []
    for name, pred in forecasts.items():
        pred = np.asarray(pred, np.float64)
        if pred.shape != truth.shape:
            raise ValueError(f"forecast {name!r} has shape {pred.shape}, the truth {truth.shape}")
        err = pred - truth
        rows.append(dict(method=name, mae=float(np.mean(np.abs(err))), rmse=float(np.sqrt(np.mean(err**2))),
                         n_forecasts=truth.shape[0], horizon=truth.shape[1]))
    return pd.DataFrame(rows)


def family_errors(forecasts: Mapping[str, np.ndarray], draws, warmup: int, label: str = "",
                  n_first: int = 200) -> pd.DataFrame:
    """Per-draw errors of continuations of :mod:`periodic_keras.classical.family` draws.

    ``forecasts`` maps a method to its ``[n, horizon]`` continuation of ``draws`` (a
    :class:`~periodic_keras.classical.FamilyDraws`) after ``warmup`` steps; each is compared
    with the clean truth. One row per draw and method: ``set`` (``label``), ``draw``,
    ``tones``, ``periods`` (the draw's periods in steps), ``longest_period``, ``method``,
    ``mse`` (over the horizon) and ``mse_first<k>`` (its first ``k = min(n_first, horizon)`` steps).

    >>> from periodic_keras.classical import family_draws
    >>> d = family_draws(3, 60, seed=0)
    >>> family_errors({"zero": np.zeros((3, 10))}, d, 50, n_first=5).columns.tolist()[-3:]
    ['method', 'mse', 'mse_first5']
    """
    rows = []
    for name, pred in forecasts.items():
        pred = np.asarray(pred, np.float64)
        truth = np.asarray(draws.clean[:, warmup:warmup + pred.shape[-1]], np.float64)
        if pred.shape != truth.shape or warmup + pred.shape[-1] > draws.clean.shape[1]:
            raise ValueError(f"forecast {name!r} has shape {pred.shape}; the draws hold "
                             f"{draws.clean.shape[1] - warmup} steps after the warm-up of {len(draws.clean)} draws")
        k = min(n_first, truth.shape[1])
        err = (pred - truth) ** 2
        for i in range(len(truth)):
            periods = draws.periods[i, :draws.n_tones[i]]
            rows.append({"set": label, "draw": i, "tones": int(draws.n_tones[i]),
                         "periods": " ".join(f"{p:.2f}" for p in periods), "longest_period": float(periods.max()),
                         "method": name, "mse": float(err[i].mean()), f"mse_first{k}": float(err[i, :k].mean())})
    return pd.DataFrame(rows)


def family_summary(errors: pd.DataFrame, period_bins=(10, 40, 70, 100)) -> pd.DataFrame:
    """Median and worst of :func:`family_errors` per set and method: over all draws
    (``periods == "all"``), then per range of the draw's longest period (``period_bins``).

    >>> from periodic_keras.classical import family_draws
    >>> d = family_draws(4, 60, seed=0)
    >>> t = family_summary(family_errors({"zero": np.zeros((4, 10))}, d, 50, "1 tone"))
    >>> t.columns.tolist()
    ['set', 'periods', 'method', 'draws', 'median_mse', 'worst_mse', 'median_mse_first10', 'worst_mse_first10']
    >>> int(t.loc[t.periods == "all", "draws"].iloc[0])
    4
    """
    first = next(c for c in errors.columns if c.startswith("mse_first"))
    edges = np.asarray(period_bins, np.float64)
    labels = [f"{lo:g}-{hi:g}" for lo, hi in zip(edges[:-1], edges[1:])]
    binned = pd.cut(errors["longest_period"], edges, labels=labels, include_lowest=True).astype(str)
    rows = []
    for label in errors["set"].unique():
        for periods in ["all", *labels]:
            for method in errors["method"].unique():
                pick = (errors["set"] == label) & (errors["method"] == method)
                if periods != "all":
                    pick &= binned == periods
                e = errors[pick]
                if len(e):
                    rows.append({"set": label, "periods": periods, "method": method, "draws": len(e),
                                 "median_mse": e["mse"].median(), "worst_mse": e["mse"].max(),
                                 f"median_{first}": e[first].median(), f"worst_{first}": e[first].max()})
    return pd.DataFrame(rows)


def clock_exact_rates(digits, t) -> dict:
    """Fractions of ``t`` whose predicted ``digits`` ``[n, 3]`` are exactly right (all three, and each).

    >>> t = np.array([-1, 59])
    >>> clock_exact_rates(signals.clock_digits(t), t)
    {'exact': 1.0, 'hh': 1.0, 'mm': 1.0, 'ss': 1.0, 'errors': 0}
    """
    truth = signals.clock_digits(np.asarray(t).reshape(-1))
    digits = np.asarray(digits)
    if digits.size != truth.size:
        raise ValueError(f"digits has shape {digits.shape}; expected [{len(truth)}, 3] (HH, MM, SS per timestamp)")
    ok = digits.reshape(truth.shape) == truth
    return {"exact": float(ok.all(axis=1).mean()), **{k: float(ok[:, i].mean()) for i, k in enumerate(("hh", "mm", "ss"))},
            "errors": int((~ok.all(axis=1)).sum())}

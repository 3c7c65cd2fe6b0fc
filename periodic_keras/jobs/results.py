"""Result tables (CSV + markdown) and plots, written atomically."""

from __future__ import annotations

import io
import math
import os

import numpy as np
import pandas as pd

from periodic_keras._io import atomic_write_bytes, atomic_write_text

__all__ = ["variants_table", "plot_extrapolation", "plot_generation", "plot_periodogram_and_errors", "plot_predictions", "plot_sequence", "to_markdown", "write_table"]


def _cell(value) -> str:
    if value is pd.NA or value is None:
        return ""
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
    plt = pyplot()
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
    return save_figure(fig, path)


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path) -> str:
    """Write ``fig`` as a PNG atomically and close it."""
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    pyplot().close(fig)
    atomic_write_bytes(path, buf.getvalue())
    return os.fspath(path)


def plot_generation(warmup, forecast, truth, path: str, titles=None, start: int = 0,
                    xlabel: str = "step", ylabel: str = "value") -> str:
    """Warm-up, closed-loop forecast and true continuation, one panel per series.

    Like the classic demo's figure: the warm-up prefix as a solid line, the generated
    future dashed, the truth thin underneath, and the forecast error on a second axis row.

    Args:
        warmup: ``[n, steps]`` values the model was warmed up on.
        forecast, truth: ``[n, horizon]`` generated and true continuations.
        path: PNG file to write.
        titles: optional panel titles.
        start: x-axis value of the first warm-up step.

    >>> import tempfile, os
    >>> t = np.arange(30) / 3.0
    >>> p = plot_generation(np.sin(t[:20])[None], np.sin(t[20:])[None] + 0.01, np.sin(t[20:])[None],
    ...                     os.path.join(tempfile.mkdtemp(), "g.png"))
    >>> os.path.getsize(p) > 0
    True
    """
    warmup, forecast, truth = (np.atleast_2d(np.asarray(a, np.float64)) for a in (warmup, forecast, truth))
    if forecast.shape != truth.shape or len(warmup) != len(forecast):
        raise ValueError(f"shapes disagree: warmup {warmup.shape}, forecast {forecast.shape}, truth {truth.shape}")
    plt = pyplot()
    n, w, h = len(warmup), warmup.shape[1], forecast.shape[1]
    fig, axes = plt.subplots(2, n, figsize=(5 * n, 5), squeeze=False, sharex="col",
                             gridspec_kw={"height_ratios": [3, 1]})
    t_w, t_f = start + np.arange(w), start + w + np.arange(h)
    for i in range(n):
        top, bottom = axes[0, i], axes[1, i]
        top.plot(t_w, warmup[i], color="tab:blue", lw=1.2, label="warm-up")
        top.plot(t_f, truth[i], color="0.6", lw=2.5, label="truth")
        top.plot(t_f, forecast[i], "--", color="tab:red", lw=1.2, label="forecast")
        top.axvline(start + w, color="k", lw=0.6)
        top.set_ylabel(ylabel)
        if titles is not None:
            top.set_title(titles[i])
        bottom.plot(t_f, forecast[i] - truth[i], color="tab:red", lw=0.8)
        bottom.axhline(0.0, color="k", lw=0.6)
        bottom.set_xlabel(xlabel)
        bottom.set_ylabel("error")
    axes[0, 0].legend(loc="lower left", fontsize=8)
    return save_figure(fig, path)


def plot_sequence(inputs, target, predictions: dict, path: str, title: str = "", zoom: int | None = None) -> str:
    """One held-out sequence: its input on top, the target and each model's output below.

    Args:
        inputs, target: ``[steps]`` values.
        predictions: ``{name: [steps] outputs}``, e.g. the naive setup and the fix.
        path: PNG file to write.
        title: figure title.
        zoom: also show the last ``zoom`` steps in a second column (long sequences).

    >>> import tempfile, os
    >>> t = np.arange(200)
    >>> p = plot_sequence(np.sin(t / 5), np.sin(t / 10), {"model": np.sin(t / 10) + 0.01},
    ...                   os.path.join(tempfile.mkdtemp(), "s.png"), zoom=50)
    >>> os.path.getsize(p) > 0
    True
    """
    x, y = np.asarray(inputs, np.float64).ravel(), np.asarray(target, np.float64).ravel()
    preds = {k: np.asarray(v, np.float64).ravel() for k, v in predictions.items()}
    if len(y) != len(x) or any(len(v) != len(x) for v in preds.values()):
        raise ValueError(f"inputs ({len(x)}), target ({len(y)}) and predictions "
                         f"({ {k: len(v) for k, v in preds.items()} }) must have the same length")
    plt = pyplot()
    spans = [slice(0, len(x))] + ([slice(len(x) - zoom, len(x))] if zoom and zoom < len(x) else [])
    fig, axes = plt.subplots(2, len(spans), figsize=(7 * len(spans), 5), squeeze=False, sharex="col",
                             gridspec_kw={"height_ratios": [1, 2]})
    t = np.arange(len(x))
    for j, sl in enumerate(spans):
        axes[0, j].plot(t[sl], x[sl], color="tab:blue", lw=1.0)
        axes[0, j].set_ylabel("input")
        axes[1, j].plot(t[sl], y[sl], color="0.6", lw=3.0, label="target")
        for k, (name, p) in enumerate(preds.items()):
            axes[1, j].plot(t[sl], p[sl], "--" if k else "-", lw=1.2, label=name)
        axes[1, j].set_xlabel("step")
        axes[1, j].set_ylabel("output")
        if j:
            axes[0, j].set_title(f"last {zoom} steps")
    axes[1, 0].legend(loc="lower left", fontsize=8)
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)


#: Line colours of :func:`plot_extrapolation`'s models: the default cycle without its grey (C7),
#: which the truth uses.
_MODEL_COLORS = ("C0", "C1", "C2", "C3", "C4", "C5", "C6", "C8", "C9")


def plot_extrapolation(curves: dict, interval, path: str, title: str = "", dashed=()) -> str:
    """One panel per curve set: truth, every model, the training ``interval`` shaded.

    Args:
        curves: ``{panel title: (x, truth, {model: prediction})}``.
        interval: ``(low, high)`` of the training data, shaded.
        path: PNG file to write.
        dashed: model names drawn as dotted reference lines (baselines).

    >>> import tempfile, os
    >>> x = np.linspace(-2, 2, 50)
    >>> p = plot_extrapolation({"sin": (x, np.sin(x), {"m": np.sin(x) + 0.1})}, (-1, 1),
    ...                        os.path.join(tempfile.mkdtemp(), "e.png"))
    >>> os.path.getsize(p) > 0
    True
    """
    low, high = interval
    plt = pyplot()
    fig, axes = plt.subplots(len(curves), 1, figsize=(11, 3.3 * len(curves)), squeeze=False)
    for ax, (name, (x, truth, preds)) in zip(axes[:, 0], curves.items()):
        ax.axvspan(low, high, color="0.92", label="training interval")
        ax.plot(x, truth, color="0.45", lw=3.0, label="truth")
        for k, (model, pred) in enumerate(preds.items()):
            if model in dashed:
                ax.plot(x, pred, lw=0.9, ls=":", color="k" if k == 0 else "0.5", label=model)
            else:
                ax.plot(x, pred, lw=1.1, color=_MODEL_COLORS[k % len(_MODEL_COLORS)], label=model)
        pad = 0.5 * (truth.max() - truth.min()) + 0.5
        ax.set_ylim(truth.min() - pad, truth.max() + pad)  # a diverging model leaves the panel, not the scale
        ax.set_xlim(x[0], x[-1])
        ax.set_title(name)
        ax.set_xlabel("x")
    axes[0, 0].legend(loc="upper left", fontsize=8, ncol=4)
    fig.suptitle(title)
    return save_figure(fig, path)


def plot_periodogram_and_errors(omegas, power, normalised_errors, path: str, left_title: str = "",
                                right_title: str = "") -> str:
    """Left: a periodogram over angular frequency. Right: estimation errors in units of the
    Cramér–Rao bound, against the standard normal density (an estimator at the bound).

    >>> import tempfile, os
    >>> w = np.linspace(0.1, 5, 50)
    >>> p = plot_periodogram_and_errors(w, np.exp(-(w - 2) ** 2), np.random.default_rng(0).normal(size=100),
    ...                                 os.path.join(tempfile.mkdtemp(), "f.png"))
    >>> os.path.getsize(p) > 0
    True
    """
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.6))
    left.plot(omegas, power, lw=0.6)
    left.set_xlabel("omega (rad / unit of x)")
    left.set_ylabel("Lomb–Scargle power")
    left.set_title(left_title)
    z = np.linspace(-4, 4, 200)
    right.hist(normalised_errors, bins=min(40, max(5, len(normalised_errors) // 5)), density=True, alpha=0.7,
               label="(fit - omega) / CRLB")
    right.plot(z, np.exp(-0.5 * z**2) / np.sqrt(2 * np.pi), "k--", lw=1, label="N(0, 1): at the bound")
    right.set_xlabel("error / CRLB")
    right.set_title(right_title)
    right.legend(fontsize=8)
    return save_figure(fig, path)


#: The figure each task's export records per variant and runtime, as ``(label, key path)``.
_TASK_FIGURES = {"freq": ("RMSE / CRLB at 10 dB", ("rmse_over_crlb_10dB",)),
                 "clock": ("exact on 10^6 timestamps", ("exact_test",)),
                 "generator": ("MSE of 1000 generated steps", ("free_mse_1000",)),
                 "generator_family": ("MSE of 1000 generated steps (2 unseen sines)", ("free_mse_1000",)),
                 "divider": ("stream MSE (8 x 5120 steps)", ("test_mse_8",)),
                 "burst": ("wrong steps (1000 x 130)", ("test_130", "wrong_steps")),
                 "fundamental": ("gross errors (400 validation windows)", ("gross",))}


def variants_table(task_dirs) -> pd.DataFrame:
    """Every exported variant of every task in ``task_dirs``, in each runtime: one row per
    (export directory, variant, runtime) with the task, bytes, max abs difference to Keras, the
    TFLM arena, the task's own figure (:data:`_TASK_FIGURES`) or why the runtime cannot run it;
    variants that did not convert, or that the export refused (a worse figure), are listed with
    the reason. Read from each ``metadata.json``.

    >>> import os
    >>> t = variants_table([os.path.join(os.path.dirname(__file__), "..", "..", "exported", "burst")])
    >>> sorted(set(t.runtime)), "int8" in set(t.variant)
    (['litert', 'tflm'], True)
    """
    from periodic_keras import edge

    rows = []
    for task_dir in task_dirs:
        meta = edge.read_metadata(task_dir)
        label, path = _TASK_FIGURES.get(meta["task"], ("", ()))
        name = os.path.basename(os.path.normpath(task_dir))
        for variant, entry in meta["tflite"].items():
            for runtime, figures in (("litert", entry), ("tflm", entry.get("tflm") or {"runs": None})):
                value = figures
                for key in path:
                    value = value.get(key) if isinstance(value, dict) else None
                runs = figures.get("runs", True) if runtime == "tflm" else True
                rows.append({"export": name, "task": meta["task"], "variant": variant, "runtime": runtime,
                             "bytes": entry.get("bytes"),
                             "runs": runs, "max_abs_diff_to_keras": figures.get("parity_max_abs_diff"),
                             "arena_bytes": figures.get("arena_bytes"), "figure": label if path else "",
                             "value": value if path else None, "note": figures.get("error", "")})
        for variant, reason in (meta.get("not_converted") or {}).items():
            rows.append({"export": name, "task": meta["task"], "variant": variant, "runtime": "", "runs": False,
                         "note": f"not converted: {str(reason).splitlines()[0]}"})
        for variant, refused in (meta.get("refused") or {}).items():
            rows.append({"export": name, "task": meta["task"], "variant": variant, "runtime": "", "runs": False,
                         "bytes": refused.get("bytes"), "note": f"refused: {refused['reason']}"})
    table = pd.DataFrame(rows)
    for column in ("bytes", "arena_bytes"):
        table[column] = table[column].astype("Int64")
    # TFLM's reason, without the kernel's source line
    table["note"] = table["note"].fillna("").str.replace(r"tensorflow/lite/micro/kernels/\S+ ", "", regex=True)
    return table

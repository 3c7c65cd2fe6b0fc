"""The extrapolation study: do periodic activations continue a periodic function?

:func:`benchmark_activations` trains one small MLP per (function, activation) on points of
one interval of a periodic function and measures the error inside that interval (held-out
points) and beyond it on both sides. ``scripts/benchmark_activations.py`` only parses its
arguments and calls it.

Every model sees its input scaled to ``[-1, 1]`` by the training interval (a SIREN needs
that, and the comparison stays fair), trains with the same optimizer, steps, data and
seed, and is compared with two baselines that give the numbers a scale: the training mean
and a least-squares line.
"""

from __future__ import annotations

import math
import numbers
import os
import time

import numpy as np

from periodic_keras.jobs.common import job, open_output, summary
from periodic_keras.signals import as_rng, check_positive_int

__all__ = ["ACTIVATIONS", "FUNCTIONS", "activations_summary", "benchmark_activations"]

#: Target functions of ``x``: name -> (formula, NumPy function).
FUNCTIONS = {
    "sin": ("sin(x)", lambda x: np.sin(x)),
    "x_plus_sin": ("x + sin(x)", lambda x: x + np.sin(x)),
    "two_sines": ("sin(x) + 0.5 sin(2.5 x)", lambda x: np.sin(x) + 0.5 * np.sin(2.5 * x)),
}
#: The MLPs compared: ``periodic_keras.models.ACTIVATIONS``, repeated here so that
#: importing the job (and checking a command line) loads no Keras; a test keeps the two equal.
ACTIVATIONS = ("relu", "tanh", "snake", "sine", "fourier", "fan")
#: The baselines' rows in the results table.
BASELINES = ("train mean", "linear fit")


def _check_names(kind, names, known):
    if isinstance(names, str):
        names = (names,)
    names = tuple(names)
    if not names:
        raise ValueError(f"{kind} must name at least one of {tuple(known)}")
    for name in names:
        if name not in known:
            raise ValueError(f"unknown {kind[:-1]} {name!r}: expected one of {tuple(known)}")
    if len(set(names)) != len(names):
        raise ValueError(f"{kind} lists {next(n for n in names if names.count(n) > 1)!r} twice")
    return names


def _check_number(name, value, positive=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if positive and not value > 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return float(value)


def _check_interval(interval):
    try:
        low, high = interval
    except (TypeError, ValueError):
        raise ValueError(f"train_interval must be a pair LOW HIGH, got {interval!r}") from None
    low, high = _check_number("train_interval LOW", low), _check_number("train_interval HIGH", high)
    if not low < high:
        raise ValueError(f"train_interval must have LOW < HIGH, got {low:g} {high:g}")
    return low, high


def _mse(pred, truth):
    return float(np.mean((np.asarray(pred, np.float64).ravel() - truth) ** 2))


@job()
def benchmark_activations(
    functions=tuple(FUNCTIONS),
    activations=ACTIVATIONS,
    train_interval=(-2 * math.pi, 2 * math.pi),
    extrapolation: float = 1.0,
    n_train: int = 512,
    n_eval: int = 1000,
    width: int = 64,
    depth: int = 3,
    steps: int = 3000,
    batch_size: int = 128,
    learning_rate: float = 3e-3,
    snake_alpha: float = 5.0,
    sine_omega0: float = 30.0,
    fourier_scale: float = 1.0,
    seed: int = 0,
    output_dir: str = "runs/activations",
    verbose: int = 1,
) -> dict:
    """Train small MLPs on one interval of periodic functions; measure inside and outside it.

    For every function in ``functions`` (keys of :data:`FUNCTIONS`): ``n_train`` points
    drawn uniformly from ``train_interval``; one :func:`activation_mlp` per entry of
    ``activations`` trained on them (input scaled to ``[-1, 1]`` by the interval, MSE,
    Adam with cosine decay from ``learning_rate`` over ``steps`` batches of
    ``batch_size``, the same seed for all). Evaluated on ``n_eval`` evenly spaced points
    in the training interval (``mse_inside``) and in each of the two intervals of
    ``extrapolation`` training-interval widths beyond it (``mse_left``,
    ``mse_right``; ``mse_outside`` is their mean). Baselines: the training mean and a
    least-squares line fitted to the training points.

    Outputs in ``output_dir``: ``results.csv``/``.md`` (one row per function and model:
    trainable parameters, the four MSEs, training seconds) and ``activations.png``
    (truth and every model over the whole range, the training interval shaded).

    Every argument is checked before anything is trained or written.

    Returns:
        dict with ``table`` (DataFrame), ``table_paths``, ``plot``, ``train_seconds``,
        ``models`` (``{(function, activation): keras.Model}``) and ``intervals``
        (``{"train": (low, high), "left": ..., "right": ...}`` in ``x``).

    Example (a tiny run)::

        out = benchmark_activations(functions=["sin"], activations=["tanh", "snake"], steps=50,
                                    output_dir="/tmp/act", verbose=0)
        print(out["table"])
    """
    functions = _check_names("functions", functions, FUNCTIONS)
    activations = _check_names("activations", activations, ACTIVATIONS)
    low, high = _check_interval(train_interval)
    extrapolation = _check_number("extrapolation", extrapolation, positive=True)
    check_positive_int(n_train=n_train, n_eval=n_eval, width=width, depth=depth, steps=steps, batch_size=batch_size)
    for name, value in (("learning_rate", learning_rate), ("snake_alpha", snake_alpha),
                        ("sine_omega0", sine_omega0), ("fourier_scale", fourier_scale)):
        _check_number(name, value, positive=True)
    span = high - low
    intervals = {"train": (low, high), "left": (low - extrapolation * span, low),
                 "right": (high, high + extrapolation * span)}
    open_output(output_dir)

    import pandas as pd
    import tensorflow as tf

    from periodic_keras import training
    from periodic_keras.jobs import results
    from periodic_keras.models import activation_mlp

    def scale(x):  # the training interval -> [-1, 1], for every model alike
        return ((2.0 * (x - low) / span) - 1.0).astype(np.float32)[:, None]

    grids = {k: np.linspace(a, b, n_eval) for k, (a, b) in intervals.items()}
    x_train = np.sort(as_rng(seed).uniform(low, high, n_train))
    x_plot = np.concatenate([grids["left"], grids["train"], grids["right"]])
    rows, models, curves, total = [], {}, {}, 0.0
    for f_name in functions:
        f = FUNCTIONS[f_name][1]
        y_train = f(x_train)
        truth = {k: f(g) for k, g in grids.items()}
        preds = {}

        def add_row(model_name, pred, params, seconds):  # pred: on x_plot = left, train, right grids
            pred = np.asarray(pred, np.float64).ravel()
            errors = {k: _mse(pred[i * n_eval : (i + 1) * n_eval], truth[k])
                      for i, k in enumerate(("left", "train", "right"))}
            rows.append({"function": f_name, "model": model_name, "params": params, "mse_inside": errors["train"],
                         "mse_left": errors["left"], "mse_right": errors["right"],
                         "mse_outside": 0.5 * (errors["left"] + errors["right"]), "train_s": seconds})
            preds[model_name] = pred
            if verbose:
                print(f"{f_name} / {model_name}: mse inside {errors['train']:.3g}, outside "
                      f"{rows[-1]['mse_outside']:.3g}" + ("" if math.isnan(seconds) else f" ({seconds:.1f} s)"),
                      flush=True)

        mean = float(np.mean(y_train))
        add_row("train mean", np.full(len(x_plot), mean), 1, float("nan"))
        slope, intercept = np.polyfit(x_train, y_train, 1)
        add_row("linear fit", slope * x_plot + intercept, 2, float("nan"))
        for act in activations:
            training.set_seed(seed)
            # A fresh pipeline per model: every model sees the same batches in the same order.
            data = (tf.data.Dataset.from_tensor_slices((scale(x_train), y_train.astype(np.float32)[:, None]))
                    .shuffle(n_train, seed=seed, reshuffle_each_iteration=True).repeat().batch(batch_size))
            model = activation_mlp(act, width, depth, seed=seed, snake_alpha=snake_alpha, sine_omega0=sine_omega0,
                                   fourier_scale=fourier_scale)
            training.compile_regressor(model, steps, learning_rate)
            start = time.time()
            training.fit(model, data, steps, steps_per_epoch=steps, verbose=0)
            seconds = time.time() - start
            total += seconds
            models[f_name, act] = model
            params = int(sum(np.prod(w.shape) for w in model.trainable_weights))
            add_row(act, model(scale(x_plot), training=False), params, round(seconds, 1))
        curves[f_name] = (x_plot, np.concatenate([truth["left"], truth["train"], truth["right"]]), preds)

    table = pd.DataFrame(rows)
    table_paths = results.write_table(table, os.path.join(output_dir, "results"))
    plot = results.plot_extrapolation(
        {FUNCTIONS[name][0]: curve for name, curve in curves.items()}, (low, high),
        os.path.join(output_dir, "activations.png"), dashed=BASELINES,
        title=
        f"trained on [{low:.3g}, {high:.3g}] ({n_train} points, {steps} steps); "
        f"extrapolated to [{intervals['left'][0]:.3g}, {intervals['right'][1]:.3g}]")
    return dict(table=table, table_paths=table_paths, plot=plot, train_seconds=total, models=models,
                intervals=intervals)


def activations_summary(result: dict) -> str:
    """Human-readable summary of :func:`benchmark_activations`: intervals, table, paths.

    >>> import pandas as pd
    >>> out = dict(table=pd.DataFrame({"model": ["tanh"], "mse_outside": [0.5]}), train_seconds=1.0,
    ...            table_paths=("r.csv", "r.md"), plot="a.png", intervals={"train": (-1.0, 1.0),
    ...            "left": (-3.0, -1.0), "right": (1.0, 3.0)})
    >>> print(activations_summary(out).splitlines()[0])
    trained on x in [-1, 1]; mse_inside on held-out points there, mse_left on [-3, -1], mse_right on [1, 3]
    """
    iv = result["intervals"]
    head = (f"trained on x in [{iv['train'][0]:.4g}, {iv['train'][1]:.4g}]; mse_inside on held-out points there, "
            f"mse_left on [{iv['left'][0]:.4g}, {iv['left'][1]:.4g}], "
            f"mse_right on [{iv['right'][0]:.4g}, {iv['right'][1]:.4g}]")
    return f"{head}\n\n{summary(result)}"

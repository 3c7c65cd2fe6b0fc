"""The family generator job: one generator that continues any sum of sines it is warmed up on.

:func:`train_family_generator` builds :func:`periodic_keras.models.oscillator_generator`,
trains its LSTM residual on the family of :mod:`periodic_keras.classical.family` (optional), and
evaluates it on unseen draws -- single sines, two- and three-sine sums, noisy warm-ups --
beside the least-squares oracle that knows the tone count, the classic one-sine generator
and predicting zero; then exports the step model to ``exported/generator_family/``.
``python scripts/train_generator.py --dataset family`` calls it.
"""

from __future__ import annotations

import numbers
import os
import time

import numpy as np

from periodic_keras._io import atomic_write_text
from periodic_keras.classical import FAMILY_PERIODS, check_warmup
from periodic_keras.jobs.common import finish, job, open_output, phase, summary
from periodic_keras.signals import check_nonnegative_int, check_positive_int, check_range

__all__ = ["DEFAULT_STEPS", "EVAL_SETS", "family_generator_summary", "train_family_generator"]

#: Training steps of the LSTM residual by default.
DEFAULT_STEPS = 0

#: The evaluation's draw sets: (label, tones, warm-up noise std; None: the job's ``eval_noise``).
EVAL_SETS = (("1 tone", 1, 0.0), ("2 tones", 2, 0.0), ("3 tones", 3, 0.0), ("1 tone, noisy warm-up", 1, None))
#: Export parity over a whole closed-loop run of two single sines: a marginally stable recurrence
#: turns the round-off differences between TFLite's and Keras's kernels into a slowly growing
#: phase shift (measured: at most 1.1e-4 over 1000 steps on 20 single sines, but up to 1.7e-2 on
#: two-sine sums, whose frequencies are worse conditioned; the export records their on-device MSE).
PARITY_TOLERANCE = 1e-3
#: A variant whose generated MSE is this many times the float32 file's is left out of the export.
VARIANT_LIMIT = 10.0


def _check_options(units, tolerance, steps, batch_size, window, learning_rate, noise_std, train_series, warmup,
                   horizon, test_draws, eval_noise):
    check_positive_int(units=units, batch_size=batch_size, window=window, train_series=train_series,
                       horizon=horizon, test_draws=test_draws)
    check_nonnegative_int(steps=steps)  # 0: the residual stays untrained
    for name, value in (("tolerance", tolerance), ("learning_rate", learning_rate)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < np.inf:
            raise ValueError(f"{name} must be a positive number, got {value!r}")
    for name, value in (("noise_std", noise_std), ("eval_noise", eval_noise)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < np.inf:
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    warmup = check_warmup(warmup)
    if steps and window >= warmup + horizon:
        raise ValueError(f"window {window} does not fit in the training series of {warmup + horizon} steps")
    return warmup


def _train(model, steps, batch_size, window, learning_rate, noise_std, train_series, tones, length, seed, run_dir,
           verbose):
    """Teacher-forced training of the LSTM residual on random windows of clean family draws,
    inputs noisy at ``noise_std`` (targets clean): the oscillator has no weights to learn."""
    from periodic_keras import training
    from periodic_keras.classical import family_split
    from periodic_keras.data import random_windows

    train = family_split(train_series, length, "train", seed=seed, tones=tones).clean
    data = random_windows(train, window, batch_size, noise_std, seed=seed)
    training.compile_regressor(model, steps, learning_rate)
    training.fit(model, data, steps, steps_per_epoch=min(steps, 250), run_dir=run_dir, verbose=verbose,
                 run_args={"seed": seed, "tones": list(tones), "train_series": train_series, "noise_std": noise_std})


def _classic(classic_dir, prefix, horizon):
    """The classic one-sine generator's continuation from its export, or None if absent."""
    from periodic_keras import edge

    if classic_dir is None or not os.path.isfile(os.path.join(classic_dir, edge.METADATA)):
        return None
    return edge.load_step(classic_dir).generate(prefix, horizon)


@job(evaluation_only=("warmup", "horizon", "test_draws", "eval_noise", "classic_dir"))
def train_family_generator(
    units: int = 8,
    tolerance: float = 1e-3,
    steps: int = DEFAULT_STEPS,
    batch_size: int = 32,
    window: int = 200,
    learning_rate: float = 1e-3,
    noise_std: float = 0.01,
    train_series: int = 256,
    tones=(1, 2),
    warmup: int = 300,
    horizon: int = 1000,
    test_draws: int = 50,
    eval_noise: float = 0.01,
    classic_dir: str | None = "exported/generator",
    seed: int = 0,
    output_dir: str = "runs/generator_family",
    export_dir: str | None = "exported/generator_family",
    no_export: bool = False,
    verbose: int = 1,
    restart: bool = False,
) -> dict:
    """Build, (optionally) train, evaluate and export the family generator.

    The model is :func:`periodic_keras.models.oscillator_generator` (``units`` LSTM units,
    the oscillator's ``tolerance``). With ``steps > 0`` its LSTM residual trains
    teacher-forced for ``steps`` batches of ``batch_size`` random ``window``-step windows
    of ``train_series`` clean training draws with ``tones`` tones, inputs noisy at
    ``noise_std`` (the oscillator itself has no weights).

    Evaluation, on ``test_draws`` unseen draws per set of :data:`EVAL_SETS` (single sines,
    two- and three-sine sums, single sines whose warm-up has noise ``eval_noise``; periods
    10-100 steps, amplitudes 0.2-2): warm up on ``warmup`` steps, generate ``horizon``
    steps closed-loop, MSE against the clean continuation over all of them and the first
    200, beside the least-squares oracle (:func:`periodic_keras.classical.oracle_forecast`: the
    true tone count), the classic generator exported at ``classic_dir`` (skipped if absent)
    and predicting zero.

    Outputs in ``output_dir``: ``results.csv``/``.md`` (median and worst per set, period
    range and method), ``draws.csv`` (every draw's parameters and errors),
    ``generation.png``; the step model in ``export_dir`` (float32 TFLite, with the LiteRT and
    TFLM figures; a variant whose MSE is above :data:`VARIANT_LIMIT` x float32's, or that
    produces NaN, is left out and the metadata says why).

    Returns:
        dict with ``model``, ``table``, ``draws``, ``table_paths``, ``plot``,
        ``train_seconds``, ``export`` (metadata or ``None``), ``export_dir``.

    Example (a tiny run)::

        out = train_family_generator(warmup=100, horizon=200, test_draws=4, classic_dir=None,
                                     output_dir="/tmp/family", no_export=True)
        print(out["table"])
    """
    tones = check_range("tones", tones, 1, integer=True)
    warmup = _check_options(units, tolerance, steps, batch_size, window, learning_rate, noise_std, train_series,
                            warmup, horizon, test_draws, eval_noise)
    open_output(output_dir, None if no_export else export_dir)

    import pandas as pd

    from periodic_keras import export, training
    from periodic_keras.classical import family_split, oracle_forecast
    from periodic_keras.jobs import evaluate, results
    from periodic_keras.layers import MIN_SAMPLES
    from periodic_keras.models import generate, oscillator_generator, step_model

    training.set_seed(seed)
    model = oscillator_generator(units, tolerance)
    start = time.time()
    if steps:
        _train(model, steps, batch_size, window, learning_rate, noise_std, train_series, tones, warmup + horizon,
               seed, phase(output_dir, "train"), verbose)
    train_seconds = time.time() - start

    frames, sets = [], {}
    for label, k, noise in EVAL_SETS:
        draws = family_split(test_draws, warmup + horizon, "test", seed=seed, tones=k,
                             noise_std=eval_noise if noise is None else noise)
        prefix = draws.x[:, :warmup]
        forecasts = {"family_generator": generate(model, prefix, horizon),
                     "least_squares_oracle": oracle_forecast(draws, warmup, horizon)}
        classic = _classic(classic_dir, prefix, horizon)
        if classic is not None:
            forecasts["classic_generator"] = classic
        forecasts["zero"] = np.zeros_like(forecasts["family_generator"])
        frames.append(evaluate.family_errors(forecasts, draws, warmup, label))
        sets[label] = (draws, forecasts["family_generator"])
    per_draw = pd.concat(frames, ignore_index=True)
    table = evaluate.family_summary(per_draw)
    table_paths = results.write_table(table, os.path.join(output_dir, "results"))
    atomic_write_text(os.path.join(output_dir, "draws.csv"), per_draw.to_csv(index=False))  # recorded as the run's

    # The figure: the shortest and longest single sine, and the median two-sine sum.
    single, forecast1 = sets["1 tone"]
    double, forecast2 = sets["2 tones"]
    short, long = int(np.argmin(single.periods[:, 0])), int(np.argmax(single.periods[:, 0]))
    mse2 = np.mean((forecast2 - double.clean[:, warmup:]) ** 2, axis=1)
    middle = int(np.argsort(mse2)[len(mse2) // 2])
    picks = [(single, forecast1, short), (single, forecast1, long), (double, forecast2, middle)]
    plot = results.plot_generation(
        np.stack([d.x[i, :warmup] for d, _, i in picks]), np.stack([f[i] for _, f, i in picks]),
        np.stack([d.clean[i, warmup:] for d, _, i in picks]), os.path.join(output_dir, "generation.png"),
        titles=[f"periods {', '.join(f'{p:.1f}' for p in d.periods[i, :d.n_tones[i]])} steps" for d, _, i in picks])

    meta = None
    if not no_export:
        # Parity on the two single sines; the two-sine sum's MSE is recorded per variant and runtime.
        prefix = np.stack([d.x[i, :warmup] for d, _, i in picks])
        truth = np.stack([d.clean[i, warmup:] for d, _, i in picks])
        figure = f"free_mse_{horizon}"

        def figures(runner, *_):
            err = (runner.generate(prefix, horizon) - truth) ** 2
            return {figure: float(err[:2].mean()), f"{figure}_two_sines": float(err[2].mean())}

        summary = table[(table["method"] == "family_generator") & (table["periods"] == "all")]
        meta = export.export_step_model(
            step_model(model, batch_size=1), export_dir, "generator_family", prefix[:2], n_steps=horizon,
            variants=("float32", "float16", "int8"), reference=np.stack([f[i] for _, f, i in picks[:2]]),
            evaluate=figures, figure_limit=(figure, VARIANT_LIMIT), tolerance=PARITY_TOLERANCE,
            metadata={
                "description": ("next-step generator for any sum of up to three sines (an exact least-squares "
                                "oscillator beside an LSTM residual); stream it: warm up, then feed y back"),
                "data": (f"family: 1-3 sines, periods {FAMILY_PERIODS[0]:g}-{FAMILY_PERIODS[1]:g} steps, "
                         "amplitudes 0.2-2, random phases"),
                "normalisation": "none",
                "usage": (f"warm up on at least {MIN_SAMPLES[1]} samples of a sine, {MIN_SAMPLES[2]} of a sum of "
                          "two (a few periods are better; until then y repeats x), then feed back the exact float32 "
                          "y: an input bit-equal to the last output is taken as feedback, which freezes the "
                          "oscillator's estimate"),
                "evaluation": {r.set: {"draws": int(r.draws), "warmup": warmup, "horizon": horizon,
                                       "median_mse": float(r.median_mse), "worst_mse": float(r.worst_mse)}
                               for r in summary.itertuples()},
                "training": {"units": units, "tolerance": tolerance, "steps": steps, "batch_size": batch_size,
                             "window": window, "learning_rate": learning_rate, "noise_std": noise_std,
                             "train_series": train_series, "tones": list(tones), "seed": seed,
                             "seconds": round(train_seconds, 1)},
            },
        )
    finish(output_dir)
    return dict(model=model, table=table, draws=per_draw, table_paths=table_paths, plot=plot,
                train_seconds=train_seconds, export=meta, export_dir=None if no_export else export_dir)


def family_generator_summary(result: dict) -> str:
    """Human-readable summary of :func:`train_family_generator`: the all-period rows (the
    per-period rows are in ``results.md``), timing, paths and the export's figures."""
    table = result["table"]
    return summary({**result, "table": table[table["periods"] == "all"].drop(columns="periods")},
                   lambda k, v, meta: f"{k} max|diff| {v['parity_max_abs_diff']:.2g} over "
                                      f"{meta['parity']['generated_steps']} steps, MSE "
                                      f"{v[next(f for f in v if f.startswith('free_mse'))]:.2g}, "
                                      f"{v['ms_per_step']:.3f} ms/step")

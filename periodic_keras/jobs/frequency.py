"""The frequency job: train, evaluate and export the frequency regressor.

``scripts/train_freq.py`` only parses arguments and calls :func:`train_frequency`;
the same call in a notebook gives the same run, table, plot and export.
"""

from __future__ import annotations

import os
import time

import numpy as np

from periodic_keras.jobs.common import finish, job, phase, start_strategy, summary
from periodic_keras.signals import check_frequency_range, check_hedge, check_nonnegative_int, check_positive_int

__all__ = ["DEFAULT_EVAL_SNRS", "DSP_LAYERS", "FRONTENDS", "HEDGE_TEMPERATURE", "MICRO", "REFINE_FROM", "VARIANT_LIMIT",
           "frequency_summary", "train_frequency"]

#: Keep in sync with periodic_keras.models.FRONTENDS and REFINE_FROM (checked by the tests).
FRONTENDS = ("spectral", "conv", "none")
REFINE_FROM = ("all", "lstm")
#: Keep in sync with periodic_keras.models.HEDGE_TEMPERATURE (checked by the tests).
HEDGE_TEMPERATURE = 1.25
#: Evaluation conditions (periodic_keras.jobs.evaluate.DEFAULT_SNRS, repeated so that checking a
#: command line loads no TensorFlow; a test keeps the two equal).
DEFAULT_EVAL_SNRS = (None, 40.0, 30.0, 20.0, 10.0, 5.0, 0.0, -3.0, -6.0, -10.0)
#: The microcontroller model (``train_frequency(**MICRO, export_dir="exported/freq_micro")``,
#: ``scripts/train_freq.py --preset micro``): one spectral bin per cycle, 16 features per bin,
#: bin stride 8, 8 LSTM units trained on their own estimate, then a 2-step refinement from that
#: estimate and the three strongest peaks (the best fit wins), no hedge. Its mixed int8 file is
#: about 60 KB. ``refine_from="lstm"`` (the estimate only) saves 12 KB and a quarter of the arena
#: but breaks down below 0 dB (6.8 x CRLB at -3 dB instead of 1.14).
MICRO = dict(lstm_units=8, dense_units=16, bin_units=16, bin_stride=8, oversample=1, refine_steps=2,
             refine_from="all", hedge=None, train_on_estimate=True, steps=2000, batch_size=64,
             train_snr=(-3.0, 40.0), clean_fraction=0.2)
#: Layers of the frequency model the int8 variant keeps float32 (with the output): the
#: standardisation, spectrum, Gauss-Newton refinement and posterior need float range (TFLM
#: has no int8 EXP or LOG) and the answer needs float resolution. The learned layers are int8.
DSP_LAYERS = ("standardize", "spectrum", "lstm_estimate", "starts", "refined", "hedge_snr", "posterior_features",
              "temperature", "hedged", "cycles_per_window")
#: The export leaves out a variant whose RMSE/CRLB at 10 dB (in LiteRT or TFLM) exceeds the
#: float32 variant's by more than this factor (float16 is 1.05 x: its DFT constants lose digits).
VARIANT_LIMIT = 1.1


@job(evaluation_only=("eval_snr", "n_test"))
def train_frequency(
    window: int = 100,
    fmin: float = 1.0,
    fmax: float = 30.0,
    train_snr=(-12.0, 40.0),
    clean_fraction: float = 0.25,
    eval_snr=DEFAULT_EVAL_SNRS,
    steps: int = 4000,
    batch_size: int = 256,
    learning_rate: float = 3e-3,
    lstm_units: int = 24,
    frontend: str = "spectral",
    dense_units: int = 64,
    bidirectional: bool = False,
    bin_stride: int = 4,
    refine_steps: int = 3,
    hedge: float | str | None = HEDGE_TEMPERATURE,
    oversample: int = 2,
    bin_units: int = 32,
    refine_from: str = "all",
    train_on_estimate: bool = False,
    n_test: int = 2000,
    seed: int = 0,
    output_dir: str = "runs/freq",
    export_dir: str | None = "exported/freq",
    no_export: bool = False,
    verbose: int = 1,
    strategy: str = "default",
    restart: bool = False,
) -> dict:
    """Train, evaluate and export the frequency regressor; return what it produced.

    Every argument is checked before any training starts. Outputs: ``results.csv`` /
    ``results.md`` (one row per estimator and SNR: MAE, RMSE, RMSE/CRLB, n) and
    ``predictions.png`` in ``output_dir``; the export in ``export_dir``. ``strategy``: see
    :mod:`periodic_keras.training.distributed` (under ``multi-worker`` run the same call on every
    worker; the chief writes ``output_dir`` and the export, worker ``i`` ``output_dir/worker-<i>``).

    ``output_dir`` must be new, empty or an earlier run's; ``export_dir`` new, empty or a
    previous export, and not the output directory: anything else is refused before any work
    (:mod:`periodic_keras.runs`), as is a second run in the same ``output_dir``. A run
    killed midway resumes when called again with the same arguments (other training
    arguments are refused, naming them); ``restart=True`` discards its backups instead.
    Every job of :mod:`periodic_keras.jobs` behaves the same way.

    ``train_on_estimate``: train the model built with ``refine_steps=0`` (the loss on the
    LSTM's own estimate), then evaluate and export it with the refinement (same weights):
    with ``refine_from="lstm"`` the refinement's only start is that estimate, which a
    refinement in the training loss would leave untrained. :data:`MICRO` uses it.

    The export holds float32, float16 and ``int8``: the learned layers int8, :data:`DSP_LAYERS`
    and the output float32 (a microcontroller's file, run in TFLM at export); a variant more
    than :data:`VARIANT_LIMIT` times the float32's RMSE/CRLB at 10 dB is left out (``refused`` says why).

    Returns:
        dict with ``model``, ``table`` (DataFrame), ``table_paths``, ``plot``,
        ``train_seconds`` and ``export`` (the metadata, or ``None``).

    Example (a tiny run)::

        out = train_frequency(steps=20, n_test=50, output_dir="/tmp/f", no_export=True)
        print(out["table"])
    """
    check_frequency_range(window, fmin, fmax)
    check_positive_int(steps=steps, batch_size=batch_size, lstm_units=lstm_units, n_test=n_test,
                       dense_units=dense_units, bin_stride=bin_stride, oversample=oversample,
                       bin_units=bin_units)
    check_nonnegative_int(refine_steps=refine_steps)
    check_hedge(hedge)
    if frontend not in FRONTENDS:
        raise ValueError(f"unknown frontend {frontend!r}: expected one of {FRONTENDS}")
    if refine_from not in REFINE_FROM:
        raise ValueError(f"unknown refine_from {refine_from!r}: expected one of {REFINE_FROM}")
    if train_on_estimate and not refine_steps:
        raise ValueError("train_on_estimate needs refine_steps > 0 (it trains the estimate the refinement starts from)")
    if not 0.0 <= clean_fraction <= 1.0:
        raise ValueError(f"clean_fraction must lie in [0, 1], got {clean_fraction}")
    lo, hi = train_snr
    if not lo <= hi:
        raise ValueError(f"train_snr must be LOW <= HIGH, got {lo} {hi}")
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be positive, got {learning_rate}")
    strat, output_dir, export_dir, no_export = start_strategy(strategy, output_dir, export_dir, no_export)

    from periodic_keras import export, training
    from periodic_keras.jobs import evaluate, results
    from periodic_keras import classical
    from periodic_keras.data import frequency_arrays, frequency_dataset
    from periodic_keras.models import frequency_regressor, micro_variant

    training.set_seed(seed)
    train = frequency_dataset("train", window, fmin, fmax, (lo, hi), clean_fraction, batch_size, seed=seed)
    validation = frequency_dataset("validation", window, fmin, fmax, (lo, hi), clean_fraction, 1024,
                                   num_examples=2048, seed=seed)

    def build(refine_steps):
        return frequency_regressor(window, fmin, fmax, frontend=frontend, lstm_units=lstm_units,
                                   dense_units=dense_units, bidirectional=bidirectional, bin_stride=bin_stride,
                                   refine_steps=refine_steps, hedge=hedge, oversample=oversample,
                                   refine_from=refine_from, bin_units=bin_units)

    with strat.scope():
        model = build(0 if train_on_estimate else refine_steps)
        training.compile_regressor(model, steps, learning_rate)
    start = time.time()
    history = training.fit(model, train, steps, validation, steps_per_epoch=500,
                           run_dir=phase(output_dir, "train"), verbose=verbose, strategy=strat)
    train_seconds = time.time() - start
    if training.is_multi_worker(strat):
        model = training.local_model(model)  # plain variables to evaluate and export
    if train_on_estimate:  # the same weights, now with the refinement
        trained, model = model, build(refine_steps)
        model.set_weights(trained.get_weights())

    test_sets = evaluate.frequency_test_sets(window, fmin, fmax, eval_snr, n_test, seed)
    estimators = {"lstm": evaluate.keras_estimator(model), **_parts(model, evaluate),
                  "ml": evaluate.ml_estimator(fmin, fmax), "candan": evaluate.candan_estimator(fmin, fmax)}
    table, predictions = evaluate.frequency_table(
        estimators, test_sets, window, oracles={"mmse_known_snr": evaluate.mmse_estimator(fmin, fmax)})
    table = evaluate.trust_columns(table, predictions, test_sets, fmin, fmax)
    table_paths = results.write_table(table, os.path.join(output_dir, "results"))
    titles = {snr: "noiseless" if np.isinf(snr) else f"{snr:g} dB" for snr in test_sets}
    shown = [snr for snr in test_sets if snr in (np.inf, 20.0, 0.0, -6.0)] or list(test_sets)[:4]
    panels = {titles[snr]: (test_sets[snr][1], predictions[("lstm", snr)]) for snr in shown}
    strongest = {titles[snr]: predictions[("ml", snr)] for snr in shown} | {"_label": "ML"}
    plot = results.plot_predictions(panels, os.path.join(output_dir, "predictions.png"),
                                    ylabel="LSTM estimate (cycles/window)", baseline=strongest)

    meta = None
    if not no_export:
        x, f = frequency_arrays(500, "validation", window, fmin, fmax, snr_db=(0.0, 40.0),
                                clean_fraction=0.2, seed=seed + 1)
        figures = {
            f"{row.estimator}@{'clean' if np.isinf(row.snr_db) else f'{row.snr_db:g}dB'}": {
                "mae": row.mae, "rmse": row.rmse, "rmse_over_crlb": row.rmse_over_crlb, "n": row.n,
                "trusted": row.trusted, "ms_per_window": row.ms_per_window}
            for row in table.itertuples() if row.estimator != "crlb"
        }
        # The exported graph is the micro variant (same weights): DFTs as constant matmuls and GELU's
        # tanh form, ops TensorFlow Lite Micro has; how far it moves the trained model's answers is recorded.
        deployed = micro_variant(model)
        moved = float(np.max(np.abs(deployed.predict(x, verbose=0) - model.predict(x, verbose=0))))
        meta = export.export_model(
            # The in-graph refinement sums in float32: LiteRT's order of operations moves a noisy
            # window's answer by up to ~5.5e-4 cycles at 0 dB (measured over 500 windows; 8.5e-4 at
            # -6 dB), 1 % of its error bar there; the tolerance leaves room for that, not for a bug.
            deployed, export_dir, "freq", x, sample_targets=f, variants=("float32", "float16", "int8"),
            tolerance=2e-3, evaluate=_crlb_figures(window, fmin, fmax, seed), int8_activations="int8",
            int8_float_layers=[n for n in DSP_LAYERS if n in {layer.name for layer in deployed.layers}],
            figure_limit=("rmse_over_crlb_10dB", VARIANT_LIMIT),
            metadata={
                "description": "frequency of a sine window (many-to-one LSTM regressor)",
                "input": {"meaning": "raw window of samples; any amplitude/offset (standardised inside)",
                          "layout": "[1, window, 1]"},
                "output": {"meaning": "frequency", "units": "cycles per window",
                           "to_hz": "multiply by sample_rate_hz / window"},
                "normalisation": "none needed: standardisation and output scaling are inside the model",
                "deployed_graph": {"what": "micro_variant: factored DFTs, tanh GELU, LSTM unrolled; trained weights",
                                   "max_abs_diff_to_trained_model": moved},
                "int8_note": "mixed: the learned layers int8, the in-graph DSP (float_layers) and the output "
                             "float32. Full-integer quantisation does not fit the DSP: with int16 activations the "
                             "converter lacks DIV, SQRT, CUMSUM and comparisons; with int8 activations TFLM has no "
                             "int8 EXP or LOG, and an int8 output rounds the answer to its 8-bit step (2.2 x CRLB "
                             "at 10 dB instead of 0.98).",
                "window": window, "fmin": fmin, "fmax": fmax,
                "quality": {"thresholds": classical.THRESHOLDS,
                            "how": "edge: predict(x, return_quality=True) or quality(x); "
                                   "periodic_keras.classical.tone_quality fits the window at the estimate",
                            "outputs": ["trusted", "snr_db", "std", *classical.FLAGS]},
                "evaluation": figures,
                "training": {"steps": steps, "batch_size": batch_size, "learning_rate": learning_rate,
                             "seed": seed, "frontend": frontend, "lstm_units": lstm_units,
                             "dense_units": dense_units, "bidirectional": bidirectional, "bin_stride": bin_stride,
                             "refine_steps": refine_steps, "hedge": hedge, "oversample": oversample,
                             "bin_units": bin_units, "refine_from": refine_from,
                             "train_on_estimate": train_on_estimate,
                             "train_snr_db": [lo, hi], "clean_fraction": clean_fraction,
                             "seconds": round(train_seconds, 1)},
            },
        )
    finish(output_dir)  # the run is complete: a rerun starts afresh
    return dict(model=model, table=table, table_paths=table_paths, plot=plot, history=history.history,
                train_seconds=train_seconds, export=meta, export_dir=None if no_export else export_dir)


def _crlb_figures(window: int, fmin: float, fmax: float, seed: int, snr_db: float = 10.0, n: int = 1000):
    """``evaluate`` for the export: each variant's RMSE at ``snr_db`` over the Cramér–Rao bound,
    in the runtime that runs it (``n`` held-out windows)."""
    from periodic_keras import classical
    from periodic_keras.data import frequency_arrays

    x, f = frequency_arrays(n, "test", window, fmin, fmax, snr_db=snr_db, seed=seed + 7)
    bound = float(classical.crlb_frequency_std(snr_db, window))

    def figures(runner, variant, runtime):
        rmse = float(np.sqrt(np.mean((runner.predict(x) - f) ** 2)))
        return {f"rmse_{snr_db:g}dB": rmse, f"rmse_over_crlb_{snr_db:g}dB": rmse / bound}

    return figures


def _parts(model, evaluate) -> dict:
    """The trained model's stages as estimators of their own (what each contributes): the
    LSTM's estimate, that estimate refined, and the refinement without the LSTM's start
    (from the spectral peaks alone), each before the hedge; and with a fixed-temperature
    hedge, that refinement hedged (the whole pipeline without the LSTM)."""
    import keras

    from periodic_keras.layers import PeakPosterior, ToneRefinement

    names = {layer.name for layer in model.layers}
    if "refined" not in names:
        return {}
    refine = model.get_layer("refined")
    stages = {"lstm_only": model.get_layer("lstm_estimate").output, "lstm_refined": refine.output[0]}
    if "spectrum" in names:  # the same refinement from the spectral peaks alone, without the LSTM's start
        _, peak, others = model.get_layer("spectrum").output
        starts = keras.layers.Concatenate()([peak, others])
        stages["peaks_refined"] = ToneRefinement.from_config(refine.get_config() | {"name": "peaks_refined"})(
            [model.inputs[0], starts])[0]
        hedge = model.get_layer("hedged") if "hedged" in names else None
        if hedge is not None and len(hedge.input) == 2:  # a fixed temperature: no LSTM anywhere
            stages["peaks_hedged"] = PeakPosterior.from_config(hedge.get_config() | {"name": "peaks_hedged"})(
                [model.inputs[0], stages["peaks_refined"]])
    return {name: evaluate.keras_estimator(keras.Model(model.inputs, out)) for name, out in stages.items()}


def frequency_summary(result: dict) -> str:
    """Human-readable summary of :func:`train_frequency`'s result."""
    return summary(result, lambda k, v, meta: f"{k} max|diff| {v['parity_max_abs_diff']:.2g}, "
                                              f"{v['latency_ms']:.3f} ms/window")

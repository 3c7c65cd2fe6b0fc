"""The fundamental-frequency benchmark: the learned candidate choice against every classical
estimator, per kind of realistic window and on real recordings, in one run.

:func:`benchmark_fundamental` trains :func:`periodic_keras.models.fundamental_regressor` on the
realistic window family (:mod:`periodic_keras.data.realistic`, train split), sets its trust
thresholds on the validation split, and scores it on the test split kind by kind, next to:

- its ablations, same weights, same windows: ``model_coarse`` (the network's candidate, refinement
  off), ``learned_off`` (the candidate at the strongest spectral peak, no network, then the same
  refinements), ``model_no_trend_fit`` (the network's candidate refined by the offset-only fit) and
  ``model_no_tone_check`` (the harmonic fits' answer, without the single-tone check);
- the classical estimators: single-tone ML (``ml``), ML with a line (``ml_trend``), harmonic NLS with
  MAP order selection (``harmonic_nls``; ``harmonic_nls_robust``: with a quadratic trend and robust
  weights) and YIN (``yin``).

Gross error: ``|f - f0| > max(0.03 f0, 0.2)`` (:func:`periodic_keras.data.realistic.gross_errors`).
"""

from __future__ import annotations

import os
import time

import numpy as np

from periodic_keras.jobs.common import finish, job, open_output, phase
from periodic_keras.signals import check_frequency_range, check_positive_int

__all__ = ["ABLATIONS", "TONE_SNRS", "TRUST_MAX_GROSS", "TRUST_MAX_MOVE", "benchmark_fundamental", "export_fundamental",
           "fundamental_estimators", "fundamental_summary", "trust_thresholds", "trusted_answers"]

#: The largest share of gross errors among trusted validation answers the thresholds allow.
TRUST_MAX_GROSS = 0.0025
#: Pure-tone SNRs of the ``tones`` table (None: noiseless).
TONE_SNRS = (None, 40.0, 20.0, 10.0, 0.0)
#: The largest move of the refinement from the chosen candidate that is still trusted (cycles/window).
TRUST_MAX_MOVE = 0.3


def trust_thresholds(confidence, moved, gross, max_gross: float = TRUST_MAX_GROSS) -> dict:
    """The lowest confidence whose trusted answers (confidence at least it, refinement moved at most
    :data:`TRUST_MAX_MOVE`) hold at most ``max_gross`` gross errors: calibrated on validation windows.

    >>> trust_thresholds(np.array([0.9, 0.8, 0.3]), np.zeros(3), np.array([False, False, True]))
    {'min_confidence': 0.8, 'max_move': 0.3}
    """
    confidence, moved, gross = (np.asarray(v).reshape(-1) for v in (confidence, moved, gross))
    candidates = np.unique(np.concatenate([confidence, [1.0 + 1e-6]]))
    near = moved <= TRUST_MAX_MOVE
    for c in candidates:  # ascending: the most permissive threshold that holds
        trusted = near & (confidence >= c)
        if not trusted.any() or gross[trusted].mean() <= max_gross:
            return {"min_confidence": float(c), "max_move": TRUST_MAX_MOVE}
    return {"min_confidence": float(candidates[-1]), "max_move": TRUST_MAX_MOVE}


def trusted_answers(out: dict, thresholds: dict) -> np.ndarray:
    """Which of the model's answers to trust: ``out`` is its dict of outputs (NumPy), ``thresholds``
    from :func:`trust_thresholds`.

    >>> out = {"cycles_per_window": np.array([[5.0], [7.0]]), "coarse": np.array([[5.1], [6.0]]),
    ...        "confidence": np.array([[0.9], [0.95]])}
    >>> trusted_answers(out, {"min_confidence": 0.8, "max_move": 0.3}).tolist()
    [True, False]
    """
    import keras

    from periodic_keras.layers import TrustFlag  # the rule the exported graph applies, applied here

    flag = TrustFlag(thresholds["min_confidence"], thresholds["max_move"])(
        [out["cycles_per_window"], out["coarse"], out["confidence"]])
    return keras.ops.convert_to_numpy(flag)[:, 0] > 0.5


@job(evaluation_only=("n_test", "recordings"))
def benchmark_fundamental(steps: int = 15000, batch_size: int = 128, units: int = 32, learning_rate: float = 3e-3,
                          window: int = 100, fmin: float = 1.0, fmax: float = 30.0, train_snr=(-5.0, 40.0),
                          n_test: int = 400, recordings: bool = True, seed: int = 0,
                          output_dir: str = "runs/fundamental", export_dir: str | None = "exported/fundamental",
                          no_export: bool = False, verbose: int = 1, restart: bool = False) -> dict:
    """Train the fundamental model on realistic windows and score it per kind; write ``results.csv``/``.md``;
    export it with its trust flag in the graph (:func:`export_fundamental`) to ``export_dir``.

    ``n_test`` windows per kind (test split, seed ``seed``); ``recordings``: also the real
    recordings whose package is installed (:func:`periodic_keras.data.recordings.recording_sets`).

    Returns a dict with ``table`` (one row per window set and estimator: ``gross``, ``median_error``,
    ``n``, and for the model ``trusted``, ``trusted_gross``, ``trusted_and_wrong`` and
    ``max_trusted_error``), ``gross`` (the gross rates pivoted: sets × estimators, with
    ``best_classical``), ``tones`` (pure tones in white noise, ``2 n_test`` per SNR of
    :data:`TONE_SNRS`: the model's and the ML estimator's RMSE over the Cramér–Rao bound),
    ``thresholds``, ``model``, ``train_seconds``, ``table_paths``, ``export`` (the metadata, or
    ``None``) and ``export_dir``.

    Example (a tiny run)::

        out = benchmark_fundamental(steps=40, n_test=20, output_dir="/tmp/fundamental", no_export=True)
        print(out["gross"])
    """
    check_frequency_range(window, fmin, fmax)
    check_positive_int(steps=steps, batch_size=batch_size, units=units, n_test=n_test)
    lo, hi = train_snr
    if not lo <= hi:
        raise ValueError(f"train_snr must be LOW <= HIGH, got {lo} {hi}")
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be positive, got {learning_rate}")
    open_output(output_dir, None if no_export else export_dir)

    import keras

    from periodic_keras import training
    from periodic_keras.data import KINDS, gross_errors, realistic_arrays, realistic_dataset
    from periodic_keras.jobs import results
    from periodic_keras.models import fundamental_regressor, grid_targets

    training.set_seed(seed)
    model = fundamental_regressor(window, fmin, fmax, units=units)
    grid = model.get_layer("candidates").frequencies
    scorer = keras.Model(model.input, model.output["logits"])

    def loss(f0, logits):
        return keras.losses.categorical_crossentropy(grid_targets(f0, grid), logits, from_logits=True)

    scorer.compile(optimizer=training.adam_cosine(steps, learning_rate), loss=loss)
    weights = [4.0 if kind == "mixed" else 1.0 for kind in KINDS]  # the realistic mix, and every kind alone
    train = realistic_dataset("train", window=window, fmin=fmin, fmax=fmax, snr_db=(lo, hi), batch_size=batch_size,
                              seed=seed, weights=weights)
    start = time.time()
    training.fit(scorer, train, steps, steps_per_epoch=500, run_dir=phase(output_dir, "train"), verbose=verbose,
                 run_args={"seed": seed, "train_snr": [lo, hi]})
    train_seconds = time.time() - start

    estimators = fundamental_estimators(model, window, fmin, fmax)
    xv, fv, _ = realistic_arrays(len(KINDS) * 200, "validation", window=window, fmin=fmin, fmax=fmax, seed=seed)
    out = estimators["model"](xv[..., 0])
    thresholds = trust_thresholds(out["confidence"], np.abs(out["cycles_per_window"] - out["coarse"]),
                                  gross_errors(out["cycles_per_window"][:, 0], fv))

    sets = {}
    x, f0, k = realistic_arrays(len(KINDS) * n_test, "test", window=window, fmin=fmin, fmax=fmax, seed=seed)
    for j, kind in enumerate(KINDS):
        sets[kind] = (x[k == j, :, 0], f0[k == j])
    if recordings:
        from periodic_keras.data import recordings as real_recordings

        sets.update({f"recording: {name}": v for name, v in
                     real_recordings.recording_sets(window=window, fmin=fmin, fmax=fmax, seed=seed).items()})
    rows = []
    for name, (xs, truth) in sets.items():
        for est, fn in estimators.items():
            begin = time.perf_counter()
            got = fn(xs)
            ms = 1e3 * (time.perf_counter() - begin) / max(len(truth), 1)  # the model's: with its ablations
            answers = ({"model": got["cycles_per_window"], **{a: got[a] for a in ABLATIONS if a in got}}
                       if est == "model" else {est: got})
            for answer, f in answers.items():
                f = np.asarray(f).reshape(-1)
                gross = gross_errors(f, truth)
                row = {"set": name, "estimator": answer, "n": len(truth), "gross": float(gross.mean()),
                       "median_error": float(np.median(np.abs(f - truth))), "ms_per_window": ms}
                if answer == "model":
                    trusted = trusted_answers(got, thresholds)
                    row.update(trusted=float(trusted.mean()),
                               trusted_gross=float(gross[trusted].mean()) if trusted.any() else 0.0,
                               trusted_and_wrong=float((gross & trusted).mean()),
                               max_trusted_error=float(np.abs(f - truth)[trusted].max()) if trusted.any() else 0.0)
                rows.append(row)
    import pandas as pd

    table = pd.DataFrame(rows)
    gross = table.pivot_table(index="set", columns="estimator", values="gross", sort=False)
    gross["best_classical"] = gross[[c for c in _CLASSICAL if c in gross]].min(axis=1)
    gross = gross.reset_index()
    # Pure tones in white noise, drawn as train_freq.py draws its test sets: the precision the refinement keeps.
    from periodic_keras.jobs import evaluate

    tone_sets = evaluate.frequency_test_sets(window, fmin, fmax, TONE_SNRS, n_test * 2, seed)
    model_f = estimators["model"]
    tones, _ = evaluate.frequency_table(
        {"model": lambda v: model_f(v[..., 0])["cycles_per_window"][:, 0], "ml": evaluate.ml_estimator(fmin, fmax)},
        tone_sets, window)
    tones = tones[["estimator", "snr_db", "mae", "rmse", "rmse_over_crlb", "n"]]
    paths = results.write_table(table, os.path.join(output_dir, "results"))
    paths += results.write_table(gross, os.path.join(output_dir, "gross"))
    paths += results.write_table(tones, os.path.join(output_dir, "tones"))
    meta = None
    if not no_export:
        model_rows = table[table["estimator"] == "model"].set_index("set")
        meta = export_fundamental(model, thresholds, export_dir, seed=seed, training={
            "steps": steps, "batch_size": batch_size, "units": units, "learning_rate": learning_rate,
            "train_snr_db": [lo, hi], "seed": seed, "seconds": round(train_seconds, 1)},
            evaluation={name: {c: float(row[c]) for c in ("gross", "trusted", "trusted_and_wrong")}
                        for name, row in model_rows.iterrows()})
    finish(output_dir)
    return dict(table=table, gross=gross, tones=tones, thresholds=thresholds, model=model,
                train_seconds=train_seconds, table_paths=paths, export=meta,
                export_dir=None if no_export else export_dir)


def export_fundamental(model, thresholds: dict, export_dir: str, seed: int = 0, training: dict | None = None,
                       evaluation: dict | None = None, variants=("float32",), per_kind: int = 25) -> dict:
    """Export the fundamental model with its trust flag computed in the graph; return the metadata.

    The exported graph is :func:`periodic_keras.models.fundamental_answer` (one output, the
    columns :data:`periodic_keras.models.ANSWER_COLUMNS`) with GELU in its tanh form
    (:func:`periodic_keras.models.micro_variant`: TFLM has no GELU), so ``edge.load(export_dir).predict(x,
    return_quality=True)`` reads ``trusted`` from the model instead of refitting the window. Each
    variant's parity, gross rate and trusted-and-wrong share on validation windows (``per_kind``
    of each kind, seed ``seed + 1``) are measured through the edge runtime (LiteRT, and TFLM when
    installed) before anything is published; a variant whose gross rate exceeds twice the float32
    file's is left out. (The default offers no float16 file: LiteRT's answers from one were NaN when
    tried, and the export refused it.)

    ``training`` and ``evaluation`` (per-set figures of the benchmark) go into ``metadata.json``.

    Example (a minute of conversion and checks; ``tests/test_fundamental.py`` runs a small one)::

        meta = export_fundamental(fundamental_regressor(units=4), {"min_confidence": 0.5, "max_move": 0.3},
                                  "/tmp/fundamental")
        meta["output"]["columns"]   # ['cycles_per_window', 'trusted', 'confidence', 'explained', 'trend_fit']
    """
    from periodic_keras import export
    from periodic_keras.data import KINDS, gross_errors, realistic_arrays
    from periodic_keras.models import ANSWER_COLUMNS, fundamental_answer, micro_variant

    features = model.get_layer("candidates")
    window, fmin, fmax = features.window, features.fmin, features.fmax
    trained = fundamental_answer(model, thresholds["min_confidence"], thresholds["max_move"])
    answer = micro_variant(trained)  # GELU's tanh form: TFLM has no GELU op
    check_positive_int(per_kind=per_kind)
    x, f0, _ = realistic_arrays(len(KINDS) * per_kind, "validation", window=window, fmin=fmin, fmax=fmax,
                                seed=seed + 1)
    moved = np.abs(answer.predict(x, verbose=0) - trained.predict(x, verbose=0)).max(axis=0)

    def figures(runner, variant, runtime):
        f, quality = runner.predict(x, return_quality=True)
        gross = gross_errors(f, f0)
        return {"gross": float(gross.mean()), "trusted": float(quality["trusted"].mean()),
                "trusted_and_wrong": float((gross & quality["trusted"]).mean())}

    return export.export_model(
        # The refinement sums in float32: LiteRT's order of operations moves an answer by ~1e-4
        # cycles per window on noisy windows; the tolerance leaves room for that, not for a bug.
        answer, export_dir, "fundamental", x, variants=variants, tolerance=2e-3, evaluate=figures,
        figure_limit=("gross", 2.0),
        metadata={
            "description": "fundamental frequency of a realistic periodic window (learned candidate choice and a "
                           "harmonic-model fit), with its trust flag computed in the graph",
            "input": {"meaning": "raw window of samples; any amplitude/offset (standardised inside)",
                      "layout": "[1, window, 1]"},
            "output": {"meaning": "the fundamental and its quality figures", "units": "cycles per window",
                       "to_hz": "multiply column 0 by sample_rate_hz / window", "columns": list(ANSWER_COLUMNS)},
            "quality": {"columns": list(ANSWER_COLUMNS),
                        "how": "computed in the graph: edge predict(x, return_quality=True) returns column 0 and "
                               "the others by name, with no refit"},
            "window": window, "fmin": fmin, "fmax": fmax,
            "trust": {**thresholds, "how": "in the graph (layers.TrustFlag): trusted where the candidate's "
                                           "confidence >= min_confidence and the fit moved <= max_move; "
                                           "thresholds set on validation windows (jobs.trust_thresholds)"},
            "deployed_graph": {"what": "micro_variant: GELU in its tanh form; trained weights",
                               "max_abs_diff_to_trained_model": dict(zip(ANSWER_COLUMNS, map(float, moved)))},
            "evaluation": evaluation or {},
            "training": training or {},
        })


_CLASSICAL = ("ml", "ml_trend", "harmonic_nls", "harmonic_nls_robust", "yin")


#: The ablations :func:`fundamental_estimators`' ``model`` also returns (the same layers and weights).
ABLATIONS = ("model_coarse", "learned_off", "model_no_trend_fit", "model_no_tone_check")


def fundamental_estimators(model, window, fmin, fmax) -> dict:
    """The model (with its ablations) and the classical estimators, each ``x [B, N] -> f``.

    ``model`` returns the model's dict of outputs plus its :data:`ABLATIONS`, computed in the same
    pass with the same layers and weights: ``model_coarse`` (the network's candidate, no
    refinement), ``learned_off`` (the strongest spectral peak as the candidate, then the model's own
    fits, choice and tone check), ``model_no_trend_fit`` (the offset-only fit) and, where the model
    has a tone check, ``model_no_tone_check`` (the answer before it). The classical ones: ``ml``,
    ``ml_trend``, ``harmonic_nls``, ``harmonic_nls_robust`` and ``yin``.

    >>> from periodic_keras.models import fundamental_regressor
    >>> estimators = fundamental_estimators(fundamental_regressor(units=4), 100, 1.0, 30.0)
    >>> x = np.sin(2 * np.pi * 7.3 * np.arange(100) / 100)[None]
    >>> round(float(estimators["ml"](x)[0]), 4), sorted(estimators["model"](x))[:3]
    (7.3, ['coarse', 'confidence', 'cycles_per_window'])
    """
    import keras

    from periodic_keras import classical
    from periodic_keras.layers import CandidateChoice
    from periodic_keras.models import finish_fundamental

    inputs = model.input
    features = model.get_layer("candidates")

    # Learned part off: the candidate with the strongest spectral peak (channel 0: the power at k = 1).
    peak, _ = CandidateChoice(features.frequencies)(keras.layers.Lambda(lambda v: 50.0 * v[..., 0])(features(inputs)))
    outputs = {**{k: v for k, v in model.output.items() if k != "logits"}, "model_coarse": model.output["coarse"],
               "learned_off": finish_fundamental(model, peak)["f"],
               "model_no_trend_fit": model.get_layer("refined").output[0][:, :1]}
    if "tone" in model.output:
        outputs["model_no_tone_check"] = model.get_layer("fit_choice").output[0]
    every = keras.Model(inputs, outputs)

    def predict(x, batch=128):  # whole batches only: one traced shape for every set
        x = np.asarray(x, "float32")[..., None]
        pad = -len(x) % batch
        out = every.predict(np.concatenate([x, np.repeat(x[:1], pad, axis=0)]), batch_size=batch, verbose=0)
        return {k: v[:len(x)] for k, v in out.items()}

    return {
        "model": predict,
        "ml": lambda x: classical.ml_frequency(x, fmin, fmax),
        "ml_trend": lambda x: classical.ml_frequency(x, fmin, fmax, detrend=True),
        "harmonic_nls": lambda x: classical.harmonic_frequency(x, fmin, fmax),
        "harmonic_nls_robust": lambda x: classical.harmonic_frequency(x, fmin, fmax, trend=2, robust=True),
        "yin": lambda x: classical.yin_frequency(x, fmin, fmax),
    }


def fundamental_summary(result: dict) -> str:
    """Human-readable summary of :func:`benchmark_fundamental`."""
    from periodic_keras.jobs import results

    model = result["table"][result["table"]["estimator"] == "model"][
        ["set", "gross", "trusted", "trusted_gross", "trusted_and_wrong", "max_trusted_error"]]
    lines = [results.to_markdown(result["gross"]), "", results.to_markdown(model), "",
             results.to_markdown(result["tones"]), "",
             f"trust: {result['thresholds']}; trained {result['train_seconds']:.0f} s",
             f"tables: {', '.join(result['table_paths'])}"]
    meta = result.get("export")
    if meta is not None:
        f32 = meta["tflite"]["float32"]
        lines.append(f"exported: {result['export_dir']} ({f32['bytes']} bytes, {f32['latency_ms']:.3f} ms/window in "
                     f"LiteRT with the trust flag; validation: {f32['gross']:.2%} gross, "
                     f"{f32['trusted_and_wrong']:.2%} trusted and wrong)")
    return "\n".join(lines)

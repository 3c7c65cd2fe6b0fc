"""``export_model``: a single-input Keras model (windows or timestamps) to ``exported/<task>/``."""

from __future__ import annotations

import json
import os

import keras
import numpy as np
import tensorflow as tf

from periodic_keras import edge
from periodic_keras._io import atomic_write_text
from periodic_keras.errors import ExportError
from periodic_keras.export.artifacts import (build_metadata, check_figure_limit, check_variants, measure_litert,
                                             refuse_worse, staging, tflm_figures, verify_and_publish, write_c_array,
                                             write_tflite)
from periodic_keras.export.keep import check_nothing_lost
from periodic_keras.runs import check_export_target

__all__ = ["export_model"]


def export_model(
    model: keras.Model,
    out_dir: str,
    task: str,
    sample_inputs: np.ndarray,
    metadata: dict | None = None,
    variants=("float32", "float16"),
    sample_targets: np.ndarray | None = None,
    tolerance: float = 1e-4,
    input_encoding: str | None = None,
    int8_activations: str = "int16",
    evaluate=None,
    int8_float_layers=(),
    figure_limit=None,
) -> dict:
    """Export ``model`` to ``out_dir`` atomically and return the written metadata.

    Writes ``saved_model/`` (serving signature ``serve`` on the model's input, any batch),
    one ``.tflite`` file per variant (batch 1, builtin ops only), and ``metadata.json``
    with the input/output description, checksums, ops, parity figures (max abs difference
    to Keras on ``sample_inputs``), per-item latency and versions, merged with the
    caller's ``metadata`` (task-specific fields such as ranges and evaluation).

    Every variant is also run in TensorFlow Lite for Microcontrollers when ``tflite-micro``
    is installed (:mod:`periodic_keras.edge.micro`): ``tflite.<variant>.tflm`` records whether it
    runs there, its parity and its arena, or TFLM's error. The variant a firmware project
    should compile in (int8 if TFLM runs it, else float32) is also written as
    ``model_data.cc`` / ``model_data.h`` (``c_array`` in the metadata).

    Args:
        model: trained single-input Keras model.
        out_dir: final directory, e.g. ``exported/freq``.
        task: task name recorded in the metadata.
        sample_inputs: held-out inputs ``[n, *input_shape]`` used to verify parity (and to
            calibrate the ``int8`` variant): the raw inputs a user passes to the edge runtime.
        metadata: extra metadata fields.
        variants: TFLite variants from :data:`TFLITE_VARIANTS`; ``"float32"`` is required.
        sample_targets: optional true outputs, to record each variant's MAE.
        tolerance: max abs difference allowed between Keras and float32 TFLite/SavedModel.
        input_encoding: the model takes its input re-encoded by
            :data:`periodic_keras.edge.INPUT_ENCODINGS` ``[input_encoding]`` (e.g. the clock's
            int64 seconds as int32 days and seconds of day, which TFLM can run): the edge
            runtime applies it to what the user passes; the metadata records both.
        int8_activations: activations of the ``int8`` variant (:data:`INT8_ACTIVATIONS`).
        evaluate: ``evaluate(runner, variant, runtime) -> dict`` of task figures (e.g. the
            clock's exactness on 10⁶ timestamps), called with each variant's edge model in
            each runtime that runs it before anything is published; recorded beside its parity.
        int8_float_layers: layers the ``int8`` variant keeps float32 (with its output), the
            rest int8 (``int8_activations="int8"``): see :func:`tflite_models`'s ``float_layers``.
        figure_limit: ``(name, ratio)``: a variant whose ``evaluate`` figure ``name`` (lower
            is better) exceeds, in LiteRT or TFLM, ``ratio`` times the float32 variant's in
            LiteRT is not published: its file is left out and ``refused`` in the metadata says
            why. Quantisation can fail silently; this makes it loud. A variant other than
            float32 that produces NaN/inf is left out the same way, with or without a limit.

    Raises:
        ExportError: conversion failed or parity exceeds ``tolerance``; nothing is replaced.
        periodic_keras.runs.NotOwnedError: ``out_dir`` is a file, a link, or a directory
            holding anything but a previous export (checked first).
        OSError: another export to ``out_dir`` is running.

    Example:

    >>> import tempfile, os, numpy as np
    >>> from periodic_keras.models import frequency_regressor
    >>> m = frequency_regressor(32, 1, 8, lstm_units=4, dense_units=4)
    >>> x = np.random.default_rng(0).normal(size=(4, 32, 1)).astype("float32")
    >>> meta = export_model(m, os.path.join(tempfile.mkdtemp(), "freq"), "freq", x, variants=("float32",))
    >>> meta["tflite"]["float32"]["parity_max_abs_diff"] < 1e-4
    True
    """
    check_variants(variants)
    check_export_target(out_dir)
    check_nothing_lost(out_dir)
    if sample_targets is not None and len(sample_targets) != len(sample_inputs):
        raise ValueError(f"sample_targets has {len(sample_targets)} items, sample_inputs {len(sample_inputs)}")
    if input_encoding is not None and input_encoding not in edge.INPUT_ENCODINGS:
        raise ValueError(f"input_encoding must be one of {sorted(edge.INPUT_ENCODINGS)}, got {input_encoding!r}")
    check_figure_limit(figure_limit, evaluate)
    raw = np.asarray(sample_inputs)
    if input_encoding is not None:
        if not np.issubdtype(raw.dtype, np.integer):
            raise TypeError(f"input_encoding {input_encoding!r} takes integer sample_inputs, got {raw.dtype}")
        raw = raw.astype(np.int64).reshape(len(raw), 1)
    x = _checked_inputs(model, edge.INPUT_ENCODINGS[input_encoding](raw) if input_encoding else raw)
    expected = tuple(model.inputs[0].shape[1:])
    reference = np.asarray(model.predict(x, verbose=0))

    with staging(out_dir) as tmp:
        saved = os.path.join(tmp, "saved_model")
        model.export(saved, format="tf_saved_model", verbose=False)
        loaded = tf.saved_model.load(saved)  # keep a reference: its variables die with it
        served = np.asarray(loaded.serve(tf.constant(x)))
        saved_diff = float(np.max(np.abs(served - reference)))
        if not saved_diff <= tolerance:
            raise ExportError(f"SavedModel differs from Keras by {saved_diff:.3g} > {tolerance}")

        int8 = {}
        if "int8" in variants:
            int8 = dict(representative=[[x[i:i + 1]] for i in range(min(len(x), 300))], activations=int8_activations,
                        float_layers=int8_float_layers)
        failed = {}
        tflite = write_tflite(tmp, model, variants, failed=failed, **int8)
        spec = {"name": model.inputs[0].name, "shape": [1, *expected], "dtype": x.dtype.name}
        if input_encoding is not None:
            spec = {"shape": [1, 1], "dtype": "int64",
                    "encoding": {"name": input_encoding, "model_input": model.inputs[0].name,
                                 "shape": [1, *expected], "dtype": x.dtype.name}}
        meta = build_metadata(task, tflite, metadata,
                         input=spec,
                         output={"shape": [1, *model.outputs[0].shape[1:]],
                                 "dtype": keras.backend.standardize_dtype(model.outputs[0].dtype)},
                         saved_model={"dir": "saved_model", "signature": "serve", "batch": "any",
                                      "parity_max_abs_diff": saved_diff},
                         parity={"n": len(x), "tolerance": tolerance},
                         **({"not_converted": failed} if failed else {}))
        meta_path = os.path.join(tmp, edge.METADATA)
        atomic_write_text(meta_path, json.dumps(meta, indent=2))

        # Verify through the edge runtime, exactly as a device loads the files.
        refused = {}
        for variant in list(tflite):
            def check(runtime, variant=variant):
                runner = edge.load(tmp, variant, runtime=runtime)
                pred = runner.raw(raw).reshape(reference.shape)
                figures = {"parity_max_abs_diff": float(np.max(np.abs(pred - reference)))}
                if runtime == "litert":
                    figures["latency_ms"] = runner.latency_ms(raw[: min(len(raw), 200)])
                if sample_targets is not None:
                    err = pred.reshape(len(x), -1) - np.asarray(sample_targets, np.float32).reshape(len(x), -1)
                    figures["mae"] = float(np.mean(np.abs(err)))
                return {**figures, **(evaluate(runner, variant, runtime) if evaluate is not None else {})}

            if measure_litert(tmp, tflite, variant, check, refused):
                tflite[variant]["tflm"] = tflm_figures(tmp, tflite[variant], lambda: check("tflm"))
        if figure_limit is not None:
            refused.update(refuse_worse(tmp, tflite, *figure_limit))
        if refused:
            meta["refused"] = refused
        meta["c_array"] = write_c_array(tmp, tflite, [model.inputs[0].name], ["output"])
        verify_and_publish(tmp, out_dir, meta, tolerance, "float32 TFLite")
    return meta


def _checked_inputs(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """``x`` as the model's input dtype, refused (naming the problem) if it cannot be its input."""
    input_dtype = np.dtype(keras.backend.standardize_dtype(model.inputs[0].dtype))
    if np.issubdtype(input_dtype, np.integer) and not np.issubdtype(x.dtype, np.integer):
        raise TypeError(f"the model takes {input_dtype.name} input: sample_inputs must be integers, got {x.dtype}")
    x = x.astype(input_dtype if np.issubdtype(input_dtype, np.integer) else np.float32, copy=False)
    expected = tuple(model.inputs[0].shape[1:])
    if x.ndim != len(expected) + 1 or x.shape[1:] != expected or len(x) == 0:
        raise ValueError(f"sample_inputs must have shape [n>0, {', '.join(map(str, expected))}], got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("sample_inputs hold NaN/inf")
    return x

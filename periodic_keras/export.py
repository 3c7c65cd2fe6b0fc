"""Export trained models to ``exported/<task>/``: SavedModel, TFLite, metadata, parity.

Everything is written to a staging directory beside the target, verified there
(the TFLite files are loaded back through :mod:`periodic_keras.edge`, exactly as a
device would, and compared with Keras on held-out inputs), and only then renamed
into place. An interrupted or failed export leaves the previous export untouched.

An export replaces its target only when the target is new, empty, or a previous export
holding nothing else; a file, a link or a folder of other files is refused before any
work (:func:`periodic_keras.runs.check_export_target`). Two exports to one target at once:
the second is refused. :func:`recover` finishes a swap that a killed process left midway.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import tempfile

import numpy as np
import keras
import tensorflow as tf

from periodic_keras import edge
from periodic_keras._io import atomic_write_text, sha256_file
from periodic_keras.convert import (INT8_ACTIVATIONS, TFLITE_VARIANTS, ExportError, _export_fixed_saved_model,
                                    op_names, tflite_models)
from periodic_keras.runs import check_export_target, export_staging, publish, recover

__all__ = ["ExportError", "INT8_ACTIVATIONS", "TFLITE_VARIANTS", "check_export_target", "export_model",
           "export_step_model", "op_names", "recover", "tflite_models"]

FORMAT_VERSION = 1


def _versions() -> dict:
    from importlib import metadata as md

    out = {"python": platform.python_version()}
    for dist in ("periodic-keras", "tensorflow", "keras", "numpy", "ai-edge-litert"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            pass
    return out


def _write_tflite(directory: str, model: keras.Model, variants, saved_model: str | None = None,
                  failed: dict | None = None, **int8) -> dict:
    """Write each TFLite variant into ``directory`` (converted from ``saved_model`` when the
    fixed-shape SavedModel is already written; ``int8``: ``representative`` and
    ``activations`` for :func:`tflite_models`); return entries with size, SHA-256 and ops.
    An int8 conversion that fails is recorded in ``failed`` (``{variant: reason}``) when given."""
    entries, blobs = {}, {}
    with tempfile.TemporaryDirectory() as scratch:
        if saved_model is None:  # one fixed-shape SavedModel for every variant
            saved_model = os.path.join(scratch, "saved_model")
            _export_fixed_saved_model(model, saved_model)
        for variant in variants:
            try:
                blobs.update(tflite_models(model, [variant], saved_model=saved_model,
                                           **(int8 if variant == "int8" else {})))
            except ExportError as exc:
                if variant != "int8" or failed is None:
                    raise
                failed[variant] = str(exc)[:600]  # the float variants are still exported: the metadata says why
    for variant, blob in blobs.items():
        entry = dict(TFLITE_VARIANTS[variant])
        path = os.path.join(directory, entry["file"])
        with open(path, "wb") as fh:
            fh.write(blob)
        entry.update(sha256=sha256_file(path), bytes=os.path.getsize(path), ops=op_names(blob))
        if variant == "int8":
            entry["activations"] = int8.get("activations", "int16")
            if int8.get("float_layers"):
                entry["float_layers"] = list(int8["float_layers"])
                entry["description"] = ("mixed: int8 weights and activations except float_layers and the output "
                                        "(float32); float32 input and output; for microcontrollers (TFLM)")
        entries[variant] = entry
    return entries


def _tflm(directory: str, entry: dict, measure) -> dict:
    """TFLM's figures for one variant: ``{"runs": True, "arena_bytes", **measure()}`` (``measure``
    runs the variant in TFLM), or ``{"runs": False, "error"}`` when TFLM cannot load or run it.
    Not measured (None) without the ``tflite-micro`` package."""
    from periodic_keras import micro

    if not micro.available():
        return {"runs": None, "error": "not measured: tflite-micro is not installed"}
    with open(os.path.join(directory, entry["file"]), "rb") as fh:
        blob = fh.read()
    try:
        arena = micro.arena_bytes(blob)
        figures = measure()
    except (micro.MicroError, edge.ExportedModelError, edge.NonFiniteOutputError) as exc:
        return {"runs": False, "error": str(exc)[:400]}
    return {"runs": True, "arena_bytes": arena, **figures}


def _write_c_array(directory: str, tflite: dict, inputs, outputs) -> dict | None:
    """``model_data.cc`` / ``.h`` for firmware: the int8 variant if TFLM runs it, else the
    float32 one if TFLM runs that; their metadata entry (None when TFLM runs neither), with
    the meaning of each ``interpreter.input(i)`` / ``output(i)`` (``inputs``, ``outputs``:
    the metadata's names in signature position order)."""
    from periodic_keras import micro
    from periodic_keras.edge import _ordered

    variant = next((v for v in ("int8", "float32") if (tflite.get(v, {}).get("tflm") or {}).get("runs")), None)
    if variant is None:
        return None
    with open(os.path.join(directory, tflite[variant]["file"]), "rb") as fh:
        blob = fh.read()
    source, header = micro.c_array(blob, "g_model_data", "model_data.h")
    runner = micro.MicroRunner(blob)
    position = {name: i for i, name in enumerate(_ordered(runner.inputs))}
    out_position = {name: i for i, name in enumerate(_ordered(runner.outputs))}
    entry = {"variant": variant, "symbol": "g_model_data", "length": len(blob), "alignment": micro.ALIGNMENT,
             "arena_bytes": tflite[variant]["tflm"]["arena_bytes"],
             "inputs": [inputs[position[n]] for n in runner.inputs],
             "outputs": [outputs[out_position[n]] for n in runner.outputs],
             "ops": tflite[variant]["ops"]}
    for key, name, text in (("source", "model_data.cc", source), ("header", "model_data.h", header)):
        atomic_write_text(os.path.join(directory, name), text)
        entry[key] = {"file": name, "sha256": sha256_file(os.path.join(directory, name))}
    return entry


def _metadata(task: str, tflite: dict, extra: dict | None, **fields) -> dict:
    """The common metadata, the task's ``fields``, then the caller's ``extra`` merged in."""
    meta = {
        "task": task,
        "format_version": FORMAT_VERSION,
        "written_by": "periodic_keras",
        "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        **fields,
        "tflite": tflite,
        "versions": _versions(),
    }
    for key, value in (extra or {}).items():
        meta[key] = {**meta[key], **value} if isinstance(meta.get(key), dict) and isinstance(value, dict) else value
    return meta


def _publish(tmp: str, out_dir: str, meta: dict, tolerance: float, what: str) -> None:
    """Refuse float32 parity beyond ``tolerance``; else write the final metadata and rename."""
    diff = meta["tflite"]["float32"]["parity_max_abs_diff"]
    if not diff <= tolerance:
        raise ExportError(f"{what} differs from Keras by {diff:.3g} > {tolerance}")
    micro = meta["tflite"]["float32"].get("tflm") or {}
    if micro.get("runs") and not micro["parity_max_abs_diff"] <= tolerance:  # a runtime that answers otherwise
        raise ExportError(f"{what} in TFLM differs from Keras by {micro['parity_max_abs_diff']:.3g} > {tolerance}")
    atomic_write_text(os.path.join(tmp, edge.METADATA), json.dumps(meta, indent=2))
    publish(tmp, out_dir)


def _check_variants(variants) -> None:
    if "float32" not in variants:
        raise ValueError("variants must include 'float32' (the reference TFLite model)")
    unknown = sorted(set(variants) - set(TFLITE_VARIANTS))
    if unknown:
        raise ValueError(f"unknown TFLite variant(s) {unknown}: expected some of {sorted(TFLITE_VARIANTS)}")


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
    is installed (:mod:`periodic_keras.micro`): ``tflite.<variant>.tflm`` records whether it
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
    _check_variants(variants)
    check_export_target(out_dir)
    if sample_targets is not None and len(sample_targets) != len(sample_inputs):
        raise ValueError(f"sample_targets has {len(sample_targets)} items, sample_inputs {len(sample_inputs)}")
    if input_encoding is not None and input_encoding not in edge.INPUT_ENCODINGS:
        raise ValueError(f"input_encoding must be one of {sorted(edge.INPUT_ENCODINGS)}, got {input_encoding!r}")
    _check_figure_limit(figure_limit, evaluate)
    raw = np.asarray(sample_inputs)
    if input_encoding is not None:
        if not np.issubdtype(raw.dtype, np.integer):
            raise TypeError(f"input_encoding {input_encoding!r} takes integer sample_inputs, got {raw.dtype}")
        raw = raw.astype(np.int64).reshape(len(raw), 1)
    x = _checked_inputs(model, edge.INPUT_ENCODINGS[input_encoding](raw) if input_encoding else raw)
    expected = tuple(model.inputs[0].shape[1:])
    reference = np.asarray(model.predict(x, verbose=0))

    with export_staging(out_dir) as tmp:
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
        tflite = _write_tflite(tmp, model, variants, failed=failed, **int8)
        spec = {"name": model.inputs[0].name, "shape": [1, *expected], "dtype": x.dtype.name}
        if input_encoding is not None:
            spec = {"shape": [1, 1], "dtype": "int64",
                    "encoding": {"name": input_encoding, "model_input": model.inputs[0].name,
                                 "shape": [1, *expected], "dtype": x.dtype.name}}
        meta = _metadata(task, tflite, metadata,
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
                pred = runner.predict(raw).reshape(reference.shape)
                figures = {"parity_max_abs_diff": float(np.max(np.abs(pred - reference)))}
                if runtime == "litert":
                    figures["latency_ms"] = runner.latency_ms(raw[: min(len(raw), 200)])
                if sample_targets is not None:
                    err = pred.reshape(len(x), -1) - np.asarray(sample_targets, np.float32).reshape(len(x), -1)
                    figures["mae"] = float(np.mean(np.abs(err)))
                return {**figures, **(evaluate(runner, variant, runtime) if evaluate is not None else {})}

            if _measure_litert(tmp, tflite, variant, check, refused):
                tflite[variant]["tflm"] = _tflm(tmp, tflite[variant], lambda: check("tflm"))
        if figure_limit is not None:
            refused.update(_refuse_worse(tmp, tflite, *figure_limit))
        if refused:
            meta["refused"] = refused
        meta["c_array"] = _write_c_array(tmp, tflite, [model.inputs[0].name], ["output"])
        _publish(tmp, out_dir, meta, tolerance, "float32 TFLite")
    return meta


def _check_figure_limit(figure_limit, evaluate) -> None:
    """Refuse a malformed ``figure_limit`` (``(name, ratio > 0)``, with ``evaluate``) up front."""
    if figure_limit is None:
        return
    if evaluate is None:
        raise ValueError("figure_limit needs evaluate= (the figures it limits)")
    if (not isinstance(figure_limit, (tuple, list)) or len(figure_limit) != 2 or not isinstance(figure_limit[0], str)
            or isinstance(figure_limit[1], bool) or not isinstance(figure_limit[1], (int, float))
            or not figure_limit[1] > 0):
        raise ValueError(f"figure_limit must be (figure name, ratio > 0), got {figure_limit!r}")


def _leave_out(directory: str, tflite: dict, variant: str, reason: str, **record) -> dict:
    """Take ``variant`` out of ``tflite`` and delete its file from the export's own staging
    ``directory`` (written there by this export); return its ``refused`` record."""
    os.remove(os.path.join(directory, tflite.pop(variant)["file"]))
    return {"reason": f"{reason}; its file is not published", **record}


def _measure_litert(directory: str, tflite: dict, variant: str, check, refused: dict, *args) -> bool:
    """``tflite[variant].update(check("litert", *args))``; a variant other than float32 that
    produces NaN/inf is left out (recorded in ``refused``). Returns whether it is kept."""
    try:
        tflite[variant].update(check("litert", *args))
    except edge.NonFiniteOutputError as exc:
        if variant == "float32":
            raise
        refused[variant] = _leave_out(directory, tflite, variant, f"{exc} (in LiteRT)")
        return False
    return True


def _refuse_worse(directory: str, tflite: dict, name: str, ratio: float) -> dict:
    """Remove (from ``tflite`` and the staging ``directory``) each variant whose figure ``name``
    in LiteRT or TFLM exceeds ``ratio`` times the float32 variant's in LiteRT; return
    ``{variant: reason}``."""
    reference = tflite["float32"].get(name)
    if reference is None:
        raise ExportError(f"figure_limit: the float32 variant has no figure {name!r} (from evaluate)")
    refused = {}
    for variant, entry in list(tflite.items()):
        for runtime, figures in (("LiteRT", entry), ("TFLM", entry.get("tflm") or {})):
            value = figures.get(name)
            if variant != "float32" and value is not None and not value <= ratio * reference:
                refused[variant] = _leave_out(
                    directory, tflite, variant, f"{name} in {runtime} is {value:.4g}, more than {ratio:g} x the "
                                                f"float32 variant's {reference:.4g}",
                    **{k: v for k, v in entry.items() if k not in ("file", "sha256")})
                break
    return refused


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


def __getattr__(name):  # export_step_model lives in its own module, reachable from here
    if name == "export_step_model":
        from periodic_keras.export_step import export_step_model

        return export_step_model
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

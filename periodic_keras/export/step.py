"""Export a step model ``(x, state) -> (y, state')`` for streaming: generators and driven
models (the divider, the burst detector), verified step by step against Keras.

Same guarantees as :func:`periodic_keras.export.export_model` (staging, atomic publish,
ownership checks, LiteRT and TFLM figures, the C array).
"""

from __future__ import annotations

import json
import os
import time

import keras
import numpy as np

from periodic_keras import edge
from periodic_keras._io import atomic_write_text
from periodic_keras.export.artifacts import (build_metadata, check_figure_limit, check_variants, measure_litert,
                                             refuse_worse, staging, tflm_figures, verify_and_publish, write_c_array,
                                             write_tflite)
from periodic_keras.export.convert import export_fixed_saved_model
from periodic_keras.generation import as_batch, closed_loop, stream
from periodic_keras.models import keras_step_function, zero_state
from periodic_keras.export.keep import check_nothing_lost
from periodic_keras.runs import check_export_target

__all__ = ["export_step_model"]


def export_step_model(
    step: keras.Model,
    out_dir: str,
    task: str,
    prefix,
    n_steps: int = 1000,
    metadata: dict | None = None,
    variants=("float32",),
    tolerance: float = 1e-4,
    reference=None,
    mode: str = "generate",
    int8_activations: str = "int16",
    evaluate=None,
    figure_limit=None,
) -> dict:
    """Export a step model ``(x, h_0, c_0, ...) -> (y, h_0', c_0', ...)`` for streaming.

    Writes ``saved_model/`` and TFLite step models (batch 1, builtin ops, the state as
    explicit named inputs and outputs) with ``metadata.json``, verified the way a device
    uses them, through :func:`periodic_keras.edge.load_step`, against the same run in
    Keras (max abs difference and milliseconds per step are recorded):

    - ``mode="generate"`` (a generator): warm up on ``prefix`` and generate ``n_steps``
      closed-loop (:meth:`~periodic_keras.edge.EdgeStepModel.generate`);
    - ``mode="stream"`` (a driven model such as the divider or the burst detector): run
      over the inputs ``prefix``, one output per step
      (:meth:`~periodic_keras.edge.EdgeStepModel.run`); ``n_steps`` is not used.

    Args:
        step: step model built with ``batch_size=1``
            (:func:`periodic_keras.models.step_model`).
        out_dir, task, metadata, variants, tolerance: as in :func:`export_model`.
        prefix: warm-up values (``generate``) or inputs (``stream``), ``[batch, steps]``.
        n_steps: generated steps compared in the parity check (``generate``).
        reference: the Keras outputs (``[batch, n_steps]`` generated, or
            ``[batch, steps]`` streamed) with this step model's weights, if already
            computed (e.g. by the evaluation); computed here when ``None``.
        mode: ``"generate"`` or ``"stream"``.
        int8_activations: activations of the ``int8`` variant (:data:`INT8_ACTIVATIONS`),
            calibrated on the inputs and states of the float32 model's verification run.
        evaluate: ``evaluate(runner, variant, runtime) -> dict`` of task figures, as in
            :func:`export_model` (``runner``: the :class:`~periodic_keras.edge.EdgeStepModel`).
        figure_limit: ``(name, ratio)``: leave out a variant whose ``evaluate`` figure is above
            ``ratio`` times the float32 file's, as in :func:`export_model`.

    A variant other than float32 that produces NaN/inf in LiteRT is left out as well: its
    file is not published and ``refused`` in the metadata says why.

    Each variant's ``parity_max_abs_diff`` and ``rmse`` against Keras over the whole run are
    recorded for LiteRT, and under ``tflm`` for TFLM (with its arena), as in :func:`export_model`.

    Example:

    >>> import tempfile, os, numpy as np
    >>> from periodic_keras.models import sequence_generator, step_model
    >>> step = step_model(sequence_generator(units=(4,)), batch_size=1)
    >>> d = os.path.join(tempfile.mkdtemp(), "gen")
    >>> meta = export_step_model(step, d, "generator", np.sin(np.arange(30) / 3.0)[None], n_steps=50)
    >>> meta["state"]["names"], meta["tflite"]["float32"]["parity_max_abs_diff"] < 1e-4
    (['h_0', 'c_0'], True)
    """
    check_variants(variants)
    check_export_target(out_dir)
    check_nothing_lost(out_dir)
    check_figure_limit(figure_limit, evaluate)
    if mode not in ("generate", "stream"):
        raise ValueError(f"mode must be 'generate' or 'stream', got {mode!r}")
    if len(step.inputs) < 3 or len(step.outputs) != len(step.inputs):
        raise ValueError("expected a step model (x, h_0, c_0, ...) -> (y, h_0', c_0', ...)")
    if tuple(step.inputs[0].shape) != (1, 1):
        raise ValueError(f"build the step model with batch_size=1; its x input is {tuple(step.inputs[0].shape)}")
    x = as_batch(prefix, "prefix" if mode == "generate" else "inputs")
    if mode == "generate" and (isinstance(n_steps, bool) or not isinstance(n_steps, int) or n_steps < 1):
        raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}")

    def run(fn, state_of):  # rows one by one, as the batch-1 files run them
        if mode == "generate":
            return np.concatenate([closed_loop(fn, row[None], n_steps, state_of())[0] for row in x])
        return np.concatenate([stream(fn, row[None], state_of())[0] for row in x])

    if reference is None:
        reference = run(keras_step_function(step), lambda: zero_state(step, 1))
    reference = np.asarray(reference, np.float32)
    want = (x.shape[0], n_steps) if mode == "generate" else x.shape
    if reference.shape != want:
        raise ValueError(f"reference has shape {reference.shape}, expected {want}")
    names = [t.name for t in step.inputs]
    if mode == "generate":
        meaning = "y predicts the next value; then the new state"
        parity = {"prefix_shape": list(x.shape), "generated_steps": n_steps}
    else:
        meaning = ("y is the output for x at this step; then the new state: pass it to the next call, "
                   "zeros to start a new sequence")
        parity = {"inputs_shape": list(x.shape), "streamed_steps": int(x.shape[1])}

    with staging(out_dir) as tmp:
        saved = os.path.join(tmp, "saved_model")
        export_fixed_saved_model(step, saved)
        tflite = write_tflite(tmp, step, [v for v in variants if v != "int8"], saved_model=saved)
        meta = build_metadata(
            task, tflite, metadata,
            mode=mode,
            input={"names": names, "shapes": [list(t.shape) for t in step.inputs], "dtype": "float32"},
            output={"names": ["y", *names[1:]], "meaning": meaning},
            state={"names": names[1:], "widths": [int(t.shape[-1]) for t in step.inputs[1:]]},
            saved_model={"dir": "saved_model", "signature": "serve", "inputs": "positional, in input.names order"},
            parity={**parity, "tolerance": tolerance},
        )
        meta_path = os.path.join(tmp, edge.METADATA)
        atomic_write_text(meta_path, json.dumps(meta, indent=2))
        seen = []  # (x, state) at every step of the float32 run: the int8 variant's calibration

        def check(runtime, variant, record=None):
            runner = edge.load_step(tmp, variant, runtime=runtime)
            fn = runner.step if record is None else (lambda v, s: (record.append([v, *s]), runner.step(v, s))[1])
            start = time.perf_counter()
            outputs = run(fn, lambda: runner.zero_state(1))
            elapsed = time.perf_counter() - start
            figures = {"parity_max_abs_diff": float(np.max(np.abs(outputs - reference))),
                       "rmse": float(np.sqrt(np.mean(np.square(outputs - reference))))}
            if runtime == "litert":
                steps = x.shape[0] * (x.shape[1] + (n_steps if mode == "generate" else 0))
                figures["ms_per_step"] = 1e3 * elapsed / steps
            return {**figures, **(evaluate(runner, variant, runtime) if evaluate is not None else {})}

        refused = {}
        for variant in list(tflite):
            measure_litert(tmp, tflite, variant, check, refused, variant, seen if variant == "float32" else None)
        if "int8" in variants:
            calibration = [seen[i] for i in np.linspace(0, len(seen) - 1, min(len(seen), 6000)).astype(int)]
            failed = {}
            tflite.update(write_tflite(tmp, step, ["int8"], saved_model=saved, failed=failed,
                                        representative=calibration, activations=int8_activations))
            if failed:
                meta["not_converted"] = failed
            else:
                atomic_write_text(meta_path, json.dumps(meta, indent=2))
                measure_litert(tmp, tflite, "int8", check, refused, "int8")
        for variant, entry in tflite.items():
            entry["tflm"] = tflm_figures(tmp, entry, lambda variant=variant: check("tflm", variant))
        if figure_limit is not None:
            refused.update(refuse_worse(tmp, tflite, *figure_limit))
        if refused:
            meta["refused"] = refused
        meta["c_array"] = write_c_array(tmp, tflite, names, ["y", *names[1:]])
        verify_and_publish(tmp, out_dir, meta, tolerance, f"float32 TFLite {'generation' if mode == 'generate' else 'stream'}")
    return meta

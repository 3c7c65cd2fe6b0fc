"""Edge runtime: run models from ``exported/<task>/`` with NumPy and LiteRT only.

This module must never import TensorFlow or Keras: an edge device has only NumPy
and the ``ai_edge_litert`` interpreter. It checks every artefact against its
``metadata.json`` (files present, SHA-256 checksums, input shape and dtype) before
running it, and validates every input (shape, dtype, finiteness) with clear errors.

Example (with the committed frequency model)::

    from periodic_keras import edge
    model = edge.load("exported/freq")
    model.predict(windows)          # windows: [batch, 100] or [batch, 100, 1]
"""

from __future__ import annotations

import json
import os
import time

import numpy as np

from periodic_keras._io import sha256_file

__all__ = ["EdgeModel", "ExportedModelError", "load", "read_metadata"]

METADATA = "metadata.json"
REQUIRED_FIELDS = ("task", "format_version", "input", "output", "tflite")


class ExportedModelError(RuntimeError):
    """An exported model directory is missing, incomplete, corrupt or inconsistent."""


def read_metadata(task_dir: str) -> dict:
    """Read and check ``<task_dir>/metadata.json``; raise ``ExportedModelError`` if bad."""
    if not os.path.isdir(task_dir):
        raise ExportedModelError(f"exported model directory not found: {task_dir!r}")
    path = os.path.join(task_dir, METADATA)
    if not os.path.isfile(path):
        raise ExportedModelError(f"{path!r} is missing: not an exported model directory")
    try:
        with open(path, encoding="utf-8") as fh:
            meta = json.load(fh)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ExportedModelError(f"{path!r} is not valid JSON: {exc}") from None
    if not isinstance(meta, dict):
        raise ExportedModelError(f"{path!r} must hold a JSON object")
    missing = [k for k in REQUIRED_FIELDS if k not in meta]
    if missing:
        raise ExportedModelError(f"{path!r} lacks required field(s) {missing}")
    return meta


class EdgeModel:
    """One exported TFLite model plus its metadata, run with the LiteRT interpreter.

    Use :func:`load` to create one. ``predict`` takes a batch of inputs and runs the
    fixed-batch model once per item.
    """

    def __init__(self, task_dir: str, variant: str = "float32", num_threads: int | None = None):
        from ai_edge_litert.interpreter import Interpreter

        self.task_dir = task_dir
        self.metadata = read_metadata(task_dir)
        files = self.metadata["tflite"]
        if variant not in files:
            raise ExportedModelError(f"variant {variant!r} not in {task_dir!r}; available: {sorted(files)}")
        self.variant = variant
        entry = files[variant]
        path = os.path.join(task_dir, entry["file"])
        if not os.path.isfile(path):
            raise ExportedModelError(f"model file {path!r} is missing")
        if sha256_file(path) != entry.get("sha256"):
            raise ExportedModelError(f"{path!r} does not match the SHA-256 in {METADATA}: corrupt or replaced")
        try:
            self._interpreter = Interpreter(model_path=path, num_threads=num_threads)
            self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ExportedModelError(f"LiteRT cannot load {path!r}: {exc}") from None
        (self._in,) = self._interpreter.get_input_details()
        self._outs = self._interpreter.get_output_details()
        spec = self.metadata["input"]
        self.input_shape = tuple(int(d) for d in spec["shape"])
        if tuple(self._in["shape"]) != self.input_shape or np.dtype(self._in["dtype"]).name != spec["dtype"]:
            raise ExportedModelError(
                f"{path!r} takes {tuple(self._in['shape'])} {np.dtype(self._in['dtype']).name}, "
                f"but {METADATA} says {self.input_shape} {spec['dtype']}"
            )
        self.dtype = np.dtype(spec["dtype"])

    def _check(self, x) -> np.ndarray:
        item_shape = self.input_shape[1:]
        x = np.asarray(x)
        if x.dtype == object or not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
            raise TypeError(f"input must be real numbers, got dtype {x.dtype}")
        # Accept [batch, *item] or [batch, *item without trailing 1] or a single item.
        squeezed = tuple(d for d in item_shape if d != 1) if item_shape[-1:] == (1,) else item_shape
        if x.shape[1:] == item_shape or (squeezed != item_shape and x.shape[1:] == squeezed):
            batch = x.reshape((x.shape[0], *item_shape))
        elif x.shape in (item_shape, squeezed):
            batch = x.reshape((1, *item_shape))
        else:
            raise ValueError(
                f"input has shape {x.shape}; this {self.metadata['task']} model takes "
                f"[batch, {', '.join(map(str, item_shape))}] (or [batch, {', '.join(map(str, squeezed))}])"
            )
        if batch.shape[0] == 0:
            raise ValueError("input batch is empty")
        if np.issubdtype(batch.dtype, np.floating):
            bad = ~np.isfinite(batch)
            if bad.any():
                rows = np.unique(np.nonzero(bad.reshape(len(batch), -1))[0])
                raise ValueError(f"input holds NaN/inf in {len(rows)} item(s), first at batch index {rows[0]}")
        return batch.astype(self.dtype, copy=False)

    def predict(self, x) -> np.ndarray:
        """Run the model on a batch; return outputs stacked over the batch.

        For the frequency task the output is ``[batch]`` frequencies in cycles per window.
        """
        batch = self._check(x)
        out = np.empty((len(batch), *self._outs[0]["shape"][1:]), self._outs[0]["dtype"])
        for i, item in enumerate(batch):
            self._interpreter.set_tensor(self._in["index"], item[None])
            self._interpreter.invoke()
            out[i] = self._interpreter.get_tensor(self._outs[0]["index"])[0]
        return out.reshape(len(batch)) if out.ndim == 2 and out.shape[1] == 1 else out

    def latency_ms(self, x, repeats: int = 3) -> float:
        """Median milliseconds per item over ``repeats`` passes of ``predict(x)``."""
        batch = self._check(x)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            self.predict(batch)
            times.append((time.perf_counter() - start) / len(batch))
        return float(np.median(times) * 1e3)


def load(task_dir: str, variant: str = "float32", num_threads: int | None = None) -> EdgeModel:
    """Load ``exported/<task>/`` for inference on a device (NumPy + LiteRT only).

    Args:
        task_dir: directory written by :mod:`periodic_keras.export`.
        variant: which TFLite file, e.g. ``"float32"`` or ``"float16"`` (see metadata).
        num_threads: interpreter threads (``None``: LiteRT's default).

    Raises:
        ExportedModelError: missing directory, metadata or model file; a checksum that
            does not match; a file LiteRT cannot load; a model disagreeing with metadata.

    Example:

    >>> import numpy as np, os
    >>> model = load(os.path.join(os.path.dirname(__file__), "..", "exported", "freq"))
    >>> t = np.arange(100) / 100
    >>> round(float(model.predict(np.sin(2 * np.pi * 12.5 * t)[None])[0]), 1)
    12.5
    """
    return EdgeModel(task_dir, variant, num_threads)

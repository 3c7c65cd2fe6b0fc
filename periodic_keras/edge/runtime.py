"""The interpreters an export runs in: LiteRT or TensorFlow Lite for Microcontrollers (TFLM).

:func:`open_model` checks the metadata and the file's SHA-256, then returns a runner with one
interface for both runtimes. NumPy only at import (LiteRT and TFLM are imported when a model
is opened); never TensorFlow or Keras.

>>> signature_order(["args_0_1", "args_0", "args_0_10", "args_0_2"])
['args_0', 'args_0_1', 'args_0_2', 'args_0_10']
"""

from __future__ import annotations

import hashlib
import os
import stat

import numpy as np

from periodic_keras.edge.metadata import METADATA, read_metadata
from periodic_keras.errors import ExportedModelError, NonFiniteOutputError

__all__ = [
    "MAX_MODEL_BYTES", "RUNTIMES", "LiteRTRunner", "finite_output", "open_model", "read_model",
    "signature_order",
]


#: The runtimes an export can run in: LiteRT (Linux-class devices) and TensorFlow Lite for
#: Microcontrollers (:mod:`periodic_keras.edge.micro`, the ``tflite-micro`` package).
RUNTIMES = ("litert", "tflm")


class LiteRTRunner:
    """LiteRT's signature runner behind the interface :class:`periodic_keras.edge.MicroRunner`
    has: ``inputs`` / ``outputs`` (name -> shape, dtype) and ``runner(**inputs) -> {name: array}``."""

    def __init__(self, content: bytes, num_threads: int | None):
        from ai_edge_litert.interpreter import Interpreter

        self._interpreter = Interpreter(model_content=content, num_threads=num_threads)
        self._interpreter.allocate_tensors()
        runner = self._interpreter.get_signature_runner()
        ins, outs = runner.get_input_details(), runner.get_output_details()
        describe = lambda details: {n: {"shape": np.asarray(d["shape"], np.int64), "dtype": np.dtype(d["dtype"])}
                                    for n, d in details.items()}
        self.inputs, self.outputs = describe(ins), describe(outs)
        # tensor indices: set_tensor / invoke / get_tensor cost a third of the signature runner's call
        self._in = {n: d["index"] for n, d in ins.items()}
        self._out = {n: d["index"] for n, d in outs.items()}

    def __call__(self, **inputs) -> dict:
        for name, value in inputs.items():
            self._interpreter.set_tensor(self._in[name], value)
        self._interpreter.invoke()
        return {name: self._interpreter.get_tensor(index) for name, index in self._out.items()}


def open_model(task_dir: str, variant: str, num_threads: int | None, runtime: str = "litert"):
    """Metadata, a runner for ``variant`` in ``runtime`` (:data:`RUNTIMES`), and the file's path."""
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime must be one of {RUNTIMES}, got {runtime!r}")
    if num_threads is not None and (isinstance(num_threads, bool) or not isinstance(num_threads, (int, np.integer))
                                    or num_threads < 1):
        raise ValueError(f"num_threads must be a positive integer or None, got {num_threads!r}")
    if runtime == "tflm":
        from periodic_keras.edge import micro

        if not micro.available():
            raise ExportedModelError("runtime 'tflm' needs TensorFlow Lite Micro: pip install tflite-micro "
                                     "(or periodic-keras[micro])")
    meta = read_metadata(task_dir)
    files = meta["tflite"]
    if variant not in files:
        raise ExportedModelError(f"variant {variant!r} not in {task_dir!r}; available: {sorted(files)}")
    path = os.path.join(task_dir, files[variant]["file"])
    content = read_model(path)
    if hashlib.sha256(content).hexdigest() != files[variant]["sha256"]:
        raise ExportedModelError(f"{path!r} does not match the SHA-256 in {METADATA}: corrupt or replaced")
    # the bytes checked are the bytes run: nothing can swap the file in between
    if runtime == "tflm":
        recorded = (files[variant].get("tflm") or {}).get("arena_bytes")
        arena = recorded + 4096 if isinstance(recorded, int) and not isinstance(recorded, bool) else None
        try:
            return meta, micro.MicroRunner(content, arena), path
        except micro.MicroError as exc:
            raise ExportedModelError(f"TFLM cannot run {path!r}: {exc}") from None
    try:
        return meta, LiteRTRunner(content, num_threads), path
    except (ValueError, RuntimeError) as exc:
        raise ExportedModelError(f"LiteRT cannot load {path!r}: {exc}") from None


def signature_order(names) -> list:
    """Signature names in position order: ``args_0, args_0_1, ...`` (``output_0, ...``)."""
    return sorted(names, key=lambda n: (len(n), n))


#: The largest model file the runtime reads (bytes).
MAX_MODEL_BYTES = 1 << 30


def read_model(path: str) -> bytes:
    """The bytes of the regular file ``path`` (a link is refused, whatever it points to)."""
    if os.path.islink(path):
        raise ExportedModelError(f"model file {path!r} is a symbolic link: model files must be regular files in "
                                 "the exported directory")
    try:  # no link followed, and a FIFO cannot block the open (fstat refuses it below)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise ExportedModelError(f"model file {path!r} is missing") from None
    except OSError as exc:
        raise ExportedModelError(f"model file {path!r} cannot be opened ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise ExportedModelError(f"model file {path!r} is not a regular file")
        content = fh.read(MAX_MODEL_BYTES + 1)
    if len(content) > MAX_MODEL_BYTES:
        raise ExportedModelError(f"model file {path!r} is larger than {MAX_MODEL_BYTES} bytes")
    return content


def finite_output(out: np.ndarray) -> np.ndarray:
    """``out``, refused if the model produced NaN/inf (inputs or state far outside its training)."""
    if np.issubdtype(out.dtype, np.floating) and not np.isfinite(out).all():
        raise NonFiniteOutputError("the model produced NaN/inf: its inputs or state are far outside the range it was "
                         "trained on")
    return out

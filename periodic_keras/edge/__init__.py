"""Edge runtime: run models from ``exported/<task>/`` with NumPy and LiteRT (or TFLM) only.

This package must never import TensorFlow or Keras: an edge device has only NumPy
and the ``ai_edge_litert`` interpreter, or a microcontroller's TensorFlow Lite Micro
(``runtime="tflm"``: :mod:`periodic_keras.edge.micro`, the ``tflite-micro`` package). It checks
every artefact against its ``metadata.json`` (files present, SHA-256 checksums, input shape and
dtype) before running it, and validates every input (shape, dtype, finiteness) with clear errors.

Loading is contained and read-only: the model files named in the metadata must be plain
file names inside the directory (no separators, no ``..``, no absolute paths, no links),
the metadata is size- and depth-limited before parsing, the bytes that are checksummed
are the bytes that run, and nothing is ever renamed or written (an export interrupted
mid-swap is reported, with the call that finishes it: :func:`periodic_keras.export.recover`).

- :func:`load` (:class:`EdgeModel`): models that take windows or timestamps (frequency, clock).
- :func:`load_step` (:class:`EdgeStepModel`): streaming step models (generators, divider, burst).
- :func:`load_forecaster` (:class:`EdgeForecaster`): exported forecasters with their time axis.
- :mod:`periodic_keras.edge.micro`: TFLM's interpreter, arena measurement and C arrays
  (:class:`MicroRunner`, :func:`arena_bytes`, :func:`c_array`, :func:`read_c_array`).

Example (with the committed frequency model)::

    from periodic_keras import edge
    model = edge.load("exported/freq")
    model.predict(windows)          # windows: [batch, 100] or [batch, 100, 1]
"""

from periodic_keras.edge import micro
from periodic_keras.edge.forecast import EdgeForecast, EdgeForecaster, load_forecaster
from periodic_keras.edge.metadata import METADATA, read_metadata
from periodic_keras.edge.micro import MicroRunner, arena_bytes, c_array, read_c_array
from periodic_keras.edge.model import INPUT_ENCODINGS, EdgeModel, days_seconds, load
from periodic_keras.edge.runtime import MAX_MODEL_BYTES, RUNTIMES, signature_order
from periodic_keras.edge.step import EdgeStepModel, load_step
from periodic_keras.errors import ExportedModelError, MicroError, NonFiniteOutputError

__all__ = ["INPUT_ENCODINGS", "MAX_MODEL_BYTES", "METADATA", "RUNTIMES", "EdgeForecast", "EdgeForecaster", "EdgeModel",
           "EdgeStepModel", "ExportedModelError", "MicroError", "MicroRunner", "NonFiniteOutputError", "arena_bytes",
           "c_array", "days_seconds", "load", "load_forecaster", "load_step", "micro", "read_c_array", "read_metadata",
           "signature_order"]

"""Reading an export's ``metadata.json``: size- and depth-limited, every field the runtimes rely on checked.

Read-only; NumPy only (never TensorFlow or Keras).

>>> import os
>>> meta = read_metadata(os.path.join(os.path.dirname(__file__), "..", "..", "exported", "freq"))
>>> meta["task"], meta["input"]["shape"]
('freq', [1, 100, 1])
"""

from __future__ import annotations

import os

import numpy as np

from periodic_keras.errors import ExportedModelError
from periodic_keras.runs import MAX_METADATA_BYTES, pending_recovery, read_json

__all__ = ["METADATA", "REQUIRED_FIELDS", "finite_numbers", "int_list", "read_metadata"]

METADATA = "metadata.json"
REQUIRED_FIELDS = ("task", "format_version", "input", "output", "tflite")


def read_metadata(task_dir: str) -> dict:
    """Read and check ``<task_dir>/metadata.json``; raise ``ExportedModelError`` if bad.

    Reads only: a directory missing because an export was killed mid-swap is reported
    with the call that puts the previous version back.
    """
    if not os.path.isdir(task_dir):
        if os.path.exists(task_dir):
            raise ExportedModelError(f"{task_dir!r} is a file, not an exported model directory")
        if pending_recovery(task_dir) is not None:
            raise ExportedModelError(
                f"exported model directory not found: {task_dir!r}, but an interrupted export left its previous "
                f"version aside; put it back with periodic_keras.export.recover({task_dir!r}) (or rerun the export)")
        raise ExportedModelError(f"exported model directory not found: {task_dir!r}")
    path = os.path.join(task_dir, METADATA)
    if os.path.islink(path) or (os.path.exists(path) and not os.path.isfile(path)):
        raise ExportedModelError(f"{path!r} is not a regular file: metadata must lie in the directory itself")
    if not os.path.isfile(path):
        raise ExportedModelError(f"{path!r} is missing: not an exported model directory")
    try:
        meta = read_json(path, MAX_METADATA_BYTES)
    except (OSError, ValueError) as exc:
        raise ExportedModelError(str(exc)) from None
    if not isinstance(meta, dict):
        raise ExportedModelError(f"{path!r} must hold a JSON object")
    missing = [k for k in REQUIRED_FIELDS if k not in meta]
    if missing:
        raise ExportedModelError(f"{path!r} lacks required field(s) {missing}")
    _check_fields(meta, path)
    return meta


def finite_numbers(value) -> bool:
    """A finite number, or a list of them."""
    items = value if isinstance(value, list) else [value]
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) for v in items)


def int_list(value) -> bool:
    return isinstance(value, list) and all(isinstance(d, int) and not isinstance(d, bool) for d in value)


def _check_fields(meta: dict, path: str) -> None:
    """Raise ``ExportedModelError`` naming the first nested field of ``meta`` that is missing or malformed."""
    files = meta["tflite"]
    if not isinstance(files, dict) or not files:
        raise ExportedModelError(f"{path!r}: field 'tflite' must map variant names to {{'file', 'sha256'}} entries")
    for variant, entry in files.items():
        for key in ("file", "sha256"):
            if not isinstance(entry, dict) or not isinstance(entry.get(key), str):
                raise ExportedModelError(f"{path!r}: field 'tflite.{variant}.{key}' is missing or not a string")
        name = entry["file"]
        if (not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name or os.path.isabs(name)
                or (os.altsep and os.altsep in name) or os.path.splitdrive(name)[0]):
            raise ExportedModelError(f"{path!r}: field 'tflite.{variant}.file' must be a plain file name inside "
                                     f"the exported directory, got {name[:100]!r}")
    spec = meta["input"]
    if not isinstance(spec, dict) or not isinstance(spec.get("dtype"), str):
        raise ExportedModelError(f"{path!r}: field 'input.dtype' is missing or not a string")
    if "names" in spec:  # a step model: one shape per named input
        names, shapes = spec["names"], spec.get("shapes")
        if not (isinstance(names, list) and isinstance(shapes, list) and len(names) == len(shapes)
                and all(int_list(s) for s in shapes)):
            raise ExportedModelError(f"{path!r}: field 'input.shapes' must hold one list of integers per "
                                     f"name in 'input.names'")
    elif not int_list(spec.get("shape")):
        raise ExportedModelError(f"{path!r}: field 'input.shape' is missing or not a list of integers")

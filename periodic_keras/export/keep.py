"""An export never replaces what it cannot rebuild.

A previous export's TFLM figures (``tflite.<variant>.tflm``) and C array (``model_data.cc`` /
``.h``, ``c_array`` in its metadata) are measured and written by TensorFlow Lite for
Microcontrollers (the ``tflite-micro`` package). An export made where that package is missing
would replace them with "not measured" and no C array: :func:`check_nothing_lost` refuses it
first, before any training or conversion, naming what would be lost and how to keep it.

>>> import json, os, tempfile
>>> target = tempfile.mkdtemp()
>>> with open(os.path.join(target, "metadata.json"), "w") as fh:
...     json.dump({"tflite": {"int8": {"tflm": {"runs": True}}}, "c_array": {"variant": "int8"}}, fh)
>>> lost_without_tflm(target)
['the C array model_data.cc / model_data.h', "TFLM's figures for int8"]
>>> check_nothing_lost(target, micro_available=True)  # tflite-micro rebuilds them: nothing lost
"""

from __future__ import annotations

import os

from periodic_keras import edge
from periodic_keras.errors import ExportError
from periodic_keras.runs import read_json

__all__ = ["check_nothing_lost", "lost_without_tflm"]


def lost_without_tflm(out_dir: str) -> list:
    """What the export in ``out_dir`` holds that only ``tflite-micro`` can rebuild: its C array
    and the variants whose TFLM figures were measured (TFLM ran them, or said why not).
    Empty when ``out_dir`` holds no export or its ``metadata.json`` cannot be read (the
    export target checks of :mod:`periodic_keras.runs` judge such a directory)."""
    try:
        meta = read_json(os.path.join(out_dir, edge.METADATA))
    except (OSError, ValueError):
        return []
    if not isinstance(meta, dict):
        return []
    lost = []
    c_array = meta.get("c_array")
    if isinstance(c_array, dict) and c_array:
        files = [part.get("file") for part in (c_array.get("source"), c_array.get("header")) if isinstance(part, dict)]
        lost.append(f"the C array {' / '.join(f for f in files if f) or 'model_data.cc / model_data.h'}")
    tflite = meta.get("tflite")
    measured = [variant for variant, entry in (tflite.items() if isinstance(tflite, dict) else ())
                if isinstance(entry, dict) and isinstance(entry.get("tflm"), dict)
                and entry["tflm"].get("runs") is not None]
    if measured:
        lost.append(f"TFLM's figures for {', '.join(measured)}")
    return lost


def check_nothing_lost(out_dir: str, micro_available: bool | None = None) -> None:
    """Refuse to replace the export in ``out_dir`` with one that lacks what it holds.

    Without ``tflite-micro`` (``micro_available``; default: whether it imports here) an export
    records no TFLM figures and writes no C array. If the export it would replace has them,
    this raises :class:`ExportError` naming them and the fix, before any work is done.

    Raises:
        ExportError: ``out_dir`` holds TFLM figures or a C array and TFLM is not installed.
    """
    if micro_available is None:
        micro_available = edge.micro.available()
    if micro_available:
        return
    lost = lost_without_tflm(out_dir)
    if lost:
        raise ExportError(
            f"refusing to replace the export in {out_dir!r}: it holds {' and '.join(lost)}, which this export "
            "cannot rebuild because tflite-micro (TensorFlow Lite for Microcontrollers) is not installed. "
            "Install it (pip install tflite-micro, or reinstall periodic-keras with its dependencies: "
            "pip install -e .), or export to another directory")

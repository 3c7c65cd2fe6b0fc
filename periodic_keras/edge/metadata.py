"""Reading an export's ``metadata.json``: size- and depth-limited, every field the runtimes rely on checked.

:func:`read_metadata` checks what every loader uses (``task``, ``format_version``, ``input``,
``output``, ``tflite``); :func:`check_band`, :func:`check_state` and :func:`check_forecaster`
check what one loader uses. Each refuses a wrong type, a non-finite number, an integer out of
range or a dtype the runtime does not know with an :class:`~periodic_keras.errors.ExportedModelError`
naming the file and the field. Read-only; NumPy only (never TensorFlow or Keras).

>>> import os
>>> meta = read_metadata(os.path.join(os.path.dirname(__file__), "..", "..", "exported", "freq"))
>>> meta["task"], meta["input"]["shape"]
('freq', [1, 100, 1])
"""

from __future__ import annotations

import math
import os
import sys

from periodic_keras.errors import ExportedModelError
from periodic_keras.runs import MAX_METADATA_BYTES, pending_recovery, read_json

__all__ = ["DTYPES", "FORMAT_VERSION", "METADATA", "REQUIRED_FIELDS", "check_band", "check_forecaster",
           "check_state", "finite_numbers", "int_list", "positive_int", "read_metadata", "shape_list"]

METADATA = "metadata.json"
REQUIRED_FIELDS = ("task", "format_version", "input", "output", "tflite")
#: The newest metadata format this runtime reads (``format_version``).
FORMAT_VERSION = 1
#: The tensor dtypes an export may declare (``input.dtype``, ``output.dtype``, ``input.encoding.dtype``;
#: ``input.dtype`` may also be ``"mixed"``, with one dtype per input in ``input.dtypes``).
DTYPES = ("float16", "float32", "float64", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
          "bool")
#: Bounds for sizes and integers the runtime turns into int64 arithmetic or C sizes.
MAX_DIM = 1 << 31
MAX_INT64 = (1 << 63) - 1


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
    except (OSError, ValueError, RecursionError) as exc:  # ValueError: also an integer too long to convert
        message = str(exc)
        raise ExportedModelError(message if path in message else f"{path!r}: {message}") from None
    if not isinstance(meta, dict):
        raise ExportedModelError(f"{path!r} must hold a JSON object")
    missing = [k for k in REQUIRED_FIELDS if k not in meta]
    if missing:
        raise ExportedModelError(f"{path!r} lacks required field(s) {missing}")
    _check_fields(meta, path)
    return meta


def finite_numbers(value) -> bool:
    """A finite number (one a float64 holds: not NaN, inf or an integer beyond 1.8e308), or a list of them.

    >>> finite_numbers(1.5), finite_numbers([1, 2.0]), finite_numbers(float("nan")), finite_numbers(10**400)
    (True, True, False, False)
    """
    items = value if isinstance(value, list) else [value]
    return all(isinstance(v, (int, float)) and not isinstance(v, bool)
               and (abs(v) <= sys.float_info.max if isinstance(v, int) else math.isfinite(v)) for v in items)


def int_list(value) -> bool:
    """A list of integers (not booleans)."""
    return isinstance(value, list) and all(isinstance(d, int) and not isinstance(d, bool) for d in value)


def positive_int(value, limit: int = MAX_INT64) -> bool:
    """An integer (not a boolean) in ``[1, limit]``.

    >>> positive_int(3), positive_int(0), positive_int(True), positive_int(2.0), positive_int(10**30)
    (True, False, False, False, False)
    """
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= limit


def shape_list(value) -> bool:
    """A tensor shape: a non-empty list of positive integers (each below 2**31).

    >>> shape_list([1, 100, 1]), shape_list([1, 0]), shape_list([]), shape_list([1, "2"])
    (True, False, False, False)
    """
    return isinstance(value, list) and bool(value) and all(positive_int(d, MAX_DIM) for d in value)


_UNSHOWN = object()


def _fail(path: str, field: str, what: str, value=_UNSHOWN):
    shown = "" if value is _UNSHOWN else f", got {_shown(value)}"
    raise ExportedModelError(f"{path!r}: field {field!r} {what}{shown}")


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _check_dtype(path: str, field: str, value) -> None:
    if not isinstance(value, str) or value not in DTYPES:
        _fail(path, field, f"must be one of {list(DTYPES)}", value)


def _check_fields(meta: dict, path: str) -> None:
    """Raise ``ExportedModelError`` naming the first field of ``meta`` every loader uses that is malformed."""
    if not isinstance(meta["task"], str) or not meta["task"]:
        _fail(path, "task", "must be a non-empty string", meta["task"])
    version = meta["format_version"]
    if not positive_int(version):
        _fail(path, "format_version", "must be a positive integer", version)
    if version > FORMAT_VERSION:
        _fail(path, "format_version", f"is {version}: written by a newer periodic_keras (this runtime reads "
                                      f"format {FORMAT_VERSION}); update periodic_keras")
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
        digest = entry["sha256"]
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            _fail(path, f"tflite.{variant}.sha256", "must be 64 lowercase hex digits", digest)
        micro = entry.get("tflm")
        if micro is not None:
            if not isinstance(micro, dict):
                _fail(path, f"tflite.{variant}.tflm", "must be an object", micro)
            if "arena_bytes" in micro and not positive_int(micro["arena_bytes"], MAX_DIM):
                _fail(path, f"tflite.{variant}.tflm.arena_bytes", f"must be an integer in [1, {MAX_DIM}]",
                      micro["arena_bytes"])
    spec = meta["input"]
    if not isinstance(spec, dict) or not isinstance(spec.get("dtype"), str):
        raise ExportedModelError(f"{path!r}: field 'input.dtype' is missing or not a string")
    if spec["dtype"] == "mixed":  # several inputs of different dtypes (a forecaster): one dtype per name
        dtypes, names = spec.get("dtypes"), spec.get("names")
        if not (isinstance(dtypes, list) and isinstance(names, list) and len(dtypes) == len(names)):
            _fail(path, "input.dtypes", "must give one dtype per name in 'input.names' (input.dtype is 'mixed')",
                  dtypes)
        for i, dtype in enumerate(dtypes):
            _check_dtype(path, f"input.dtypes[{i}]", dtype)
    else:
        _check_dtype(path, "input.dtype", spec["dtype"])
    if "names" in spec:  # a step model or a forecaster: one shape per named input
        names, shapes = spec["names"], spec.get("shapes")
        if not (isinstance(names, list) and isinstance(shapes, list) and len(names) == len(shapes)
                and all(int_list(s) for s in shapes)):
            raise ExportedModelError(f"{path!r}: field 'input.shapes' must hold one list of integers per "
                                     f"name in 'input.names'")
        if not names or not all(isinstance(n, str) and n for n in names) or len(set(names)) != len(names):
            _fail(path, "input.names", "must be distinct non-empty strings", names)
        for i, shape in enumerate(shapes):
            if not shape_list(shape):
                _fail(path, f"input.shapes[{i}]", f"must be positive integers below {MAX_DIM}", shape)
    elif not int_list(spec.get("shape")):
        raise ExportedModelError(f"{path!r}: field 'input.shape' is missing or not a list of integers")
    elif not shape_list(spec["shape"]):
        _fail(path, "input.shape", f"must be positive integers below {MAX_DIM}", spec["shape"])
    out = meta["output"]
    if not isinstance(out, dict):
        _fail(path, "output", "must be an object", out)
    if "shape" in out and not shape_list(out["shape"]):
        _fail(path, "output.shape", f"must be positive integers below {MAX_DIM}", out["shape"])
    if "dtype" in out:
        _check_dtype(path, "output.dtype", out["dtype"])
    if "names" in out and not (isinstance(out["names"], list) and all(isinstance(n, str) for n in out["names"])):
        _fail(path, "output.names", "must be a list of strings", out["names"])


def check_band(meta: dict, path: str, item_size: int) -> None:
    """Check the frequency band a ``freq`` export's :meth:`~periodic_keras.edge.EdgeModel.quality`
    uses, where present: ``window`` (the samples of one input item, ``item_size``), ``0 <= fmin
    < fmax <= window / 2`` (cycles per window, finite) and ``quality.thresholds``.

    >>> check_band({"window": 100, "fmin": 1.0, "fmax": 30.0}, "m.json", 100)
    >>> check_band({"window": 100, "fmin": 30.0, "fmax": 1.0}, "m.json", 100)
    Traceback (most recent call last):
    ...
    periodic_keras.errors.ExportedModelError: 'm.json': field 'fmin' must be below 'fmax' (1.0), got 30.0
    """
    if "window" in meta:
        if not positive_int(meta["window"], MAX_DIM):
            _fail(path, "window", "must be a positive integer", meta["window"])
        if meta["window"] != item_size:
            _fail(path, "window", f"must be the samples the model takes ({item_size})", meta["window"])
    for key in ("fmin", "fmax"):
        if key in meta and (isinstance(meta[key], list) or not finite_numbers(meta[key])):
            _fail(path, key, "must be a finite number (cycles per window)", meta[key])
    fmin, fmax = meta.get("fmin"), meta.get("fmax")
    if fmin is not None and fmin < 0:
        _fail(path, "fmin", "must not be negative", fmin)
    if fmin is not None and fmax is not None and not fmin < fmax:
        _fail(path, "fmin", f"must be below 'fmax' ({fmax})", fmin)
    if fmax is not None and isinstance(meta.get("window"), int) and fmax > meta["window"] / 2:
        _fail(path, "fmax", f"must be at most half the window ({meta['window'] / 2}: Nyquist)", fmax)
    section = meta.get("quality", {})
    if not isinstance(section, dict):
        _fail(path, "quality", "must be an object", section)
    if "thresholds" in section:
        from periodic_keras.classical import THRESHOLDS

        thresholds = section["thresholds"]
        if not isinstance(thresholds, dict) or set(thresholds) - set(THRESHOLDS):
            _fail(path, "quality.thresholds", f"must map names from {sorted(THRESHOLDS)} to finite numbers",
                  thresholds)
        for name, value in thresholds.items():
            ok = finite_numbers(value) and (isinstance(value, list) == isinstance(THRESHOLDS[name], list))
            if ok and isinstance(value, list):  # a range: [low, high], 0 < low < high
                ok = len(value) == 2 and 0 < value[0] < value[1]
            elif ok and name != "min_snr_db":  # fractions and tolerances
                ok = value >= 0
            if not ok:
                shape = "[low, high] with 0 < low < high" if isinstance(THRESHOLDS[name], list) else (
                    "a finite number" if name == "min_snr_db" else "a finite number >= 0")
                _fail(path, "quality.thresholds", f"must map names from {sorted(THRESHOLDS)} to finite numbers: "
                                                  f"{name!r} must be {shape}", value)


def check_state(meta: dict, path: str) -> None:
    """Check a step model's ``state`` (``widths``: positive integers, ``names`` if given: one
    string each) and that ``input.names`` holds ``x`` and one input per state."""
    state = meta.get("state")
    if not isinstance(state, dict) or not int_list(state.get("widths")):
        raise ExportedModelError(f"{path!r}: field 'state.widths' is missing or not a list of integers")
    widths = state["widths"]
    if not widths or not all(positive_int(w, MAX_DIM) for w in widths):
        _fail(path, "state.widths", f"must be positive integers below {MAX_DIM}", widths)
    names = state.get("names")
    if names is not None and not (isinstance(names, list) and len(names) == len(widths)
                                  and all(isinstance(n, str) for n in names)):
        _fail(path, "state.names", "must hold one string per width in 'state.widths'", names)
    if len(meta["input"]["names"]) != len(widths) + 1:
        _fail(path, "input.names", f"must name x and the {len(widths)} state input(s)", meta["input"]["names"])


def check_forecaster(meta: dict, path: str) -> None:
    """Check a forecaster export's ``forecaster`` plan (``context``, ``horizon``: positive
    integers; ``periods``: positive finite numbers) and ``time`` axis (``unit``, ``origin``,
    positive ``step``: integers within int64 for ``ns`` and ``month``; ``anchor``)."""
    plan, axis = meta.get("forecaster"), meta.get("time")
    if not isinstance(plan, dict):
        _fail(path, "forecaster", "must be an object", plan)
    for key in ("context", "horizon"):
        if not positive_int(plan.get(key), MAX_DIM):
            raise ExportedModelError(f"{path!r}: fields 'forecaster.context' and 'forecaster.horizon' must be "
                                     f"positive integers, got {key} {_shown(plan.get(key))}")
    periods = plan.get("periods")
    if periods is not None and not (isinstance(periods, list) and finite_numbers(periods)
                                    and all(p > 0 for p in periods)):
        _fail(path, "forecaster.periods", "must be a list of positive finite numbers", periods)
    if not (isinstance(axis, dict) and axis.get("unit") in ("ns", "month", "number")
            and finite_numbers([axis.get("origin"), axis.get("step")]) and axis["step"] > 0):
        raise ExportedModelError(f"{path!r}: field 'time' must give unit (ns, month or number), origin "
                                 "and a positive step")
    if axis["unit"] != "number":  # whole ns or months, in int64 arithmetic
        for key in ("origin", "step"):
            value = axis[key]
            if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_INT64:
                _fail(path, f"time.{key}", f"must be an integer within int64 for unit {axis['unit']!r}", value)
    if axis.get("anchor") not in (None, "start", "end", "period"):
        _fail(path, "time.anchor", "must be 'start', 'end', 'period' or null", axis.get("anchor"))

"""Edge runtime: run models from ``exported/<task>/`` with NumPy and LiteRT (or TFLM) only.

This module must never import TensorFlow or Keras: an edge device has only NumPy
and the ``ai_edge_litert`` interpreter, or a microcontroller's TensorFlow Lite Micro
(``runtime="tflm"``: :mod:`periodic_keras.micro`, the ``tflite-micro`` package). It checks every artefact against its
``metadata.json`` (files present, SHA-256 checksums, input shape and dtype) before
running it, and validates every input (shape, dtype, finiteness) with clear errors.

Loading is contained and read-only: the model files named in the metadata must be plain
file names inside the directory (no separators, no ``..``, no absolute paths, no links),
the metadata is size- and depth-limited before parsing, the bytes that are checksummed
are the bytes that run, and nothing is ever renamed or written (an export interrupted
mid-swap is reported, with the call that finishes it: :func:`periodic_keras.export.recover`).

Example (with the committed frequency model)::

    from periodic_keras import edge
    model = edge.load("exported/freq")
    model.predict(windows)          # windows: [batch, 100] or [batch, 100, 1]
"""

from __future__ import annotations

import hashlib
import os
import stat
import time

import numpy as np

from periodic_keras.runs import MAX_METADATA_BYTES, pending_recovery, read_json

__all__ = ["EdgeModel", "EdgeStepModel", "ExportedModelError", "NonFiniteOutputError", "RUNTIMES", "days_seconds", "load", "load_forecaster",
           "load_step", "read_metadata"]

METADATA = "metadata.json"
REQUIRED_FIELDS = ("task", "format_version", "input", "output", "tflite")


class ExportedModelError(RuntimeError):
    """An exported model directory is missing, incomplete, corrupt or inconsistent."""


class NonFiniteOutputError(ValueError):
    """An exported model produced NaN/inf: its inputs or state are far outside its training
    (or a quantised variant cannot represent them)."""


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


def _finite_numbers(value) -> bool:
    """A finite number, or a list of them."""
    items = value if isinstance(value, list) else [value]
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) for v in items)


def _int_list(value) -> bool:
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
                and all(_int_list(s) for s in shapes)):
            raise ExportedModelError(f"{path!r}: field 'input.shapes' must hold one list of integers per "
                                     f"name in 'input.names'")
    elif not _int_list(spec.get("shape")):
        raise ExportedModelError(f"{path!r}: field 'input.shape' is missing or not a list of integers")


#: The runtimes an export can run in: LiteRT (Linux-class devices) and TensorFlow Lite for
#: Microcontrollers (:mod:`periodic_keras.micro`, the ``tflite-micro`` package).
RUNTIMES = ("litert", "tflm")


class _LiteRTRunner:
    """LiteRT's signature runner behind the interface :class:`periodic_keras.micro.MicroRunner`
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


def _open(task_dir: str, variant: str, num_threads: int | None, runtime: str = "litert"):
    """Metadata, a runner for ``variant`` in ``runtime`` (:data:`RUNTIMES`), and the file's path."""
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime must be one of {RUNTIMES}, got {runtime!r}")
    if num_threads is not None and (isinstance(num_threads, bool) or not isinstance(num_threads, (int, np.integer))
                                    or num_threads < 1):
        raise ValueError(f"num_threads must be a positive integer or None, got {num_threads!r}")
    if runtime == "tflm":
        from periodic_keras import micro

        if not micro.available():
            raise ExportedModelError("runtime 'tflm' needs TensorFlow Lite Micro: pip install tflite-micro "
                                     "(or periodic-keras[micro])")
    meta = read_metadata(task_dir)
    files = meta["tflite"]
    if variant not in files:
        raise ExportedModelError(f"variant {variant!r} not in {task_dir!r}; available: {sorted(files)}")
    path = os.path.join(task_dir, files[variant]["file"])
    content = _read_model(path)
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
        return meta, _LiteRTRunner(content, num_threads), path
    except (ValueError, RuntimeError) as exc:
        raise ExportedModelError(f"LiteRT cannot load {path!r}: {exc}") from None


def _ordered(names) -> list:
    """Signature names in position order: ``args_0, args_0_1, ...`` (``output_0, ...``)."""
    return sorted(names, key=lambda n: (len(n), n))


#: The largest model file the runtime reads (bytes).
MAX_MODEL_BYTES = 1 << 30


def _read_model(path: str) -> bytes:
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


def _finite_output(out: np.ndarray) -> np.ndarray:
    """``out``, refused if the model produced NaN/inf (inputs or state far outside its training)."""
    if np.issubdtype(out.dtype, np.floating) and not np.isfinite(out).all():
        raise NonFiniteOutputError("the model produced NaN/inf: its inputs or state are far outside the range it was "
                         "trained on")
    return out


def days_seconds(t) -> np.ndarray:
    """int64 seconds since the epoch ``[batch, 1]`` -> int32 ``[batch, 2]``: days since the
    epoch and seconds of the day (floor division, so ``-1`` is day ``-1``, second 86399): what a
    device without int64 arithmetic (TFLM) is given instead of ``t``. The seconds are exact for
    every int64 ``t``; the days wrap modulo 2**32 beyond ±2**31 days (5.8 million years), which
    changes nothing for periods that divide a day (all a ``split_days`` encoding accepts).

    >>> days_seconds(np.array([[-1], [86_400 * 3 + 5]])).tolist()
    [[-1, 86399], [3, 5]]
    """
    days, seconds = np.divmod(np.asarray(t, np.int64).reshape(-1, 1), 86_400)
    return np.concatenate([(days + 2**31) % 2**32 - 2**31, seconds], axis=1).astype(np.int32)


#: Input encodings an export may declare (``input.encoding.name``), applied to the checked
#: input before it runs.
INPUT_ENCODINGS = {"days_seconds": days_seconds}


class EdgeModel:
    """One exported TFLite model plus its metadata, run with the LiteRT interpreter.

    Use :func:`load` to create one. ``predict`` takes a batch of inputs and runs the
    fixed-batch model once per item.
    """

    def __init__(self, task_dir: str, variant: str = "float32", num_threads: int | None = None,
                 runtime: str = "litert"):
        self.task_dir, self.variant, self.runtime = task_dir, variant, runtime
        self.metadata, self._runner, path = _open(task_dir, variant, num_threads, runtime)
        if self.metadata.get("task") == "forecaster":
            raise ExportedModelError(f"{task_dir!r} is a forecaster export: load it with edge.load_forecaster")
        if len(self._runner.inputs) != 1:
            raise ExportedModelError(f"{path!r} has several inputs: load a step model with edge.load_step")
        ((self._in_name, actual),) = self._runner.inputs.items()
        self._out_name = _ordered(self._runner.outputs)[0]
        spec = self.metadata["input"]
        if "shape" not in spec:
            raise ExportedModelError(f"{task_dir!r} is a step model export: load it with edge.load_step")
        self.input_shape, self.dtype = tuple(spec["shape"]), np.dtype(spec["dtype"])
        # The model may take the input re-encoded (the clock: int32 days and seconds of day, which TFLM runs).
        self._encoding, want = None, (self.input_shape, self.dtype.name)
        encoded = spec.get("encoding")
        if encoded is not None:
            if not (isinstance(encoded, dict) and encoded.get("name") in INPUT_ENCODINGS
                    and _int_list(encoded.get("shape")) and isinstance(encoded.get("dtype"), str)):
                raise ExportedModelError(f"{task_dir!r}: field 'input.encoding' must give a name from "
                                         f"{sorted(INPUT_ENCODINGS)}, a shape and a dtype")
            self._encoding, want = encoded["name"], (tuple(encoded["shape"]), encoded["dtype"])
        got = (tuple(int(d) for d in actual["shape"]), actual["dtype"].name)
        if got != want:
            raise ExportedModelError(f"{path!r} takes {got[0]} {got[1]}, but {METADATA} says {want[0]} {want[1]}")

    def _check(self, x) -> np.ndarray:
        item_shape = self.input_shape[1:]
        x = np.asarray(x)
        if x.ndim == 0:  # one scalar item, e.g. one timestamp
            x = x.reshape(1)
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
        if np.issubdtype(self.dtype, np.integer):
            if not np.issubdtype(batch.dtype, np.integer):
                raise TypeError(f"this {self.metadata['task']} model takes integer input ({self.dtype.name}); got "
                                f"{batch.dtype}: floats cannot hold large timestamps exactly")
            info = np.iinfo(self.dtype)
            if batch.min() < info.min or batch.max() > info.max:
                raise ValueError(f"input values outside the {self.dtype.name} range")
            return batch.astype(self.dtype, copy=False)
        if np.issubdtype(batch.dtype, np.floating):
            bad = ~np.isfinite(batch)
            if bad.any():
                rows = np.unique(np.nonzero(bad.reshape(len(batch), -1))[0])
                raise ValueError(f"input holds NaN/inf in {len(rows)} item(s), first at batch index {rows[0]}")
            limit = np.finfo(self.dtype).max
            if batch.dtype.itemsize > self.dtype.itemsize and np.abs(batch).max() > limit:
                raise ValueError(f"input values outside the {self.dtype.name} range (|x| > {limit:.4g})")
        return batch.astype(self.dtype, copy=False)

    def predict(self, x, return_quality: bool = False):
        """Run the model on a batch; return outputs stacked over the batch.

        For the frequency task the output is ``[batch]`` frequencies in cycles per window;
        with ``return_quality`` it is ``(frequencies, quality)``, ``quality`` as from
        :meth:`quality`: whether each answer can be trusted.
        """
        batch = self._check(x)
        if return_quality:
            out = self.predict(batch)
            return out, self._quality(batch, out)
        spec = self._runner.outputs[self._out_name]
        out = np.empty((len(batch), *spec["shape"][1:]), spec["dtype"])
        for i, item in enumerate(INPUT_ENCODINGS[self._encoding](batch) if self._encoding else batch):
            out[i] = self._runner(**{self._in_name: item[None]})[self._out_name][0]
        out = _finite_output(out)
        return out.reshape(len(batch)) if out.ndim == 2 and out.shape[1] == 1 else out

    def quality(self, x, frequency=None) -> dict:
        """Whether each frequency estimate can be trusted (frequency exports only).

        Fits the window at the estimate (:func:`periodic_keras.trust.tone_quality`, with the
        thresholds in ``metadata.json``) and returns a dict of per-window arrays:
        ``frequency``, ``trusted``, ``snr_db`` (estimated), ``std`` (expected error,
        cycles/window) and the flags ``flat``, ``scale``, ``out_of_band``, ``trend``,
        ``multi_tone``, ``low_snr``, ``off_peak``. ``frequency``: the estimates if already
        computed.
        """
        batch = self._check(x)
        f = self.predict(batch) if frequency is None else np.asarray(frequency, np.float64).reshape(-1)
        return self._quality(batch, f)

    def _quality(self, batch: np.ndarray, f: np.ndarray) -> dict:
        """:meth:`quality` of a checked ``batch`` and its estimates ``f``."""
        from periodic_keras.trust import THRESHOLDS, tone_quality

        meta = self.metadata
        band = (meta.get("window"), meta.get("fmin"), meta.get("fmax"))
        if meta["task"] != "freq" or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in band):
            raise ExportedModelError(f"quality figures exist for frequency exports (task 'freq' with window, fmin "
                                     f"and fmax in {METADATA}); this one is task {meta['task']!r}")
        section = meta.get("quality", {})  # exports older than the quality section: the defaults
        thresholds = section.get("thresholds", {}) if isinstance(section, dict) else None
        if not isinstance(thresholds, dict) or set(thresholds) - set(THRESHOLDS) or not all(
                _finite_numbers(v) for v in thresholds.values()):
            raise ExportedModelError(f"field 'quality.thresholds' in {METADATA} must map names from "
                                     f"{sorted(THRESHOLDS)} to finite numbers")
        out = tone_quality(batch.reshape(len(batch), -1), f, float(band[1]), float(band[2]), **thresholds)
        return {"frequency": f, **out}

    def latency_ms(self, x, repeats: int = 3) -> float:
        """Median milliseconds per item over ``repeats`` passes of ``predict(x)``."""
        batch = self._check(x)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            self.predict(batch)
            times.append((time.perf_counter() - start) / len(batch))
        return float(np.median(times) * 1e3)


def load_step(task_dir: str, variant: str = "float32", num_threads: int | None = None,
              runtime: str = "litert"):
    """Load a step-model export (e.g. ``exported/generator``) for streaming:
    :class:`periodic_keras.edge_step.EdgeStepModel`.

    ``runtime``: as :func:`load`.

    Raises:
        ExportedModelError: as :func:`load`, or when the export is not a step model.
    """
    from periodic_keras.edge_step import EdgeStepModel

    return EdgeStepModel(task_dir, variant, num_threads, runtime)


def load_forecaster(task_dir: str, variant: str = "float32", num_threads: int | None = None):
    """Load a forecaster export (:mod:`periodic_keras.edge_forecast`): ``.forecast(values, times)``."""
    from periodic_keras import edge_forecast

    return edge_forecast.load(task_dir, variant, num_threads)


def load(task_dir: str, variant: str = "float32", num_threads: int | None = None,
         runtime: str = "litert") -> EdgeModel:
    """Load ``exported/<task>/`` for inference on a device (NumPy + LiteRT or TFLM only).

    Args:
        task_dir: directory written by :mod:`periodic_keras.export`.
        variant: which TFLite file, e.g. ``"float32"``, ``"float16"`` or ``"int8"`` (see metadata).
        num_threads: interpreter threads (``None``: LiteRT's default; TFLM has one).
        runtime: ``"litert"`` (LiteRT) or ``"tflm"`` (TensorFlow Lite for Microcontrollers'
            interpreter, :mod:`periodic_keras.micro`: runs the file as a microcontroller
            would; which variants it runs is in ``metadata.json``, ``tflite.<variant>.tflm``).

    Raises:
        ExportedModelError: missing directory, metadata or model file; a checksum that
            does not match; a file the runtime cannot load; a model disagreeing with metadata;
            ``runtime="tflm"`` without the ``tflite-micro`` package.

    Example:

    >>> import numpy as np, os
    >>> model = load(os.path.join(os.path.dirname(__file__), "..", "exported", "freq"))
    >>> t = np.arange(100) / 100
    >>> round(float(model.predict(np.sin(2 * np.pi * 12.5 * t)[None])[0]), 1)
    12.5
    """
    return EdgeModel(task_dir, variant, num_threads, runtime)


def __getattr__(name):  # edge.EdgeStepModel lives in edge_step (imported on first use)
    if name == "EdgeStepModel":
        from periodic_keras.edge_step import EdgeStepModel

        return EdgeStepModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""Models that take a batch of windows (or timestamps): :class:`EdgeModel`, loaded by :func:`load`.

NumPy and LiteRT or TFLM only: never TensorFlow or Keras.
"""

from __future__ import annotations

import os
import time

import numpy as np

from periodic_keras.edge.metadata import DTYPES, METADATA, check_band, shape_list
from periodic_keras.edge.runtime import finite_output, open_model, signature_order
from periodic_keras.errors import ExportedModelError

__all__ = ["INPUT_ENCODINGS", "EdgeModel", "days_seconds", "load"]


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
    fixed-batch model once per item. Safe to share between threads: each concurrent call runs
    in an interpreter of its own (see :func:`load`).
    """

    def __init__(self, task_dir: str, variant: str = "float32", num_threads: int | None = None,
                 runtime: str = "litert", max_interpreters: int | None = None):
        self.task_dir, self.variant, self.runtime = task_dir, variant, runtime
        self.metadata, self._runner, path = open_model(task_dir, variant, num_threads, runtime, max_interpreters)
        meta_path = os.path.join(task_dir, METADATA)
        if self.metadata.get("task") == "forecaster":
            raise ExportedModelError(f"{task_dir!r} is a forecaster export: load it with edge.load_forecaster")
        if len(self._runner.inputs) != 1:
            raise ExportedModelError(f"{path!r} has several inputs: load a step model with edge.load_step")
        ((self._in_name, actual),) = self._runner.inputs.items()
        if not self._runner.outputs:
            raise ExportedModelError(f"{path!r} has no outputs")
        self._out_name = signature_order(self._runner.outputs)[0]
        spec = self.metadata["input"]
        if "shape" not in spec:
            raise ExportedModelError(f"{task_dir!r} is a step model export: load it with edge.load_step")
        if spec["dtype"] not in DTYPES or np.dtype(spec["dtype"]).kind not in "iuf":
            raise ExportedModelError(f"{meta_path!r}: field 'input.dtype' must be a real number type, got "
                                     f"{spec['dtype']!r}")
        self.input_shape, self.dtype = tuple(spec["shape"]), np.dtype(spec["dtype"])
        # The model may take the input re-encoded (the clock: int32 days and seconds of day, which TFLM runs).
        self._encoding, want = None, (self.input_shape, self.dtype.name)
        encoded = spec.get("encoding")
        if encoded is not None:
            if not (isinstance(encoded, dict) and isinstance(encoded.get("name"), str)
                    and encoded["name"] in INPUT_ENCODINGS
                    and shape_list(encoded.get("shape")) and encoded.get("dtype") in DTYPES):
                raise ExportedModelError(f"{meta_path!r}: field 'input.encoding' must give a name from "
                                         f"{sorted(INPUT_ENCODINGS)}, a shape (positive integers) and a dtype "
                                         f"(one of {list(DTYPES)})")
            self._encoding, want = encoded["name"], (tuple(encoded["shape"]), encoded["dtype"])
        got = (tuple(int(d) for d in actual["shape"]), actual["dtype"].name)
        if got != want:
            raise ExportedModelError(f"{path!r} takes {got[0]} {got[1]}, but {METADATA} says {want[0]} {want[1]}")
        if self.metadata["task"] == "freq":  # what quality() reads: checked now, not when first asked
            check_band(self.metadata, meta_path, int(np.prod(self.input_shape[1:])))
        # An answer with its quality figures computed in the graph: one output, one named column each.
        quality = self.metadata.get("quality")
        self.columns = quality.get("columns") if isinstance(quality, dict) else None
        out_shape = self._runner.outputs[self._out_name]["shape"]
        if self.columns is not None and not (
                isinstance(self.columns, list) and all(isinstance(c, str) and c for c in self.columns)
                and len(set(self.columns)) == len(self.columns) and len(out_shape) == 2
                and out_shape[1] == len(self.columns) >= 2):
            raise ExportedModelError(f"{meta_path!r}: field 'quality.columns' must name each column of the model's "
                                     f"output {list(out_shape)} (distinct strings, at least two), got "
                                     f"{self.columns!r}")

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

        For a frequency export the output is ``[batch]`` frequencies in cycles per window; with
        ``return_quality`` it is ``(frequencies, quality)``, ``quality`` as from :meth:`quality`:
        whether each answer can be trusted. An export whose metadata names its output's columns
        in ``quality.columns`` (:func:`periodic_keras.models.fundamental_answer`) returns the first
        column as the answer, and its quality figures are the other columns, computed in the
        model: no refit.
        """
        batch = self._check(x)
        if self.columns is not None:
            quality = self._columns(self._run(batch))
            return (quality["frequency"], quality) if return_quality else quality["frequency"]
        if return_quality:
            out = self.predict(batch)
            return out, self._quality(batch, out)
        out = self._run(batch)
        return out.reshape(len(batch)) if out.ndim == 2 and out.shape[1] == 1 else out

    def raw(self, x) -> np.ndarray:
        """The model's output as it comes, ``[batch, *output shape]`` (every column of an export
        with ``quality.columns``); the input checked as :meth:`predict` checks it."""
        return self._run(self._check(x))

    def _run(self, batch: np.ndarray) -> np.ndarray:
        spec = self._runner.outputs[self._out_name]
        out = np.empty((len(batch), *spec["shape"][1:]), spec["dtype"])
        with self._runner.runner() as run:  # one interpreter for the whole batch, this call's alone
            for i, item in enumerate(INPUT_ENCODINGS[self._encoding](batch) if self._encoding else batch):
                out[i] = run(**{self._in_name: item[None]})[self._out_name][0]
        return finite_output(out)

    def _columns(self, out: np.ndarray) -> dict:
        """The in-graph quality columns of ``out``, by name (the first one as ``frequency``; 0/1
        flags named ``trusted`` as booleans)."""
        figures = {"frequency": out[:, 0].copy()}
        for i, name in enumerate(self.columns[1:], start=1):
            figures[name] = out[:, i] > 0.5 if name == "trusted" else out[:, i].copy()
        return figures

    def quality(self, x, frequency=None) -> dict:
        """Whether each frequency estimate can be trusted (frequency exports only).

        Fits the window at the estimate (:func:`periodic_keras.classical.tone_quality`, with the
        thresholds in ``metadata.json``) and returns a dict of per-window arrays:
        ``frequency``, ``trusted``, ``snr_db`` (estimated), ``std`` (expected error,
        cycles/window) and the flags ``flat``, ``scale``, ``out_of_band``, ``trend``,
        ``multi_tone``, ``low_snr``, ``off_peak``. ``frequency``: the estimates if already
        computed. An export with ``quality.columns`` computes its figures in the model, for its
        own answer: ``frequency``, then its columns (``trusted``, ``confidence``, ...); it takes
        no ``frequency``.
        """
        batch = self._check(x)
        if self.columns is not None:
            if frequency is not None:
                raise ValueError(f"this {self.metadata['task']} export computes its quality in the model, for its "
                                 "own answer: call quality(x) without frequency")
            return self._columns(self._run(batch))
        f = self.predict(batch) if frequency is None else np.asarray(frequency, np.float64).reshape(-1)
        return self._quality(batch, f)

    def _quality(self, batch: np.ndarray, f: np.ndarray) -> dict:
        """:meth:`quality` of a checked ``batch`` and its estimates ``f``."""
        from periodic_keras.classical import tone_quality

        meta, meta_path = self.metadata, os.path.join(self.task_dir, METADATA)
        band = (meta.get("window"), meta.get("fmin"), meta.get("fmax"))
        if meta["task"] != "freq" or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in band):
            raise ExportedModelError(f"quality figures exist for frequency exports (task 'freq' with window, fmin "
                                     f"and fmax in {meta_path!r}); this one is task {meta['task']!r}")
        # checked when loaded; again here, as self.metadata is the caller's to change
        check_band(meta, meta_path, int(np.prod(self.input_shape[1:])))
        thresholds = meta.get("quality", {}).get("thresholds", {})  # older exports: the defaults
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

    def throughput(self, x, threads: int = 1, repeats: int = 3) -> float:
        """Items per second when ``threads`` threads each call ``predict(x)`` ``repeats`` times
        at once (wall time from the first call to the last answer).

        >>> import os
        >>> model = load(os.path.join(os.path.dirname(__file__), "..", "..", "exported", "freq"))
        >>> model.throughput(np.zeros((4, 100)), threads=2, repeats=1) > 0
        True
        """
        import threading

        for name, value in (("threads", threads), ("repeats", repeats)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        batch = self._check(x)
        self.predict(batch)  # warm: the first interpreter is open; others open in the timed run
        start, errors = threading.Barrier(threads + 1), []

        def work():
            start.wait()
            try:
                for _ in range(repeats):
                    self.predict(batch)
            except Exception as exc:  # noqa: BLE001 -- re-raised in the calling thread
                errors.append(exc)

        workers = [threading.Thread(target=work) for _ in range(threads)]
        for worker in workers:
            worker.start()
        start.wait()
        began = time.perf_counter()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - began
        if errors:
            raise errors[0]
        return threads * repeats * len(batch) / elapsed


def load(task_dir: str, variant: str = "float32", num_threads: int | None = None,
         runtime: str = "litert", max_interpreters: int | None = None) -> EdgeModel:
    """Load ``exported/<task>/`` for inference on a device (NumPy + LiteRT or TFLM only).

    Args:
        task_dir: directory written by :mod:`periodic_keras.export`.
        variant: which TFLite file, e.g. ``"float32"``, ``"float16"`` or ``"int8"`` (see metadata).
        num_threads: interpreter threads (``None``: LiteRT's default; TFLM has one).
        runtime: ``"litert"`` (LiteRT) or ``"tflm"`` (TensorFlow Lite for Microcontrollers'
            interpreter, :mod:`periodic_keras.edge.micro`: runs the file as a microcontroller
            would; which variants it runs is in ``metadata.json``, ``tflite.<variant>.tflm``).
        max_interpreters: the model may be called from many threads at once; each concurrent
            call runs in a LiteRT interpreter of its own, opened when first needed, at most
            this many (``None``: one per CPU core; callers beyond wait their turn; ``1``: calls
            take turns in one interpreter). TFLM opens one: its calls take turns.

    Raises:
        ExportedModelError: missing directory, metadata or model file; a checksum that
            does not match; a file the runtime cannot load; a model disagreeing with metadata;
            a metadata field of the wrong type or range (named, with the file);
            ``runtime="tflm"`` without the ``tflite-micro`` package.

    Example:

    >>> import numpy as np, os
    >>> model = load(os.path.join(os.path.dirname(__file__), "..", "..", "exported", "freq"))
    >>> t = np.arange(100) / 100
    >>> round(float(model.predict(np.sin(2 * np.pi * 12.5 * t)[None])[0]), 1)
    12.5
    """
    return EdgeModel(task_dir, variant, num_threads, runtime, max_interpreters)

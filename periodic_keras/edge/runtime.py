"""The interpreters an export runs in: LiteRT or TensorFlow Lite for Microcontrollers (TFLM).

:func:`open_model` checks the metadata and the file's SHA-256, then returns a runner with one
interface for both runtimes. NumPy only at import (LiteRT and TFLM are imported when a model
is opened); never TensorFlow or Keras.

Threads: an interpreter holds its input and output tensors, so one interpreter must never run
two calls at once (LiteRT raises "There is at least 1 reference to internal data", or silently
answers with another thread's input). :class:`RunnerPool` gives each concurrent call its own
interpreter (LiteRT releases the GIL while it invokes, so calls run in parallel on several
cores), made on demand from the same checked bytes, up to ``max_interpreters``; a caller beyond
that waits for a free one. Each runner also holds a lock around its set-input / invoke /
copy-output sequence, so a runner used directly is safe too.

>>> signature_order(["args_0_1", "args_0", "args_0_10", "args_0_2"])
['args_0', 'args_0_1', 'args_0_2', 'args_0_10']
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import threading

import numpy as np

from periodic_keras.edge.metadata import METADATA, read_metadata
from periodic_keras.errors import ExportedModelError, NonFiniteOutputError

__all__ = [
    "MAX_MODEL_BYTES", "RUNTIMES", "LiteRTRunner", "RunnerPool", "default_interpreters", "finite_output",
    "open_model", "read_model", "signature_order",
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
        self._lock = threading.Lock()

    def __call__(self, **inputs) -> dict:
        # one call at a time: set, invoke and read back (get_tensor copies) under one lock
        with self._lock:
            for name, value in inputs.items():
                self._interpreter.set_tensor(self._in[name], value)
            self._interpreter.invoke()
            return {name: self._interpreter.get_tensor(index) for name, index in self._out.items()}


def default_interpreters() -> int:
    """The most interpreters a model opens for concurrent calls by default: one per CPU core
    this process may use (more cannot run at once)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, cores or 1)


class RunnerPool:
    """Runners of one model for calls from many threads: each call gets a runner of its own.

    ``make()`` builds a runner (the first, ``first``, is built when the model is opened); at
    most ``limit`` exist, created when every existing one is busy; a call beyond ``limit``
    waits for a free one. ``inputs`` / ``outputs`` are the first runner's; ``pool(**inputs)``
    runs one call, ``with pool.runner() as run:`` holds one runner for a sequence of calls
    (a step model's ``generate``).

    >>> class Echo:
    ...     inputs, outputs = {"x": None}, {"y": None}
    ...     def __call__(self, x): return {"y": x}
    >>> pool = RunnerPool(Echo, Echo(), limit=2)
    >>> pool(x=3), pool.size
    ({'y': 3}, 1)
    """

    def __init__(self, make, first, limit: int):
        if isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1:
            raise ValueError(f"max_interpreters must be a positive integer or None, got {limit!r}")
        self._make, self._idle, self._limit, self.size = make, [first], int(limit), 1
        self._free = threading.Condition(threading.Lock())
        self.inputs, self.outputs = first.inputs, first.outputs

    @contextlib.contextmanager
    def runner(self):
        """A runner of this model, for this caller alone until the block ends."""
        with self._free:
            while not self._idle and self.size >= self._limit:
                self._free.wait()
            run = self._idle.pop() if self._idle else None
            if run is None:
                self.size += 1  # reserve the slot; build outside the lock
        if run is None:
            try:
                run = self._make()
            except Exception:
                with self._free:  # cannot build another (memory): make do with those there are
                    self.size -= 1
                    self._limit = self.size
                    while not self._idle:
                        self._free.wait()
                    run = self._idle.pop()
            except BaseException:  # interrupted: give the slot back
                with self._free:
                    self.size -= 1
                    self._free.notify()
                raise
        try:
            yield run
        finally:
            with self._free:
                self._idle.append(run)
                self._free.notify()

    def __call__(self, **inputs) -> dict:
        with self.runner() as run:
            return run(**inputs)


def open_model(task_dir: str, variant: str, num_threads: int | None, runtime: str = "litert",
               max_interpreters: int | None = None):
    """Metadata, a :class:`RunnerPool` for ``variant`` in ``runtime`` (:data:`RUNTIMES`), and the file's path.

    ``max_interpreters``: the most LiteRT interpreters concurrent calls may open (``None``:
    :func:`default_interpreters`). TFLM has one: its calls take turns.
    """
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime must be one of {RUNTIMES}, got {runtime!r}")
    if num_threads is not None and (isinstance(num_threads, bool) or not isinstance(num_threads, (int, np.integer))
                                    or num_threads < 1):
        raise ValueError(f"num_threads must be a positive integer or None, got {num_threads!r}")
    if max_interpreters is not None and (isinstance(max_interpreters, bool)
                                         or not isinstance(max_interpreters, (int, np.integer)) or max_interpreters < 1):
        raise ValueError(f"max_interpreters must be a positive integer or None, got {max_interpreters!r}")
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
            runner = micro.MicroRunner(content, arena)
        except micro.MicroError as exc:
            raise ExportedModelError(f"TFLM cannot run {path!r}: {exc}") from None
        # one TFLM interpreter: its runs take turns anyway (each captures the process's stderr)
        return meta, RunnerPool(None, runner, 1), path
    try:
        runner = LiteRTRunner(content, num_threads)
    except (ValueError, RuntimeError) as exc:
        raise ExportedModelError(f"LiteRT cannot load {path!r}: {exc}") from None
    limit = default_interpreters() if max_interpreters is None else int(max_interpreters)
    return meta, RunnerPool(lambda: LiteRTRunner(content, num_threads), runner, limit), path


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
    try:  # the descriptor is closed whatever happens (a directory opens, then cannot be read)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ExportedModelError(f"model file {path!r} is not a regular file")
        chunks, size = [], 0
        while size <= MAX_MODEL_BYTES:
            chunk = os.read(fd, min(1 << 24, MAX_MODEL_BYTES + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise ExportedModelError(f"model file {path!r} cannot be read ({exc.strerror})") from None
    finally:
        os.close(fd)
    if size > MAX_MODEL_BYTES:
        raise ExportedModelError(f"model file {path!r} is larger than {MAX_MODEL_BYTES} bytes")
    return b"".join(chunks)


def finite_output(out: np.ndarray) -> np.ndarray:
    """``out``, refused if the model produced NaN/inf (inputs or state far outside its training)."""
    if np.issubdtype(out.dtype, np.floating) and not np.isfinite(out).all():
        raise NonFiniteOutputError("the model produced NaN/inf: its inputs or state are far outside the range it was "
                         "trained on")
    return out

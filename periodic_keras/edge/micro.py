"""TensorFlow Lite for Microcontrollers (TFLM): run exported models as a microcontroller would,
measure their arena, and write them as C arrays for firmware.

NumPy and ``tflite_micro`` only (the ``tflite-micro`` package on PyPI): like
:mod:`periodic_keras.edge`, this module never imports TensorFlow or Keras. TFLM has a
smaller op set than LiteRT (no fp16, no int64, no GELU or RFFT kernels): a model it cannot
run raises :class:`MicroError` carrying TFLM's own message ("Didn't find op for builtin
opcode 'GELU'").

- :class:`MicroRunner` runs a ``.tflite`` flatbuffer through TFLM's interpreter and is
  called like LiteRT's signature runner: ``runner(args_0=x, ...) -> {"output_0": y, ...}``.
- :func:`arena_bytes` measures the tensor arena a model needs (TFLM's recording allocator).
- :func:`c_array` / :func:`read_c_array` write and read the ``model_data.cc`` / ``.h`` pair a
  TFLM firmware project compiles in (the ops it must register are in the export's metadata).

Example:

>>> import os
>>> blob = open(os.path.join(os.path.dirname(__file__), "..", "..", "exported", "burst", "model.tflite"), "rb").read()
>>> runner = MicroRunner(blob)
>>> sorted(runner.inputs), sorted(runner.outputs)
(['args_0', 'args_0_1', 'args_0_2'], ['output_0', 'output_1', 'output_2'])
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import tempfile
import threading

import numpy as np

from periodic_keras.errors import MicroError

__all__ = ["ALIGNMENT", "MicroError", "MicroRunner", "arena_bytes", "available", "c_array", "read_c_array"]

#: Byte alignment of the C array: TFLM reads the flatbuffer in place and wants 16.
ALIGNMENT = 16
#: The arena tried when none is given: enough for every model this package exports.
DEFAULT_ARENA = 4 << 20


def available() -> bool:
    """Whether the ``tflite-micro`` package is installed."""
    try:
        import tflite_micro  # noqa: F401
    except ImportError:
        return False
    return True


def _runtime():
    try:
        from tflite_micro import runtime
    except ImportError:
        raise MicroError("TFLM is not installed: pip install tflite-micro (or periodic-keras[micro])") from None
    return runtime


#: File descriptor 2 is the process's: one capture at a time (two interleaved ones would leave
#: stderr pointing at a deleted file).
_STDERR_LOCK = threading.RLock()


@contextlib.contextmanager
def _captured_stderr():
    """Collect what C code writes to file descriptor 2 (TFLM reports there); yields a list
    that holds the text once the block ends. Captures take turns across threads."""
    text = []
    with _STDERR_LOCK, tempfile.TemporaryFile(mode="w+b") as sink:
        saved = os.dup(2)
        try:
            os.dup2(sink.fileno(), 2)
            yield text
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            text.append(sink.read().decode("utf-8", "replace"))


def _reason(log: list) -> str:
    """The informative lines of TFLM's log, joined."""
    lines = [line.strip() for line in "".join(log).splitlines() if line.strip()]
    return "; ".join(dict.fromkeys(lines))[:500] or "no message"


class MicroRunner:
    """A ``.tflite`` flatbuffer in TFLM's interpreter, called by signature names.

    Args:
        blob: the flatbuffer bytes.
        arena_size: tensor arena in bytes (default: :data:`DEFAULT_ARENA`).

    ``inputs`` / ``outputs`` map the signature's names (``args_0``, ``args_0_1``, ...;
    ``output_0``, ...) to ``{"shape", "dtype"}``, in the interpreter's index order (what a
    firmware's ``interpreter.input(i)`` is: not always the signature's order);
    ``runner(**inputs)`` sets them, invokes and returns ``{name: array}`` (copies). Raises
    :class:`MicroError` with TFLM's message when the model cannot be allocated or run.

    Safe to call from several threads: calls take turns (a lock around set-input / invoke /
    copy-output, and TFLM's log capture redirects the process's stderr, one run at a time).
    """

    def __init__(self, blob: bytes, arena_size: int | None = None):
        runtime = _runtime()
        self._lock = threading.Lock()
        try:  # untrusted bytes: a flatbuffer that does not parse fails in many ways
            model = runtime.convert_bytearray_to_object(bytearray(blob))
            signatures = model.signatureDefs
            if signatures:
                signature = signatures[0]
                graph = model.subgraphs[signature.subgraphIndex]
                by_tensor = {t.tensorIndex: t.name.decode() for t in signature.inputs}
                self._in_order = [by_tensor[i] for i in graph.inputs]
                by_tensor = {t.tensorIndex: t.name.decode() for t in signature.outputs}
                self._out_order = [by_tensor[i] for i in graph.outputs]
        except Exception as exc:  # noqa: BLE001 -- reported as what it is: not a model TFLM can read
            raise MicroError(f"not a TFLite model with one signature covering its inputs and outputs "
                             f"({type(exc).__name__}: {exc})") from None
        if not signatures:
            raise MicroError("the model has no signature: cannot tell its inputs apart")
        with _captured_stderr() as log:
            try:
                self._interpreter = runtime.Interpreter.from_bytes(bytes(blob), arena_size=arena_size or DEFAULT_ARENA)
            except (RuntimeError, ValueError) as exc:
                error = exc
            else:
                error = None
        if error is not None:
            raise MicroError(f"TFLM cannot load the model: {_reason(log)} ({error})")
        self.inputs = {name: self._details(self._interpreter.get_input_details(i))
                       for i, name in enumerate(self._in_order)}
        self.outputs = {name: self._details(self._interpreter.get_output_details(i))
                        for i, name in enumerate(self._out_order)}

    @staticmethod
    def _details(d: dict) -> dict:
        return {"shape": np.asarray(d["shape"], np.int64), "dtype": np.dtype(d["dtype"])}

    def __call__(self, **inputs) -> dict:
        if set(inputs) != set(self._in_order):
            raise ValueError(f"expected inputs {sorted(self._in_order)}, got {sorted(inputs)}")
        with self._lock:
            return self._run(inputs)

    def _run(self, inputs: dict) -> dict:
        for i, name in enumerate(self._in_order):
            spec = self.inputs[name]
            self._interpreter.set_input(np.ascontiguousarray(inputs[name], spec["dtype"]).reshape(spec["shape"]), i)
        with _captured_stderr() as log:
            try:
                self._interpreter.invoke()
            except RuntimeError as exc:
                error = exc
            else:
                error = None
        if error is not None:
            raise MicroError(f"TFLM cannot run the model: {_reason(log)}")
        return {name: np.array(self._interpreter.get_output(i)) for i, name in enumerate(self._out_order)}

    def arena_used(self) -> int:
        """Bytes of the arena this interpreter has allocated (call after one run)."""
        with self._lock, _captured_stderr() as log:
            self._interpreter.print_allocations()
        found = re.search(r"Arena allocation total (\d+) bytes", "".join(log))
        if not found:
            raise MicroError(f"TFLM did not report its arena: {_reason(log)}")
        return int(found.group(1))


_PROBE = """
import sys
import numpy as np
from tflite_micro import runtime
blob = open(sys.argv[1], "rb").read()


def probe(size):
    it = runtime.Interpreter.from_bytes(blob, arena_size=size)
    i = 0
    while True:
        try:
            d = it.get_input_details(i)
        except Exception:
            break
        it.set_input(np.zeros(d["shape"], d["dtype"]), i)
        i += 1
    it.invoke()


if len(sys.argv) > 2:
    probe(int(sys.argv[2]))
else:  # a server: one arena size per line in, 1 (runs) or 0 per line out
    for line in sys.stdin:
        try:
            probe(int(line))
            ok = 1
        except Exception:
            ok = 0
        print(ok, flush=True)
"""
#: Seconds one arena probe may take before it counts as not fitting.
PROBE_TIMEOUT = 120


def _fits(path: str, size: int) -> bool:
    """Whether TFLM allocates and runs the model in ``path`` with an arena of ``size`` bytes:
    in a fresh child process (too small an arena can crash TFLM's planner outright)."""
    import subprocess
    import sys

    try:
        done = subprocess.run([sys.executable, "-c", _PROBE, path, str(size)], capture_output=True,
                              timeout=PROBE_TIMEOUT)
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


class _Prober:
    """:func:`_fits` answered by one long-lived child process that tries size after size (no
    interpreter start per try); a child that crashes or hangs answers False and is replaced."""

    def __init__(self, path: str):
        self.path, self._proc = path, None

    def _start(self):
        import queue
        import subprocess
        import sys
        import threading

        self._proc = subprocess.Popen([sys.executable, "-c", _PROBE, self.path], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self._lines = queue.Queue()
        threading.Thread(target=lambda out, q: [q.put(line) for line in out] + [q.put("")],
                         args=(self._proc.stdout, self._lines), daemon=True).start()

    def __call__(self, size: int) -> bool:
        import queue

        if self._proc is None or self._proc.poll() is not None:
            self._start()
        try:
            self._proc.stdin.write(f"{size}\n")
            self._proc.stdin.flush()
            answer = self._lines.get(timeout=PROBE_TIMEOUT)
        except (OSError, queue.Empty):
            answer = ""
        if answer.strip() in ("0", "1"):
            return answer.strip() == "1"
        self.close()  # crashed or hung: the next try starts a new child
        return False

    def close(self):
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait()
            for stream in (self._proc.stdin, self._proc.stdout):
                with contextlib.suppress(OSError):
                    stream.close()
            self._proc = None


def arena_bytes(blob: bytes, step: int = 16) -> int:
    """The smallest tensor arena (bytes, to ``step``) in which TFLM allocates and runs ``blob``.

    What TFLM's recording allocator reports after a run is a lower bound (its memory planner
    needs scratch space beyond it while it allocates); the size is then bisected in a child
    process, and the bracket found is confirmed in fresh child processes (a try that fails
    may have left TFLM's state behind; if either confirmation disagrees, the bisection is
    redone with a fresh child per try). Measured on this 64-bit host: a 32-bit
    microcontroller needs a little less (smaller pointers and bookkeeping); give the firmware
    a few hundred bytes of margin.
    """
    runner = MicroRunner(blob)
    runner(**{name: np.zeros(spec["shape"], spec["dtype"]) for name, spec in runner.inputs.items()})
    floor = runner.arena_used()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.tflite")
        with open(path, "wb") as fh:
            fh.write(blob)
        prober = _Prober(path)
        try:
            low, high = _bisect(prober, floor, step)
        finally:
            prober.close()
        if not (_fits(path, high) and (low == floor or not _fits(path, low))):
            low, high = _bisect(functools.partial(_fits, path), floor, step)
    return high


def _bisect(fits, low: int, step: int) -> tuple:
    """``(low, high)``, ``high - low <= step``: ``high`` fits, ``low`` does not (or is the lower
    bound it started from)."""
    high = 2 * low + 4096
    if not fits(high):
        raise MicroError(f"TFLM cannot run the model in {high} bytes of arena")
    while high - low > step:
        mid = (low + high) // 2
        low, high = (low, mid) if fits(mid) else (mid, high)
    return low, high


def _symbol(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name or ""):
        raise ValueError(f"symbol must be a C identifier, got {name!r}")
    return name


def c_array(blob: bytes, symbol: str = "g_model_data", header: str = "model_data.h") -> tuple:
    """The ``(model_data.cc, model_data.h)`` texts holding ``blob`` as a C array for TFLM.

    The array is ``const unsigned char`` aligned to :data:`ALIGNMENT` bytes (TFLM reads the
    flatbuffer in place), with its length in ``<symbol>_len``.

    >>> cc, h = c_array(b"TFL3", "g_demo")
    >>> "alignas(16) const unsigned char g_demo[]" in cc, "extern const unsigned int g_demo_len;" in h
    (True, True)
    >>> read_c_array(cc) == b"TFL3"
    True
    """
    symbol = _symbol(symbol)
    guard = re.sub(r"\W", "_", os.path.basename(header)).upper()
    rows = [", ".join(f"0x{b:02x}" for b in blob[i:i + 12]) for i in range(0, len(blob), 12)]
    cc = (f"// Generated by periodic_keras.edge.c_array: a TFLite flatbuffer for TensorFlow Lite Micro.\n"
          f'#include "{os.path.basename(header)}"\n\n'
          f"alignas({ALIGNMENT}) const unsigned char {symbol}[] = {{\n  " + ",\n  ".join(rows) + "\n};\n"
          f"const unsigned int {symbol}_len = {len(blob)};\n")
    h = (f"// Generated by periodic_keras.edge.c_array.\n#ifndef {guard}\n#define {guard}\n\n"
         f"extern const unsigned char {symbol}[];\nextern const unsigned int {symbol}_len;\n\n#endif  // {guard}\n")
    return cc, h


def read_c_array(cc: str) -> bytes:
    """The bytes of the array in a ``model_data.cc`` written by :func:`c_array` (checked
    against its ``_len``)."""
    body = re.search(r"\[\]\s*=\s*\{([^}]*)\}", cc)
    length = re.search(r"_len\s*=\s*(\d+)\s*;", cc)
    if not body or not length:
        raise ValueError("not a C array written by c_array(): no '[] = {...}' or '_len = N;'")
    data = bytes(int(v, 16) for v in re.findall(r"0x([0-9a-fA-F]{2})", body.group(1)))
    if len(data) != int(length.group(1)):
        raise ValueError(f"the array holds {len(data)} bytes but its _len says {length.group(1)}")
    return data

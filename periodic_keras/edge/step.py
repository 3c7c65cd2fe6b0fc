"""Edge runtime for step models with explicit state (generators, the divider, the burst
detector): :class:`EdgeStepModel`, loaded by :func:`periodic_keras.edge.load_step`.

NumPy and LiteRT or TFLM only: never TensorFlow or Keras.
"""

from __future__ import annotations

import os

import numpy as np

from periodic_keras.edge.metadata import METADATA, check_state
from periodic_keras.edge.runtime import finite_output, open_model, signature_order
from periodic_keras.errors import ExportedModelError
from periodic_keras.generation import as_float32

__all__ = ["EdgeStepModel", "load_step"]


class EdgeStepModel:
    """A TFLite step model ``(x, h_0, c_0, ...) -> (y, h_0', c_0', ...)`` with explicit state.

    Use :func:`load_step`. ``step`` advances one time step for a batch (the file has batch
    1; rows run one after another); ``generate`` warms up on a prefix and runs closed-loop
    with :func:`periodic_keras.generation.closed_loop`, exactly as
    :func:`periodic_keras.models.generate` does in Keras; ``run`` streams given inputs
    (a driven model: the divider, the burst detector) and returns the state to carry on.

    Safe to share between threads: the state is explicit (passed in, returned), and each call
    of ``step``, ``run`` or ``generate`` runs in an interpreter of its own for its whole length
    (see :func:`periodic_keras.edge.load`), so concurrent calls each get the serial answer.
    """

    def __init__(self, task_dir: str, variant: str = "float32", num_threads: int | None = None,
                 runtime: str = "litert", max_interpreters: int | None = None):
        self.task_dir, self.variant, self.runtime = task_dir, variant, runtime
        self.metadata, self._runner, path = open_model(task_dir, variant, num_threads, runtime, max_interpreters)
        spec, state = self.metadata["input"], self.metadata.get("state")
        if state is None or "names" not in spec:
            raise ExportedModelError(f"{task_dir!r} is not a step model export (no 'state' in "
                                          f"{METADATA})")
        check_state(self.metadata, os.path.join(task_dir, METADATA))
        details = self._runner.inputs
        # Inputs are positional (args_0, args_0_1, ...), outputs output_0, output_1, ...:
        # pair them in position order with the names in the metadata.
        self._inputs, self._outputs = signature_order(details), signature_order(self._runner.outputs)
        actual = [[int(d) for d in details[n]["shape"]] for n in self._inputs]
        expected = [list(shape) for shape in spec["shapes"]]
        if actual != expected or len(self._outputs) != len(self._inputs):
            raise ExportedModelError(
                f"{path!r} takes inputs of shapes {actual}, but {METADATA} says "
                f"{dict(zip(spec['names'], expected))}"
            )
        if state["widths"] != [shape[-1] for shape in actual[1:]]:
            raise ExportedModelError(f"{path!r} carries state of widths {[shape[-1] for shape in actual[1:]]}, "
                                          f"but {METADATA} says {state['widths']}")
        dtypes = sorted({details[n]["dtype"].name for n in self._inputs})
        if dtypes != [spec["dtype"]]:
            raise ExportedModelError(f"{path!r} takes {'/'.join(dtypes)} inputs, but {METADATA} says "
                                          f"{spec['dtype']}")
        self.input_names = spec["names"]
        self.state_widths = list(state["widths"])

    def zero_state(self, batch: int = 1) -> list:
        """Zero state for ``batch`` rows: one ``[batch, width]`` array per state input."""
        if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or batch < 1:
            raise ValueError(f"batch must be a positive integer, got {batch!r}")
        return [np.zeros((batch, w), np.float32) for w in self.state_widths]

    def _check_state(self, state, batch: int) -> list:
        """``state`` as float32 arrays, checked: one real, finite ``[batch, width]`` array per state input."""
        state = [np.asarray(s) for s in state]
        for s in state:
            if s.dtype == object or not (np.issubdtype(s.dtype, np.floating) or np.issubdtype(s.dtype, np.integer)):
                raise TypeError(f"state must hold real numbers, got dtype {s.dtype}")
        want = [(batch, w) for w in self.state_widths]
        if [s.shape for s in state] != want:
            raise ValueError(f"state shapes {[s.shape for s in state]} do not match {want} ({', '.join(self.input_names[1:])})")
        if not all(np.isfinite(s).all() for s in state):
            raise ValueError("state holds NaN/inf")
        return [as_float32(s, "state") for s in state]


    def step(self, x, state):
        """One step: ``x [batch, 1]`` and the state -> ``(y [batch, 1], new state)``."""
        x = np.asarray(x)
        if x.dtype == object or not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
            raise TypeError(f"x must hold real numbers, got dtype {x.dtype}")
        if x.size == 0:
            raise ValueError("x is empty")
        if not np.isfinite(x).all():
            raise ValueError("x holds NaN/inf")
        x = as_float32(x, "x").reshape(-1, 1)
        state = self._check_state(state, len(x))
        with self._runner.runner() as run:
            y, new = self._step(x, state, run)
        return finite_output(y), new

    def _step(self, x, state, run):
        """:meth:`step` without the checks (``generate`` and ``run`` check their inputs once), in the runner ``run``."""
        ys, new = np.empty((len(x), 1), np.float32), [np.empty_like(s) for s in state]
        for b in range(len(x)):
            values = [x[b : b + 1], *(s[b : b + 1] for s in state)]
            out = run(**dict(zip(self._inputs, values)))
            ys[b] = out[self._outputs[0]][0]
            for i, name in enumerate(self._outputs[1:]):
                new[i][b] = out[name][0]
        return ys, new

    def generate(self, prefix, n_steps: int, state=None) -> np.ndarray:
        """Warm up on ``prefix [batch, steps]`` (from ``state`` or zeros), generate ``n_steps``."""
        from periodic_keras.generation import check_prefix, closed_loop

        x = check_prefix(prefix)
        state = self._check_state(self.zero_state(len(x)) if state is None else state, len(x))
        with self._runner.runner() as run:  # one interpreter for the whole call: no other call comes between
            out, _ = closed_loop(lambda x_t, s: self._step(x_t, s, run), x, n_steps, state)
        return finite_output(out)

    def run(self, inputs, state=None):
        """Stream ``inputs [batch, steps]`` through the model (driven, nothing fed back).

        Returns ``(outputs [batch, steps], state)``. Keep the state between calls to
        continue the same sequences (a device reading a sensor chunk by chunk); pass
        ``None`` (zeros) to start new ones.
        """
        from periodic_keras.generation import as_batch, stream

        x = as_batch(inputs, "inputs")
        state = self._check_state(self.zero_state(len(x)) if state is None else state, len(x))
        with self._runner.runner() as run:
            out, new = stream(lambda x_t, s: self._step(x_t, s, run), x, state)
        return finite_output(out), new


def load_step(task_dir: str, variant: str = "float32", num_threads: int | None = None,
              runtime: str = "litert", max_interpreters: int | None = None) -> EdgeStepModel:
    """Load a step-model export (e.g. ``exported/generator``) for streaming: :class:`EdgeStepModel`.

    ``num_threads``, ``runtime``, ``max_interpreters``: as :func:`periodic_keras.edge.load`.

    Raises:
        ExportedModelError: as :func:`periodic_keras.edge.load`, or when the export is not a step model.

    Example:

    >>> import numpy as np, os
    >>> gen = load_step(os.path.join(os.path.dirname(__file__), "..", "..", "exported", "generator_family"))
    >>> warmup = np.sin(2 * np.pi * np.arange(300) / 37.3)[None]
    >>> truth = np.sin(2 * np.pi * np.arange(300, 305) / 37.3)
    >>> bool(np.abs(gen.generate(warmup, 5)[0] - truth).max() < 1e-3)
    True
    """
    return EdgeStepModel(task_dir, variant, num_threads, runtime, max_interpreters)

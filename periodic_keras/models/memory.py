"""Per-step models for the memory tasks: the frequency divider and the latching burst detector.

Both read their input step by step and need state carried from the start of each
sequence (and reset between sequences): see :mod:`periodic_keras.classical.diagnose` for why a
model that sees one window at a time cannot learn them. Train the full-sequence models
(or their ``stateful=True`` variants on consecutive windows); stream them on a device
through the step model (:func:`periodic_keras.models.step_model`, :func:`stream`).
"""

from __future__ import annotations

import keras
import numpy as np

from periodic_keras.generation import as_batch, stream as _stream
from periodic_keras.models.generator import keras_step_function, sequence_model, step_model, zero_state

__all__ = ["burst_model", "divider_model", "stream"]


def divider_model(units=32, cell: str = "lstm", stateful: bool = False, batch_size: int | None = None) -> keras.Model:
    """Frequency divider: input ``sin(t)`` per step, output ``sin(t / 2)`` per step (linear head).

    Example:

    >>> divider_model(8).output_shape
    (None, None, 1)
    """
    return sequence_model(units, cell, None, stateful, batch_size, name="divider")


def burst_model(units=16, cell: str = "lstm", stateful: bool = False, batch_size: int | None = None) -> keras.Model:
    """Latching burst detector: per-step probability that the burst has not ended yet (sigmoid head).

    Example:

    >>> burst_model(4).layers[-1].activation.__name__
    'sigmoid'
    """
    return sequence_model(units, cell, "sigmoid", stateful, batch_size, name="burst")


def stream(model: keras.Model, inputs, state=None):
    """Run a trained per-step LSTM model over ``inputs [batch, steps]`` one step at a time.

    The Keras side of :meth:`periodic_keras.edge.EdgeStepModel.run`: returns
    ``(outputs [batch, steps], state)``; pass the state back to continue the same
    sequences in the next call, ``None`` to start from zeros.

    Example:

    >>> m = divider_model(4)
    >>> x = np.sin(np.arange(20) / 3.0)[None]
    >>> first, state = stream(m, x[:, :10])
    >>> rest, _ = stream(m, x[:, 10:], state)
    >>> bool(np.allclose(np.concatenate([first, rest], 1), m.predict(x[..., None], verbose=0)[..., 0], atol=1e-5))
    True
    """
    x = as_batch(inputs, "inputs")
    step = step_model(model)
    return _stream(keras_step_function(step), x, zero_state(step, len(x)) if state is None else state)

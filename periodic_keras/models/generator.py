"""Recurrent sequence models: generators (and the per-step models of other tasks), step models.

- :func:`sequence_model`: stacked LSTM/GRU/SimpleRNN layers with one output per step.
- :func:`sequence_generator`: ``(batch, time, 1) -> (batch, time, 1)``, predicts
  ``x[t+1]`` at every step; train it on next-step pairs.
- ``stateful=True``: the same with a fixed batch whose LSTM state persists across
  calls (Keras 3: reset with ``layer.reset_state()`` or
  :func:`periodic_keras.training.reset_rnn_states`).
- :func:`oscillator_generator`: the same interface over one
  :class:`~periodic_keras.layers.OscillatorLSTMCell` (an exact least-squares oscillator plus
  an LSTM residual): it continues any sum of up to two sines it is warmed up on.
- :func:`step_model`: one step ``(x_t, h_0, c_0, h_1, c_1, ...) -> (y_t, h_0', c_0', ...)``
  with the state explicit, sharing the trained weights; it exports to a small
  builtin-ops TFLite model for streaming generation on a device.
"""

from __future__ import annotations

import numpy as np
import keras
from keras import layers

from periodic_keras.generation import check_prefix, closed_loop
from periodic_keras.layers import OscillatorLSTMCell

__all__ = ["CELLS", "generate", "keras_step_function", "oscillator_generator", "rollout", "sequence_generator",
           "sequence_model", "step_model", "zero_state"]


def _check_units(units):
    units = tuple(units)
    if not units or any(isinstance(u, bool) or not isinstance(u, (int, np.integer)) or u < 1 for u in units):
        raise ValueError(f"units must be a non-empty list of positive layer widths (integers), got {units!r}")
    return tuple(int(u) for u in units)


#: Recurrent cells a :func:`sequence_model` can stack (step models need ``"lstm"``).
CELLS = {"lstm": layers.LSTM, "gru": layers.GRU, "simple_rnn": layers.SimpleRNN}


def sequence_model(units=(32,), cell: str = "lstm", activation: str | None = None, stateful: bool = False,
                   batch_size: int | None = None, name: str = "sequence_model") -> keras.Model:
    """Stacked recurrent layers (``return_sequences``) and a dense head: one output per step.

    ``(batch, time, 1) -> (batch, time, 1)``. The generator, the frequency divider and the
    burst detector are all built by it; :func:`step_model` streams any LSTM variant.

    Args:
        units: width of each recurrent layer (an int for one layer).
        cell: ``"lstm"``, ``"gru"`` or ``"simple_rnn"`` (see :data:`CELLS`).
        activation: the head's activation, e.g. ``"sigmoid"`` for a per-step probability.
        stateful: keep the state between calls (needs ``batch_size``); reset it with
            :func:`periodic_keras.training.reset_rnn_states`.
        batch_size: fixed batch size (required when ``stateful``).
        name: model name.

    Example:

    >>> m = sequence_model(8, cell="gru", activation="sigmoid")
    >>> m.output_shape, m.layers[-1].activation.__name__
    ((None, None, 1), 'sigmoid')
    """
    units = _check_units((units,) if isinstance(units, int) else units)
    if cell not in CELLS:
        raise ValueError(f"unknown cell {cell!r}: expected one of {sorted(CELLS)}")
    if stateful and not batch_size:
        raise ValueError("a stateful model needs a fixed batch_size")
    x = inputs = keras.Input(batch_shape=(batch_size, None, 1), name="x")
    for i, u in enumerate(units):
        x = CELLS[cell](u, return_sequences=True, stateful=stateful, name=f"{cell}_{i}")(x)
    outputs = layers.Dense(1, activation=activation, name="head")(x)
    return keras.Model(inputs, outputs, name=name)


def sequence_generator(units=(51, 51), stateful: bool = False, batch_size: int | None = None,
                       name: str = "sequence_generator") -> keras.Model:
    """Stacked LSTMs (``return_sequences``) and a linear head: next-step prediction.

    Args:
        units: width of each LSTM layer (default: the classic demo's two layers of 51).
        stateful: keep the LSTM state between calls (needs ``batch_size``).
        batch_size: fixed batch size (required when ``stateful``).
        name: model name.

    Example:

    >>> m = sequence_generator(units=(8,))
    >>> m.output_shape
    (None, None, 1)
    """
    return sequence_model(units, "lstm", None, stateful, batch_size, name)


def oscillator_generator(units: int = 8, tolerance: float = 1e-3, name: str = "oscillator_generator") -> keras.Model:
    """``(batch, time, 1) -> (batch, time, 1)`` next-step generator over one
    :class:`~periodic_keras.layers.OscillatorLSTMCell`: warmed up (teacher-forced) on a sum of
    up to two sines, it continues it closed-loop for thousands of steps without training;
    the cell's LSTM residual starts at zero. :func:`step_model` and :func:`generate` take it.

    Example:

    >>> import numpy as np
    >>> t = np.arange(120)
    >>> warm = np.sin(2 * np.pi * t / 23.7)[None]
    >>> future = generate(oscillator_generator(), warm, 50)
    >>> float(np.max(np.abs(future[0] - np.sin(2 * np.pi * np.arange(120, 170) / 23.7)))) < 1e-3
    True
    """
    x = keras.Input((None, 1), name="x")
    y = layers.RNN(OscillatorLSTMCell(units, tolerance, name="cell"), return_sequences=True, name="oscillator")(x)
    return keras.Model(x, y, name=name)


def _oscillator_step(model: keras.Model, rnn, batch_size):
    """:func:`step_model` of an :func:`oscillator_generator`: ``(x, h_0, c_0, s_0)``."""
    cell = OscillatorLSTMCell.from_config(rnn.cell.get_config())
    x_in = keras.Input(batch_shape=(batch_size, 1), name="x")
    states_in = [keras.Input(batch_shape=(batch_size, width), name=name)
                 for name, width in zip(("h_0", "c_0", "s_0"), rnn.cell.state_size)]
    y, states_out = cell(x_in, states_in)
    cell.set_weights(rnn.cell.get_weights())
    return keras.Model([x_in, *states_in], [y, *states_out], name=f"{model.name}_step")


def step_model(model: keras.Model, batch_size: int | None = None) -> keras.Model:
    """One-step model with explicit state, carrying ``model``'s trained weights.

    Inputs: ``x`` ``(batch, 1)`` and, per LSTM layer ``i``, ``h_i`` and ``c_i``
    ``(batch, units_i)`` (an :func:`oscillator_generator`: ``h_0``, ``c_0`` and the
    oscillator's ``s_0``). Outputs: ``y`` ``(batch, 1)`` (the prediction of the next
    value) and the new ``h_i``, ``c_i`` in the same order. The LSTMs are unrolled (one
    step), so TFLite converts it with builtin ops and no WHILE loop.

    Example:

    >>> m = sequence_generator(units=(4, 3))
    >>> [tuple(t.shape) for t in step_model(m).inputs]
    [(None, 1), (None, 4), (None, 4), (None, 3), (None, 3)]
    """
    recurrent = [l for l in model.layers if isinstance(l, layers.RNN)]
    if len(recurrent) == 1 and isinstance(recurrent[0].cell, OscillatorLSTMCell):
        return _oscillator_step(model, recurrent[0], batch_size)
    lstms = [l for l in recurrent if isinstance(l, layers.LSTM)]
    if not lstms or len(lstms) != len(recurrent):
        raise ValueError(f"model {model.name!r} needs LSTM layers only for a step model, "
                         f"has {[type(l).__name__ for l in recurrent]}")
    x_in = keras.Input(batch_shape=(batch_size, 1), name="x")
    states_in, states_out = [], []
    seq = layers.Reshape((1, 1), name="as_sequence")(x_in)
    for i, lstm in enumerate(lstms):
        h = keras.Input(batch_shape=(batch_size, lstm.units), name=f"h_{i}")
        c = keras.Input(batch_shape=(batch_size, lstm.units), name=f"c_{i}")
        step = layers.LSTM(lstm.units, return_sequences=True, return_state=True, unroll=True, name=lstm.name)
        seq, h2, c2 = step(seq, initial_state=[h, c])
        states_in += [h, c]
        states_out += [h2, c2]
    flat = layers.Reshape((lstms[-1].units,), name="last")(seq)
    head = model.get_layer("head")
    y = layers.Dense.from_config(head.get_config())(flat)
    step_m = keras.Model([x_in, *states_in], [y, *states_out], name=f"{model.name}_step")
    for i, lstm in enumerate(lstms):
        step_m.get_layer(lstm.name).set_weights(lstm.get_weights())
    step_m.get_layer("head").set_weights(head.get_weights())
    return step_m


def zero_state(step: keras.Model, batch: int) -> list:
    """Zero arrays for every state input of a step model."""
    return [np.zeros((batch, int(t.shape[-1])), np.float32) for t in step.inputs[1:]]


def keras_step_function(step: keras.Model):
    """Wrap a step model as a NumPy step function for :func:`periodic_keras.generation.closed_loop`."""
    widths = [int(t.shape[-1]) for t in step.inputs[1:]]

    def fn(x, state):
        x = np.asarray(x, np.float32)
        got = [tuple(np.shape(s)) for s in state]
        want = [(x.shape[0], w) for w in widths]
        if got != want:
            raise ValueError(f"state shapes {got} do not match the step model's {want} (h_0, c_0, h_1, c_1, ...)")
        # predict_on_batch runs Keras's compiled predict function: backend-agnostic and
        # about as fast per step as a hand-written tf.function.
        outs = step.predict_on_batch([x, *[np.asarray(s, np.float32) for s in state]])
        return np.asarray(outs[0]), [np.asarray(o) for o in outs[1:]]

    return fn


def generate(model: keras.Model, prefix, n_steps: int):
    """Warm a trained generator up on ``prefix [batch, steps]``, then generate ``n_steps``.

    Builds the step model from ``model`` and runs it closed-loop; the TFLite step model
    run by :func:`periodic_keras.edge.load_step` generates the same values.

    Example:

    >>> import numpy as np
    >>> m = sequence_generator(units=(4,))
    >>> generate(m, np.sin(np.arange(20) / 3.0)[None], 5).shape
    (1, 5)
    """
    prefix = check_prefix(prefix)
    step = step_model(model)
    out, _ = closed_loop(keras_step_function(step), prefix, n_steps, zero_state(step, len(prefix)))
    return out


def rollout(model: keras.Model, inputs, warm: int, training: bool = False):
    """Differentiable warm-up-then-feedback pass of a trained-model graph (TensorFlow backend).

    From a zero state, the model reads ``inputs[:, t]`` for ``t < warm`` (teacher
    forcing), then its own previous prediction (closed loop), for ``inputs.shape[1]``
    steps in all; the inputs after ``warm`` are ignored. Returns the predictions
    ``[batch, steps, 1]``: ``y[:, t]`` predicts the value after step ``t``, as in the
    model's teacher-forced output. Stepping the LSTM cells in a ``tf.while_loop`` costs
    about as much per step as the Keras LSTM layer, so a closed-loop training step on
    a window of ``n`` steps costs about a teacher-forced one.

    Example:

    >>> import numpy as np
    >>> m = sequence_generator(units=(4,))
    >>> x = np.sin(np.arange(12, dtype="float32") / 3.0)[None, :, None]
    >>> bool(np.allclose(rollout(m, x, warm=12), m.predict(x, verbose=0), atol=1e-5))
    True
    """
    import tensorflow as tf

    lstms = [l for l in model.layers if isinstance(l, layers.LSTM)]
    if not lstms:
        raise ValueError(f"model {model.name!r} has no LSTM layers")
    head = model.get_layer("head")
    inputs = tf.convert_to_tensor(inputs, tf.float32)
    n_steps = tf.shape(inputs)[1]
    batch = tf.shape(inputs)[0]
    if isinstance(warm, bool) or not isinstance(warm, (int, np.integer)) or warm < 1:
        raise ValueError(f"warm must be a positive integer, got {warm!r}")
    by_time = tf.transpose(inputs, [1, 0, 2])  # [steps, batch, 1]
    states = tuple(s for l in lstms for s in (tf.zeros([batch, l.units]), tf.zeros([batch, l.units])))

    def body(t, x_t, states, outs):
        h, new = x_t, []
        for i, l in enumerate(lstms):
            h, (h_i, c_i) = l.cell(h, [states[2 * i], states[2 * i + 1]], training=training)
            new += [h_i, c_i]
        y = head(h)
        x_next = tf.cond(t + 1 < warm, lambda: by_time[tf.minimum(t + 1, n_steps - 1)], lambda: y)
        return t + 1, x_next, tuple(new), outs.write(t, y)

    _, _, _, outs = tf.while_loop(lambda t, *_: t < n_steps, body,
                                  (tf.constant(0), by_time[0], states, tf.TensorArray(tf.float32, size=n_steps)))
    return tf.transpose(outs.stack(), [1, 0, 2])

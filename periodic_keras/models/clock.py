"""The clock model: int64 seconds since the epoch -> the HH:MM:SS a digital clock shows.

Two things stop the usual attempts (a SIREN or GELU MLP on float seconds): float32
cannot hold the input (near 3.8e9 its values are 256 s apart), and nothing in the
network is periodic with the right periods. :func:`clock_model` keeps the seconds in
int64 until :class:`~periodic_keras.layers.PeriodicEncoding` has reduced them exactly
modulo 60, 3600 and 86400 s, and turns each remainder into a point on a circle
(sin/cos). What a clock *shows* is still learned: three softmax heads, each a small
ReLU layer, read the circles. The heads are chained like the carry of an adder: the
minutes head also sees the seconds head's output, the hours head the minutes head's.
That is what makes exactness learnable — the boundary 12:59:59 → 13:00:00 is 1/86400
of a turn on the day circle, but the minutes head's output flips there with a wide margin.
"""

from __future__ import annotations

import math
import numbers

import keras
from keras import layers, ops

from periodic_keras.layers import PeriodicEncoding, Sine, class_index

__all__ = ["CLOCK_PERIODS", "NAIVE_CLOCKS", "clock_model", "clock_reader", "naive_clock_model"]

#: The naive baselines: what people try first, on float seconds scaled to [-1, 1].
NAIVE_CLOCKS = ("siren", "gelu_mlp")

#: The circle each head reads, by head: seconds of the minute, of the hour, of the day.
CLOCK_PERIODS = {"ss": 60, "mm": 3600, "hh": 86400}
_CLASSES = {"hh": 24, "mm": 60, "ss": 60}


def clock_model(hidden: int = 128, harmonics: int = 1, name: str = "clock") -> keras.Model:
    """Functional clock model: ``t`` int64 ``(batch, 1)`` -> ``{"hh", "mm", "ss"}`` class probabilities.

    Per head ``d`` in ss, mm, hh: ``PeriodicEncoding([P_d], harmonics)`` of ``t`` (P = 60,
    3600, 86400 s), concatenated with the previous head's probabilities (none for ss,
    ss for mm, mm for hh), then ``Dense(hidden, relu)`` and ``Dense(classes, softmax)``.
    Train with sparse categorical cross-entropy on each output (targets from
    :func:`periodic_keras.data.clock_dataset`); :func:`clock_reader` turns it into
    an int32 ``(batch, 3)`` HH, MM, SS model for export. Pass int64 arrays: like any
    Keras functional model it casts other inputs to its input dtype, and float32
    seconds have lost their last digits before that cast.

    Args:
        hidden: ReLU units per head.
        harmonics: sin/cos harmonics per circle.
        name: model name.

    Example:

    >>> import numpy as np
    >>> model = clock_model(hidden=8)
    >>> probs = model.predict(np.array([[-1], [3_800_000_007]], dtype="int64"), verbose=0)
    >>> {k: v.shape for k, v in sorted(probs.items())}
    {'hh': (2, 24), 'mm': (2, 60), 'ss': (2, 60)}
    """
    if isinstance(hidden, bool) or not isinstance(hidden, int) or hidden < 1:
        raise ValueError(f"hidden must be a positive integer, got {hidden!r}")
    t = keras.Input(shape=(1,), dtype="int64", name="t")
    outputs, previous = {}, None
    for head in ("ss", "mm", "hh"):
        x = PeriodicEncoding([CLOCK_PERIODS[head]], harmonics, name=f"{head}_circle")(t)
        if previous is not None:
            x = layers.Concatenate(name=f"{head}_inputs")([x, previous])
        x = layers.Dense(hidden, activation="relu", name=f"{head}_hidden")(x)
        previous = outputs[head] = layers.Dense(_CLASSES[head], activation="softmax", name=head)(x)
    return keras.Model(t, {k: outputs[k] for k in ("hh", "mm", "ss")}, name=name)


def clock_reader(model: keras.Model, split_days: bool = False) -> keras.Model:
    """The trained ``model`` with its heads read out: ``t`` int64 ``(batch, 1)`` -> int32 ``(batch, 3)``.

    Columns HH, MM, SS (the most probable class of each head). Shares the weights of
    ``model`` and converts to builtin-ops TFLite (the class index is built without
    ``ARG_MAX``'s BitwiseAnd lowering).

    With ``split_days`` the reader takes the timestamp as int32 ``(batch, 2)``: whole days
    since the epoch and seconds of the day (:func:`periodic_keras.edge.days_seconds`), and
    its circles are :class:`~periodic_keras.layers.PeriodicEncoding` ``(split_days=True)``:
    no int64 tensor and no integer modulo anywhere, so TensorFlow Lite for Microcontrollers
    runs it, with the same answers.

    Example:

    >>> import numpy as np
    >>> model = clock_model(hidden=8)
    >>> reader = clock_reader(model)
    >>> reader.predict(np.array([[0]], dtype="int64"), verbose=0).dtype.name
    'int32'
    >>> t = np.array([[-1], [3_800_000_007]], dtype="int64")
    >>> split = clock_reader(model, split_days=True)
    >>> days = np.concatenate(np.divmod(t, 86_400), axis=1).astype("int32")
    >>> bool((split.predict(days, verbose=0) == reader.predict(t, verbose=0)).all())
    True
    """
    outputs = model.outputs
    if isinstance(model.output, dict):
        outputs = [model.output[k] for k in ("hh", "mm", "ss")]
    if len(outputs) != 3:
        raise ValueError(f"expected a clock model with outputs hh, mm, ss; got {len(outputs)} outputs")
    if split_days:
        outputs = _split_days_heads(model)
        return keras.Model(outputs[0], ops.stack([class_index(p) for p in outputs[1:]], axis=-1),
                           name=f"{model.name}_reader_days")
    digits = ops.stack([class_index(p) for p in outputs], axis=-1)
    return keras.Model(model.input, digits, name=f"{model.name}_reader")


def _split_days_heads(model: keras.Model) -> list:
    """``[input, hh, mm, ss]`` of the trained heads of ``model`` (a :func:`clock_model`) rebuilt on
    an int32 ``(days, seconds of day)`` input, sharing their weights."""
    pair = keras.Input(shape=(2,), dtype="int32", name="days_seconds")
    probs, previous = {}, None
    for head in ("ss", "mm", "hh"):
        circle = model.get_layer(f"{head}_circle")
        x = PeriodicEncoding(circle.periods, circle.harmonics, split_days=True, name=f"{head}_circle_days")(pair)
        if previous is not None:
            x = layers.Concatenate(name=f"{head}_inputs_days")([x, previous])
        previous = probs[head] = model.get_layer(head)(model.get_layer(f"{head}_hidden")(x))
    return [pair, probs["hh"], probs["mm"], probs["ss"]]


def naive_clock_model(kind: str = "siren", hidden: int = 256, depth: int = 3, scale: float = 3.8e9,
                      name: str | None = None) -> keras.Model:
    """A naive baseline: float32 seconds ``(batch, 1)`` divided by ``scale`` -> the same three heads.

    ``kind="siren"``: ``depth`` :class:`~periodic_keras.layers.Sine` layers (ω₀ = 30, the
    SIREN initialisation); ``kind="gelu_mlp"``: ``depth`` GELU ``Dense`` layers. Both
    see the seconds as float32 — the cast already loses up to 128 s near 3.8e9 — and
    contain nothing periodic with the clock's periods: this is the setup that "never
    converges", kept for comparison.

    Example:

    >>> naive_clock_model("gelu_mlp", hidden=8, depth=1).input.dtype
    'float32'
    """
    if kind not in NAIVE_CLOCKS:
        raise ValueError(f"unknown naive clock {kind!r}: expected one of {NAIVE_CLOCKS}")
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be a positive integer, got {depth!r}")
    if isinstance(scale, bool) or not isinstance(scale, numbers.Real) or not math.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale must be a finite number > 0 (seconds mapped to 1), got {scale!r}")
    t = keras.Input(shape=(1,), name="t")
    x = layers.Rescaling(1.0 / scale, name="to_unit_range")(t)
    for i in range(depth):
        x = (Sine(hidden, first=i == 0, name=f"sine_{i}")(x) if kind == "siren"
             else layers.Dense(hidden, activation="gelu", name=f"gelu_{i}")(x))
    outputs = {k: layers.Dense(n, activation="softmax", name=k)(x) for k, n in _CLASSES.items()}
    return keras.Model(t, outputs, name=name or f"naive_{kind}")

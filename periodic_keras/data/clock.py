"""tf.data pipelines for the clock task: int64 seconds since the epoch -> HH, MM, SS.

Inputs stay int64 from the generator to the model (float32 cannot hold the seconds);
targets are a dict ``{"hh", "mm", "ss"}`` of int32 class indices, the output names of
:func:`periodic_keras.models.clock_model`. Labels come from
:func:`periodic_keras.signals.clock_digits` (integer arithmetic). Training draws an
endless stream of fresh timestamps; fixed sets are reproducible from the seed.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from periodic_keras import signals
from periodic_keras.data.frequency import split_seed

__all__ = ["CLOCK_OUTPUTS", "clock_arrays", "clock_dataset", "clock_targets"]

#: Output names and class counts of the clock model, in display order.
CLOCK_OUTPUTS = {"hh": 24, "mm": 60, "ss": 60}


def clock_targets(t) -> dict:
    """``{"hh", "mm", "ss"}`` int32 targets for integer timestamps ``t``.

    >>> {k: v.tolist() for k, v in clock_targets(np.array([-1])).items()}
    {'hh': [23], 'mm': [59], 'ss': [59]}
    """
    digits = signals.clock_digits(t).astype(np.int32)
    return {name: digits[..., i] for i, name in enumerate(CLOCK_OUTPUTS)}


def clock_arrays(n: int, split: str = "test", years: float = 120.0, seed: int = 0):
    """A fixed, reproducible set: ``(t[n, 1] int64, targets)`` over ``±years``.

    Each split draws from its own seed stream.

    >>> t, y = clock_arrays(3, "validation")
    >>> t.shape, t.dtype.name, sorted(y)
    ((3, 1), 'int64', ['hh', 'mm', 'ss'])
    """
    t, _ = signals.clock_times(n, years, seed=np.random.default_rng(split_seed(seed, split, (n,))))
    return t[:, None], clock_targets(t)


def clock_dataset(split: str = "train", batch_size: int = 1024, years: float = 120.0,
                  num_examples: int | None = None, seed: int = 0) -> tf.data.Dataset:
    """Batched ``(t[batch, 1] int64, {"hh", "mm", "ss"})`` pipeline.

    ``split="train"`` without ``num_examples`` is an endless stream of fresh random
    timestamps (pass ``steps_per_epoch`` to ``fit``); ``num_examples`` gives a fixed set.

    >>> t, y = next(iter(clock_dataset(batch_size=4)))
    >>> tuple(t.shape), t.dtype.name, tuple(y["hh"].shape)
    ((4, 1), 'int64', (4,))
    """
    signals.check_positive_int(batch_size=batch_size)
    spec = (tf.TensorSpec((None, 1), tf.int64), {k: tf.TensorSpec((None,), tf.int32) for k in CLOCK_OUTPUTS})
    if num_examples is None:
        if split != "train":
            raise ValueError(f"split={split!r} is a fixed set: pass num_examples")
        signals.clock_times(1, years)  # validate before the stream starts
        base = split_seed(seed, split)

        def stream():
            for i in range(2**62):
                rng = np.random.default_rng(np.random.SeedSequence(base.entropy, spawn_key=(i,)))
                t, _ = signals.clock_times(batch_size, years, seed=rng)
                yield t[:, None], clock_targets(t)

        ds = tf.data.Dataset.from_generator(stream, output_signature=spec)
    else:
        signals.check_positive_int(num_examples=num_examples)
        ds = tf.data.Dataset.from_tensor_slices(clock_arrays(num_examples, split, years, seed)).batch(batch_size)
    return ds.prefetch(tf.data.AUTOTUNE)

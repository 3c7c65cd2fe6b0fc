"""Windowing shared by the sequence tasks: paired sequences, consecutive windows, noise.

- :func:`paired_sequences`: validate inputs and per-step targets ``[n, length]``.
- :func:`consecutive_windows`: the stateful pipeline for truncated back-propagation:
  row ``b`` of batch ``k + 1`` continues row ``b`` of batch ``k``; a new group of
  sequences starts every ``windows_per_sequence`` batches (reset the state there).
- :func:`with_noise_and_weights`: input noise (targets stay clean) and per-step loss weights.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from periodic_keras.generation import as_batch
from periodic_keras.signals import check_positive_int

__all__ = ["consecutive_windows", "paired_sequences", "with_noise_and_weights"]


def paired_sequences(inputs, targets, min_steps: int = 1):
    """Validate inputs and targets ``[n, length]`` of equal shape; return float32 arrays.

    NaN/inf and values beyond the float32 range (``|x| > 3.4e38``) are refused
    (:func:`periodic_keras.generation.as_batch`).

    >>> x, y = paired_sequences([[0.0, 1.0]], [[1, 0]])
    >>> x.dtype, y.dtype, x.shape
    (dtype('float32'), dtype('float32'), (1, 2))
    """
    x = as_batch(inputs, "inputs", min_steps=min_steps)
    y = as_batch(targets, "targets", min_steps=min_steps)
    if x.shape != y.shape:
        raise ValueError(f"inputs {x.shape} and targets {y.shape} must have the same [n, length] shape")
    return x, y


def _check_early_weight(early_weight):
    """Validate ``(n_steps, weight)``; return it as ``(int, float)`` (or ``None``)."""
    if early_weight is None:
        return None
    try:
        n, w = early_weight
    except (TypeError, ValueError):
        raise ValueError(f"early_weight must be a pair (n_steps, weight), got {early_weight!r}") from None
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"early_weight's n_steps must be a positive integer, got {n!r}")
    if not (np.isscalar(w) and np.isfinite(w) and w > 0):
        raise ValueError(f"early_weight's weight must be a positive number, got {w!r}")
    return int(n), float(w)


def with_noise_and_weights(ds, steps, noise_std, noise_ramp, weights, seed, early_weight=None):
    """Add input noise and per-step weights to ``(x, y)`` batches.

    ``steps`` is the example length (``None`` when it varies); ``noise_ramp`` steps
    ramp the noise up linearly from zero at the first step. ``early_weight = (n, w)``
    gives the loss weight ``w`` to the first ``n`` steps of every example and 1 to the
    rest, whatever the example length (not with ``weights``).
    """
    if not (np.isscalar(noise_std) and np.isfinite(noise_std) and noise_std >= 0):
        raise ValueError(f"noise_std must be a finite number >= 0, got {noise_std!r}")
    if isinstance(noise_ramp, bool) or not isinstance(noise_ramp, (int, np.integer)) or noise_ramp < 0:
        raise ValueError(f"noise_ramp must be a non-negative integer, got {noise_ramp!r}")
    early_weight = _check_early_weight(early_weight)
    if weights is not None and early_weight is not None:
        raise ValueError("pass weights or early_weight, not both")
    if weights is not None:
        if steps is None:
            raise ValueError("per-step weights need a single window length")
        if len(weights) != steps:
            raise ValueError(f"weights has {len(weights)} steps, the examples have {steps}")
    if noise_std > 0:
        def add_noise(i, xy):
            x, y = xy
            noise = tf.random.stateless_normal(tf.shape(x), seed=tf.stack([tf.cast(seed, tf.int64), i]))
            scale = tf.constant(noise_std, tf.float32)
            if noise_ramp:
                t = tf.range(tf.shape(x)[1], dtype=tf.float32)
                scale = scale * tf.minimum(1.0, t / float(noise_ramp))[:, None]
            return x + scale * noise, y

        ds = ds.enumerate().map(add_noise, num_parallel_calls=tf.data.AUTOTUNE)
    if weights is not None:
        w = tf.constant(weights, tf.float32)
        ds = ds.map(lambda x, y: (x, y, tf.broadcast_to(w, tf.shape(x)[:-1])))
    if early_weight is not None:
        n, w = early_weight

        def add_weights(x, y):
            t = tf.range(tf.shape(x)[1])
            wt = tf.where(t < n, tf.constant(w, tf.float32), tf.constant(1.0, tf.float32))
            return x, y, tf.broadcast_to(wt[None], tf.shape(x)[:2])

        ds = ds.map(add_weights)
    return ds


def consecutive_windows(inputs, targets, window: int, batch_size: int, noise_std: float = 0.0, weights=None,
                        shuffle: bool = False, seed: int = 0, repeat: bool = True):
    """Consecutive windows of paired sequences for stateful truncated back-propagation.

    The sequences are split into groups of ``batch_size`` (a remainder that does not
    fill a batch is dropped). For each group the pipeline yields its
    ``windows_per_sequence = length // window`` windows in order: batch ``k`` of a group
    holds steps ``[k * window, (k + 1) * window)`` of the group's sequences, row ``b``
    always the same sequence. Reset the model's state every ``windows_per_sequence``
    batches (:class:`periodic_keras.training.ResetStatesEvery`). With ``shuffle`` the
    order of the groups changes on every pass (the windows inside a group keep theirs).

    Args:
        inputs, targets: ``[n, length]`` each; yielded as ``[batch, window, 1]``.
        window: steps per window.
        batch_size: sequences per group (the stateful model's fixed batch).
        noise_std, weights: input noise and per-step loss weights, see
            :func:`with_noise_and_weights`.
        shuffle, seed: shuffle the group order per pass; the noise seed.
        repeat: repeat forever.

    Returns:
        ``(dataset, windows_per_sequence)``.

    Example:

    >>> x = np.arange(2 * 20, dtype="float32").reshape(2, 20)
    >>> ds, k = consecutive_windows(x, -x, window=5, batch_size=2, repeat=False)
    >>> batches = [b[0].numpy()[..., 0] for b in ds]
    >>> k, bool(batches[1][0, 0] == batches[0][0, -1] + 1)
    (4, True)
    """
    x, y = paired_sequences(inputs, targets)
    check_positive_int(window=window, batch_size=batch_size)
    if window > x.shape[1]:
        raise ValueError(f"window={window} is longer than the sequences ({x.shape[1]} steps)")
    if batch_size > len(x):
        raise ValueError(f"batch_size={batch_size} exceeds the {len(x)} sequences available")
    k = x.shape[1] // window
    groups = len(x) // batch_size

    def cut(a):  # [G*B, L] -> [G, K, B, W, 1]: group, window, row, step
        a = a[: groups * batch_size, : k * window].reshape(groups, batch_size, k, window)
        return a.transpose(0, 2, 1, 3)[..., None]

    ds = tf.data.Dataset.from_tensor_slices((cut(x), cut(y)))
    if shuffle:
        ds = ds.shuffle(groups, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.unbatch()  # one group's K windows, in order
    return with_noise_and_weights(ds, window, noise_std, 0, weights, seed).prefetch(tf.data.AUTOTUNE), k

"""tf.data pipelines for the memory tasks: the frequency divider and the latching burst detector.

Inputs and per-step targets are ``[batch, steps, 1]`` float32. Three ways to feed a
per-step model:

- :func:`sequence_dataset`: whole sequences from their start, the state starts at zero
  for each (the fix for both tasks);
- :func:`periodic_keras.data.consecutive_windows`: consecutive windows of long
  sequences for a ``stateful=True`` model, the state carried within a sequence and reset
  between sequences (truncated back-propagation);
- :func:`independent_windows`: shuffled windows, each seen from a zero state (the naive
  windowed setup, reproduced to show why it fails; see :mod:`periodic_keras.classical.diagnose`).

:func:`divider_dataset` and :func:`burst_dataset` synthesise the tasks' data
(:func:`periodic_keras.signals.divider_sequences`, :func:`~periodic_keras.signals.burst_sequences`).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from periodic_keras import signals
from periodic_keras.data.windows import consecutive_windows, paired_sequences, with_noise_and_weights
from periodic_keras.signals import check_positive_int, cut_windows

__all__ = ["burst_dataset", "divider_dataset", "independent_windows", "sequence_dataset"]


def sequence_dataset(inputs, targets, batch_size: int = 32, noise_std: float = 0.0, shuffle: bool = True,
                     seed: int = 0, repeat: bool = True) -> tf.data.Dataset:
    """Whole sequences ``(x[..., None], y[..., None])``, batched, each from its start.

    Args:
        inputs, targets: ``[n, length]`` each (integer class targets become float 0/1).
        batch_size: sequences per batch.
        noise_std: Gaussian noise on the inputs, fresh on every pass; targets stay clean.
        shuffle, seed: reshuffle the sequences on every pass.
        repeat: repeat forever (pass ``steps`` to :func:`periodic_keras.training.fit`).

    Example:

    >>> x, y, _ = signals.divider_sequences(8, 64, seed=0)
    >>> xb, yb = next(iter(sequence_dataset(x, y, batch_size=4)))
    >>> tuple(xb.shape), tuple(yb.shape)
    ((4, 64, 1), (4, 64, 1))
    """
    x, y = paired_sequences(inputs, targets)
    check_positive_int(batch_size=batch_size)
    ds = tf.data.Dataset.from_tensor_slices((x[..., None], y[..., None]))
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.batch(batch_size)
    return with_noise_and_weights(ds, x.shape[1], noise_std, 0, None, seed).prefetch(tf.data.AUTOTUNE)


def independent_windows(inputs, targets, window: int, batch_size: int = 16, shuffle: bool = True, seed: int = 0,
                        repeat: bool = True) -> tf.data.Dataset:
    """Sequences cut into windows of ``window`` steps, shuffled, each an independent example.

    This is the windowed setup many tutorials use: a model trained on it starts every
    window from a zero state and cannot know where in the sequence the window lies.

    Example:

    >>> x, y, _ = signals.divider_sequences(2, 64, seed=0)
    >>> xb, yb = next(iter(independent_windows(x, y, window=16, batch_size=3)))
    >>> tuple(xb.shape)
    (3, 16, 1)
    """
    x, y = paired_sequences(inputs, targets)
    check_positive_int(window=window, batch_size=batch_size)
    if window > x.shape[1]:
        raise ValueError(f"window={window} is longer than the sequences ({x.shape[1]} steps)")
    wx, wy = cut_windows(x, window)[..., None], cut_windows(y, window)[..., None]
    ds = tf.data.Dataset.from_tensor_slices((wx, wy))
    if shuffle:
        ds = ds.shuffle(len(wx), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def divider_dataset(n_sequences: int = 4096, length: int = 512, batch_size: int = 32, window: int | None = None,
                    period=(40.0, 80.0), amplitude=1.0, snr_db=None, seed: int = 0):
    """Frequency-divider training data: input ``sin(2 pi i / P)``, target ``sin(pi i / P)``.

    With ``window=None`` whole sequences (:func:`sequence_dataset`); with a ``window``,
    consecutive windows for a stateful model (state carried within a sequence, reset
    every ``windows_per_sequence`` batches, e.g. with
    :class:`periodic_keras.training.ResetStatesEvery`).

    Returns:
        ``(dataset, windows_per_sequence)`` (1 for whole sequences).

    Example:

    >>> ds, k = divider_dataset(64, 128, batch_size=8, window=32)
    >>> k, tuple(next(iter(ds))[0].shape)
    (4, (8, 32, 1))
    """
    x, y, _ = signals.divider_sequences(n_sequences, length, period, amplitude, snr_db, seed=seed)
    if window is None:
        return sequence_dataset(x, y, batch_size, seed=seed), 1
    return consecutive_windows(x, y, window, batch_size, shuffle=True, seed=seed)


def burst_dataset(n_sequences: int = 8192, length: int = 130, batch_size: int = 32, start=(0, 50),
                  burst_length=10, amplitude=1.0, seed: int = 0) -> tf.data.Dataset:
    """Burst-detector training data: whole sequences, targets 1 until the burst has ended.

    Options as in :func:`periodic_keras.signals.burst_sequences` (random start, and
    optionally random burst length and amplitude); targets are float 0/1 for binary
    cross-entropy.

    Example:

    >>> xb, yb = next(iter(burst_dataset(16, batch_size=4, burst_length=(5, 20))))
    >>> tuple(xb.shape), sorted(np.unique(yb.numpy()).tolist())
    ((4, 130, 1), [0.0, 1.0])
    """
    x, y, _ = signals.burst_sequences(n_sequences, length, start, burst_length, amplitude, seed=seed)
    return sequence_dataset(x, y, batch_size, seed=seed)

"""tf.data pipelines for sequence generators: next-step pairs, whole or in stateful windows.

Three ways to train a next-step predictor ``x[:-1] -> x[1:]``:

- :func:`next_step_dataset`: whole sequences per example (the classic setup).
- :func:`random_windows`: an endless stream of random crops (random sequence, random
  start) of a fixed number of steps, each starting from a zero state; the model learns
  to warm up from any point of a sequence, and batches are cheap and varied.
- :func:`stateful_windows`: truncated back-propagation over long sequences. Each
  sequence is cut into consecutive windows; row ``b`` of batch ``k + 1`` continues row
  ``b`` of batch ``k`` (the same sequence, the next window), so a ``stateful=True``
  model carries its state correctly. Every ``windows_per_sequence`` batches a new group
  of sequences starts: reset the state there, e.g. with
  :class:`periodic_keras.training.ResetStatesEvery`.

Options shared by all three: Gaussian noise on the inputs only (the "denoising" trick;
the targets stay clean; ``noise_ramp`` keeps the first steps of an example nearly
clean, except in stateful windows) and per-step loss weights (the "weighted training" trick, see
:func:`step_weights`), given to Keras as ``sample_weight`` of shape ``[batch, steps]``.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from periodic_keras.data.windows import consecutive_windows, with_noise_and_weights
from periodic_keras.generation import as_batch
from periodic_keras.signals import check_positive_int

__all__ = ["as_sequences", "next_step_dataset", "random_windows", "stateful_windows", "step_weights"]


def as_sequences(series) -> np.ndarray:
    """Validate sequences ``[n_sequences, length]`` (or one ``[length]``); return float32 2-D.

    >>> as_sequences([0.0, 1.0, 0.0]).shape
    (1, 3)
    """
    return as_batch(series, "sequences", min_steps=2)


def step_weights(steps: int, half_life: float | None = None) -> np.ndarray:
    """Per-step loss weights with mean 1; early steps count more when ``half_life`` is set.

    Weight ``w[t] ∝ 2 ** (-t / half_life)``; ``None`` gives equal weights.

    >>> w = step_weights(4, half_life=1.0)
    >>> round(float(w.mean()), 6), bool(w[0] > w[-1])
    (1.0, True)
    """
    check_positive_int(steps=steps)
    if half_life is None:
        return np.ones(steps, np.float32)
    if not half_life > 0:
        raise ValueError(f"half_life must be positive, got {half_life}")
    w = 2.0 ** (-np.arange(steps) / half_life)
    return (w / w.mean()).astype(np.float32)


def next_step_dataset(series, batch_size: int = 16, noise_std: float = 0.0, noise_ramp: int = 0, weights=None,
                      shuffle: bool = True, seed: int = 0, repeat: bool = True) -> tf.data.Dataset:
    """Whole-sequence next-step pairs ``(x[:, :-1, None], x[:, 1:, None])``, batched.

    Args:
        series: sequences ``[n_sequences, length]``.
        batch_size: sequences per batch.
        noise_std: standard deviation of Gaussian noise added to the inputs (fresh on
            every pass, reproducible from ``seed``); targets stay clean.
        noise_ramp: the noise grows linearly from 0 over the first ``noise_ramp`` steps.
        weights: optional per-step loss weights of length ``length - 1`` (see
            :func:`step_weights`), yielded as a third element (``sample_weight``).
        shuffle, seed: shuffle sequences on every pass.
        repeat: repeat forever (pass ``steps_per_epoch`` to ``fit``).

    Example:

    >>> import numpy as np
    >>> x = np.sin(np.arange(50)[None] / 5.0 + np.arange(4)[:, None])
    >>> inputs, targets = next(iter(next_step_dataset(x, batch_size=2, shuffle=False)))
    >>> tuple(inputs.shape), bool(np.allclose(inputs[0, 1:, 0], targets[0, :-1, 0]))
    ((2, 49, 1), True)
    """
    x = as_sequences(series)
    check_positive_int(batch_size=batch_size)
    ds = tf.data.Dataset.from_tensor_slices((x[:, :-1, None], x[:, 1:, None]))
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.batch(batch_size)
    return with_noise_and_weights(ds, x.shape[1] - 1, noise_std, noise_ramp, weights, seed).prefetch(tf.data.AUTOTUNE)


def random_windows(series, window=100, batch_size: int = 64, noise_std: float = 0.0, noise_ramp: int = 0,
                   weights=None, mix=None, seed: int = 0, early_weight=None) -> tf.data.Dataset:
    """Endless random crops of ``window`` next-step pairs from random sequences.

    Batch ``i`` draws ``batch_size`` (sequence, start) pairs uniformly with stateless
    random ops seeded by ``(seed, i)``: the stream is reproducible and never repeats a
    fixed order. Each example is ``(x[s, t:t+window, None], x[s, t+1:t+window+1, None])``
    and a model sees it from a zero state, so it learns to warm up anywhere in a sequence.

    Several window lengths can be mixed (one length per batch): short windows give many
    cheap warm-ups, long ones train the state dynamics over the horizon that a long
    closed-loop generation needs.

    Args:
        series: sequences ``[n_sequences, length]``, ``length > max(window)``.
        window: next-step pairs per example, or a sequence of lengths to mix.
        batch_size: examples per batch.
        noise_std: Gaussian noise on the inputs (targets stay clean), the "denoising" trick.
        noise_ramp: the noise grows linearly from 0 over the first ``noise_ramp`` steps
            of each example, so the model learns to trust the first inputs of a warm-up.
        weights: per-step loss weights (single ``window`` only), see :func:`step_weights`.
        mix: probability of each window length (default: equal).
        seed: stream seed.
        early_weight: ``(n, w)``: loss weight ``w`` on the first ``n`` steps of every
            example, 1 on the rest (any window length; not with ``weights``). The first
            steps from a zero state carry most of the teacher-forced error; a mild
            ``(10, 3.0)`` trains the warm-up harder.

    Example:

    >>> import numpy as np
    >>> x = np.arange(3 * 30, dtype="float32").reshape(3, 30)
    >>> inputs, targets = next(iter(random_windows(x, window=8, batch_size=4)))
    >>> tuple(inputs.shape), bool(np.all(targets.numpy() - inputs.numpy() == 1))
    ((4, 8, 1), True)
    """
    x = as_sequences(series)
    windows = (window,) if np.isscalar(window) else tuple(window)
    if not windows:
        raise ValueError("window must be a length or a non-empty sequence of lengths")
    for w in windows:
        check_positive_int(window=w)
    check_positive_int(batch_size=batch_size)
    n, length = x.shape
    if max(windows) > length - 1:
        raise ValueError(f"window={max(windows)} is longer than the {length - 1} next-step pairs per sequence")
    if mix is not None:
        mix = np.asarray(mix, np.float64)
        if mix.shape != (len(windows),) or not np.all(np.isfinite(mix)) or np.any(mix < 0) or mix.sum() <= 0:
            raise ValueError(f"mix must hold one non-negative probability per window {windows}, got {mix!r}")
    data = tf.constant(x)
    base = tf.constant(seed, tf.int64)

    def crops(k, w):
        offsets = tf.range(w + 1, dtype=tf.int64)

        def crop(i):
            stream = base + 7919 * k  # one independent stream per window length
            rows = tf.random.stateless_uniform([batch_size], tf.stack([stream, 2 * i]), maxval=n, dtype=tf.int64)
            starts = tf.random.stateless_uniform([batch_size], tf.stack([stream, 2 * i + 1]),
                                                 maxval=length - w, dtype=tf.int64)
            seg = tf.gather(tf.gather(data, rows), starts[:, None] + offsets, batch_dims=1)[..., None]
            return seg[:, :-1], seg[:, 1:]

        return tf.data.Dataset.counter().map(crop, num_parallel_calls=tf.data.AUTOTUNE)

    if len(windows) == 1:
        ds = crops(0, windows[0])
    else:
        p = np.full(len(windows), 1.0 / len(windows)) if mix is None else mix / mix.sum()
        logits = tf.constant(np.log(np.maximum(p, 1e-30))[None], tf.float32)
        choice = tf.data.Dataset.counter().map(
            lambda i: tf.random.stateless_categorical(logits, 1, tf.stack([base - 1, i]))[0, 0])
        ds = tf.data.Dataset.choose_from_datasets([crops(k, w) for k, w in enumerate(windows)], choice)
    steps = windows[0] if len(windows) == 1 else None
    return with_noise_and_weights(ds, steps, noise_std, noise_ramp, weights, seed + 1,
                                  early_weight).prefetch(tf.data.AUTOTUNE)


def stateful_windows(series, window: int, batch_size: int, noise_std: float = 0.0, weights=None,
                     seed: int = 0, repeat: bool = True):
    """Consecutive next-step windows for stateful truncated back-propagation.

    The sequences are split into groups of ``batch_size`` (a remainder that does not
    fill a batch is dropped). For each group the pipeline yields its
    ``windows_per_sequence = (length - 1) // window`` windows in order; batch ``k`` of a
    group holds time steps ``[k * window, (k + 1) * window)`` of the group's sequences,
    row ``b`` always the same sequence. Reset the model's state every
    ``windows_per_sequence`` batches.

    Returns:
        ``(dataset, windows_per_sequence)``.

    Example:

    >>> import numpy as np
    >>> x = np.arange(2 * 21, dtype="float32").reshape(2, 21)
    >>> ds, k = stateful_windows(x, window=5, batch_size=2, repeat=False)
    >>> batches = [b[0].numpy()[..., 0] for b in ds]
    >>> k, bool(batches[1][0, 0] == batches[0][0, -1] + 1)
    (4, True)
    """
    x = as_sequences(series)
    if isinstance(window, int) and window > x.shape[1] - 1:
        raise ValueError(f"window={window} is longer than the {x.shape[1] - 1} next-step pairs per sequence")
    return consecutive_windows(x[:, :-1], x[:, 1:], window, batch_size, noise_std, weights, seed=seed, repeat=repeat)

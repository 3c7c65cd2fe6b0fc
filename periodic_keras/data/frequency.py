"""tf.data pipelines for the sine-frequency task: ``(window[N, 1], frequency)``.

Training draws an endless stream of fresh windows (every batch is new data, so the
model cannot memorise a small fixed set); validation and test sets are fixed arrays,
reproducible from the seed. Batches are generated in NumPy by
:func:`periodic_keras.signals.sine_windows` from a seed derived from
``(seed, split, batch index)``, so two pipelines with equal arguments yield equal data.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from periodic_keras import signals

__all__ = ["SPLITS", "endless_windows", "frequency_arrays", "frequency_dataset", "split_seed"]

#: Split names and the stream each one's seed is drawn from.
SPLITS = {"train": 0, "validation": 1, "test": 2}

#: Default training noise: a quarter of the windows noiseless, the rest at an SNR drawn
#: uniformly in this range (dB). Training across SNRs lets one model serve all of them.
TRAIN_SNR_DB = (-5.0, 40.0)
TRAIN_CLEAN_FRACTION = 0.25


def split_seed(seed: int, split: str, extra=()) -> np.random.SeedSequence:
    """The seed sequence of one split (``train``, ``validation``, ``test``): disjoint streams from one seed.

    >>> int(np.random.default_rng(split_seed(0, "test")).integers(100)) != int(
    ...     np.random.default_rng(split_seed(0, "train")).integers(100))
    True
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}: expected one of {sorted(SPLITS)}")
    return np.random.SeedSequence([int(seed), SPLITS[split], *extra])


def _mixed_windows(n, window, fmin, fmax, snr_db, clean_fraction, rng, **kwargs):
    """Windows of which ``clean_fraction`` are noiseless and the rest at ``snr_db``."""
    if not 0.0 <= clean_fraction <= 1.0:
        raise ValueError(f"clean_fraction must lie in [0, 1], got {clean_fraction}")
    if snr_db is None:
        clean_fraction = 1.0
    n_clean = int(round(n * clean_fraction))
    xc, fc, _ = signals.sine_windows(n_clean, window, fmin, fmax, None, seed=rng, **kwargs)
    xn, fn, _ = signals.sine_windows(n - n_clean, window, fmin, fmax, snr_db, seed=rng, **kwargs)
    return np.concatenate([xc, xn]), np.concatenate([fc, fn])


def frequency_arrays(
    n: int,
    split: str = "test",
    window: int = 100,
    fmin: float = 1.0,
    fmax: float = 30.0,
    snr_db=None,
    clean_fraction: float = 0.0,
    seed: int = 0,
    **kwargs,
):
    """A fixed, reproducible set of sine windows as NumPy arrays.

    Args:
        n: number of windows.
        split: ``"train"``, ``"validation"`` or ``"test"``: each split draws from its
            own seed stream, so sets of different splits never coincide.
        window, fmin, fmax, snr_db: see :func:`periodic_keras.signals.sine_windows`.
        clean_fraction: fraction of the windows left noiseless.
        seed: base seed.
        **kwargs: passed to ``sine_windows`` (``amplitude``, ``integer_frequencies``).

    Returns:
        ``(x, f)``: windows ``[n, window, 1]`` float32 and frequencies ``[n]`` float32.

    Example:

    >>> x, f = frequency_arrays(8, "validation", window=64, fmin=1, fmax=20, snr_db=10.0)
    >>> x.shape, f.shape
    ((8, 64, 1), (8,))
    """
    if n != 0:  # zero windows is a valid (empty) request, as in sine_windows
        signals.check_positive_int(n=n)
    rng = np.random.default_rng(split_seed(seed, split, (n,)))
    x, f = _mixed_windows(n, window, fmin, fmax, snr_db, clean_fraction, rng, **kwargs)
    return x[..., None], f


def endless_windows(window: int, split: str, seed: int, batch) -> tf.data.Dataset:
    """An endless ``tf.data`` stream of ``(window[N, 1], frequency)`` batches, fresh every time:
    batch ``i`` is ``batch(rng)`` (NumPy windows ``[B, N]`` and frequencies ``[B]``) with ``rng``
    the ``i``-th child of ``split``'s seed stream, so equal arguments give equal data. Only the
    ``train`` split is endless (the others are fixed sets).

    >>> ds = endless_windows(8, "train", 0, lambda rng: (rng.normal(size=(2, 8)), rng.uniform(1, 3, 2)))
    >>> x, f = next(iter(ds))
    >>> tuple(x.shape), tuple(f.shape)
    ((2, 8, 1), (2,))
    """
    if split != "train":
        raise ValueError(f"split={split!r} is a fixed set: pass num_examples")
    base = split_seed(seed, split)

    def stream():
        for i in range(2**62):
            x, f = batch(np.random.default_rng(np.random.SeedSequence(base.entropy, spawn_key=(i,))))
            yield np.asarray(x, np.float32)[..., None], np.asarray(f, np.float32)

    spec = (tf.TensorSpec((None, window, 1), tf.float32), tf.TensorSpec((None,), tf.float32))
    return tf.data.Dataset.from_generator(stream, output_signature=spec)


def frequency_dataset(
    split: str = "train",
    window: int = 100,
    fmin: float = 1.0,
    fmax: float = 30.0,
    snr_db=TRAIN_SNR_DB,
    clean_fraction: float = TRAIN_CLEAN_FRACTION,
    batch_size: int = 256,
    num_examples: int | None = None,
    seed: int = 0,
    **kwargs,
) -> tf.data.Dataset:
    """Batched, prefetched ``tf.data`` pipeline of ``(window[N, 1], frequency)`` pairs.

    ``split="train"`` with ``num_examples=None`` gives an endless stream of fresh
    windows (pass ``steps_per_epoch`` to ``fit``); any split with ``num_examples``
    gives a fixed set of that many windows, the same on every iteration.

    Args:
        split: ``"train"``, ``"validation"`` or ``"test"``.
        window, fmin, fmax: window length and frequency range (cycles per window).
        snr_db: ``None`` (noiseless), an SNR in dB, or a ``(low, high)`` range.
        clean_fraction: fraction of each batch left noiseless.
        batch_size: windows per batch.
        num_examples: size of a fixed set; required unless ``split="train"``.
        seed: base seed; the data depends only on the arguments.
        **kwargs: passed to :func:`periodic_keras.signals.sine_windows`.

    Example:

    >>> ds = frequency_dataset("train", window=64, fmin=1, fmax=20, batch_size=4)
    >>> x, f = next(iter(ds))
    >>> tuple(x.shape), tuple(f.shape), x.dtype.name
    ((4, 64, 1), (4,), 'float32')
    """
    signals.check_frequency_range(window, fmin, fmax)
    signals.check_positive_int(batch_size=batch_size)
    if num_examples is None:
        ds = endless_windows(window, split, seed, lambda rng: _mixed_windows(
            batch_size, window, fmin, fmax, snr_db, clean_fraction, rng, **kwargs))
    else:
        signals.check_positive_int(num_examples=num_examples)
        x, f = frequency_arrays(num_examples, split, window, fmin, fmax, snr_db, clean_fraction, seed, **kwargs)
        ds = tf.data.Dataset.from_tensor_slices((x, f)).batch(batch_size)
    return ds.prefetch(tf.data.AUTOTUNE)

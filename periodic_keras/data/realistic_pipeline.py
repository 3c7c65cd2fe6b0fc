"""Fixed sets and the tf.data pipeline of realistic frequency windows, every kind mixed.

The windows come from :func:`periodic_keras.data.realistic.realistic_windows`; each element
is ``(window[N, 1], f0)`` with ``f0`` the fundamental frequency in cycles per window.
Fixed sets are reproducible from ``(seed, split, n)`` and each split draws from its own
seed stream (:func:`periodic_keras.data.frequency.split_seed`), so train, validation and
test never coincide; the training stream is endless and fresh, batch by batch.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from periodic_keras import signals
from periodic_keras.data.frequency import endless_windows, split_seed
from periodic_keras.data.realistic import KINDS, check_kind, realistic_windows

__all__ = ["realistic_arrays", "realistic_dataset"]


def _kinds_and_weights(kinds, weights, window, fmin, fmax):
    """The kinds (all of :data:`KINDS` if None), each checked, and their sampling probabilities."""
    kinds = KINDS if kinds is None else ((kinds,) if isinstance(kinds, str) else tuple(kinds))
    if not kinds:
        raise ValueError("kinds is empty: name at least one kind")
    if len(set(kinds)) != len(kinds):
        raise ValueError(f"kinds repeats a kind: {kinds!r}")
    for kind in kinds:
        check_kind(kind, window, fmin, fmax)
    if weights is None:
        return kinds, np.full(len(kinds), 1.0 / len(kinds))
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (len(kinds),) or not np.all(np.isfinite(w)) or np.any(w < 0) or not w.sum() > 0:
        raise ValueError(f"weights must be {len(kinds)} finite numbers >= 0 (one per kind) with a positive sum, "
                         f"got {weights!r}")
    return kinds, w / w.sum()


def _counts(n, p):
    """``n`` split by probabilities ``p``: floors, then the largest remainders (earlier kinds on ties)."""
    q = n * p
    c = np.floor(q).astype(int)
    c[np.argsort(-(q - c), kind="stable")[: n - c.sum()]] += 1
    return c


def realistic_arrays(n: int, split: str = "test", kinds=None, window: int = 100, fmin: float = 1.0,
                     fmax: float = 30.0, snr_db=(0.0, 40.0), clean_fraction: float = 0.2, seed: int = 0,
                     weights=None):
    """A fixed, reproducible set of realistic windows, the kinds in equal shares, in kind order.

    Args:
        n: number of windows, split among the kinds as evenly as possible (the first kinds
            get one more), or in proportion to ``weights``.
        split: ``"train"``, ``"validation"`` or ``"test"``: disjoint seed streams.
        kinds: kind names (default: all of :data:`~periodic_keras.data.realistic.KINDS`).
        window, fmin, fmax, snr_db, clean_fraction: see ``realistic_windows``.
        seed: base seed; kind ``KINDS[j]`` draws from ``split_seed(seed, split, (n, j))``.
        weights: optional relative share of each of ``kinds``.

    Returns:
        ``(x, f0, kind_index)``: windows ``[n, window, 1]`` float32, fundamental frequencies
        ``[n]`` float32 and each window's index in ``KINDS`` ``[n]`` int32.

    Example:

    >>> x, f0, k = realistic_arrays(34, window=64, fmin=1, fmax=8)
    >>> x.shape, f0.dtype.name, k[:3].tolist(), int(k[-1])
    ((34, 64, 1), 'float32', [0, 0, 0], 15)
    """
    signals.check_nonnegative_int(n=n)
    split_seed(seed, split)  # the split's name, checked
    kinds, p = _kinds_and_weights(kinds, weights, window, fmin, fmax)
    xs, fs, ks = [], [], []
    for kind, count in zip(kinds, _counts(n, p)):
        j = KINDS.index(kind)
        x, f, _ = realistic_windows(int(count), kind, window, fmin, fmax, snr_db, clean_fraction,
                                    seed=split_seed(seed, split, (n, j)))
        xs.append(x)
        fs.append(f)
        ks.append(np.full(len(f), j, dtype=np.int32))
    return np.concatenate(xs)[..., None], np.concatenate(fs), np.concatenate(ks)


def realistic_dataset(split: str = "train", kinds=None, window: int = 100, fmin: float = 1.0, fmax: float = 30.0,
                      snr_db=(0.0, 40.0), clean_fraction: float = 0.2, batch_size: int = 256,
                      num_examples: int | None = None, seed: int = 0, weights=None) -> tf.data.Dataset:
    """Batched, prefetched ``tf.data`` pipeline of ``(window[N, 1], f0)`` realistic windows.

    ``split="train"`` with ``num_examples=None`` is an endless stream of fresh batches, each
    window's kind drawn independently with probabilities ``weights`` (equal by default) and the
    batch shuffled; with ``num_examples`` any split is the fixed set of
    :func:`realistic_arrays` in a fixed shuffled order, the same on every iteration.

    Example:

    >>> ds = realistic_dataset("train", window=64, fmin=1, fmax=8, batch_size=4)
    >>> x, f0 = next(iter(ds))
    >>> tuple(x.shape), tuple(f0.shape), x.dtype.name
    ((4, 64, 1), (4,), 'float32')
    """
    signals.check_positive_int(batch_size=batch_size)
    kinds, p = _kinds_and_weights(kinds, weights, window, fmin, fmax)
    realistic_windows(0, kinds[0], window, fmin, fmax, snr_db, clean_fraction)  # the remaining arguments, checked
    if num_examples is None:
        def batch(rng):
            counts = np.bincount(rng.choice(len(kinds), batch_size, p=p), minlength=len(kinds))
            parts = [realistic_windows(int(c), k, window, fmin, fmax, snr_db, clean_fraction, seed=rng)
                     for k, c in zip(kinds, counts)]
            order = rng.permutation(batch_size)
            return np.concatenate([x for x, _, _ in parts])[order], np.concatenate([f for _, f, _ in parts])[order]

        ds = endless_windows(window, split, seed, batch)
    else:
        signals.check_positive_int(num_examples=num_examples)
        x, f, _ = realistic_arrays(num_examples, split, kinds, window, fmin, fmax, snr_db, clean_fraction, seed,
                                   weights)
        # A stream of its own (len(KINDS) is no kind's index), so the order never repeats a kind's windows.
        order = np.random.default_rng(split_seed(seed, split, (num_examples, len(KINDS)))).permutation(num_examples)
        ds = tf.data.Dataset.from_tensor_slices((x[order], f[order])).batch(batch_size)
    return ds.prefetch(tf.data.AUTOTUNE)

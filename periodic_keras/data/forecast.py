"""The windows a forecaster trains on, cut from a series on its regular time grid
(:class:`periodic_keras.data.grid.RegularSeries`).

:func:`forecast_windows` cuts endless, shuffled training windows from it as a ``tf.data``
pipeline: ``context`` steps in, the next ``horizon`` steps out. Gaps are linearly
interpolated in the inputs (a mask channel marks them) and weigh nothing in the loss;
:func:`window_scale` is each window's loss scale.
"""

from __future__ import annotations

import numpy as np

from periodic_keras.data.grid import RegularSeries
from periodic_keras.signals import check_positive_int

__all__ = ["forecast_windows", "window_scale"]


def window_scale(filled, observed, context: int, season: int, starts) -> np.ndarray:
    """Per-window loss scale: the RMS of each context (``filled[s:s + context]``, observed
    steps only) about its level, the mean of its last ``season`` observed steps; floored at
    1e-3 of the series' RMS. float64 ``[len(starts)]``.

    >>> window_scale(np.array([1.0, 3.0, 1.0, 3.0]), np.ones(4, bool), 4, 2, [0]).round(6).tolist()
    [1.0]
    """
    starts = np.asarray(starts, dtype=np.int64)
    w = observed.astype(np.float64)
    x = np.where(observed, filled, 0.0)
    c0, c1, c2 = (np.concatenate([[0.0], np.cumsum(a)]) for a in (w, w * x, w * x * x))

    def window_sum(c, lo, hi):
        return c[hi] - c[lo]

    end = starts + context
    count = np.maximum(window_sum(c0, starts, end), 1.0)
    level = window_sum(c1, end - season, end) / np.maximum(window_sum(c0, end - season, end), 1.0)
    mean, square = window_sum(c1, starts, end) / count, window_sum(c2, starts, end) / count
    rms = np.sqrt(np.maximum(square - 2.0 * level * mean + level * level, 0.0))
    floor = 1e-3 * float(np.sqrt(np.mean(x[observed] ** 2))) + 1e-12
    return np.maximum(rms, floor)


def forecast_windows(series: RegularSeries, context: int, horizon: int, season: int, batch_size: int = 64,
                     seed=0, end: int | None = None):
    """Endless shuffled training windows of ``series[:end]``, as a ``tf.data.Dataset``.

    Each element is ``((values, observed, start), target)``: ``values`` ``[batch, context]``
    float32 (gaps interpolated), ``observed`` ``[batch, context]`` (1 where a value was
    given), ``start`` ``[batch, 1]`` int64 (the grid position of the first forecast step);
    ``target`` ``[batch, horizon, 2]``: the next ``horizon`` values and their loss weight,
    0 for a gap and ``1 / scale**2`` otherwise (:func:`window_scale`), so that every window
    counts alike whatever its level. Windows whose targets are all missing are left out.

    >>> from periodic_keras.data.grid import regular_series
    >>> s = regular_series(np.sin(np.arange(200.0)))
    >>> (v, m, t), y = next(iter(forecast_windows(s, 20, 5, season=6, batch_size=4)))
    >>> v.shape, m.shape, t.shape, y.shape
    (TensorShape([4, 20]), TensorShape([4, 20]), TensorShape([4, 1]), TensorShape([4, 5, 2]))
    """
    import tensorflow as tf

    check_positive_int(context=context, horizon=horizon, season=season, batch_size=batch_size)
    end = len(series) if end is None else int(end)
    filled, observed = series.filled()[:end], series.observed[:end]
    starts = np.arange(0, end - context - horizon + 1)
    if starts.size:
        targets_seen = np.convolve(observed.astype(np.int64), np.ones(horizon, np.int64), "valid")
        starts = starts[targets_seen[starts + context] > 0]
    if starts.size == 0:
        raise ValueError(f"the series ({end} steps) is too short for one training window of {context} context "
                         f"+ {horizon} horizon steps")
    weights = (1.0 / window_scale(filled, observed, context, min(season, context), starts) ** 2).astype(np.float32)
    values = tf.constant(filled.astype(np.float32))
    mask = tf.constant(observed.astype(np.float32))
    c_offsets, h_offsets = tf.range(context, dtype=tf.int64), tf.range(horizon, dtype=tf.int64)

    def window(s, weight):
        c_idx = s[:, None] + c_offsets[None]
        h_idx = s[:, None] + context + h_offsets[None]
        target = tf.stack([tf.gather(values, h_idx), tf.gather(mask, h_idx) * weight[:, None]], axis=-1)
        return (tf.gather(values, c_idx), tf.gather(mask, c_idx), (s + context)[:, None]), target

    ds = tf.data.Dataset.from_tensor_slices((starts.astype(np.int64), weights))
    ds = ds.repeat().shuffle(min(starts.size, 100_000), seed=int(np.random.default_rng(seed).integers(2**31)))
    return ds.batch(batch_size, drop_remainder=True).map(window, num_parallel_calls=1).prefetch(2)

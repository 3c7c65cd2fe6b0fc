"""Can a memoryless model fit this data? Find near-identical input windows with conflicting targets.

A model that sees one window at a time (no state carried in from earlier windows) is a
function of that window. When two windows with (nearly) the same inputs carry different
targets, no such function fits both: the best it can do is their average (regression)
or their majority (classification). This module estimates that floor from the data
alone, before any training, and says what removes it.

- :func:`diagnose_windows`: windows ``[n, steps(, channels)]`` and their targets
  (per window or per step), as arrays or a ``tf.data`` dataset of ``(x, y)``.
- :func:`diagnose_sequences`: long sequences with per-step targets, cut into windows of a
  given length; also scans longer contexts (up to the whole sequence, from its start)
  to find the context at which the conflict disappears, and the lag between conflicting
  windows of one sequence.

The estimate: for a sample of windows, find the other windows whose inputs lie within
``tolerance`` (relative RMS difference, see below) and take the spread of their targets:
the variance for regression (the estimated MSE floor) or the minority fraction for
classification (the estimated error-rate floor), over the sampled windows that have a
near-identical neighbour (their share is the ``coverage``; below :data:`MIN_COVERAGE` the
check is weak and nothing is concluded).

Example (the frequency divider: input ``sin(t)``, target ``sin(t / 2)``, windows of 16):

>>> from periodic_keras.signals import divider_sequences
>>> x, y, _ = divider_sequences(64, 512, seed=0)
>>> report = diagnose_sequences(x, y, window=16, contexts=(16, 512))
>>> 0.4 < report.floor < 0.6, report.context_needed
(True, 512)
"""

from __future__ import annotations

import numbers

import numpy as np

from periodic_keras.classical.diagnosis import CONFLICT_FRACTION, MIN_COVERAGE, TREND_SHARE, WindowDiagnosis
from periodic_keras.signals import as_rng, check_positive_int, cut_windows

__all__ = ["CONFLICT_FRACTION", "MIN_COVERAGE", "TREND_SHARE", "WindowDiagnosis", "diagnose_sequences",
           "diagnose_windows"]


def _from_dataset(ds, batched: bool, max_windows: int):
    xs, ys, n = [], [], 0
    for element in ds.as_numpy_iterator():
        if not isinstance(element, tuple) or len(element) < 2:
            raise ValueError("the dataset must yield (inputs, targets) pairs")
        x, y = np.asarray(element[0]), np.asarray(element[1])
        if not batched:
            x, y = x[None], y[None]
        xs.append(x)
        ys.append(y)
        n += len(x)
        if n >= max_windows:
            break
    if not xs:
        raise ValueError("the dataset is empty")
    return np.concatenate(xs)[:max_windows], np.concatenate(ys)[:max_windows]


def _as_arrays(inputs, targets, batched: bool, max_windows: int):
    if hasattr(inputs, "as_numpy_iterator"):
        if targets is not None:
            raise ValueError("pass targets inside the dataset, as (inputs, targets) pairs")
        inputs, targets = _from_dataset(inputs, batched, max_windows)
    elif targets is None:
        raise ValueError("targets are missing: pass inputs and targets, or a dataset of (inputs, targets)")
    x, y = np.asarray(inputs), np.asarray(targets)
    for name, a in (("inputs", x), ("targets", y)):
        if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
            raise TypeError(f"{name} must hold numbers, got dtype {a.dtype}")
        if a.size == 0:
            raise ValueError(f"{name} is empty (shape {a.shape})")
        if np.issubdtype(a.dtype, np.floating) and not np.all(np.isfinite(a)):
            raise ValueError(f"{name} hold NaN/inf")
    if x.ndim < 2:
        raise ValueError(f"inputs must be windows [n, steps(, channels)], got shape {x.shape}")
    if len(y) != len(x):
        raise ValueError(f"inputs holds {len(x)} windows but targets {len(y)}")
    return x, y


def _kind(y: np.ndarray) -> str:
    return "classification" if y.dtype == bool or np.issubdtype(y.dtype, np.integer) else "regression"


def _spread(group: np.ndarray, kind: str) -> float:
    """Floor contribution of a group of targets ``[m, e]`` (m >= 2) that one input must share."""
    if kind == "regression":
        return float(np.mean(np.var(group, axis=0, ddof=1)))
    errors = [1.0 - np.max(np.unique(col, return_counts=True)[1]) / len(col) for col in group.T]
    return float(np.mean(errors))


def _baseline(y: np.ndarray, kind: str) -> float:
    return _spread(y, kind) if len(y) > 1 else 0.0


def _conflicts(x: np.ndarray, y: np.ndarray, kind: str, tolerance: float, neighbours: int, max_queries: int,
               rng, positions=None, scale=None, steps=None) -> tuple:
    """``(floor, coverage, n_queries, pairs, lags)`` for windows ``x [n, d]`` and targets ``y [n, e]``.

    Every window within the radius counts (up to ``neighbours``, drawn at random), not
    just the nearest: exact duplicates with equal targets must not hide a conflicting
    window slightly further away. The spread is measured at ``tolerance`` and at half of
    it; a smooth target also varies across the radius (a bias that shrinks with it,
    quadratically for values, linearly for class boundaries), a true conflict does not,
    so the floor is extrapolated to radius zero (Richardson) where both are measured.
    With ``positions = (sequence, step)`` per window, ``lags`` holds, per query, the
    shortest step distance to a conflicting window of the same sequence. ``floor`` is the
    mean over the windows that have a neighbour (NaN when none does). ``scale`` (default: the RMS of ``x`` about
    its mean) is the input RMS the tolerance is relative to, over ``steps`` values per
    window (default all of ``x``'s columns; fewer when a mask channel is appended).
    """
    n = len(x)
    queries = np.sort(rng.choice(n, size=min(n, max_queries), replace=False))
    xf = x.astype(np.float32)
    if scale is None:
        scale = float(np.sqrt(np.mean((x - x.mean()) ** 2))) or 1.0
    steps = x.shape[1] if steps is None else steps
    radius2 = (tolerance * scale) ** 2 * steps
    order = 2.0 if kind == "regression" else 1.0
    norms = np.sum(xf.astype(np.float64) ** 2, axis=1)
    estimates, covered, pairs, lags = np.zeros(len(queries)), np.zeros(len(queries), bool), [], []
    big = 0.5 * np.sqrt(_baseline(y, kind)) if kind == "regression" else 0.5
    for lo in range(0, len(queries), 128):
        q = queries[lo : lo + 128]
        d2 = norms[q][:, None] + norms[None, :] - 2.0 * (xf[q] @ xf.T).astype(np.float64)
        d2[np.arange(len(q)), q] = np.inf
        for j, i in enumerate(q):
            near = np.flatnonzero(d2[j] <= radius2)
            if near.size == 0:
                continue
            if positions is not None:
                seq, step = positions
                mine = near[seq[near] == seq[i]]
                mine = mine[np.sqrt(np.mean((y[mine] - y[i]) ** 2, axis=1)) > big]
                if mine.size:
                    lags.append(int(np.min(np.abs(step[mine] - step[i]))))
            if near.size > neighbours:
                near = rng.choice(near, size=neighbours, replace=False)
            covered[lo + j] = True
            full = _spread(np.concatenate([y[i : i + 1], y[near]]), kind)
            close = near[d2[j, near] <= radius2 / 4.0]
            if close.size:
                half = _spread(np.concatenate([y[i : i + 1], y[close]]), kind)
                estimates[lo + j] = (2.0**order * half - full) / (2.0**order - 1.0)
            else:
                estimates[lo + j] = full
            diffs = np.sqrt(np.mean((y[near] - y[i]) ** 2, axis=1))
            k = int(np.argmax(diffs))
            pairs.append((int(i), int(near[k]), float(np.sqrt(max(d2[j, near[k]], 0.0) / steps) / scale),
                          float(diffs[k])))
    import pandas as pd  # imported on use: the classical face stays NumPy-only for the edge runtime

    table = pd.DataFrame(pairs, columns=["window", "other", "input_difference", "target_difference"])
    table = table.sort_values("target_difference", ascending=False, kind="stable").reset_index(drop=True)
    floor = max(float(estimates[covered].mean()), 0.0) if covered.any() else float("nan")
    return floor, float(covered.mean()), len(queries), table, lags


def _check_options(tolerance, neighbours, max_queries, max_windows):
    if not (isinstance(tolerance, numbers.Real) and 0 < tolerance < 1):
        raise ValueError(f"tolerance must lie in (0, 1) (relative RMS input difference), got {tolerance!r}")
    check_positive_int(neighbours=neighbours, max_queries=max_queries, max_windows=max_windows)


def diagnose_windows(inputs, targets=None, tolerance: float = 0.1, neighbours: int = 100, max_queries: int = 2000,
                     max_windows: int = 20_000, batched: bool = True, seed=0) -> WindowDiagnosis:
    """Estimate the best error a model that sees one window at a time can reach.

    Args:
        inputs: windows ``[n, steps]`` or ``[n, steps, channels]``, or a ``tf.data``
            dataset of ``(inputs, targets)`` (extra elements such as sample weights are
            ignored), read up to ``max_windows`` windows.
        targets: ``[n, ...]``, one target or one per step; integer or boolean targets
            are classes (the floor is an error rate), float targets values (an MSE).
        tolerance: two windows are near-identical when the RMS of their difference is
            at most ``tolerance`` times the RMS of all inputs (about their mean).
        neighbours: near-identical windows used per sampled window (at most; drawn at
            random when there are more).
        max_queries: windows sampled to estimate the floor.
        max_windows: windows searched (the first ones).
        batched: whether the dataset yields batches (``True``) or single windows.
        seed: sampling seed.

    Returns:
        :class:`WindowDiagnosis`; ``print`` it for a report and a recommendation.

    Example (target ``sin(2t)`` is a function of the window: no conflict):

    >>> t = 0.1 * np.arange(20_000)
    >>> x, y = cut_windows(np.sin(t)[None], 16), cut_windows(np.sin(2 * t)[None], 16)
    >>> diagnose_windows(x, y).conflicting
    False
    """
    _check_options(tolerance, neighbours, max_queries, max_windows)
    x, y = _as_arrays(inputs, targets, batched, max_windows)
    x, y = x[:max_windows], y[:max_windows]
    kind = _kind(y)
    flat_y = y.reshape(len(y), -1).astype(np.float64 if kind == "regression" else np.int64)
    floor, coverage, n_queries, pairs, _ = _conflicts(x.reshape(len(x), -1).astype(np.float64), flat_y, kind,
                                                      tolerance, neighbours, max_queries, as_rng(seed))
    floor = 0.0 if np.isnan(floor) else floor
    verdict = "weak" if coverage < MIN_COVERAGE else (
        "conflict" if floor > CONFLICT_FRACTION * _baseline(flat_y, kind) else "fits")
    return WindowDiagnosis(kind, floor, _baseline(flat_y, kind), coverage, int(x.shape[1]), len(x), n_queries,
                           float(tolerance), pairs, verdict=verdict)


def _context_windows(x, y, context, picks, mask: bool, scale: float = 1.0, detrend: bool = False,
                     shift_targets: bool = False):
    """Windows of ``context`` steps ending at each picked ``(sequence, step)`` and the
    target at that step. With ``mask``, steps before the start are the mean of ``x`` and a
    second channel (``scale`` where the step is real) marks them, so the start is visible;
    without, picks must not reach before the start. With ``detrend``, each window's mean
    over its real steps is subtracted from it, and with ``shift_targets`` from its target."""
    s, t = picks
    idx = t[:, None] + (np.arange(context) - (context - 1))[None, :]
    real = idx >= 0
    values = x[s[:, None], np.maximum(idx, 0)]
    targets = y[s, t][:, None]
    if detrend:
        level = np.sum(np.where(real, values, 0.0), axis=1, keepdims=True) / np.sum(real, axis=1, keepdims=True)
        values = values - level
        if shift_targets:
            targets = targets - level
    values = np.where(real, values, 0.0 if detrend else float(np.mean(x)))
    if mask:
        values = np.concatenate([values, scale * real.astype(np.float64)], axis=1)
    return values, targets


def _trend_share(x) -> float:
    """Mean over sequences of the share of variance a straight line in time explains."""
    steps = np.arange(x.shape[1], dtype=np.float64) - 0.5 * (x.shape[1] - 1)
    centred = x - x.mean(axis=1, keepdims=True)
    slope = centred @ steps / (steps @ steps)
    total = np.sum(centred**2, axis=1)
    explained = slope**2 * (steps @ steps)
    return float(np.mean(np.where(total > 0, explained / np.where(total > 0, total, 1.0), 0.0)))


def _context_table(rows, baseline):
    """The context scan as a table with the running-minimum ``floor`` and ``weak`` rows marked."""
    import pandas as pd

    table = pd.DataFrame(rows)
    table["weak"] = table["coverage"] < MIN_COVERAGE
    floors, best = [], np.nan
    for estimate, weak in zip(table["estimate"], table["weak"]):
        if not weak and np.isfinite(estimate):
            best = estimate if not np.isfinite(best) else min(best, estimate)
        floors.append(best)
    table["floor"] = floors
    clear = table[~table["weak"] & (table["floor"] <= CONFLICT_FRACTION * baseline)]
    return table[["context", "floor", "estimate", "coverage", "weak"]], (int(clear.context.iloc[0]) if len(clear)
                                                                       else None)


def diagnose_sequences(inputs, targets, window: int, contexts=None, tolerance: float = 0.1, neighbours: int = 100,
                       max_queries: int = 2000, max_windows: int = 20_000, seed=0,
                       detrend="auto") -> WindowDiagnosis:
    """Diagnose sequences with per-step targets as a model that sees ``window`` steps would.

    Windows of ``window`` steps ending at every step of randomly chosen sequences (every
    position, as a model sliding over them would see; ``max_windows`` in all) are checked as in
    :func:`diagnose_windows`. Then, for each context
    length in ``contexts``, every sampled step gets the ``context`` steps up to it
    (zero-padded before the sequence start, with a mask channel so the start is visible)
    and the same check runs on its target: the shortest conflict-free context is
    ``context_needed``. The last context is always the whole sequence (from the start).
    A floor that falls to ~0 with context means the targets need memory; one that stays
    means they are noisy (``verdict``); contexts where few windows have a neighbour are
    marked weak and do not decide either way.

    Args:
        inputs, targets: ``[n_sequences, length]`` each (targets integer for classes).
        window: steps per window of the windowed setup being diagnosed.
        contexts: context lengths to scan (default: ``window`` doubling up to the length).
        tolerance, neighbours, max_queries, max_windows, seed: as in :func:`diagnose_windows`;
            ``max_windows`` steps are sampled per context.
        detrend: compare windows by shape: each window (and its target, for regression:
            targets in the inputs' units, such as the next value) less the window's mean.
            ``"auto"`` (default) does so when a straight line explains more than
            :data:`TREND_SHARE` of the inputs' variance, shifting the targets too only when
            they trend as well; without it a trending series' windows are told apart by
            level alone.

    Example: see the module docstring.
    """
    _check_options(tolerance, neighbours, max_queries, max_windows)
    x, y = _as_arrays(inputs, targets, False, max_windows)
    if x.ndim != 2 or y.shape != x.shape:
        raise ValueError(f"inputs and targets must both be [n_sequences, length]; got {x.shape} and {y.shape}")
    check_positive_int(window=window)
    n, length = x.shape
    if window > length:
        raise ValueError(f"window={window} is longer than the sequences ({length} steps)")
    rng = as_rng(seed)
    kind = _kind(y)
    x, y = x.astype(np.float64), y.astype(np.float64 if kind == "regression" else np.int64)

    def sample(first):
        """(sequence, step) pairs with steps >= first: every step of randomly chosen sequences, so
        that the windows a sequence repeats later in itself are there to be found."""
        per = length - first
        chosen = rng.permutation(n)[: max(1, -(-max_windows // per))]
        seq, step = np.repeat(chosen, per), np.tile(np.arange(first, length), len(chosen))
        if len(seq) > max_windows:
            keep = np.sort(rng.choice(len(seq), size=max_windows, replace=False))
            seq, step = seq[keep], step[keep]
        return seq, step

    if not (isinstance(detrend, bool) or detrend == "auto"):
        raise TypeError(f"detrend must be True, False or 'auto', got {detrend!r}")
    trend_share = _trend_share(x)
    shift_targets = kind == "regression" and (detrend is True or _trend_share(y) > TREND_SHARE)
    detrend = trend_share > TREND_SHARE if detrend == "auto" else detrend
    shift_targets = shift_targets and detrend
    picks = sample(window - 1)
    wx, wy = _context_windows(x, y, window, picks, mask=False, detrend=detrend, shift_targets=shift_targets)
    scale = float(np.sqrt(np.mean((wx - wx.mean()) ** 2))) or 1.0
    floor, coverage, n_queries, pairs, lags = _conflicts(wx, wy, kind, tolerance, neighbours, max_queries, rng,
                                                         positions=picks, scale=scale)
    floor = 0.0 if np.isnan(floor) else floor
    for side in ("window", "other"):  # where each conflicting window ends
        idx = pairs[side].to_numpy(dtype=np.int64)  # an empty table (no neighbours) has object columns
        pairs[f"{side}_sequence"], pairs[f"{side}_step"] = picks[0][idx], picks[1][idx]
    report = WindowDiagnosis(kind, floor, _baseline(wy if shift_targets else y.reshape(-1, 1), kind), coverage, window,
                             len(wx), n_queries, float(tolerance), pairs, trend_share=trend_share,
                             detrended=detrend)
    if report.conflicting and lags:
        report.repeat_lag = float(np.median(lags))

    if contexts is None:
        contexts = [window * 2**k for k in range(int(np.log2(length / window)) + 1) if window * 2**k < length]
    contexts = sorted({int(c) for c in contexts if 0 < c < length} | {length})
    picks, rows = sample(0), []
    for c in contexts:
        cx, cy = _context_windows(x, y, c, picks, mask=True, scale=scale, detrend=detrend,
                                  shift_targets=shift_targets)
        estimate, coverage, _, _, _ = _conflicts(cx, cy, kind, tolerance, neighbours, max_queries, rng,
                                                 scale=scale, steps=c)
        rows.append({"context": c, "estimate": estimate, "coverage": coverage})
    report.context, report.context_needed = _context_table(rows, report.baseline)
    if report.coverage < MIN_COVERAGE:
        report.verdict = "weak"
    elif not report.conflicting:
        report.verdict = "fits"
    elif report.context_needed is not None:
        report.verdict = "needs_memory"
    else:
        report.verdict = "noisy" if (~report.context["weak"]).any() else "undetermined"
    return report

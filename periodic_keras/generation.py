"""Closed-loop generation and driven streaming with any step function (NumPy only, shared by Keras and edge).

A *step function* maps ``(x_t [batch, 1], state) -> (y_t [batch, 1], state')`` where
``y_t`` predicts ``x_{t+1}`` and ``state`` is a list of arrays. :func:`closed_loop`
warms the state up on a given prefix (teacher forcing), then feeds each prediction
back as the next input. ``periodic_keras.models.generator`` supplies a Keras step
function and ``periodic_keras.edge`` a LiteRT one, so both generate identically.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["as_batch", "as_float32", "check_prefix", "closed_loop", "stream"]

_FLOAT32_MAX = float(np.finfo(np.float32).max)


def as_float32(x: np.ndarray, what: str) -> np.ndarray:
    """``x`` (real, finite) as float32, refusing values float32 cannot hold (they would become inf).

    >>> as_float32(np.array([1e300]), "state")
    Traceback (most recent call last):
    ...
    ValueError: state holds values beyond the float32 range (|x| > 3.403e+38): up to 1e+300
    """
    if np.issubdtype(x.dtype, np.floating) and x.dtype.itemsize > 4:  # integers always fit
        peak = float(np.max(np.abs(x), initial=0.0))
        if peak > _FLOAT32_MAX:
            raise ValueError(f"{what} holds values beyond the float32 range (|x| > {_FLOAT32_MAX:.4g}): up to {peak:.4g}")
    return x.astype(np.float32)


def as_batch(values, what: str = "prefix", min_steps: int = 1) -> np.ndarray:
    """Validate real, finite values ``[batch, steps]`` (or one ``[steps]``); return float32 2-D.

    ``what`` names the argument in the error messages.

    >>> as_batch([0.0, 1.0]).shape
    (1, 2)
    """
    x = np.asarray(values)
    if x.dtype == object or not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise TypeError(f"{what} must hold real numbers, got dtype {x.dtype}")
    if x.ndim == 1:
        x = x[None]
    if x.ndim != 2:
        raise ValueError(f"{what} must have shape [batch, steps], got {x.shape}")
    if x.size == 0:
        raise ValueError(f"{what} is empty (shape {x.shape})")
    if x.shape[1] < min_steps:
        raise ValueError(f"{what} needs at least {min_steps} steps, got {x.shape[1]}")
    bad = ~np.isfinite(x)
    if bad.any():
        raise ValueError(f"{what} holds NaN/inf, first in row {int(np.nonzero(bad.any(axis=1))[0][0])}")
    return as_float32(x, what)


def check_prefix(prefix) -> np.ndarray:
    """Validate a warm-up prefix ``[batch, steps]`` (or ``[steps]``); return float32 2-D."""
    return as_batch(prefix, "prefix")


def closed_loop(step, prefix, n_steps: int, state):
    """Warm up on ``prefix``, then generate ``n_steps`` values by feeding predictions back.

    Args:
        step: step function ``(x_t [batch, 1], state) -> (y_t [batch, 1], state)``.
        prefix: warm-up values ``[batch, steps]``.
        n_steps: number of values to generate (0 is allowed).
        state: initial state (list of arrays), usually zeros.

    Returns:
        ``(generated [batch, n_steps], state)``: ``generated[:, 0]`` continues the prefix.

    Example (a step function that predicts ``x_{t+1} = x_t + 1``):

    >>> import numpy as np
    >>> out, _ = closed_loop(lambda x, s: (x + 1, s), np.zeros((1, 3)), 4, [])
    >>> out.tolist()
    [[1.0, 2.0, 3.0, 4.0]]
    """
    x = check_prefix(prefix)
    if isinstance(n_steps, bool) or not isinstance(n_steps, numbers.Integral) or n_steps < 0:
        raise ValueError(f"n_steps must be a non-negative integer, got {n_steps!r}")
    y = None
    for t in range(x.shape[1]):
        y, state = step(x[:, t : t + 1], state)
    out = np.empty((x.shape[0], n_steps), np.float32)
    for t in range(n_steps):
        out[:, t] = np.asarray(y).reshape(-1)
        if t + 1 < n_steps:
            y, state = step(np.asarray(y, np.float32).reshape(-1, 1), state)
    return out, state


def stream(step, inputs, state):
    """Run a step function over given ``inputs [batch, steps]``: one output per input.

    The driven counterpart of :func:`closed_loop` (a divider or a detector reads its
    input; nothing is fed back). Returns ``(outputs [batch, steps], state)``; pass the
    state to the next call to continue the same sequences, zeros to start new ones.

    >>> import numpy as np
    >>> running_sum = lambda x, s: (s[0] + x, [s[0] + x])
    >>> stream(running_sum, np.ones((1, 4)), [np.zeros((1, 1))])[0].tolist()
    [[1.0, 2.0, 3.0, 4.0]]
    """
    x = as_batch(inputs, "inputs")
    out = np.empty(x.shape, np.float32)
    for t in range(x.shape[1]):
        y, state = step(x[:, t : t + 1], state)
        out[:, t] = np.asarray(y).reshape(-1)
    return out, state

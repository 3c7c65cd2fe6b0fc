"""Every exception class of periodic_keras, in one place (pure Python: the edge runtime imports it).

Each is also re-exported where users meet it: :mod:`periodic_keras.export` (``ExportError``),
:mod:`periodic_keras.edge` (``ExportedModelError``, ``NonFiniteOutputError``, ``MicroError``) and
:mod:`periodic_keras.runs` (``NotOwnedError``, ``LockedError``).

>>> from periodic_keras import errors
>>> issubclass(errors.NotOwnedError, ValueError), issubclass(errors.LockedError, OSError)
(True, True)
"""

from __future__ import annotations

__all__ = ["ExportError", "ExportedModelError", "LockedError", "MicroError", "NonFiniteOutputError", "NotOwnedError"]


class ExportError(RuntimeError):
    """Export failed (conversion, or parity with Keras beyond tolerance)."""


class ExportedModelError(RuntimeError):
    """An exported model directory is missing, incomplete, corrupt or inconsistent."""


class NonFiniteOutputError(ValueError):
    """An exported model produced NaN/inf: its inputs or state are far outside its training
    (or a quantised variant cannot represent them)."""


class MicroError(RuntimeError):
    """TFLM cannot load or run a model (an op or dtype it lacks, an arena too small)."""


class NotOwnedError(ValueError):
    """A path holds something this package did not write, so it will not replace or delete it."""


class LockedError(OSError):
    """Another process holds the lock on a run or export directory."""

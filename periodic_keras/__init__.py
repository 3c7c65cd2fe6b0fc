"""periodic_keras: Keras 3 recipes that make neural networks learn periodic signals.

Importing the package imports nothing heavy: ``periodic_keras.edge`` must stay usable
on a device with only NumPy and LiteRT. Import the sub-packages you need, each from its face,
e.g. ``from periodic_keras.models import frequency_regressor``; the map of the tree is
``docs/architecture.md``.
"""

import os

__version__ = "0.1.0"


def quiet_tensorflow() -> None:
    """Silence TensorFlow's C++ logs; call it before TensorFlow is first imported.

    Sets ``TF_CPP_MIN_LOG_LEVEL=3`` and ``TF_ENABLE_ONEDNN_OPTS=0`` unless already set
    (the CUDA probe's "Could not find cuda drivers" line is printed before TensorFlow
    reads either and cannot be silenced this way).

    >>> quiet_tensorflow()
    >>> os.environ["TF_ENABLE_ONEDNN_OPTS"]
    '0'
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def __getattr__(name):
    """``periodic_keras.fit_frequency`` / ``fit_frequencies`` / ``find_periods``: loaded from
    :mod:`periodic_keras.classical` on first use (NumPy; pandas for a pandas series).

    >>> import periodic_keras
    >>> periodic_keras.find_periods.__module__
    'periodic_keras.classical.periods'
    """
    if name in ("fit_frequency", "fit_frequencies", "find_periods"):
        from periodic_keras import classical

        return getattr(classical, name)
    raise AttributeError(f"module 'periodic_keras' has no attribute {name!r}")

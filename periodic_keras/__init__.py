"""periodic_keras: Keras 3 recipes that make neural networks learn periodic signals.

Importing the package imports nothing heavy: ``periodic_keras.edge`` must stay usable
on a device with only NumPy and LiteRT. Import the sub-packages you need, each from its face,
e.g. ``from periodic_keras.models import frequency_regressor``; the map of the tree is
``docs/architecture.md``.
"""

import contextlib
import os
import re
import sys

__version__ = "0.1.0"


#: Set to 1 to see TensorFlow's start-up lines (the CUDA probe, absl's banner), which the
#: commands otherwise hold back: ``PERIODIC_KERAS_VERBOSE=1 periodic-keras train-freq``.
VERBOSE_ENV = "PERIODIC_KERAS_VERBOSE"


def quiet_tensorflow() -> None:
    """Silence TensorFlow's C++ logs; call it before TensorFlow is first imported.

    Sets ``TF_CPP_MIN_LOG_LEVEL=3`` and ``TF_ENABLE_ONEDNN_OPTS=0`` unless already set, and
    holds back what TensorFlow's libraries print while ``import tensorflow`` loads them (the
    CUDA probe's "Could not find cuda drivers" and absl's "All log messages before
    absl::InitializeLog()" lines, printed before TensorFlow reads either variable): file
    descriptor 2 points at a scratch file during that import only, whenever it happens
    (TensorFlow is still imported lazily). Afterwards everything printed during the import
    except absl's banner and its INFO / WARNING lines (:data:`_STARTUP_NOISE`) goes to stderr
    (errors, Python warnings); if the import fails, everything does, before the error. With
    ``PERIODIC_KERAS_VERBOSE=1`` in the environment nothing is held back. Every command calls
    this first.

    >>> quiet_tensorflow()
    >>> os.environ["TF_ENABLE_ONEDNN_OPTS"]
    '0'
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    if os.environ.get(VERBOSE_ENV, "").strip() not in ("", "0") or "tensorflow" in sys.modules:
        return
    if not any(isinstance(finder, _QuietTensorFlowImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlowImport())


#: The start-up lines :func:`quiet_tensorflow` holds back: absl's banner and its INFO / WARNING
#: lines (``I0000 00:00:... cudart_stub.cc:31] Could not find cuda drivers ...``, with the CPU
#: feature guard's second line where ``TF_CPP_MIN_LOG_LEVEL`` lets it through).
_STARTUP_NOISE = re.compile(rb"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to "
                            rb"STDERR|[IW]\d{4} [\d:.]+ +\d+ [\w.]+:\d+\] .*"
                            rb"|To enable the following instructions: .*)$")


class _QuietTensorFlowImport:
    """A one-shot import hook (``sys.meta_path``): the first ``import tensorflow`` runs with file
    descriptor 2 sent to a scratch file (see :func:`quiet_tensorflow`)."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)  # one shot; the finders below find the real package
        for finder in sys.meta_path:
            spec = finder.find_spec(name, path, target) if hasattr(finder, "find_spec") else None
            if spec is not None:
                break
        else:
            return None
        loader = getattr(spec, "loader", None)
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        run = loader.exec_module

        def exec_module(module):
            try:
                with _held_back_stderr():
                    run(module)
            finally:
                vars(loader).pop("exec_module", None)

        loader.exec_module = exec_module  # this loader object serves this one import only
        return spec


@contextlib.contextmanager
def _held_back_stderr():
    """File descriptor 2 into a scratch file for the block; afterwards what was written there
    goes to the real stderr, all of it if the block raised, else all but :data:`_STARTUP_NOISE`.
    A fatal signal meanwhile still prints its traceback (:mod:`faulthandler`, to the real stderr)."""
    import faulthandler
    import tempfile

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass
    try:
        saved = os.dup(2)
    except OSError:  # no file descriptor 2 to hold back
        yield
        return
    was_enabled = faulthandler.is_enabled()
    real = None
    failed = True
    try:
        with tempfile.TemporaryFile() as sink:
            os.dup2(sink.fileno(), 2)
            try:
                real = os.fdopen(os.dup(saved), "w")
                faulthandler.enable(file=real)
                yield
                failed = False
            finally:
                try:
                    sys.stderr.flush()
                except (AttributeError, OSError, ValueError):
                    pass
                os.dup2(saved, 2)
                if was_enabled:
                    faulthandler.enable()
                else:
                    faulthandler.disable()
                sink.seek(0)
                held = sink.read()
                if not failed:
                    held = b"".join(line for line in held.splitlines(keepends=True)
                                    if not _STARTUP_NOISE.match(line.rstrip(b"\r\n")))
                if held:
                    os.write(2, held)
    finally:
        if real is not None:
            real.close()
        os.close(saved)


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

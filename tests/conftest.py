"""Shared, read-only test artefacts, built once per session, and the guard that keeps them so.

Session fixtures here train and export the small models several test files read. Every file
of every shared artefact -- and of the committed ``exported/`` -- is hashed when it is first
used and again when the session ends: a test that changes one fails the run (copy an artefact
to ``tmp_path`` before changing it). ``python -m pytest -m "not slow"`` leaves out the tests
marked ``slow`` (whole jobs, scripts in fresh processes, the wheel) for a quick local loop.
"""

import hashlib
import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tree_digest(root: str) -> dict:
    """``{relative path: sha256 (files) / "->target" (links) / "dir"}`` of everything under ``root``."""
    out = {}
    for folder, dirs, files in os.walk(root):
        for name in sorted(dirs + files):
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root)
            if os.path.islink(path):
                out[rel] = "->" + os.readlink(path)
            elif os.path.isdir(path):
                out[rel] = "dir"
            else:
                with open(path, "rb") as fh:
                    out[rel] = hashlib.sha256(fh.read()).hexdigest()
    return out


class SharedArtefacts:
    """Folders that tests may read but never change: registered with their digest."""

    def __init__(self):
        self._digests = {}

    def register(self, path: str) -> str:
        self._digests[str(path)] = tree_digest(str(path))
        return str(path)

    @property
    def paths(self) -> list:
        return list(self._digests)

    def changed(self) -> list:
        out = []
        for path, before in self._digests.items():
            after = tree_digest(path) if os.path.isdir(path) else {}
            if after != before:
                diff = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
                out.append(f"{path}: {diff[:10]}")
        return out


@pytest.fixture(scope="session")
def shared():
    """The registry of this session's shared artefacts, checked when the session ends."""
    registry = SharedArtefacts()
    registry.register(os.path.join(ROOT, "exported"))  # the committed exports: read by many tests, written by none
    yield registry
    changed = registry.changed()
    assert not changed, "a test changed a shared artefact (copy it to tmp_path first):\n" + "\n".join(changed)


@pytest.fixture(scope="session", autouse=True)
def _shared_artefacts_stay_unchanged(shared):
    """Every session checks the committed exports (and whatever else was shared) at its end."""
    yield


# --- what `-m "not slow"` leaves out ------------------------------------------------------------------

#: Session fixtures below that train or export: every test using one is marked slow.
SLOW_SESSION_FIXTURES = {"small_freq_export", "small_generator", "small_generator_export", "burst_detector",
                         "burst_export"}
#: Docstring examples that train, export or build a dataset (seconds each): marked slow.
SLOW_DOCTESTS = {"periodic_keras.training.fit.fit", "periodic_keras.export.model.export_model",
                 "periodic_keras.export.convert.tflite_models", "periodic_keras.export.convert.op_names",
                 "periodic_keras.export.step.export_step_model", "periodic_keras.classical.diagnose",
                 "periodic_keras.data.tfds_clock", "periodic_keras.forecasting.forecaster.Forecaster"}


@pytest.hookimpl(tryfirst=True)  # before -m deselects
def pytest_collection_modifyitems(config, items):
    """Mark slow the tests that use a slow fixture (``SLOW_SESSION_FIXTURES``, or a test module's own
    ``SLOW_FIXTURES``) and the doctests in ``SLOW_DOCTESTS``; refuse names that no longer exist.

    Then put the files with the most slow tests first: pytest-xdist hands out whole files in this
    order, so no worker ends the session alone on a long file (each file keeps its own order)."""
    doctests, doctest_modules = set(), set()
    for item in items:
        module = getattr(item, "module", None)
        declared = set(getattr(module, "SLOW_FIXTURES", ()))
        if declared - set(dir(module)):
            raise pytest.UsageError(f"{module.__name__}.SLOW_FIXTURES names no fixture of the module: "
                                    f"{sorted(declared - set(dir(module)))}")
        if (SLOW_SESSION_FIXTURES | declared) & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
        if hasattr(item, "dtest"):  # a docstring example
            doctests.add(item.name)
            doctest_modules.add(item.dtest.globs.get("__name__"))
            if item.name in SLOW_DOCTESTS:
                item.add_marker(pytest.mark.slow)
    stale = {name for name in SLOW_DOCTESTS - doctests if name.rpartition(".")[0] in doctest_modules
             or name in doctest_modules}
    if stale:
        raise pytest.UsageError(f"SLOW_DOCTESTS names docstring examples that do not exist: {sorted(stale)}")
    weight = {}
    for item in items:
        weight[item.fspath] = weight.get(item.fspath, 0) + (item.get_closest_marker("slow") is not None)
    items.sort(key=lambda item: -weight[item.fspath])


# --- shared models and exports -------------------------------------------------------------------

#: The small frequency setup the export and edge tests share.
SMALL = dict(window=32, fmin=1.0, fmax=8.0)


@pytest.fixture(scope="session")
def small_freq_model():
    """An untrained small frequency regressor (window 32, 1-8 cycles): do not train or change it."""
    from periodic_keras.models import frequency_regressor

    return frequency_regressor(**SMALL, lstm_units=4, dense_units=8)


@pytest.fixture(scope="session")
def small_freq_export(tmp_path_factory, shared, small_freq_model):
    """``(directory, metadata, sample windows)`` of ``small_freq_model`` exported with float32 and
    float16 variants (read only: copy it before changing anything)."""
    from periodic_keras.data import frequency_arrays
    from periodic_keras.export import export_model

    out = str(tmp_path_factory.mktemp("shared") / "freq")
    x, f = frequency_arrays(40, "validation", **SMALL, snr_db=10.0)
    meta = export_model(small_freq_model, out, "freq", x, sample_targets=f, variants=("float32", "float16"),
                        metadata={"window": 32, "fmin": 1.0, "fmax": 8.0})
    return shared.register(out), meta, x


@pytest.fixture(scope="session")
def small_generator():
    """``(model, series)``: a small sequence generator (8, 6 units) trained 5 epochs on 8 classic
    sine series of 200 steps (do not train it further)."""
    from periodic_keras import signals, training
    from periodic_keras.models import sequence_generator

    training.set_seed(1)
    model = sequence_generator(units=(8, 6))
    x, _ = signals.classic_sine_series(8, 200, seed=4)
    model.compile(optimizer="adam", loss="mse")
    model.fit(x[:, :-1, None], x[:, 1:, None], epochs=5, batch_size=8, verbose=0)
    return model, x


@pytest.fixture(scope="session")
def small_generator_export(tmp_path_factory, shared, small_generator):
    """``(directory, metadata)``: ``small_generator``'s step model exported (float32, float16), its
    closed-loop parity checked over 1000 steps (read only)."""
    from periodic_keras.export import export_step_model
    from periodic_keras.models import step_model

    model, x = small_generator
    out = str(tmp_path_factory.mktemp("shared") / "generator")
    meta = export_step_model(step_model(model, batch_size=1), out, "generator", x[:2, :100], n_steps=1000,
                             variants=("float32", "float16"))
    return shared.register(out), meta


@pytest.fixture(scope="session")
def burst_detector():
    """A burst detector (8 units) trained 500 steps on 2048 sequences of 130 steps."""
    from periodic_keras import signals, training
    from periodic_keras.data import sequence_dataset
    from periodic_keras.models import burst_model

    training.set_seed(0)
    x, y, _ = signals.burst_sequences(2048, 130, seed=0)
    model = burst_model(8)
    training.compile_binary_classifier(model, 500, 1e-2)
    training.fit(model, sequence_dataset(x, y, 32), 500, verbose=0)
    return model


@pytest.fixture(scope="session")
def burst_export(tmp_path_factory, shared, burst_detector):
    """``(directory, metadata, streamed inputs)``: ``burst_detector``'s stream export (read only)."""
    from periodic_keras import export, signals
    from periodic_keras.models import step_model

    out = str(tmp_path_factory.mktemp("shared") / "burst")
    x, _, _ = signals.burst_sequences(2, 300, seed=3)
    meta = export.export_step_model(step_model(burst_detector, batch_size=1), out, "burst", x, mode="stream",
                                    metadata={"threshold": 0.5})
    return shared.register(out), meta, x


_undefined = SLOW_SESSION_FIXTURES - set(globals())
assert not _undefined, f"SLOW_SESSION_FIXTURES names fixtures conftest.py does not define: {sorted(_undefined)}"

"""Everything the package builds saves to ``.keras`` and loads back with ``safe_mode=True``.

No Lambda layers, no pickled Python: each model builder of :mod:`periodic_keras.models`
makes a tiny model, which is saved, checked for Lambda layers and pickles inside the
``.keras`` zip, loaded with ``safe_mode=True`` and compared with the original's
predictions. Also: the edge runtime refuses a model file that does not match the
SHA-256 recorded in its ``metadata.json``.
"""

import json
import os
import shutil
import zipfile

import keras
import numpy as np
import pytest

from periodic_keras import edge, models
from periodic_keras.layers import LearnedPeriodicEncoding
from script_runner import ROOT

RNG = np.random.default_rng(0)
WINDOWS = RNG.normal(size=(4, 32, 1)).astype("float32")
SEQUENCES = RNG.normal(size=(2, 10, 1)).astype("float32")
SCALARS = RNG.uniform(-1, 1, size=(8, 1)).astype("float32")
STAMPS = np.array([[-1], [0], [59], [3_800_000_007], [-3_800_000_007], [2**62]], dtype="int64")


def _learned_period_model():
    t = np.arange(0, 200 * 3600, 3600, dtype="int64")
    layer = LearnedPeriodicEncoding.from_data(t, np.sin(2 * np.pi * t / 86400.0), min_period=7200,
                                              max_period=10 * 86400)
    inputs = keras.Input(shape=(1,), dtype="int64")
    return keras.Model(inputs, keras.layers.Dense(1)(layer(inputs)))


def _step_inputs(step):
    return [RNG.normal(size=(2, int(t.shape[-1]))).astype("float32") for t in step.inputs]


#: id -> (builder, inputs). Small widths: this is about serialization, not accuracy.
BUILDERS = {
    **{f"frequency_regressor-{frontend}": (
        lambda frontend=frontend: models.frequency_regressor(32, 1.0, 8.0, frontend, lstm_units=4, dense_units=4),
        WINDOWS) for frontend in models.FRONTENDS},
    "inference_variant": (lambda: models.inference_variant(models.frequency_regressor(32, 1.0, 8.0, lstm_units=4,
                                                                                      dense_units=4), 4), WINDOWS),
    "sequence_model-gru-sigmoid": (lambda: models.sequence_model((4, 3), cell="gru", activation="sigmoid"), SEQUENCES),
    "sequence_model-simple_rnn": (lambda: models.sequence_model(4, cell="simple_rnn"), SEQUENCES),
    "sequence_generator": (lambda: models.sequence_generator(units=(4, 3)), SEQUENCES),
    "sequence_generator-stateful": (lambda: models.sequence_generator(units=(4,), stateful=True, batch_size=2),
                                    SEQUENCES),
    "oscillator_generator": (lambda: models.oscillator_generator(units=4), SEQUENCES),
    "divider_model": (lambda: models.divider_model(4), SEQUENCES),
    "burst_model": (lambda: models.burst_model(4), SEQUENCES),
    "step_model": (lambda: models.step_model(models.sequence_generator(units=(4, 3))), None),
    "clock_model": (lambda: models.clock_model(hidden=8, harmonics=2), STAMPS),
    "clock_reader": (lambda: models.clock_reader(models.clock_model(hidden=8)), STAMPS),
    **{f"naive_clock_model-{kind}": (lambda kind=kind: models.naive_clock_model(kind, hidden=8, depth=2),
                                     STAMPS.astype("float32")) for kind in models.NAIVE_CLOCKS},
    **{f"activation_mlp-{name}": (lambda name=name: models.activation_mlp(name, width=8, depth=2), SCALARS)
       for name in models.ACTIVATIONS},
    "learned_periodic_encoding": (_learned_period_model, STAMPS[:3] + 1_700_000_000),
}


def _class_names(config):
    """Every ``class_name`` in a Keras config, at any depth (layers, initializers, functions)."""
    if isinstance(config, dict):
        if isinstance(config.get("class_name"), str):
            yield config["class_name"]
        for value in config.values():
            yield from _class_names(value)
    elif isinstance(config, list):
        for value in config:
            yield from _class_names(value)


def _as_list(out):
    if isinstance(out, dict):
        return [np.asarray(out[k]) for k in sorted(out)]
    return [np.asarray(o) for o in out] if isinstance(out, (list, tuple)) else [np.asarray(out)]


def test_every_builder_is_covered():
    covered = {name.split("-")[0] for name in BUILDERS}
    builders = {"frequency_regressor", "inference_variant", "sequence_model", "sequence_generator", "divider_model",
                "burst_model", "step_model", "clock_model", "clock_reader", "naive_clock_model", "activation_mlp"}
    assert builders <= covered
    assert builders <= set(models.__all__)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_saves_without_pickles_and_loads_in_safe_mode(name, tmp_path):
    build, x = BUILDERS[name]
    keras.utils.set_random_seed(0)
    model = build()
    if x is None:
        x = _step_inputs(model)
    path = str(tmp_path / f"{name}.keras")
    model.save(path)

    with zipfile.ZipFile(path) as archive:
        entries = archive.namelist()
        config = archive.read("config.json").decode("utf-8")
    assert not [e for e in entries if e.endswith((".pkl", ".pickle", ".npy"))], entries
    assert sorted(entries) == ["config.json", "metadata.json", "model.weights.h5"], entries
    classes = set(_class_names(json.loads(config)))
    assert not classes & {"Lambda", "__lambda__", "TFOpLambda"}, classes

    loaded = keras.models.load_model(path, safe_mode=True)
    got, want = _as_list(loaded.predict(x, verbose=0)), _as_list(model.predict(x, verbose=0))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        if np.issubdtype(w.dtype, np.integer):
            np.testing.assert_array_equal(g, w)
        else:
            np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("variant", ["float32", "float16"])
@pytest.mark.parametrize("task", ["freq", "generator", "divider", "burst", "clock"])
def test_edge_refuses_a_model_file_one_byte_off_its_checksum(task, variant, tmp_path):
    d = str(tmp_path / task)
    shutil.copytree(os.path.join(ROOT, "exported", task), d)  # never touch exported/ itself
    load = edge.load_step if "state" in edge.read_metadata(d) else edge.load
    load(d, variant)  # the intact copy loads
    file = edge.read_metadata(d)["tflite"][variant]["file"]
    path = os.path.join(d, file)
    with open(path, "rb") as fh:
        blob = bytearray(fh.read())
    blob[len(blob) // 3] ^= 0x01
    with open(path, "wb") as fh:
        fh.write(bytes(blob))
    with pytest.raises(edge.ExportedModelError,
                       match=rf"{file}' does not match the SHA-256 in metadata.json: corrupt or replaced"):
        load(d, variant)

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from periodic_keras import edge
from periodic_keras.data import frequency_arrays
from periodic_keras.export import ExportError, export_model
from script_runner import ROOT, run_python

SMALL = dict(window=32, fmin=1.0, fmax=8.0)


def _copy(small_freq_export, tmp_path):
    dst = str(tmp_path / "copy")
    shutil.copytree(small_freq_export[0], dst)
    return dst


def test_export_writes_everything_and_parity_holds(small_freq_export):
    out, meta, _ = small_freq_export
    assert sorted(os.listdir(out)) == ["metadata.json", "model.tflite", "model_fp16.tflite", "saved_model"]
    on_disk = json.load(open(os.path.join(out, "metadata.json")))
    assert on_disk == json.loads(json.dumps(meta))
    # float32 sums in LiteRT's order move a noisy window's refined answer by ~5e-4 cycles at most.
    assert meta["tflite"]["float32"]["parity_max_abs_diff"] <= meta["parity"]["tolerance"] <= 2e-3
    assert meta["tflite"]["float32"]["bytes"] <= 200_000  # the size target
    assert meta["tflite"]["float16"]["parity_max_abs_diff"] < 0.05
    assert meta["saved_model"]["parity_max_abs_diff"] <= 1e-4
    assert meta["input"]["shape"] == [1, 32, 1] and meta["window"] == 32
    assert {"tensorflow", "keras", "numpy"} <= set(meta["versions"])
    # No staging directories left beside the export.
    assert os.listdir(os.path.dirname(out)) == ["freq"]


def test_tflite_uses_builtin_ops_only(small_freq_export):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=os.path.join(small_freq_export[0], "model.tflite"))
    ops = {detail["op_name"] for detail in interpreter._get_ops_details()}
    assert ops and not any(op.startswith("Flex") or op == "CUSTOM" for op in ops), ops
    assert "WHILE" not in ops  # the LSTM is unrolled: a straight-line graph


def test_edge_matches_keras(small_freq_export, small_freq_model):
    out, _, x = small_freq_export
    keras_pred = small_freq_model.predict(x, verbose=0)[:, 0]
    np.testing.assert_allclose(edge.load(out).predict(x), keras_pred, atol=1e-4)
    # [batch, N] and a single [N] window are accepted too.
    np.testing.assert_allclose(edge.load(out).predict(x[..., 0]), keras_pred, atol=1e-4)
    assert edge.load(out, "float16").predict(x[0, :, 0]).shape == (1,)


def test_edge_runtime_imports_no_tensorflow_or_keras(small_freq_export):
    code = (
        "import sys, numpy as np\n"
        "from periodic_keras import edge\n"
        f"m = edge.load({small_freq_export[0]!r})\n"
        "print(m.predict(np.sin(np.arange(32) / 3.0)[None])[0])\n"
        "bad = [k for k in sys.modules if k.split('.')[0] in ('tensorflow', 'keras', 'tf_keras')]\n"
        "assert not bad, bad\n"
    )
    done = run_python("-c", code, timeout=120)
    assert done.returncode == 0, done.stderr
    assert np.isfinite(float(done.stdout.split()[-1]))


#: What docs/frequency.md tells a device to copy: the edge runtime and what it imports.
DEVICE_FILES = ("__init__.py", "errors.py", "_io.py", "targets.py", "runs.py", "generation.py", "signals.py", "edge",
                "classical")


def test_edge_runs_from_the_files_a_device_copies(tmp_path):
    (tmp_path / "periodic_keras").mkdir()
    for name in DEVICE_FILES:
        src, dst = os.path.join(ROOT, "periodic_keras", name), str(tmp_path / "periodic_keras" / name)
        shutil.copytree(src, dst) if os.path.isdir(src) else shutil.copy(src, dst)
    code = (
        "import sys\n"
        "for name in ('tensorflow', 'keras', 'tf_keras', 'pandas', 'tensorflow_datasets'):\n"
        "    sys.modules[name] = None  # as on a device: importing any of them fails\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        "import numpy as np\n"
        "from periodic_keras import edge\n"
        "assert edge.__file__.startswith(sys.path[0]), edge.__file__\n"
        f"m = edge.load({os.path.join(ROOT, 'exported', 'freq')!r})\n"
        "f, q = m.predict(np.sin(2 * np.pi * 12.3 * np.arange(100) / 100)[None], return_quality=True)\n"
        "g = edge.load_step(" + repr(os.path.join(ROOT, "exported", "generator_family")) + ")\n"
        "print(f[0], bool(q['trusted'][0]), g.generate(np.sin(np.arange(60) / 3.0)[None], 3).shape)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=str(tmp_path),
                          env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert done.returncode == 0, done.stderr[-3000:]
    frequency, trusted, shape = done.stdout.split(maxsplit=2)
    assert abs(float(frequency) - 12.3) < 0.01 and trusted == "True" and shape.strip() == "(1, 3)"


@pytest.mark.parametrize("data, error, match", [
    (np.full((2, 32), np.nan), ValueError, "NaN/inf"),
    (np.array([[np.inf] * 32]), ValueError, "NaN/inf"),
    (np.zeros((2, 31)), ValueError, r"shape \(2, 31\)"),
    (np.zeros((2, 32, 2)), ValueError, "shape"),
    (np.zeros((0, 32)), ValueError, "empty"),
    (np.array([["a"] * 32]), TypeError, "real numbers"),
])
def test_edge_rejects_bad_windows(small_freq_export, data, error, match):
    with pytest.raises(error, match=match):
        edge.load(small_freq_export[0]).predict(data)


def test_edge_missing_directory_and_metadata(tmp_path, small_freq_export):
    with pytest.raises(edge.ExportedModelError, match="not found"):
        edge.load(str(tmp_path / "nope"))
    d = _copy(small_freq_export, tmp_path)
    os.remove(os.path.join(d, "metadata.json"))
    with pytest.raises(edge.ExportedModelError, match="metadata.json.* is missing"):
        edge.load(d)


def test_edge_corrupt_metadata(tmp_path, small_freq_export):
    d = _copy(small_freq_export, tmp_path)
    path = os.path.join(d, "metadata.json")
    with open(path, "w") as fh:
        fh.write("{not json")
    with pytest.raises(edge.ExportedModelError, match="not valid JSON"):
        edge.load(d)
    meta = dict(small_freq_export[1])
    del meta["tflite"]
    with open(path, "w") as fh:
        json.dump(meta, fh)
    with pytest.raises(edge.ExportedModelError, match=r"lacks required field\(s\) \['tflite'\]"):
        edge.load(d)


def test_edge_missing_corrupt_or_truncated_model(tmp_path, small_freq_export):
    d = _copy(small_freq_export, tmp_path)
    model_path = os.path.join(d, "model.tflite")
    blob = open(model_path, "rb").read()
    with open(model_path, "wb") as fh:
        fh.write(blob[: len(blob) // 2])
    with pytest.raises(edge.ExportedModelError, match="does not match the SHA-256"):
        edge.load(d)
    # A truncated file whose checksum was (wrongly) updated still fails to load, clearly.
    meta = json.load(open(os.path.join(d, "metadata.json")))
    from periodic_keras._io import sha256_file

    meta["tflite"]["float32"]["sha256"] = sha256_file(model_path)
    json.dump(meta, open(os.path.join(d, "metadata.json"), "w"))
    with pytest.raises(edge.ExportedModelError, match="LiteRT cannot load"):
        edge.load(d)
    os.remove(model_path)
    with pytest.raises(edge.ExportedModelError, match="is missing"):
        edge.load(d)
    with pytest.raises(edge.ExportedModelError, match="variant 'int4' not in"):
        edge.load(d, "int4")


def test_edge_rejects_metadata_disagreeing_with_model(tmp_path, small_freq_export):
    d = _copy(small_freq_export, tmp_path)
    meta = json.load(open(os.path.join(d, "metadata.json")))
    meta["input"]["shape"] = [1, 64, 1]
    json.dump(meta, open(os.path.join(d, "metadata.json"), "w"))
    with pytest.raises(edge.ExportedModelError, match="but metadata.json says"):
        edge.load(d)


def test_failed_export_leaves_previous_export_intact(tmp_path, small_freq_model, small_freq_export):
    d = _copy(small_freq_export, tmp_path)
    before = {name: os.path.getmtime(os.path.join(d, name)) for name in os.listdir(d)}
    x, _ = frequency_arrays(4, **SMALL)
    with pytest.raises(ExportError, match="differs from Keras"):
        export_model(small_freq_model, d, "freq", x, variants=("float32",), tolerance=-1.0)
    assert {name: os.path.getmtime(os.path.join(d, name)) for name in os.listdir(d)} == before
    assert sorted(os.listdir(tmp_path)) == ["copy"]  # staging directory removed
    edge.load(d).predict(x)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(sample_inputs=np.zeros((3, 16, 1))), ValueError, "sample_inputs must have shape"),
    (dict(sample_inputs=np.full((3, 32, 1), np.nan)), ValueError, "NaN"),
    (dict(variants=("float16",)), ValueError, "must include 'float32'"),
    (dict(variants=("float32", "int3")), ValueError, "unknown TFLite variant"),
])
def test_export_bad_arguments(tmp_path, small_freq_model, kwargs, error, match):
    args = dict(sample_inputs=np.zeros((3, 32, 1))) | kwargs
    with pytest.raises(error, match=match):
        export_model(small_freq_model, str(tmp_path / "out"), "freq", **args)
    assert not os.path.exists(tmp_path / "out")


def test_committed_frequency_model_estimates_well():
    path = os.path.join(ROOT, "exported", "freq")
    model = edge.load(path)
    x, f = frequency_arrays(300, "test", window=100, fmin=1, fmax=30, seed=123)
    pred = model.predict(x)
    assert np.mean(np.abs(pred - f)) < 0.02
    meta = model.metadata
    assert meta["task"] == "freq" and meta["output"]["units"] == "cycles per window"
    # float32 sums in LiteRT's order move a noisy window's refined answer by ~5e-4 cycles at most.
    assert meta["tflite"]["float32"]["parity_max_abs_diff"] <= meta["parity"]["tolerance"] <= 2e-3
    assert meta["tflite"]["float32"]["bytes"] <= 200_000  # the size target


def test_export_rejects_mismatched_targets(tmp_path, small_freq_model):
    with pytest.raises(ValueError, match="sample_targets has 2 items, sample_inputs 3"):
        export_model(small_freq_model, str(tmp_path / "o"), "freq", np.zeros((3, 32, 1)), sample_targets=np.zeros(2))


def test_export_leaves_out_a_variant_that_produces_nan(tmp_path):
    import keras

    @keras.saving.register_keras_serializable(package="test_export_edge")
    class Reciprocal(keras.layers.Layer):
        def call(self, t):
            return 1e-6 / keras.ops.sum(t, axis=-1, keepdims=True)

    x = keras.Input((4,), name="x")
    tiny = keras.layers.Dense(256, use_bias=False, kernel_initializer=keras.initializers.Constant(1e-10))(x)
    y = Reciprocal()(tiny)  # 1e-10 underflows float16: 1 / 0
    meta = export_model(keras.Model(x, y), str(tmp_path / "e"), "toy", np.full((8, 4), 0.5, np.float32))
    assert list(meta["tflite"]) == ["float32"] and "NaN" in meta["refused"]["float16"]["reason"]
    assert not os.path.exists(tmp_path / "e" / "model_fp16.tflite")

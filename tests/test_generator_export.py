import os

import numpy as np
import pytest

from periodic_keras import edge
from periodic_keras.export import export_step_model
from periodic_keras.models import generate, step_model
from script_runner import ROOT, run_python


def test_tflite_generation_matches_keras_over_1000_steps(small_generator, small_generator_export):
    model, x = small_generator
    out, meta = small_generator_export
    assert meta["tflite"]["float32"]["parity_max_abs_diff"] <= 1e-4
    assert meta["state"] == {"names": ["h_0", "c_0", "h_1", "c_1"], "widths": [8, 8, 6, 6]}
    keras_out = generate(model, x[2:3, :80], 1000)
    edge_out = edge.load_step(out).generate(x[2:3, :80], 1000)
    assert np.max(np.abs(edge_out - keras_out)) <= 1e-4
    # TFLM runs the float32 step model: it is also written as a C array for firmware
    assert sorted(os.listdir(out)) == ["metadata.json", "model.tflite", "model_data.cc", "model_data.h",
                                       "model_fp16.tflite", "saved_model"]


def test_edge_step_runtime_without_tensorflow(small_generator_export):
    code = (
        "import sys, numpy as np\n"
        "from periodic_keras import edge\n"
        f"m = edge.load_step({small_generator_export[0]!r})\n"
        "y, s = m.step(np.zeros((2, 1)), m.zero_state(2))\n"
        "print(m.generate(np.sin(np.arange(50) / 20.0), 10).shape, y.shape, [a.shape for a in s])\n"
        "bad = [k for k in sys.modules if k.split('.')[0] in ('tensorflow', 'keras')]\n"
        "assert not bad, bad\n"
    )
    done = run_python("-c", code, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(1, 10) (2, 1) [(2, 8), (2, 8), (2, 6), (2, 6)]"


@pytest.mark.parametrize("call, error, match", [
    (lambda m: m.generate(np.zeros((1, 0)), 5), ValueError, "prefix is empty"),
    (lambda m: m.generate(np.array([[0.1, np.nan]]), 5), ValueError, "NaN"),
    (lambda m: m.generate(np.zeros((1, 5)), -3), ValueError, "non-negative"),
    (lambda m: m.step(np.zeros((1, 1)), [np.zeros((1, 8))] * 3), ValueError, "state shapes"),
    (lambda m: m.step(np.zeros((1, 1)), [np.zeros((2, 8)), np.zeros((2, 8)), np.zeros((2, 6)), np.zeros((2, 6))]),
     ValueError, "state shapes"),
])
def test_edge_generation_bad_inputs(small_generator_export, call, error, match):
    with pytest.raises(error, match=match):
        call(edge.load_step(small_generator_export[0]))


def test_loaders_refuse_the_wrong_kind_of_export(small_generator_export):
    with pytest.raises(edge.ExportedModelError, match="load a step model with edge.load_step"):
        edge.load(small_generator_export[0])
    with pytest.raises(edge.ExportedModelError, match="not a step model export"):
        edge.load_step(os.path.join(ROOT, "exported", "freq"))


def test_export_step_model_bad_arguments(tmp_path, small_generator):
    model, x = small_generator
    with pytest.raises(ValueError, match="batch_size=1"):
        export_step_model(step_model(model), str(tmp_path / "g"), "generator", x[:1, :10])
    with pytest.raises(ValueError, match="step model"):
        export_step_model(model, str(tmp_path / "g"), "generator", x[:1, :10])
    with pytest.raises(ValueError, match="n_steps must be a positive integer"):
        export_step_model(step_model(model, batch_size=1), str(tmp_path / "g"), "generator", x[:1, :10], n_steps=0)
    assert not os.path.exists(tmp_path / "g")

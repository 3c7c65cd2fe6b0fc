"""An export reproduces itself: the int8 file is the same bytes for the same model and data in
every process (with or without tflite-micro), and an export never replaces TFLM figures or a C
array it cannot rebuild."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from script_runner import ROOT

#: The small frequency setup (tests/conftest.py's SMALL) and the job's float layers.
WINDOW, FMIN, FMAX = 32, 1.0, 8.0


def _tiny_mixed_int8_inputs(model):
    """The frequency job's export of ``model``, in small: the deployed (micro) graph, its
    calibration windows and the DSP layers it keeps float32."""
    from periodic_keras.data import frequency_arrays
    from periodic_keras.jobs.frequency import DSP_LAYERS
    from periodic_keras.models import micro_variant

    deployed = micro_variant(model)
    x, _ = frequency_arrays(40, "validation", WINDOW, FMIN, FMAX, snr_db=(0.0, 40.0), seed=1)
    float_layers = [n for n in DSP_LAYERS if n in {layer.name for layer in deployed.layers}]
    return deployed, [[x[i:i + 1]] for i in range(len(x))], float_layers


def _ops(blob):
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    names = {code: name for name, code in vars(schema.BuiltinOperator).items() if not name.startswith("_")}
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(blob))
    graph = model.subgraphs[0]
    codes = model.operatorCodes
    return graph, [names[max(codes[op.opcodeIndex].builtinCode, codes[op.opcodeIndex].deprecatedBuiltinCode)]
                   for op in graph.operators]


def _mixed_int8(model):
    from periodic_keras.export import tflite_models

    deployed, samples, float_layers = _tiny_mixed_int8_inputs(model)
    return tflite_models(deployed, ("int8",), representative=samples, activations="int8",
                         float_layers=float_layers)["int8"]


@pytest.fixture(scope="module")
def mixed_int8(small_freq_model):
    """One conversion in this process, compared with another here and one in a fresh process."""
    return _mixed_int8(small_freq_model)


def test_mixed_int8_is_the_same_bytes_every_time(small_freq_model, mixed_int8):
    """Two conversions give the same bytes, and no SPLIT of the learned part is left float
    (the quantiser used to leave the unrolled LSTM's first SPLIT float by chance)."""
    assert _mixed_int8(small_freq_model) == mixed_int8
    graph, ops = _ops(mixed_int8)
    produced_by = {i: ops[n] for n, op in enumerate(graph.operators) for i in op.outputs}
    floated = [n for n, op in enumerate(graph.operators)
               if ops[n] == "SPLIT" and produced_by.get(op.inputs[1]) == "DEQUANTIZE"]
    assert not floated, f"SPLIT ops kept float between DEQUANTIZE and QUANTIZE: {floated}"


def test_unread_outputs_are_read_while_quantising_then_dropped_again(small_freq_model):
    """The unrolled LSTM's first step leaves its forget gate unread (a zero state); the
    converter's helpers make it an output for the quantiser and remove it afterwards, leaving
    the file exactly as it was."""
    from periodic_keras.export import convert, tflite_models

    deployed, _, _ = _tiny_mixed_int8_inputs(small_freq_model)
    blob = tflite_models(deployed)["float32"]
    read, added = convert._read_every_output(blob)
    assert added, "the tiny frequency model has an unread output (its LSTM's first forget gate)"
    graph, ops = _ops(read)
    outputs = [ops[n] for n, op in enumerate(graph.operators) if set(op.outputs) & set(graph.outputs[1:])]
    assert outputs == ["SPLIT"] * len(outputs)
    again = convert._drop_outputs(read, added)
    assert convert._strip_tensor_names(again) == convert._strip_tensor_names(blob)


_CONVERT_IN_A_FRESH_PROCESS = """
import sys
sys.modules["tflite_micro"] = None  # as if tflite-micro were not installed
import numpy as np
from periodic_keras.models import frequency_regressor
sys.path.insert(0, {tests!r})
from test_export_determinism import _mixed_int8
model = frequency_regressor({window}, {fmin}, {fmax}, lstm_units=4, dense_units=8)
weights = np.load({weights!r})
model.set_weights([weights[f"w{{i}}"] for i in range(len(weights.files))])
open({out!r}, "wb").write(_mixed_int8(model))
"""


@pytest.mark.slow
def test_mixed_int8_is_the_same_in_a_fresh_process_without_tflite_micro(small_freq_model, mixed_int8, tmp_path):
    weights = str(tmp_path / "weights.npz")
    np.savez(weights, **{f"w{i}": w for i, w in enumerate(small_freq_model.get_weights())})
    out = str(tmp_path / "int8.tflite")
    code = _CONVERT_IN_A_FRESH_PROCESS.format(tests=os.path.join(ROOT, "tests"), window=WINDOW, fmin=FMIN, fmax=FMAX,
                                              weights=weights, out=out)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, cwd=str(tmp_path),
                          env=dict(os.environ, PYTHONPATH=ROOT))
    assert done.returncode == 0, done.stderr[-3000:]
    with open(out, "rb") as fh:
        assert fh.read() == mixed_int8


# --- nothing lost -----------------------------------------------------------------------------


def _previous_export(directory, meta):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "metadata.json"), "w", encoding="utf-8") as fh:
        json.dump(meta, fh)
    return str(directory)


def test_an_export_without_tflm_refuses_to_drop_tflm_figures_and_the_c_array(tmp_path):
    from periodic_keras.errors import ExportError
    from periodic_keras.export import check_nothing_lost

    full = _previous_export(tmp_path / "full", {
        "tflite": {"float32": {"tflm": {"runs": True, "arena_bytes": 1}}, "float16": {"tflm": {"runs": False}},
                   "dynamic_range": {}},
        "c_array": {"variant": "float32", "source": {"file": "model_data.cc"}, "header": {"file": "model_data.h"}}})
    with pytest.raises(ExportError) as caught:
        check_nothing_lost(full, micro_available=False)
    message = str(caught.value)
    assert "model_data.cc / model_data.h" in message and "TFLM's figures for float32, float16" in message
    assert "pip install tflite-micro" in message
    check_nothing_lost(full, micro_available=True)  # TFLM rebuilds them

    unmeasured = _previous_export(tmp_path / "unmeasured", {
        "tflite": {"float32": {"tflm": {"runs": None, "error": "not measured: tflite-micro is not installed"}}},
        "c_array": None})
    check_nothing_lost(unmeasured, micro_available=False)  # nothing there to lose
    check_nothing_lost(str(tmp_path / "new"), micro_available=False)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "metadata.json").write_text("{not json")
    check_nothing_lost(str(tmp_path / "broken"), micro_available=False)  # the target checks judge it


def test_the_committed_main_export_holds_what_only_tflm_rebuilds():
    from periodic_keras.export.keep import lost_without_tflm

    lost = lost_without_tflm(os.path.join(ROOT, "exported", "freq"))
    assert lost == ["the C array model_data.cc / model_data.h", "TFLM's figures for float32, float16, int8"]


def test_export_model_refuses_up_front_without_tflm(small_freq_export, small_freq_model, tmp_path, monkeypatch):
    """The exporter checks before any conversion: the previous export is left as it was."""
    from periodic_keras import edge
    from periodic_keras.errors import ExportError
    from periodic_keras.export import export_model
    from periodic_keras.export.keep import lost_without_tflm

    directory, _, x = small_freq_export
    target = str(tmp_path / "freq")
    shutil.copytree(directory, target)
    assert lost_without_tflm(target), "the shared small export was measured in TFLM"
    before = sorted(os.listdir(target))
    monkeypatch.setattr(edge.micro, "available", lambda: False)
    with pytest.raises(ExportError, match="tflite-micro"):
        export_model(small_freq_model, target, "freq", x, variants=("float32",))
    assert sorted(os.listdir(target)) == before

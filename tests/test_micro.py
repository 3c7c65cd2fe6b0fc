"""TensorFlow Lite for Microcontrollers: int8 variants, the TFLM runtime, C arrays, the clock's int32 input."""

import json
import os

import keras
import numpy as np
import pytest

from periodic_keras import edge
from periodic_keras.edge import micro
from periodic_keras.export import ExportError, export_step_model, op_names, tflite_models
from periodic_keras.layers import PeriodicEncoding
from periodic_keras.models import sequence_generator, step_model
from periodic_keras.runs import check_export_target
from script_runner import ROOT, run_python

EXPORTED = os.path.join(ROOT, "exported")
STEP_TASKS = ("generator", "divider", "burst")


def _meta(task):
    return json.load(open(os.path.join(EXPORTED, task, "metadata.json")))


def _tflm_variants(task):
    return [v for v, e in _meta(task)["tflite"].items() if (e.get("tflm") or {}).get("runs")]


@pytest.mark.slow
def test_int8_conversion_of_a_small_model_runs_in_tflm():
    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(16, activation="tanh"), keras.layers.Dense(2)])
    x = rng.normal(size=(200, 6)).astype("float32")
    # calibrated on inputs like those it will see (values outside the calibrated range saturate)
    blobs = tflite_models(model, ("float32", "int8"), representative=[[row[None]] for row in x])
    assert {"QUANTIZE", "DEQUANTIZE", "FULLY_CONNECTED"} <= set(op_names(blobs["int8"]))
    runner = micro.MicroRunner(blobs["int8"])
    got = np.concatenate([runner(args_0=row[None])["output_0"] for row in x[100:]])
    want = model.predict(x[100:], verbose=0)
    assert np.max(np.abs(got - want)) < 0.02 * np.max(np.abs(want))  # int8 weights, int16 activations
    assert micro.arena_bytes(blobs["int8"]) > 0
    with pytest.raises(ValueError, match="representative"):
        tflite_models(model, ("int8",))
    with pytest.raises(ValueError, match="activations"):
        tflite_models(model, ("int8",), representative=[[x[:1]]], activations="int4")


def test_tflm_reports_what_it_lacks():
    blob = open(os.path.join(EXPORTED, "burst", "model_fp16.tflite"), "rb").read()
    with pytest.raises(micro.MicroError, match="DEQUANTIZE"):  # fp16 is not for microcontrollers
        micro.MicroRunner(blob)
    runner = micro.MicroRunner(open(os.path.join(EXPORTED, "burst", "model.tflite"), "rb").read())
    with pytest.raises(ValueError, match="expected inputs"):
        runner(args_0=np.zeros((1, 1), np.float32))


@pytest.mark.slow
def test_step_export_writes_int8_tflm_figures_and_c_array(tmp_path):
    keras.utils.set_random_seed(0)
    step = step_model(sequence_generator(units=(8,)), batch_size=1)
    out = str(tmp_path / "gen")
    prefix = np.sin(np.arange(60) / 3.0)[None]
    meta = export_step_model(step, out, "generator", prefix, n_steps=100, variants=("float32", "float16", "int8"))
    files = sorted(os.listdir(out))
    assert files == ["metadata.json", "model.tflite", "model_data.cc", "model_data.h", "model_fp16.tflite",
                     "model_int8.tflite", "saved_model"]
    tflite = meta["tflite"]
    assert tflite["int8"]["activations"] == "int16" and "QUANTIZE" in tflite["int8"]["ops"]
    assert tflite["float32"]["tflm"]["runs"] and tflite["float32"]["tflm"]["parity_max_abs_diff"] < 1e-5
    assert tflite["int8"]["tflm"]["runs"] and tflite["int8"]["tflm"]["parity_max_abs_diff"] < 0.01
    assert tflite["float16"]["tflm"]["runs"] is False and "DEQUANTIZE" in tflite["float16"]["tflm"]["error"]
    assert meta["c_array"]["variant"] == "int8" and meta["c_array"]["arena_bytes"] > 0
    # what interpreter.input(i) / output(i) hold in firmware
    assert sorted(meta["c_array"]["inputs"]) == ["c_0", "h_0", "x"]
    assert sorted(meta["c_array"]["outputs"]) == ["c_0", "h_0", "y"]
    runner = micro.MicroRunner(open(os.path.join(out, "model_int8.tflite"), "rb").read())
    widths = [int(spec["shape"][-1]) for spec in runner.inputs.values()]
    assert widths == [1 if n == "x" else 8 for n in meta["c_array"]["inputs"]]
    source = open(os.path.join(out, "model_data.cc")).read()
    assert micro.read_c_array(source) == open(os.path.join(out, "model_int8.tflite"), "rb").read()
    # The int8 variant streams in TFLM through the edge API as it does in LiteRT.
    tflm, litert = (edge.load_step(out, "int8", runtime=r) for r in ("tflm", "litert"))
    np.testing.assert_allclose(tflm.generate(prefix, 20), litert.generate(prefix, 20), atol=2e-3)
    check_export_target(out)  # a previous export, C array included: it may be replaced


@pytest.mark.parametrize("task", STEP_TASKS)
def test_committed_step_exports_run_in_tflm_and_match_litert(task):
    meta = _meta(task)
    assert {"float32", "int8"} <= set(_tflm_variants(task)), meta["tflite"]
    rng = np.random.default_rng(1)
    reference = edge.load_step(os.path.join(EXPORTED, task))
    if task == "generator":
        prefix = np.sin((np.arange(300) + rng.uniform(-80, 80, (2, 1))) / 20)
        want = reference.generate(prefix, 200)
    elif task == "divider":
        inputs = np.sin(2 * np.pi * np.arange(600) / rng.uniform(40, 80, (2, 1)))
        want = reference.run(inputs)[0]
    else:
        inputs = np.zeros((2, 130))
        for row, start in zip(inputs, (5, 40)):
            row[start:start + 10] = np.sin(np.arange(10) * np.pi / 10)
        want = reference.run(inputs)[0]
    for variant in ("float32", "int8"):
        model = edge.load_step(os.path.join(EXPORTED, task), variant, runtime="tflm")
        got = model.generate(prefix, 200) if task == "generator" else model.run(inputs)[0]
        recorded = meta["tflite"][variant]["tflm"]["parity_max_abs_diff"]
        assert np.max(np.abs(got - want)) <= max(1e-5, 4 * recorded), (variant, recorded)
        if task == "burst":
            assert ((got > 0.5) == (want > 0.5)).all()
    c = meta["c_array"]
    source = open(os.path.join(EXPORTED, task, c["source"]["file"])).read()
    assert micro.read_c_array(source) == open(os.path.join(EXPORTED, task, meta["tflite"][c["variant"]]["file"]),
                                              "rb").read()


def test_committed_clock_runs_exactly_in_tflm():
    meta = _meta("clock")
    assert "float32" in _tflm_variants("clock")
    assert meta["input"]["encoding"]["name"] == "days_seconds" and meta["input"]["dtype"] == "int64"
    t = np.random.default_rng(2).integers(-120 * 31_556_952, 120 * 31_556_952, 3000)[:, None]
    t = np.concatenate([t, [[-1], [0], [86_399], [86_400], [3_800_000_007]]])
    got = edge.load(os.path.join(EXPORTED, "clock"), runtime="tflm").predict(t)
    want = np.stack([t[:, 0] % 86_400 // 3600, t[:, 0] % 3600 // 60, t[:, 0] % 60], axis=1)
    np.testing.assert_array_equal(got, want)
    assert meta["tflite"]["float32"]["tflm"]["exact_test"] == 1.0 and meta["tflite"]["float32"]["tflm"]["n_test"] >= 10**6


def test_tflm_runtime_imports_no_tensorflow():
    code = (
        "import sys, numpy as np\n"
        "from periodic_keras import edge\n"
        f"m = edge.load_step({os.path.join(EXPORTED, 'burst')!r}, 'int8', runtime='tflm')\n"
        "print(float(m.run(np.zeros((1, 20)))[0][0, -1]))\n"
        f"c = edge.load({os.path.join(EXPORTED, 'clock')!r}, runtime='tflm')\n"
        "print(c.predict(np.array([3_800_000_007]))[0].tolist())\n"
        "bad = [k for k in sys.modules if k.split('.')[0] in ('tensorflow', 'keras', 'tf_keras', 'ai_edge_litert')]\n"
        "assert not bad, bad\n"
    )
    done = run_python("-c", code, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[1] == "[11, 33, 27]"  # 3 800 000 007 s is 11:33:27 UTC


def test_clear_errors_for_variants_and_runtimes(tmp_path):
    burst = os.path.join(EXPORTED, "burst")
    with pytest.raises(edge.ExportedModelError, match="variant 'int4' not in"):
        edge.load_step(burst, "int4", runtime="tflm")
    with pytest.raises(ValueError, match="runtime must be one of"):
        edge.load_step(burst, runtime="cmsis")
    with pytest.raises(edge.ExportedModelError, match="TFLM cannot run"):
        edge.load_step(burst, "float16", runtime="tflm")
    code = (
        "import sys\nsys.modules['tflite_micro'] = None\n"  # as if the package were not installed
        "from periodic_keras import edge\n"
        f"try:\n    edge.load_step({burst!r}, 'int8', runtime='tflm')\n"
        "except edge.ExportedModelError as e:\n    print(e)\n"
    )
    done = run_python("-c", code, timeout=120)
    assert "pip install tflite-micro" in done.stdout, (done.stdout, done.stderr)


def test_c_array_round_trip_and_errors():
    blob = bytes(range(256)) * 3 + b"\x00"
    source, header = micro.c_array(blob, "g_net", "net_data.h")
    assert micro.read_c_array(source) == blob
    assert "alignas(16)" in source and '#include "net_data.h"' in source and "NET_DATA_H" in header
    with pytest.raises(ValueError, match="C identifier"):
        micro.c_array(blob, "2bad")
    with pytest.raises(ValueError, match="_len says"):
        micro.read_c_array(source.replace(f"_len = {len(blob)}", "_len = 5"))
    with pytest.raises(ValueError, match="not a C array"):
        micro.read_c_array("int x;")


def test_split_days_encoding_is_exact_and_serialisable():
    rng = np.random.default_rng(3)
    t = np.concatenate([rng.integers(-(2**42), 2**42, 5000), [-1, 0, 86_399, 86_400, -86_401]])[:, None]
    pairs = edge.days_seconds(t)
    full = PeriodicEncoding([60, 3600, 86_400], harmonics=[1, 2, 3])
    split = PeriodicEncoding([60, 3600, 86_400], harmonics=[1, 2, 3], split_days=True)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(split(pairs)), keras.ops.convert_to_numpy(full(t)),
                               atol=2e-6)
    x = keras.Input((2,), dtype="int32")
    model = keras.Model(x, split(x))
    path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"split_{os.getpid()}.keras")
    model.save(path)
    try:
        loaded = keras.saving.load_model(path, safe_mode=True)
    finally:
        os.remove(path)
    np.testing.assert_array_equal(loaded.predict(pairs[:10], verbose=0), model.predict(pairs[:10], verbose=0))
    with pytest.raises(ValueError, match="divide 86400"):
        PeriodicEncoding([7 * 86_400], split_days=True)
    with pytest.raises(ValueError, match=r"\(days, seconds\)"):
        keras.Model(x := keras.Input((1,), dtype="int32"), PeriodicEncoding([60], split_days=True)(x))
    far = np.array([[2**62], [-(2**63)], [2**63 - 1]])  # days wrap; the seconds of the day stay exact
    np.testing.assert_array_equal(edge.days_seconds(far)[:, 1], far[:, 0] % 86_400)


@pytest.mark.slow
def test_export_refuses_a_tflm_float32_that_disagrees(monkeypatch, tmp_path):
    from periodic_keras.export import step as export_step

    real = export_step.tflm_figures

    def skewed(directory, entry, check):
        out = real(directory, entry, check)
        return {**out, "parity_max_abs_diff": 1.0} if out.get("runs") else out

    monkeypatch.setattr(export_step, "tflm_figures", skewed)
    step = step_model(sequence_generator(units=(4,)), batch_size=1)
    with pytest.raises(ExportError, match="TFLM differs"):
        export_step_model(step, str(tmp_path / "g"), "generator", np.zeros((1, 10)), n_steps=5)
    assert not os.path.exists(tmp_path / "g")


def test_dft_modes_and_gelu_tanh_match_the_trained_ops():
    from periodic_keras.layers import PeakPosterior, SpectralFeatures
    from periodic_keras.layers import gelu_tanh
    from periodic_keras.data import frequency_arrays

    x, _ = frequency_arrays(64, "validation", 100, 1.0, 30.0, snr_db=(0.0, 30.0), seed=4)
    windows = x[..., 0]
    base = SpectralFeatures(100, 1.0, 30.0, candidates=2)(windows)
    for mode in ("factored",):
        other = SpectralFeatures(100, 1.0, 30.0, candidates=2, dft=mode)(windows)
        for a, b in zip(base, other):
            np.testing.assert_allclose(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b), atol=2e-4)
    f0 = np.full((64, 1), 12.3, "float32")
    fft = keras.ops.convert_to_numpy(PeakPosterior(100, 1.0, 30.0)([windows, f0]))
    for mode in ("matmul", "factored"):
        layer = PeakPosterior(100, 1.0, 30.0, dft=mode)
        np.testing.assert_allclose(keras.ops.convert_to_numpy(layer([windows, f0])), fft, atol=1e-3)
        assert PeakPosterior.from_config(layer.get_config()).dft == mode
    with pytest.raises(ValueError, match="dft must be"):
        SpectralFeatures(100, 1.0, 30.0, dft="rfft")
    v = np.linspace(-6, 6, 1001).astype("float32")
    assert np.max(np.abs(keras.ops.convert_to_numpy(gelu_tanh(v) - keras.activations.gelu(v)))) < 1e-3


@pytest.mark.slow
def test_micro_variant_keeps_the_answers_and_converts_to_tflm_ops():
    from periodic_keras.models import frequency_regressor, micro_variant
    from periodic_keras.data import frequency_arrays

    keras.utils.set_random_seed(0)
    model = frequency_regressor(window=64, fmin=1.0, fmax=20.0, lstm_units=4, dense_units=8)
    x, _ = frequency_arrays(32, "validation", 64, 1.0, 20.0, snr_db=(10.0, 30.0), seed=5)
    micro_model = micro_variant(model)
    np.testing.assert_allclose(micro_model.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-3)
    blob = tflite_models(micro_model)["float32"]
    assert not {"RFFT2D", "REAL", "IMAG", "GELU"} & set(op_names(blob))
    runner = micro.MicroRunner(blob)
    got = np.array([runner(args_0=w[None])["output_0"][0, 0] for w in x[:8]])
    np.testing.assert_allclose(got, model.predict(x[:8], verbose=0)[:, 0], atol=2e-3)
    assert micro_variant(model, batch_size=1).inputs[0].shape == (1, 64, 1)


def test_committed_freq_runs_in_tflm_near_the_bound():
    meta = _meta("freq")
    assert "float32" in _tflm_variants("freq")
    figures = meta["tflite"]["float32"]["tflm"]
    assert figures["rmse_over_crlb_10dB"] <= 1.3 and figures["arena_bytes"] > 0
    from periodic_keras.data import frequency_arrays

    x, _ = frequency_arrays(20, "validation", 100, 1.0, 30.0, snr_db=(0.0, 40.0), seed=6)
    got = edge.load(os.path.join(EXPORTED, "freq"), runtime="tflm").predict(x)
    np.testing.assert_allclose(got, edge.load(os.path.join(EXPORTED, "freq")).predict(x), atol=2e-3)


def test_committed_freq_micro_int8_meets_the_microcontroller_target():
    from periodic_keras.data import frequency_arrays
    from periodic_keras.classical import crlb_frequency_std
    meta = _meta("freq_micro")
    int8 = meta["tflite"]["int8"]
    assert int8["bytes"] <= 64 * 1024 and int8["activations"] == "int8" and "spectrum" in int8["float_layers"]
    assert int8["tflm"]["runs"] and int8["tflm"]["rmse_over_crlb_10dB"] <= 1.3
    assert meta["c_array"]["variant"] == "int8" and meta["c_array"]["length"] == int8["bytes"]
    folder = os.path.join(EXPORTED, "freq_micro")
    assert micro.read_c_array(open(os.path.join(folder, "model_data.cc")).read()) == open(
        os.path.join(folder, "model_int8.tflite"), "rb").read()
    # measured again here, through TFLM, on windows the export did not see
    x, f = frequency_arrays(300, "test", 100, 1.0, 30.0, snr_db=10.0, seed=123)
    got = edge.load(folder, "int8", runtime="tflm").predict(x)
    assert np.sqrt(np.mean((got - np.ravel(f)) ** 2)) <= 1.3 * crlb_frequency_std(10.0, 100)
    np.testing.assert_allclose(got, edge.load(folder, "int8").predict(x), atol=1e-3)  # TFLM = LiteRT


def test_export_table_lists_every_export_and_why_a_variant_is_missing():
    done = run_python(os.path.join(ROOT, "scripts", "export_table.py"), timeout=300)
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| freq_micro | freq | int8 | tflm |")]
    assert len(rows) == 1 and "| True |" in rows[0]
    assert "| burst | burst | float16 | tflm |" in done.stdout and "DEQUANTIZE" in done.stdout


def test_every_committed_task_runs_in_tflm():
    runs = {task: _tflm_variants(task) for task in ("freq", "freq_micro", "clock", *STEP_TASKS)}
    assert all(runs.values()), runs


@pytest.mark.skipif(__import__("shutil").which("c++") is None, reason="no C++ compiler on this machine")
def test_committed_c_array_compiles_with_external_symbols(tmp_path):
    import subprocess

    folder = os.path.join(EXPORTED, "burst")
    obj = str(tmp_path / "model_data.o")
    done = subprocess.run(["c++", "-std=c++17", "-c", os.path.join(folder, "model_data.cc"), "-I", folder, "-o", obj],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    symbols = subprocess.run(["nm", obj], capture_output=True, text=True).stdout
    # upper-case R: global, read-only (the header's extern gives the const array external linkage)
    assert " R g_model_data\n" in symbols and " R g_model_data_len\n" in symbols, symbols


def _op_output_types(blob):
    """{op name: set of its output tensors' types} of a TFLite flatbuffer, and the type and
    producing op of the subgraph's output."""
    from tensorflow.lite.python import schema_py_generated as schema

    ops = {code: name for name, code in vars(schema.BuiltinOperator).items() if not name.startswith("_")}
    types = {code: name for name, code in vars(schema.TensorType).items() if not name.startswith("_")}
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(bytearray(blob), 0))
    graph, out, producer = model.subgraphs[0], {}, {}
    for op in graph.operators:
        code = model.operatorCodes[op.opcodeIndex]
        name = ops[max(code.builtinCode, code.deprecatedBuiltinCode)]
        for i in op.outputs:
            out.setdefault(name, set()).add(types[graph.tensors[i].type])
            producer[i] = name
    last = graph.outputs[0]
    return out, types[graph.tensors[last].type], producer[last]


@pytest.mark.slow
def test_mixed_int8_keeps_the_dsp_and_output_float():
    from periodic_keras.data import frequency_arrays
    from periodic_keras.jobs.frequency import DSP_LAYERS
    from periodic_keras.models import frequency_regressor, micro_variant

    keras.utils.set_random_seed(0)
    model = micro_variant(frequency_regressor(64, 1.0, 20.0, lstm_units=4, dense_units=8, oversample=1, bin_stride=8,
                                              refine_steps=2, refine_from="lstm", hedge=None))
    x, f = frequency_arrays(60, "validation", 64, 1.0, 20.0, snr_db=(10.0, 30.0), seed=5)
    dsp = [n for n in DSP_LAYERS if n in {layer.name for layer in model.layers}]
    blob = tflite_models(model, ("int8",), representative=[[w[None]] for w in x], activations="int8",
                         float_layers=dsp)["int8"]
    types, out_type, out_op = _op_output_types(blob)
    assert "INT8" in types["FULLY_CONNECTED"] and "INT8" in types["CONV_2D"]  # the learned layers
    assert types["SIN"] == types["COS"] == types["LOG"] == {"FLOAT32"}  # the spectrum and refinement
    assert out_type == "FLOAT32" and out_op != "DEQUANTIZE"  # the answer is not rounded to an int8 step
    runner = micro.MicroRunner(blob)
    got = np.array([runner(args_0=w[None])["output_0"][0, 0] for w in x[:20]])
    # 2 Gauss-Newton steps from the (int8) LSTM's estimate: the same least-squares answer where
    # both starts lie in one basin (an untrained LSTM's estimate is poor: most windows, not all)
    assert np.mean(np.abs(got - model.predict(x[:20], verbose=0)[:, 0]) < 1e-3) >= 0.5
    with pytest.raises(ValueError, match="needs activations='int8'"):
        tflite_models(model, ("int8",), representative=[[x[:1]]], float_layers=dsp)
    with pytest.raises(ValueError, match=r"\['spectrogram'\] are not layers"):
        tflite_models(model, ("int8",), representative=[[x[:1]]], activations="int8", float_layers=["spectrogram"])


@pytest.mark.slow
def test_export_leaves_out_a_variant_that_answers_worse(tmp_path):
    from periodic_keras.export import export_model

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(1)])
    x = np.random.default_rng(0).normal(size=(50, 3)).astype("float32")

    def evaluate(runner, variant, runtime):  # a task figure (lower is better): say the int8 file answers badly
        return {"error": 3.0 if variant == "int8" else 1.0}

    out = str(tmp_path / "m")
    meta = export_model(model, out, "demo", x, variants=("float32", "int8"), evaluate=evaluate,
                        figure_limit=("error", 1.1))
    assert sorted(meta["tflite"]) == ["float32"] and not os.path.exists(os.path.join(out, "model_int8.tflite"))
    assert "error in LiteRT is 3" in meta["refused"]["int8"]["reason"] and meta["refused"]["int8"]["bytes"] > 0
    assert meta["c_array"]["variant"] == "float32"
    assert json.load(open(os.path.join(out, "metadata.json")))["refused"]["int8"]["reason"].startswith("error")
    import pandas as pd

    from periodic_keras.jobs.common import summary
    from periodic_keras.jobs.results import variants_table

    text = summary({"table": pd.DataFrame({"a": [1]}), "train_seconds": 1.0,
                    "table_paths": ["t.csv"], "plot": "p.png", "export": meta, "export_dir": out},
                   lambda k, v, m: k)
    assert text.splitlines()[-2:] == [f"exported: {out} (float32)",
                                      "left out of the export: int8 (" + meta["refused"]["int8"]["reason"] + ")"]
    table = variants_table([out])
    assert table[table.variant == "int8"]["note"].tolist() == ["refused: " + meta["refused"]["int8"]["reason"]]
    for bad in (("error",), ("error", 0), (1.1, "error")):
        with pytest.raises(ValueError, match="figure_limit must be"):
            export_model(model, str(tmp_path / "b"), "demo", x, evaluate=evaluate, figure_limit=bad)
    with pytest.raises(ValueError, match="needs evaluate"):
        export_model(model, str(tmp_path / "b"), "demo", x, figure_limit=("error", 1.1))
    assert not os.path.exists(tmp_path / "b")

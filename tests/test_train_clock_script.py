"""scripts/train_clock.py: bad command lines and a quick run end to end (table, plot, export)."""

import json
import os

import pandas as pd
import pytest

from script_runner import main_runner as runner  # main(argv), in this process

run = runner('train_clock.py')


@pytest.mark.parametrize("args, message", [
    (["--naive", "relu"], "unknown naive baseline"),
    (["--years", "0"], "years must be a number > 0"),
    (["--steps", "0"], "steps must be a positive integer"),
    (["--learning-rate", "0"], "learning_rate must be positive"),
])
def test_script_bad_arguments_one_line(args, message, tmp_path):
    done = run(*args, "--output-dir", str(tmp_path / "out"), "--no-export", timeout=120)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not os.path.exists(tmp_path / "out")


@pytest.mark.slow
def test_script_quick_run_writes_table_plot_and_export(tmp_path):
    out = tmp_path / "run"
    done = run("--quick", "--output-dir", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    table = pd.read_csv(out / "results.csv")
    assert list(table["model"]) == ["clock_model", "naive siren", "naive gelu_mlp", "clock_model TFLite float32",
                                    "clock_model TFLM float32", "clock_model TFLite float16"]
    assert table["exact_test"].between(0, 1).all() and (out / "clock.png").stat().st_size > 0
    meta = json.loads((out / "exported" / "metadata.json").read_text())
    assert meta["task"] == "clock" and meta["input"]["dtype"] == "int64"
    assert meta["input"]["encoding"] == {"name": "days_seconds", "model_input": "days_seconds", "shape": [1, 2],
                                         "dtype": "int32"}
    assert meta["tflite"]["float32"]["tflm"]["runs"] and "int8" in meta["not_converted"]
    assert meta["tflite"]["float32"]["parity_max_abs_diff"] == 0

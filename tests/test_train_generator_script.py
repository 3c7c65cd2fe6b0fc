import json
import os

import numpy as np
import pandas as pd
import pytest

from periodic_keras import edge
from script_runner import main_runner as runner  # main(argv), in this process



run = runner('train_generator.py')


@pytest.mark.parametrize("args, message", [
    (["--units", "0"], "units must be a positive integer"),
    (["--windows", "1200"], "does not fit in the training series"),
    (["--windows", "10", "20", "30"], "one or two window lengths"),
    (["--horizon", "-5"], "horizon must be a positive integer"),
    (["--noise-std", "-1"], "noise_std must be >= 0"),
    (["--long-fraction", "2"], "long_fraction"),
    (["--learning-rate", "0"], "learning_rate must be positive"),
    (["--dataset", "sf-temps", "--horizon", "0"], "horizon must be a positive integer"),
    (["--dataset", "sf-temps", "--windows", "8000"], "does not fit in the training series"),
    (["--dataset", "weather"], "invalid choice"),
    (["--closed-loop-fraction", "1.5"], "closed_loop_fraction must lie in [0, 1)"),
    (["--closed-loop-windows", "900", "200"], "does not fit in the training series"),
    (["--early-weight", "2.5", "3"], "--early-weight STEPS must be an integer"),
    (["--early-weight", "10", "-1"], "early_weight's weight must be positive"),
])
def test_bad_arguments_exit_nonzero_with_one_clear_line(args, message, tmp_path):
    done = run(*args, "--output-dir", str(tmp_path / "out"), "--no-export", timeout=120)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert not os.path.exists(tmp_path / "out" / "results.csv")


@pytest.mark.slow
def test_quick_run_writes_table_plot_and_a_streaming_export(tmp_path):
    out = tmp_path / "run"
    done = run("--quick", "--steps", "20", "--units", "8", "--windows", "50", "100", "--horizon", "200",
               "--output-dir", str(out), "--verbose", "0")
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out / "results.csv")
    assert list(table["series"].astype(str)) == ["0", "1", "2", "all"]
    assert {"teacher_forced_mse", "free_mse_first100", "free_mse_200"} <= set(table.columns)
    assert np.isfinite(table.drop(columns="series").to_numpy()).all()
    assert (out / "generation.png").read_bytes()[:4] == b"\x89PNG"
    meta = json.loads((out / "exported" / "metadata.json").read_text())
    assert meta["task"] == "generator" and meta["parity"]["generated_steps"] == 200
    assert meta["tflite"]["float32"]["parity_max_abs_diff"] <= 1e-4
    assert meta["evaluation"]["teacher_forced_mse"] == pytest.approx(float(table.iloc[-1]["teacher_forced_mse"]))
    runner = edge.load_step(str(out / "exported"))
    assert runner.generate(np.sin(np.arange(100) / 20.0), 10).shape == (1, 10)
    assert "ms/step" in done.stdout


@pytest.mark.slow
def test_sf_temps_quick_run_compares_with_seasonal_naive(tmp_path):
    out = tmp_path / "sf"
    done = run("--dataset", "sf-temps", "--quick", "--steps", "20", "--units", "8", "--windows", "50",
               "--output-dir", str(out), "--verbose", "0")
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out / "results.csv").set_index("method")
    assert list(table.index) == ["lstm", "seasonal_naive", "last_value"]
    assert (table["horizon"] == 48).all() and (table["n_forecasts"] > 60).all()
    # a strong daily cycle: repeating yesterday beats repeating the last hour by far
    assert table.loc["seasonal_naive", "mae"] < 0.5 * table.loc["last_value", "mae"]
    assert (out / "forecasts.png").read_bytes()[:4] == b"\x89PNG"
    assert not os.path.exists(out / "exported")

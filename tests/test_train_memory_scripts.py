"""scripts/train_divider.py and scripts/train_burst.py: quick runs end to end, bad command lines."""

import json
import os

import numpy as np
import pandas as pd
import pytest

from periodic_keras import edge
from script_runner import run_main

run = run_main  # main(argv) in this process (tests/test_scripts.py starts each script fresh)


@pytest.mark.parametrize("script, args, message", [
    ("train_divider.py", ["--units", "0"], "units must be a positive integer"),
    ("train_divider.py", ["--window", "1000"], "window=1000 is longer than the training sequences"),
    ("train_divider.py", ["--period", "3"], "period must be finite and above 4"),
    ("train_divider.py", ["--period", "80", "40"], "low <= high"),
    ("train_divider.py", ["--period", "1", "2", "3"], "--period takes one value or a range of two"),
    ("train_divider.py", ["--learning-rate", "-1"], "learning_rate must be positive"),
    ("train_burst.py", ["--test-lengths", "40"], "does not end before the sequence does"),
    ("train_burst.py", ["--random-length", "2", "9"], "burst_length must be >= 3"),
    ("train_burst.py", ["--n-test", "0"], "n_test must be a positive integer"),
    ("train_burst.py", ["--window", "500"], "window=500 is longer than the training sequences"),
])
def test_bad_arguments_exit_nonzero_with_one_clear_line(script, args, message, tmp_path):
    done = run(script, *args, "--output-dir", str(tmp_path / "out"), "--no-export")
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert not os.path.exists(tmp_path / "out")


@pytest.mark.slow
def test_divider_quick_run(tmp_path):
    out = tmp_path / "run"
    done = run("train_divider.py", "--quick", "--output-dir", str(out), "--verbose", "0")
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out / "results.csv")
    assert list(table.model) == ["simple_rnn(32)", "lstm(32)", "lstm(32)"]
    assert np.isfinite(table.test_mse).all() and set(table.test_steps) == {1280}
    assert 0.3 < table.memoryless_floor.iloc[0] < 0.7
    assert "Carry the state" in (out / "diagnosis.txt").read_text() and "Carry the state" in done.stdout
    assert (out / "divider.png").read_bytes()[:4] == b"\x89PNG"
    meta = json.loads((out / "exported" / "metadata.json").read_text())
    assert meta["task"] == "divider" and meta["mode"] == "stream"
    assert meta["tflite"]["float32"]["parity_max_abs_diff"] <= 1e-4
    y, state = edge.load_step(str(out / "exported")).run(np.sin(np.arange(100) / 10.0))
    assert y.shape == (1, 100) and [s.shape for s in state] == [(1, 32), (1, 32)]


@pytest.mark.slow
def test_burst_quick_run(tmp_path):
    out = tmp_path / "run"
    done = run("train_burst.py", "--quick", "--test-lengths", "130", "300", "--output-dir", str(out),
               "--verbose", "0")
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out / "results.csv")
    assert len(table) == 8 and set(table.test_length) == {130, 300}
    assert set(table.bursts) == {"fixed", "random"}
    assert ((table.step_error_rate >= 0) & (table.step_error_rate <= 1)).all()
    assert (out / "burst.png").read_bytes()[:4] == b"\x89PNG"
    meta = json.loads((out / "exported" / "metadata.json").read_text())
    assert meta["task"] == "burst" and meta["threshold"] == 0.5 and meta["parity"]["streamed_steps"] == 300
    assert "error rate" in (out / "diagnosis.txt").read_text()

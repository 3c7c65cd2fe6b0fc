"""Resume after kill -9: the same command continues from the last backup, nothing lost, nothing repeated."""

import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import keras

from periodic_keras import _io, runs, training
from periodic_keras.training import backups
from script_runner import ROOT, run_main  # the same command again, in this process


def _backup(output_dir, phase):
    return backups.path(runs.phase_dir(str(output_dir), phase))


def _start(script, *args):
    return subprocess.Popen([sys.executable, os.path.join(ROOT, "scripts", script), *args], cwd=ROOT, text=True,
                            env=dict(os.environ, PYTHONPATH=ROOT), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _kill_when(proc, path, timeout=240):
    """``kill -9`` the process as soon as ``path`` exists; fail if it ends or times out first."""
    deadline = time.time() + timeout
    try:
        while not os.path.exists(path):
            assert proc.poll() is None, f"the run ended before {path} appeared:\n{proc.stdout.read()[-3000:]}"
            assert time.time() < deadline, f"{path} did not appear in {timeout} s"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL


def _epochs(text):
    return [tuple(map(int, m)) for m in re.findall(r"Epoch (\d+)/(\d+)", text)]


@pytest.mark.slow
def test_clock_script_killed_mid_training_resumes_at_the_next_epoch(tmp_path):
    # A small clock: seven epochs of 458 steps in seconds, killed once epoch 1's backup exists (six
    # epochs left: a window wide enough under load, see the SIGTERM test below).
    args = ["--steps", "3200", "--hidden", "16", "--batch-size", "128", "--naive", "--n-test", "1000", "--no-export",
            "--verbose", "2", "--output-dir", str(tmp_path)]
    backup = _backup(tmp_path, "clock")
    _kill_when(_start("train_clock.py", *args), backup)  # killed during epoch 2 of 7
    assert not (tmp_path / "results.csv").exists()
    # Other training arguments: refused before any work, naming them; the backup is kept.
    changed = run_main("train_clock.py", *args, "--seed", "7", "--learning-rate", "0.001", "--years", "5")
    assert changed.returncode == 2, changed.stderr[-3000:]
    assert re.search(r"interrupted run with other arguments \(learning_rate 0.01 -> 0.001; seed 0 -> 7; "
                     r"years 120.0 -> 5.0\).*--restart", changed.stderr), changed.stderr
    assert os.path.exists(backup)
    done = run_main("train_clock.py", *args)
    assert done.returncode == 0, done.stderr[-3000:]
    epochs = _epochs(done.stdout)
    assert epochs and epochs[0][0] >= 2 and epochs[-1] == (7, 7), epochs  # resumed, and all 7 epochs done
    assert pd.read_csv(tmp_path / "results.csv")["model"].tolist() == ["clock_model"]
    assert not os.path.exists(backup)  # the run completed: its backups are cleared, a rerun starts afresh


@pytest.mark.slow
def test_burst_script_killed_in_a_later_phase_keeps_the_earlier_ones(tmp_path):
    args = ["--quick", "--test-lengths", "130", "300", "--no-export", "--verbose", "2", "--output-dir", str(tmp_path)]
    _kill_when(_start("train_burst.py", *args), _backup(tmp_path, "fix_fixed"))
    for phase in ("naive_simple_rnn", "naive_lstm", "fix_fixed"):  # finished phases keep their backups
        assert os.path.exists(_backup(tmp_path, phase)), phase
    done = run_main("train_burst.py", *args)
    assert done.returncode == 0, done.stderr[-3000:]
    trained = re.findall(r"^\d+/\d+ - \d+s", done.stdout, re.M)  # one Keras progress line per epoch run
    assert len(trained) == 1, done.stdout  # only the phase that was cut short trains again
    assert len(pd.read_csv(tmp_path / "results.csv")) == 8
    assert not (tmp_path / _io.STATE / "train").exists()  # the run's backups, and only those, are cleared


def _tiny():
    training.set_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dense(1)])
    return training.compile_regressor(model, steps=40)


def _data():
    import tensorflow as tf

    x = np.random.default_rng(0).normal(size=(256, 3)).astype("float32")
    return tf.data.Dataset.from_tensor_slices((x, x[:, :1] * 2)).repeat().batch(32)


@pytest.mark.slow
def test_fit_resumes_weights_optimizer_and_epoch_from_the_backup(tmp_path):
    model = _tiny()
    training.fit(model, _data(), 40, steps_per_epoch=10, run_dir=str(tmp_path), verbose=0)
    weights, step = model.get_weights(), int(model.optimizer.iterations)
    again = _tiny()
    history = training.fit(again, _data(), 40, steps_per_epoch=10, run_dir=str(tmp_path), verbose=0)
    assert history.history == {} or not history.history.get("loss")  # everything was already done
    assert int(again.optimizer.iterations) == step == 40
    for a, b in zip(again.get_weights(), weights):
        np.testing.assert_array_equal(a, b)
    training.clear_backups(str(tmp_path))
    assert not os.path.exists(backups.path(str(tmp_path)))


def test_backup_of_another_training_is_refused(tmp_path):
    model = _tiny()
    training.fit(model, _data(), 20, steps_per_epoch=10, run_dir=str(tmp_path), verbose=0)
    with pytest.raises(ValueError, match="belongs to another training"):
        training.fit(_tiny(), _data(), 30, steps_per_epoch=10, run_dir=str(tmp_path), verbose=0)
    with open(backups.path(str(tmp_path)), "wb") as fh:
        fh.write(b"torn")
    with pytest.raises(ValueError, match="cannot be read"):
        training.fit(_tiny(), _data(), 20, steps_per_epoch=10, run_dir=str(tmp_path), verbose=0)


@pytest.mark.slow
def test_sigterm_stops_like_ctrl_c_and_the_same_command_resumes(tmp_path):
    # 7 epochs of 458 steps: the signal, sent once epoch 1's backup exists, lands during training
    # even when this process is slow to notice (with 3 epochs the run had once finished under load
    # in CI before the signal was sent: exit 0).
    args = ["--steps", "3200", "--hidden", "16", "--batch-size", "128", "--naive", "--n-test", "1000", "--no-export",
            "--verbose", "2", "--output-dir", str(tmp_path)]
    proc = _start("train_clock.py", *args)
    deadline = time.time() + 240
    try:
        while not os.path.exists(_backup(tmp_path, "clock")):  # after epoch 1 of 7
            assert proc.poll() is None and time.time() < deadline, proc.stdout.read()[-3000:]
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=120)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 143, output[-3000:]
    lines = [line for line in output.splitlines() if "train_clock.py:" in line]
    assert lines == ["train_clock.py: terminated; finished outputs are intact, rerun the same command to resume"], output
    assert "Traceback" not in output and not (tmp_path / "results.csv").exists()
    done = run_main("train_clock.py", *args)
    assert done.returncode == 0, done.stderr[-3000:]
    assert _epochs(done.stdout)[0][0] >= 2  # resumed after the epoch that had finished

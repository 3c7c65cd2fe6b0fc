"""Atomic outputs: an export killed midway leaves the previous export loadable and verified."""

import glob
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest

from periodic_keras import _io, edge, runs
from periodic_keras.training import backups
from periodic_keras.jobs import results
from script_runner import ROOT
from script_runner import run_python

EXPORTER = textwrap.dedent("""
    import sys
    import numpy as np
    from periodic_keras import export
    from periodic_keras.models import frequency_regressor
    model = frequency_regressor(window=32, fmin=1, fmax=8, lstm_units=4, dense_units=4)
    x = np.random.default_rng(0).normal(size=(4, 32, 1)).astype("float32")
    # Noise windows through the in-graph refinement: float32 parity as the frequency job sets it.
    export.export_model(model, sys.argv[1], "freq", x, variants=("float32", "float16"), tolerance=2e-3)
""")


def _previous_export(tmp_path):
    target = tmp_path / "freq"
    shutil.copytree(os.path.join(ROOT, "exported", "freq"), target)
    return target


def _still_the_previous(target):
    model = edge.load(str(target))  # checks metadata, SHA-256 of every file, input spec
    assert model.input_shape == (1, 100, 1)
    t = np.arange(100) / 100
    assert abs(float(model.predict(np.sin(2 * np.pi * 12.3 * t)[None])[0]) - 12.3) < 0.1


@pytest.mark.slow
def test_export_killed_midway_keeps_the_previous_export(tmp_path):
    target = _previous_export(tmp_path)
    script = tmp_path / "exporter.py"
    script.write_text(EXPORTER)
    proc = subprocess.Popen([sys.executable, str(script), str(target)], env=dict(os.environ, PYTHONPATH=ROOT),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 180
        while not glob.glob(str(tmp_path / ".freq.periodic_keras" / "staging-*" / "saved_model" / "saved_model.pb")):
            assert proc.poll() is None, "the export finished before it could be killed"
            assert time.time() < deadline
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)  # midway: the SavedModel is written, the TFLite files are not
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    _still_the_previous(target)
    # What the killed process left behind (in the export's own marked folder; its lock died with it) ...
    assert glob.glob(str(tmp_path / ".freq.periodic_keras" / "staging-*"))
    done = run_python(str(script), str(target), timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    assert os.listdir(tmp_path) == ["exporter.py", "freq"]  # ... is cleared by the next export
    assert edge.load(str(target)).input_shape == (1, 32, 1)


def test_death_between_the_two_renames_is_recovered_by_the_next_export(tmp_path):
    target = _previous_export(tmp_path)
    box = tmp_path / ".freq.periodic_keras"
    _io.mark(str(box), "export")
    os.replace(target, box / "old-x1y2")  # as runs.publish leaves it for a moment
    with runs.export_staging(str(target)):  # the next export puts the previous version back first
        _still_the_previous(target)
    assert os.listdir(tmp_path) == ["freq"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    stem = tmp_path / "results"
    results.write_table(pd.DataFrame({"a": [1]}), str(stem))
    before = (tmp_path / "results.csv").read_text()

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(_io.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        results.write_table(pd.DataFrame({"a": [2]}), str(stem))
    assert (tmp_path / "results.csv").read_text() == before
    assert sorted(os.listdir(tmp_path)) == ["results.csv", "results.md"]


def test_training_backup_is_one_atomic_file(tmp_path, monkeypatch):
    import keras

    from periodic_keras import training

    model = training.compile_regressor(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]), steps=10)
    model.optimizer.build(model.trainable_variables)
    backups.save(str(tmp_path), model, 1, 2, 5)
    folder = tmp_path / _io.STATE / "backup"
    first = (folder / "training.npz").read_bytes()
    monkeypatch.setattr(_io.os, "replace", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt("killed")))
    with pytest.raises(KeyboardInterrupt):
        backups.save(str(tmp_path), model, 2, 2, 5)
    assert (folder / "training.npz").read_bytes() == first
    assert os.listdir(folder) == ["training.npz"]

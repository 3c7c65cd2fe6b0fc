"""Nothing lost, nothing read outside: a run writes only what it owns, the edge runtime stays inside.

Each test builds a user's files in a temporary directory, runs the library call a script
runs (or the script itself), and compares a full listing of names and contents before
and after: nothing outside the run's own paths may change.
"""

import hashlib
import json
import os
import shutil

import numpy as np
import pytest

from periodic_keras import _io, edge, export, jobs, runs, training
from periodic_keras.edge import ExportedModelError
from periodic_keras.runs import NotOwnedError
from script_runner import ROOT, run_main


def snapshot(root) -> dict:
    """Every path under ``root``: kind and content digest (links: their target), without following links."""
    out = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root)
            if os.path.islink(path):
                out[rel] = ("link", os.readlink(path))
            elif os.path.isdir(path):
                out[rel] = ("dir",)
            else:
                with open(path, "rb") as fh:
                    out[rel] = ("file", hashlib.sha256(fh.read()).hexdigest())
    return out


def _user_files(root, *names):
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"precious {name}\n")


def _tiny_clock(output_dir, **kwargs):
    """The clock job, tiny (a few seconds): the library call behind scripts/train_clock.py."""
    options = dict(hidden=8, steps=20, batch_size=64, naive=(), n_test=100, no_export=True, verbose=0)
    return jobs.train_clock(output_dir=str(output_dir), **{**options, **kwargs})


def _tiny_model():
    from periodic_keras.models import frequency_regressor

    return frequency_regressor(32, 1, 8, lstm_units=4, dense_units=4)


def _samples():
    return np.random.default_rng(0).normal(size=(4, 32, 1)).astype("float32")


# --- 1: cleaning never walks a user's tree ------------------------------------------------------


def test_a_folder_of_user_files_is_refused_as_output_directory(tmp_path):
    _user_files(tmp_path / "A", "my data/backup/thesis.txt")
    before = snapshot(tmp_path)
    with pytest.raises(NotOwnedError, match=r"already holds files that periodic_keras did not write \(my data\)"):
        _tiny_clock(tmp_path / "A")
    assert snapshot(tmp_path) == before


@pytest.mark.slow
def test_a_user_folder_named_backup_inside_a_run_directory_survives(tmp_path):
    out = tmp_path / "A"
    _tiny_clock(out)  # the directory is the run's now
    _user_files(out, "my data/backup/thesis.txt", "backup/notes.txt")
    _tiny_clock(out)
    assert (out / "my data" / "backup" / "thesis.txt").read_text() == "precious my data/backup/thesis.txt\n"
    assert (out / "backup" / "notes.txt").exists()
    assert not (out / _io.STATE / "train").exists()  # the run's own backups are cleared
    assert (out / "results.csv").exists()


def test_clear_backups_removes_only_the_marked_backup_folder(tmp_path):
    _user_files(tmp_path, "backup/training.npz", "x/backup/y.txt")
    before = snapshot(tmp_path)
    training.clear_backups(str(tmp_path))
    assert snapshot(tmp_path) == before


# --- 2-4: an export replaces only a previous export ---------------------------------------------


def test_export_into_a_folder_of_user_files_is_refused_before_training(tmp_path):
    _user_files(tmp_path / "B" / "models", "notes.txt", "other_model/weights.bin")
    before = snapshot(tmp_path)
    with pytest.raises(NotOwnedError, match=r"holds files but no periodic_keras export"):
        _tiny_clock(tmp_path / "out", no_export=False, export_dir=str(tmp_path / "B" / "models"))
    assert snapshot(tmp_path) == before  # refused before the output directory was even made


def test_a_previous_export_with_a_user_file_added_is_not_replaced(tmp_path):
    target = tmp_path / "freq"
    shutil.copytree(os.path.join(ROOT, "exported", "freq"), target)
    _user_files(target, "notes.txt")
    before = snapshot(tmp_path)
    with pytest.raises(NotOwnedError, match=r"not part of its previous export \(notes.txt\)"):
        export.export_model(_tiny_model(), str(target), "freq", _samples(), variants=("float32",))
    assert snapshot(tmp_path) == before


def test_export_over_a_file_or_a_link_is_refused(tmp_path):
    (tmp_path / "E_file").write_text("mine")
    os.symlink(os.path.join(ROOT, "exported", "freq"), tmp_path / "E_link")
    before = snapshot(tmp_path)
    with pytest.raises(NotOwnedError, match=r"is a file, not a previous export"):
        export.export_model(_tiny_model(), str(tmp_path / "E_file"), "freq", _samples(), variants=("float32",))
    with pytest.raises(NotOwnedError, match=r"is a symbolic link"):
        export.export_model(_tiny_model(), str(tmp_path / "E_link"), "freq", _samples(), variants=("float32",))
    assert snapshot(tmp_path) == before  # no hidden .E_file.* moved aside


def test_export_directory_equal_to_or_around_the_output_directory_is_refused(tmp_path):
    with pytest.raises(NotOwnedError, match=r"is the output directory"):
        _tiny_clock(tmp_path / "X", no_export=False, export_dir=str(tmp_path / "X"))
    with pytest.raises(NotOwnedError, match=r"lies inside the export directory"):
        _tiny_clock(tmp_path / "E" / "run", no_export=False, export_dir=str(tmp_path / "E"))
    assert os.listdir(tmp_path) == []


def test_script_with_output_dir_equal_to_export_dir_exits_2_and_writes_nothing(tmp_path):
    done = run_main("train_freq.py", "--quick", "--output-dir", str(tmp_path / "X"), "--export-dir",
                      str(tmp_path / "X"), timeout=120)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "is the output directory" in done.stderr
    assert os.listdir(tmp_path) == []


@pytest.mark.slow
def test_export_replaces_a_previous_export_and_leaves_nothing_beside_it(tmp_path):
    target = tmp_path / "freq"
    shutil.copytree(os.path.join(ROOT, "exported", "freq"), target)
    export.export_model(_tiny_model(), str(target), "freq", _samples(), variants=("float32",))
    assert os.listdir(tmp_path) == ["freq"]  # no staging, lock or previous version left over
    assert edge.load(str(target)).input_shape == (1, 32, 1)
    assert edge.read_metadata(str(target))["written_by"] == "periodic_keras"


# --- 5: one writer at a time ----------------------------------------------------------------------


@pytest.mark.slow
def test_a_second_export_to_the_same_target_is_refused_and_the_first_completes(tmp_path):
    target = str(tmp_path / "freq")
    with runs.export_staging(target) as first:  # the first export holds the target
        with pytest.raises(OSError, match=r"another periodic_keras process is writing the export"):
            export.export_model(_tiny_model(), target, "freq", _samples(), variants=("float32",))
        assert os.path.isdir(first)  # the second did not touch the first's staging directory
    assert not os.path.exists(target)
    export.export_model(_tiny_model(), target, "freq", _samples(), variants=("float32",))
    assert os.listdir(tmp_path) == ["freq"]


@pytest.mark.slow
def test_a_second_run_in_the_same_output_directory_is_refused(tmp_path):
    with runs.open_run(str(tmp_path / "out"), None, {"job": "x"}):
        with pytest.raises(OSError, match=r"another periodic_keras process is writing the run directory"):
            _tiny_clock(tmp_path / "out")
    _tiny_clock(tmp_path / "out")  # the lock died with the first


# --- 6-7: the edge runtime reads only inside the directory, and never writes ------------------------


def _copy_with_file(tmp_path, name):
    d = tmp_path / "freq"
    shutil.copytree(os.path.join(ROOT, "exported", "freq"), d)
    meta = json.loads((d / "metadata.json").read_text())
    meta["tflite"]["float32"]["file"] = name
    (d / "metadata.json").write_text(json.dumps(meta))
    return d


@pytest.mark.parametrize("name", ["../../../elsewhere/model.tflite", "/etc/passwd", "/etc/no-such-file",
                                  "sub/model.tflite", "..", "", "C:\\model.tflite"])
def test_edge_refuses_model_file_names_that_leave_the_directory(tmp_path, name):
    d = _copy_with_file(tmp_path, name)
    before = snapshot(tmp_path)
    with pytest.raises(ExportedModelError, match=r"must be a plain file name inside the exported directory") as info:
        edge.load(str(d))
    assert snapshot(tmp_path) == before
    # One message whatever exists outside: only the name given differs.
    assert str(info.value).replace(repr(name[:100]), "NAME").endswith("directory, got NAME")


def test_edge_refuses_a_model_file_that_is_a_link_wherever_it_points(tmp_path):
    messages = []
    for i, target in enumerate([os.path.join(ROOT, "exported", "freq", "model.tflite"), "/etc/passwd",
                                "/nonexistent/file"]):
        d = tmp_path / f"c{i}"
        shutil.copytree(os.path.join(ROOT, "exported", "freq"), d)
        os.unlink(d / "model.tflite")
        os.symlink(target, d / "model.tflite")
        with pytest.raises(ExportedModelError, match=r"is a symbolic link") as info:
            edge.load(str(d))
        messages.append(str(info.value).replace(str(d), "D"))
    assert len(set(messages)) == 1, messages


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_edge_refuses_a_model_file_that_is_not_a_regular_file_without_blocking(tmp_path):
    d = tmp_path / "freq"
    shutil.copytree(os.path.join(ROOT, "exported", "freq"), d)
    os.unlink(d / "model.tflite")
    os.mkfifo(d / "model.tflite")  # opening a FIFO for reading would wait for a writer forever
    with pytest.raises(ExportedModelError, match=r"is not a regular file"):
        edge.load(str(d))


def test_edge_refuses_metadata_that_is_a_link_too_large_or_too_deep(tmp_path):
    d = tmp_path / "freq"
    shutil.copytree(os.path.join(ROOT, "exported", "freq"), d)
    meta = d / "metadata.json"
    meta.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ExportedModelError, match=r"nests JSON 100000 levels deep \(at most 32\)"):
        edge.load(str(d))
    meta.write_text(" " * (runs.MAX_METADATA_BYTES + 1))
    with pytest.raises(ExportedModelError, match=r"is larger than"):
        edge.load(str(d))
    os.unlink(meta)
    os.symlink(os.path.join(ROOT, "exported", "freq", "metadata.json"), meta)
    with pytest.raises(ExportedModelError, match=r"is not a regular file"):
        edge.load(str(d))


def test_edge_load_never_renames_an_unmarked_or_planted_copy(tmp_path):
    shutil.copytree(os.path.join(ROOT, "exported", "freq"), tmp_path / ".freq.old-abc")
    before = snapshot(tmp_path)
    with pytest.raises(ExportedModelError, match=r"^exported model directory not found: '.*freq'$"):
        edge.load(str(tmp_path / "freq"))
    assert snapshot(tmp_path) == before


def test_edge_reports_an_interrupted_swap_and_recover_finishes_it(tmp_path):
    target = tmp_path / "freq"
    box = tmp_path / ".freq.periodic_keras"
    _io.mark(str(box), "export")
    shutil.copytree(os.path.join(ROOT, "exported", "freq"), box / "old-x1y2")  # as a swap leaves it for a moment
    before = snapshot(tmp_path)
    os.chmod(tmp_path, 0o555)  # a read-only parent: the runtime must not even try to write
    try:
        with pytest.raises(ExportedModelError, match=r"periodic_keras\.export\.recover\("):
            edge.load(str(target))
    finally:
        os.chmod(tmp_path, 0o755)
    assert snapshot(tmp_path) == before
    assert export.recover(str(target)) is True
    assert os.listdir(tmp_path) == ["freq"]
    assert edge.load(str(target)).input_shape == (1, 100, 1)


# --- 8: resume is honest ---------------------------------------------------------------------------


@pytest.mark.slow
def test_rerun_with_other_arguments_is_refused_naming_them_and_restart_starts_afresh(tmp_path, monkeypatch):
    out = tmp_path / "D"
    monkeypatch.setattr(jobs.clock, "finish", lambda output_dir: None)  # as if killed before the end
    _tiny_clock(out)
    monkeypatch.undo()
    before = snapshot(tmp_path)
    with pytest.raises(ValueError, match=r"interrupted run with other arguments \(learning_rate 0\.01 -> 0\.001; "
                                         r"seed 0 -> 7; years 120\.0 -> 5\.0\).*--restart"):
        _tiny_clock(out, seed=7, learning_rate=0.001, years=5.0)
    assert snapshot(tmp_path) == before
    _tiny_clock(out, n_test=50)  # evaluation-only arguments may change: it resumes
    monkeypatch.setattr(jobs.clock, "finish", lambda output_dir: None)
    _tiny_clock(out)
    monkeypatch.undo()
    result = _tiny_clock(out, seed=7, learning_rate=0.001, years=5.0, restart=True)
    assert result["table"]["model"].tolist() == ["clock_model"]


def _fit_tiny(run_dir, learning_rate=3e-3, run_args=None):
    import keras
    import tensorflow as tf

    training.set_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dense(1)])
    training.compile_regressor(model, steps=20, learning_rate=learning_rate)
    x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    data = tf.data.Dataset.from_tensor_slices((x, x[:, :1])).repeat().batch(16)
    return training.fit(model, data, 20, steps_per_epoch=10, run_dir=str(run_dir), verbose=0, run_args=run_args)


def test_fit_refuses_a_backup_of_another_optimizer_schedule_or_run_args(tmp_path):
    _fit_tiny(tmp_path, run_args={"seed": 0})
    with pytest.raises(ValueError, match=r"differs in: the optimizer or its learning-rate schedule; seed 0 -> 7"):
        _fit_tiny(tmp_path, learning_rate=1e-2, run_args={"seed": 7})
    _fit_tiny(tmp_path, run_args={"seed": 0})  # the same training resumes (here: nothing left to run)


# --- 9-10: extremes at the edge -----------------------------------------------------------------------


def test_edge_refuses_state_beyond_float32_and_reads_one_scalar_timestamp():
    generator = edge.load_step(os.path.join(ROOT, "exported", "generator"))
    with pytest.raises(ValueError, match=r"state holds values beyond the float32 range"):
        generator.generate(np.zeros((1, 5)), 5, state=[np.full((1, 64), 1e300)] * 4)
    clock = edge.load(os.path.join(ROOT, "exported", "clock"))
    assert clock.predict(np.int64(-1)).tolist() == [[23, 59, 59]]

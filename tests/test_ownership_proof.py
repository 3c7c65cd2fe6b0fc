"""Ownership by proof (issue 29): forged markers, nested user files, state folders as targets,
inputs that are outputs, and paths that cannot be made, each refused before any work.

Every case compares a full listing of paths and contents before and after (``snapshot``),
or asserts the one-line error and exit status 2 of the script.
"""

import errno
import json
import os
import shutil

import pytest

from periodic_keras import _io, export, runs
from periodic_keras.errors import ExportError, NotOwnedError
from periodic_keras.jobs.common import describe_os_error
from periodic_keras.targets import FILES, file_listing, proven_export
from script_runner import ROOT, run_main
from test_ownership import _samples, _tiny_clock, _tiny_model, _user_files, snapshot

FREQ = os.path.join(ROOT, "exported", "freq")


def _export(target):
    export.export_model(_tiny_model(), str(target), "freq", _samples(), variants=("float32",))


def _one_line_error(done, *fragments):
    assert done.returncode == 2, done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "error:" in lines[0], done.stderr[-2000:]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


# --- 1: a previous export is proven file by file, saved_model/ included ---------------------------


def test_every_committed_export_lists_its_files_and_is_proven():
    for name in sorted(os.listdir(os.path.join(ROOT, "exported"))):
        path = os.path.join(ROOT, "exported", name)
        assert proven_export(path), name
        with open(os.path.join(path, "metadata.json")) as fh:
            assert json.load(fh)[FILES] == file_listing(path), name


@pytest.mark.parametrize("change", ["added", "edited"])
def test_a_user_file_inside_a_previous_exports_saved_model_is_never_replaced(tmp_path, change):
    target = tmp_path / "E"
    shutil.copytree(FREQ, target)
    if change == "added":
        _user_files(target, "saved_model/notes.txt")
    else:
        (target / "saved_model" / "fingerprint.pb").write_bytes(b"my own fingerprint")
    before = snapshot(tmp_path)
    match = r"not part of its previous export \(saved_model/notes.txt\)" if change == "added" else \
        r"changed since they were exported \(saved_model/fingerprint.pb\)"
    with pytest.raises(NotOwnedError, match=match):
        _export(target)
    assert snapshot(tmp_path) == before


# --- 2: forged ownership proves nothing -----------------------------------------------------------


def test_a_forged_three_key_metadata_does_not_make_a_folder_an_export(tmp_path):
    target = tmp_path / "E"
    _user_files(target, "thesis.txt")
    (target / "metadata.json").write_text(json.dumps(
        {"task": "x", "written_by": "periodic_keras", "tflite": {"a": {"file": "thesis.txt"}}}))
    before = snapshot(tmp_path)
    with pytest.raises(NotOwnedError, match=r"does not list the SHA-256 of its files"):
        _export(target)
    assert snapshot(tmp_path) == before


def test_a_forged_box_beside_a_target_keeps_the_users_folders(tmp_path):
    box = tmp_path / ".E.periodic_keras"
    _io.mark(str(box), "export")
    _user_files(box, "old-mine/thesis.txt", "staging-mine/draft.txt")
    (box / "journal-staging-mine.json").write_text(json.dumps({"device": 1, "inode": 2}))  # copied, not made here
    shutil.copytree(FREQ, box / "old-legacy")  # an export, but this one's metadata lost its checksums
    meta = json.loads((box / "old-legacy" / "metadata.json").read_text())
    del meta[FILES]
    (box / "old-legacy" / "metadata.json").write_text(json.dumps(meta))
    before = {k: v for k, v in snapshot(tmp_path).items() if not k.endswith("lock")}
    assert runs.pending_recovery(str(tmp_path / "E")) is None  # nothing there is provably a previous version
    assert export.recover(str(tmp_path / "E")) is False
    with runs.export_staging(str(tmp_path / "E")) as staging:
        shutil.rmtree(staging)  # an export that fails: nothing is published
    after = snapshot(tmp_path)
    assert {k: v for k, v in after.items() if k in before} == before
    assert not os.path.exists(tmp_path / "E")


def test_a_forged_run_marker_in_a_folder_of_user_files_is_refused(tmp_path):
    out = tmp_path / "R"
    _user_files(out, "results.csv", "plot.png")
    _io.mark(str(out / _io.STATE), "run")  # owner.json copied: the folder is still the user's
    before = snapshot(tmp_path)
    with pytest.raises(NotOwnedError, match=r"records do not list \(plot.png, results.csv\)"):
        _tiny_clock(out)
    assert snapshot(tmp_path) == before
    done = run_main("benchmark_find_periods.py", "--quick", "--output-dir", str(out))
    _one_line_error(done, "records do not list")
    assert snapshot(tmp_path) == before


@pytest.mark.slow
def test_a_run_records_what_it_wrote_and_refuses_a_file_added_or_edited_since(tmp_path):
    out = tmp_path / "R"
    _tiny_clock(out)
    records = _io.recorded(str(out / _io.STATE))
    assert {"results.csv", "results.md"} <= set(records)
    assert all(_io.sha256_file(str(out / name)) == digest for name, digest in records.items())
    _tiny_clock(out)  # its own files: a rerun replaces them
    (out / "results.md").write_text("my notes on the results\n")
    before = snapshot(tmp_path)
    with pytest.raises(NotOwnedError, match=r"changed since periodic_keras wrote them \(results.md\)"):
        _tiny_clock(out)
    assert snapshot(tmp_path) == before


# --- 3: targets inside the package's own state folders ----------------------------------------------


@pytest.mark.parametrize("inside", [".periodic_keras/train/exp", ".periodic_keras", ".x.periodic_keras/exp"])
def test_an_export_target_inside_a_state_folder_is_refused_up_front(tmp_path, inside):
    before = snapshot(tmp_path)
    with pytest.raises(NotOwnedError, match=r"inside a folder periodic_keras keeps for itself"):
        _tiny_clock(tmp_path / "R", no_export=False, export_dir=str(tmp_path / "R" / inside))
    assert snapshot(tmp_path) == before


def test_train_clock_with_its_export_inside_its_own_state_exits_2(tmp_path):
    done = run_main("train_clock.py", "--quick", "--output-dir", str(tmp_path / "R"), "--export-dir",
                    str(tmp_path / "R" / ".periodic_keras" / "train" / "exp"))
    _one_line_error(done, "inside a folder periodic_keras keeps for itself")
    assert os.listdir(tmp_path) == []


# --- 4: an input is never an output -------------------------------------------------------------------


def test_forecast_refuses_an_input_csv_inside_its_output_directory(tmp_path):
    out = tmp_path / "R"
    out.mkdir()
    (out / "forecast.csv").write_text("y\n" + "\n".join(str(i % 7) for i in range(200)) + "\n")
    before = snapshot(tmp_path)
    done = run_main("forecast.py", "--csv", str(out / "forecast.csv"), "--column", "y", "--horizon", "7",
                    "--output-dir", str(out))
    _one_line_error(done, "lies inside the output directory")
    assert snapshot(tmp_path) == before


# --- 11, 14, 16: paths that cannot be made, links, a full disk ---------------------------------------


def test_paths_under_a_file_are_refused_before_training(tmp_path):
    (tmp_path / "F").write_text("a file")
    before = snapshot(tmp_path)
    with pytest.raises(NotADirectoryError, match=r"'.*F' is a file, not a directory"):
        _tiny_clock(tmp_path / "R", no_export=False, export_dir=str(tmp_path / "F" / "sub"))
    with pytest.raises(NotADirectoryError, match=r"output directory .* cannot be created"):
        _tiny_clock(tmp_path / "F" / "sub")
    assert snapshot(tmp_path) == before
    done = run_main("train_clock.py", "--quick", "--output-dir", str(tmp_path / "R"), "--export-dir",
                    str(tmp_path / "F" / "sub"))
    _one_line_error(done, "is a file, not a directory")
    assert snapshot(tmp_path) == before


def test_an_export_directory_given_as_a_link_with_a_slash_is_refused(tmp_path):
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "L")
    before = snapshot(tmp_path)
    with pytest.raises(NotOwnedError, match=r"is a symbolic link"):
        _tiny_clock(tmp_path / "R", no_export=False, export_dir=str(tmp_path / "L") + os.sep)
    assert snapshot(tmp_path) == before


def test_a_planted_link_as_the_run_lock_is_refused_and_left(tmp_path):
    out = tmp_path / "R"
    _io.mark(str(out / _io.STATE), "run")
    _user_files(tmp_path, "victim.txt")
    os.symlink(tmp_path / "victim.txt", out / _io.STATE / "lock")
    before = snapshot(tmp_path)
    with pytest.raises(NotOwnedError, match=r"is not periodic_keras's lock file"):
        _tiny_clock(out)
    assert snapshot(tmp_path) == before


def test_a_full_disk_during_an_export_is_one_error_and_the_previous_export_stays(tmp_path, monkeypatch):
    import keras
    import tensorflow as tf

    target = tmp_path / "E"
    shutil.copytree(FREQ, target)
    before = snapshot(tmp_path)

    def full(*args, **kwargs):
        raise tf.errors.ResourceExhaustedError(None, None, "saved_model.pb; No space left on device")

    monkeypatch.setattr(keras.Model, "export", full)
    with pytest.raises(ExportError, match=r"^no space left on the device while writing the export '.*E'"):
        _export(target)
    assert snapshot(tmp_path) == before


def test_os_errors_a_user_can_fix_become_one_line_with_the_path_and_what_to_do():
    for code, advice in ((errno.ENOSPC, "free some space"), (errno.ENOTDIR, "is a file, not a directory"),
                         (errno.ELOOP, "symbolic link")):
        line = str(describe_os_error(OSError(code, os.strerror(code), "/data/run/x.csv")))
        assert line.startswith("'/data/run/x.csv': ") and advice in line and "\n" not in line
    other = ValueError("bad")
    assert describe_os_error(other) is other


def test_a_job_without_tflite_micro_refuses_an_export_holding_tflm_figures_before_its_claim(tmp_path, monkeypatch):
    from periodic_keras import edge

    target = tmp_path / "clock"
    shutil.copytree(os.path.join(ROOT, "exported", "clock"), target)
    monkeypatch.setattr(edge.micro, "available", lambda: False)  # as after `pip install --no-deps`
    before = snapshot(tmp_path)
    with pytest.raises(ExportError, match=r"holds the C array model_data.cc / model_data.h and TFLM's figures"):
        _tiny_clock(tmp_path / "R", no_export=False, export_dir=str(target))
    assert snapshot(tmp_path) == before  # not even the output directory was made

"""The guard of the session's shared artefacts (tests/conftest.py) sees every kind of change."""

import os

from conftest import SharedArtefacts


def test_a_changed_added_or_removed_file_is_reported(tmp_path):
    folder = tmp_path / "export"
    (folder / "saved_model").mkdir(parents=True)
    (folder / "model.tflite").write_bytes(b"\x00" * 8)
    (folder / "saved_model" / "x.pb").write_bytes(b"pb")
    registry = SharedArtefacts()
    registry.register(str(folder))
    assert registry.changed() == []
    (folder / "model.tflite").write_bytes(b"\x01" + b"\x00" * 7)
    assert registry.changed() == [f"{folder}: ['model.tflite']"]
    (folder / "model.tflite").write_bytes(b"\x00" * 8)
    (folder / "saved_model" / "notes.txt").write_text("added")
    os.remove(folder / "saved_model" / "x.pb")
    assert registry.changed() == [f"{folder}: {[os.path.join('saved_model', n) for n in ('notes.txt', 'x.pb')]}"]


def test_the_committed_exports_are_guarded(shared):
    assert os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "exported") in shared.paths

"""The edge loaders check every metadata field they use: a wrong type, a non-finite number, an
integer out of range, an unknown dtype or an inconsistent band is an ``ExportedModelError``
naming the file and the field, never a numpy/LiteRT error or a model that loads and then gives
meaningless trust flags. Loading a bad export leaks no file descriptor.

Crafted exports are copies (metadata.json and the float32 model only) of ``exported/<task>``
in ``tmp_path`` with one field edited; ``exported/`` itself is never touched. The bad-input
catalogue (tests/test_bad_inputs.py) holds the older cases (missing fields, checksums,
disagreeing shapes); this file does not repeat them.
"""

import json
import math
import os
import re
import shutil

import numpy as np
import pytest

from periodic_keras import edge
from periodic_keras.edge.metadata import check_forecaster
from script_runner import ROOT

LOADERS = {"freq": edge.load, "clock": edge.load, "generator_family": edge.load_step, "divider": edge.load_step}


def copy_export(task: str, parent, change=None) -> str:
    """``parent/<task>``: the metadata and float32 model of ``exported/<task>``, the metadata
    passed through ``change(meta)`` (which edits it in place) when given."""
    src, dst = os.path.join(ROOT, "exported", task), parent / task
    dst.mkdir(parents=True)
    meta = json.load(open(os.path.join(src, "metadata.json")))
    shutil.copyfile(os.path.join(src, meta["tflite"]["float32"]["file"]), dst / meta["tflite"]["float32"]["file"])
    if change is not None:
        change(meta)
    with open(dst / "metadata.json", "w") as fh:
        json.dump(meta, fh)  # NaN and Infinity as JSON's extensions, as a careless writer would
    return str(dst)


def setter(*keys, value):
    def change(meta):
        node = meta
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value
    return change


# (task, path of the field, bad value, the field the message names, what it says)
BAD_FIELDS = [
    ("freq", ("format_version",), "x", "format_version", "must be a positive integer, got 'x'"),
    ("freq", ("format_version",), True, "format_version", "must be a positive integer"),
    ("freq", ("format_version",), 2, "format_version", "written by a newer periodic_keras"),
    ("freq", ("task",), ["freq"], "task", "must be a non-empty string"),
    ("freq", ("output",), None, "output", "must be an object, got None"),
    ("freq", ("output", "shape"), [1, 0], "output.shape", "must be positive integers"),
    ("freq", ("output", "dtype"), "float33", "output.dtype", "must be one of"),
    ("freq", ("window",), math.nan, "window", "must be a positive integer, got nan"),
    ("freq", ("window",), 100.0, "window", "must be a positive integer"),
    ("freq", ("window",), 64, "window", r"must be the samples the model takes \(100\)"),
    ("freq", ("fmin",), math.inf, "fmin", "must be a finite number"),
    ("freq", ("fmax",), "30", "fmax", "must be a finite number"),
    ("freq", ("fmin",), 40.0, "fmin", r"must be below 'fmax' \(30.0\)"),
    ("freq", ("fmin",), -1.0, "fmin", "must not be negative"),
    ("freq", ("fmax",), 60.0, "fmax", "must be at most half the window"),
    ("freq", ("quality",), [], "quality", "must be an object"),
    ("freq", ("quality", "thresholds"), {"min_snr_db": math.nan}, "quality.thresholds",
     "'min_snr_db' must be a finite number"),
    ("freq", ("quality", "thresholds"), {"scale_range": [1.0, 0.5]}, "quality.thresholds",
     "'scale_range' must be \\[low, high\\]"),
    ("freq", ("quality", "thresholds"), {"peak_tolerance": -0.1}, "quality.thresholds",
     "'peak_tolerance' must be a finite number >= 0"),
    ("freq", ("quality", "thresholds"), {"max_snr": 3}, "quality.thresholds", "must map names from"),
    ("freq", ("quality", "thresholds"), {"min_snr_db": 10**400}, "quality.thresholds", "'min_snr_db' must be"),
    ("freq", ("input", "dtype"), "foo", "input.dtype", "must be one of"),
    ("freq", ("input", "dtype"), "bool", "input.dtype", "must be a real number type"),
    ("freq", ("input", "shape"), [1, -100, 1], "input.shape", "must be positive integers"),
    ("freq", ("input", "shape"), [], "input.shape", "must be positive integers"),
    ("freq", ("tflite", "float32", "sha256"), "abc", "tflite.float32.sha256", "must be 64 lowercase hex digits"),
    ("freq", ("tflite", "float32", "tflm"), "yes", "tflite.float32.tflm", "must be an object"),
    ("freq", ("tflite", "float32", "tflm", "arena_bytes"), 10**30, "tflite.float32.tflm.arena_bytes",
     "must be an integer in"),
    ("clock", ("input", "encoding", "dtype"), "foo", "input.encoding", "and a dtype"),
    ("clock", ("input", "encoding", "shape"), [1, 0], "input.encoding", "a shape"),
    ("generator_family", ("input", "dtype"), "foo", "input.dtype", "must be one of"),
    ("generator_family", ("input", "names"), ["x", "h_0", "h_0", "s_0"], "input.names", "must be distinct"),
    ("generator_family", ("input", "shapes"), [[1, 1], [1, 8], [1, 0], [1, 27]], "input.shapes[2]",
     "must be positive integers"),
    ("generator_family", ("state", "widths"), [8, 0, 27], "state.widths", "must be positive integers"),
    ("generator_family", ("state",), {"widths": [8, 8]}, "input.names", "must name x and the 2 state input"),
    ("generator_family", ("state", "names"), ["h_0"], "state.names", "one string per width"),
    ("divider", ("output",), "y", "output", "must be an object"),
]


@pytest.mark.parametrize("task, keys, value, field, says", BAD_FIELDS,
                         ids=[f"{t}-{'.'.join(k)}={str(v)[:12]}" for t, k, v, *_ in BAD_FIELDS])
def test_a_bad_field_is_refused_naming_the_file_and_the_field(task, keys, value, field, says, tmp_path):
    d = copy_export(task, tmp_path, setter(*keys, value=value))
    meta_path = os.path.join(d, "metadata.json")
    with pytest.raises(edge.ExportedModelError) as info:
        LOADERS[task](d)
    message = str(info.value)
    assert repr(meta_path) in message and f"'{field}" in message, message
    assert re.search(says, message), message


def test_an_intact_copy_loads_and_answers(tmp_path):
    """The crafted copies differ from the committed export only in the field changed."""
    model = edge.load(copy_export("freq", tmp_path))
    x = np.sin(2 * np.pi * 12.5 * np.arange(100) / 100)[None]
    assert model.quality(x)["trusted"].tolist() == [True]


def test_an_integer_too_long_to_read_names_the_file(tmp_path):
    d = copy_export("freq", tmp_path)
    path = os.path.join(d, "metadata.json")
    text = open(path).read()
    with open(path, "w") as fh:
        fh.write(text.replace('"window": 100', '"window": ' + "9" * 5000, 1))
    with pytest.raises(edge.ExportedModelError, match=r"metadata.json") as info:
        edge.load(d)
    assert path in str(info.value)


def test_quality_checks_a_band_changed_after_loading(tmp_path):
    model = edge.load(copy_export("freq", tmp_path))
    model.metadata["fmin"] = math.inf
    with pytest.raises(edge.ExportedModelError, match="field 'fmin' must be a finite number"):
        model.quality(np.sin(np.arange(100.0))[None])


#: Junk a careless or hostile writer may put in any field.
JUNK = [None, "x", [], {}, -1, 0, True, math.nan, math.inf, 10**30, 10**400, [1, "a"], {"a": 1}]
#: Every field a loader reads, per task.
FIELDS = {
    "freq": [("task",), ("format_version",), ("input",), ("input", "shape"), ("input", "dtype"), ("output",),
             ("output", "shape"), ("output", "dtype"), ("tflite",), ("tflite", "float32"),
             ("tflite", "float32", "file"), ("tflite", "float32", "sha256"), ("tflite", "float32", "tflm"),
             ("window",), ("fmin",), ("fmax",), ("quality",), ("quality", "thresholds")],
    "clock": [("input", "encoding"), ("input", "encoding", "name"), ("input", "encoding", "shape")],
    "generator_family": [("input", "names"), ("input", "shapes"), ("input", "dtype"), ("state",),
                         ("state", "widths"), ("state", "names"), ("output",)],
}


@pytest.mark.parametrize("task", sorted(FIELDS))
def test_junk_in_any_field_loads_or_is_an_exported_model_error_naming_the_file(task, tmp_path):
    """Junk in a field either changes nothing the loader uses (the model loads and answers) or
    is refused as an ``ExportedModelError`` naming the export's file: never a numpy, LiteRT or
    Python error."""
    refused = 0
    for i, keys in enumerate(FIELDS[task]):
        for j, junk in enumerate(JUNK):
            d = copy_export(task, tmp_path / f"{i}-{j}", setter(*keys, value=junk))
            try:
                model = LOADERS[task](d)
                if task == "freq":
                    model.predict(np.sin(np.arange(100.0))[None], return_quality=True)
                elif task == "clock":
                    model.predict(np.int64(5))
                else:
                    model.generate(np.sin(np.arange(20.0))[None], 3)
            except edge.ExportedModelError as exc:
                refused += 1
                assert d in str(exc), (keys, junk, str(exc))
            except Exception as exc:  # noqa: BLE001 -- the point: name what escaped
                raise AssertionError(f"{task} {'.'.join(keys)}={junk!r}: {type(exc).__name__}: {exc}") from None
    assert refused >= len(FIELDS[task]) * len(JUNK) // 2


@pytest.mark.parametrize(("change", "field"), [
    (setter("forecaster", "context", value=0), "forecaster.context"),
    (setter("forecaster", "horizon", value=True), "forecaster.horizon"),
    (setter("forecaster", "periods", value=[24.0, -1.0]), "forecaster.periods"),
    (setter("forecaster", value=[]), "forecaster"),
    (setter("time", "unit", value="day"), "time"),
    (setter("time", "step", value=0), "time"),
    (setter("time", "origin", value=math.nan), "time"),
    (setter("time", "origin", value=1.5), "time.origin"),
    (setter("time", "origin", value=2**70), "time.origin"),
    (setter("time", "step", value=3.6e12), "time.step"),
    (setter("time", "anchor", value="middle"), "time.anchor"),
    (lambda meta: meta["time"].update(unit="number", origin=10**400, step=0.5), "time"),
])
def test_forecaster_fields(change, field):
    """What :func:`periodic_keras.edge.load_forecaster` checks before it opens the time axis
    (the loader itself runs it on every export: tests/test_forecast_export.py)."""
    meta = {"forecaster": {"context": 48, "horizon": 12, "periods": [24.0]},
            "time": {"unit": "ns", "origin": 1_710_889_200_000_000_000, "step": 3_600_000_000_000, "anchor": None}}
    check_forecaster(meta, "f/metadata.json")
    change(meta)
    with pytest.raises(edge.ExportedModelError, match=r"'f/metadata.json': field") as info:
        check_forecaster(meta, "f/metadata.json")
    assert field in str(info.value)


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts descriptors in /proc")
@pytest.mark.parametrize("task", ["freq", "divider"])
def test_a_model_file_that_is_a_directory_is_named_and_leaks_no_descriptor(task, tmp_path):
    def point_at_directory(meta):
        meta["tflite"]["float32"]["file"] = "not_a_file"

    d = copy_export(task, tmp_path, point_at_directory)
    os.mkdir(os.path.join(d, "not_a_file"))
    load = LOADERS[task]
    with pytest.raises(edge.ExportedModelError, match="not_a_file' is not a regular file"):
        load(d)
    before = open_descriptors()
    for _ in range(1000):
        with pytest.raises(edge.ExportedModelError):
            load(d)
    assert open_descriptors() == before


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts descriptors in /proc")
def test_bad_exports_leak_no_descriptor(tmp_path):
    """Every way of failing closes what it opened: a FIFO, a checksum, bad metadata, a bad file."""
    fifo = copy_export("freq", tmp_path / "a", setter("tflite", "float32", "file", value="pipe"))
    os.mkfifo(os.path.join(fifo, "pipe"))
    corrupt = copy_export("freq", tmp_path / "b", setter("tflite", "float32", "sha256", value="0" * 64))
    bad_field = copy_export("freq", tmp_path / "c", setter("fmin", value=math.inf))
    for d in (fifo, corrupt, bad_field):
        with pytest.raises(edge.ExportedModelError):
            edge.load(d)
    before = open_descriptors()
    for _ in range(300):
        for d in (fifo, corrupt, bad_field):
            with pytest.raises(edge.ExportedModelError):
                edge.load(d)
    assert open_descriptors() == before

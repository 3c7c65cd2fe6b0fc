"""Bad-input catalogue: one table of bad inputs across the public API, the scripts and the edge runtime.

Each row: an id, what the input is, the call (a function of a :class:`Ctx`, or a :class:`Script`
command line), the exception it must raise (``EXIT_2`` for a script: exit status 2, one
``<script>: error: ...`` line on stderr, no traceback) and a regex its message must match.
Every case runs in a fresh ``tmp_path``: exported models are COPIED to ``tmp_path/in`` before
anything is corrupted (``exported/`` is never modified), and anything a case would write goes
to ``tmp_path/out``, which must not exist afterwards (nor any staging directory beside it).
"""

import functools
import json
import os
import re
import shutil
import typing

import numpy as np
import pytest

from periodic_keras import edge, signals, units
from periodic_keras.classical import dsp, fitting, periods
from periodic_keras.jobs import evaluate
from periodic_keras._io import sha256_file
from periodic_keras.data import as_series, frequency_arrays, windowed_dataset
from script_runner import ROOT, run_main

EXIT_2 = "exit status 2"


class Script(typing.NamedTuple):
    """``python scripts/<name> *args --output-dir <tmp>/out``."""

    name: str
    args: tuple


def script(line: str) -> Script:
    name, *args = line.split()
    return Script(name, tuple(args))


class Ctx:
    """Where a case reads its (copied) inputs and writes its outputs."""

    def __init__(self, tmp_path):
        self.inputs, self.out = tmp_path / "in", str(tmp_path / "out")

    def copy(self, task: str, sub: str = "") -> str:
        """A fresh copy of ``exported/<task>`` (``sub``: a path inside it)."""
        dst = self.inputs / task
        if not dst.exists():
            shutil.copytree(os.path.join(ROOT, "exported", task), dst)
        return str(dst / sub) if sub else str(dst)

    def edit(self, task: str, change) -> str:
        """A copy whose metadata.json went through ``change(meta)``."""
        d = self.copy(task)
        path = os.path.join(d, "metadata.json")
        with open(path) as fh:
            meta = json.load(fh)
        change(meta)
        with open(path, "w") as fh:
            json.dump(meta, fh)
        return d

    def replace_model(self, task: str, blob, update_checksum: bool) -> str:
        """A copy whose model.tflite is ``blob(original bytes)``, its SHA-256 updated or not."""
        d = self.copy(task)
        path = os.path.join(d, "model.tflite")
        with open(path, "rb") as fh:
            data = blob(fh.read())
        with open(path, "wb") as fh:
            fh.write(data)
        if update_checksum:
            self.edit(task, lambda m: m["tflite"]["float32"].update(sha256=sha256_file(path)))
        return d

    def overwrite(self, task: str, name: str, text: str) -> str:
        """A copy whose file ``name`` holds ``text``."""
        d = self.copy(task)
        with open(os.path.join(d, name), "w") as fh:
            fh.write(text)
        return d

    def without(self, task: str, name: str) -> str:
        d = self.copy(task)
        os.remove(os.path.join(d, name))
        return d


def exported(task: str) -> str:
    """The committed export (read only)."""
    return os.path.join(ROOT, "exported", task)


def _read(task: str, name: str) -> bytes:
    with open(os.path.join(exported(task), name), "rb") as fh:
        return fh.read()


def _pop(*keys):
    """``change(meta)`` deleting ``meta[k0][k1]...[kn]``."""
    def change(meta):
        for key in keys[:-1]:
            meta = meta[key]
        del meta[keys[-1]]
    return change


def _set(*keys, value):
    def change(meta):
        for key in keys[:-1]:
            meta = meta[key]
        meta[keys[-1]] = value
    return change


def _flip_byte(blob: bytes) -> bytes:
    i = len(blob) // 2
    return blob[:i] + bytes([blob[i] ^ 0x01]) + blob[i + 1:]


@functools.cache
def tiny_freq():
    from periodic_keras.models import frequency_regressor

    return frequency_regressor(window=32, fmin=1.0, fmax=8.0, lstm_units=4, dense_units=4)


@functools.cache
def tiny_generator():
    from periodic_keras.models import sequence_generator

    return sequence_generator(units=(4,))


def _keras(name, *args, **kwargs):
    """Call ``periodic_keras.models.<name>`` (imports Keras only when the case runs)."""
    from periodic_keras import models

    return getattr(models, name)(*args, **kwargs)


def _layer(name, *args, **kwargs):
    from periodic_keras import layers

    return getattr(layers, name)(*args, **kwargs)


def _export(model, ctx, samples, **kwargs):
    from periodic_keras.export import export_model

    return export_model(model, ctx.out, "freq", samples, **kwargs)


def _export_step(ctx, prefix, **kwargs):
    from periodic_keras.export import export_step_model

    return export_step_model(_keras("step_model", tiny_generator(), batch_size=1), ctx.out, "generator", prefix,
                             **kwargs)


X = np.linspace(0.0, 10.0, 100)  # regular samples: Nyquist pi/dt = 31.1 rad per unit


def _series(values, index):
    import pandas as pd

    return pd.Series(values, index=index)


def _dates(n):
    import pandas as pd

    return pd.date_range("2020-01-01", periods=n, freq="D")


def _mixed_timezones():
    import pandas as pd

    return pd.Index([pd.Timestamp("2020-01-01", tz="UTC"), pd.Timestamp("2020-01-02", tz="UTC"),
                     pd.Timestamp("2020-01-03", tz="US/Eastern"), pd.Timestamp("2020-01-04", tz="US/Eastern")],
                    dtype=object)
NAN, INF = np.nan, np.inf

# id | input | call | error | message regex
CASES = [
    # --- NaN / inf ---------------------------------------------------------------------------------------------------
    ("edge-freq-nan", "exported freq model, windows of NaN",
     lambda c: edge.load(exported("freq")).predict(np.full((2, 100), NAN)), ValueError, r"NaN/inf in 2 item\(s\)"),
    ("edge-freq-float64-overflow", "exported freq model, float64 window of 1e300 (inf in float32)",
     lambda c: edge.load(exported("freq")).predict(np.full((1, 100), 1e300)), ValueError,
     r"outside the float32 range"),
    ("edge-generator-prefix-inf", "exported generator, warm-up prefix with inf",
     lambda c: edge.load_step(exported("generator")).generate([[0.0, INF]], 5), ValueError,
     r"prefix holds NaN/inf"),
    ("edge-divider-state-nan", "exported divider, NaN initial state",
     lambda c: edge.load_step(exported("divider")).run([[0.0, 1.0]], [np.full((1, 32), NAN)] * 2), ValueError,
     r"state holds NaN/inf"),
    ("edge-burst-step-nan", "exported burst detector, one step with x = NaN",
     lambda c: edge.load_step(exported("burst")).step([[NAN]], [np.zeros((1, 16))] * 2), ValueError,
     r"x holds NaN/inf"),
    ("fit-frequency-inf", "fit_frequency, y with an inf (NaN is a missing sample, dropped)",
     lambda c: fitting.fit_frequency(X, np.where(X > 5, np.inf, X)), ValueError, r"y contains NaN or inf"),
    ("fit-frequency-all-nan", "fit_frequency, every y missing",
     lambda c: fitting.fit_frequency(X, np.full(X.shape, NAN)), ValueError, r"every sample is missing"),
    ("fit-frequency-unsorted-time", "fit_frequency, a Series whose DatetimeIndex is out of order",
     lambda c: fitting.fit_frequency(_series(np.arange(20.0), index=_dates(20)[::-1])), ValueError,
     r"the time index is not in increasing order: sort it first"),
    ("fit-frequency-mixed-timezones", "fit_frequency, a Series whose index mixes UTC and US/Eastern times",
     lambda c: fitting.fit_frequency(_series(np.arange(4.0), index=_mixed_timezones())), TypeError,
     r"the time index mixes timezones \(US/Eastern, UTC\)"),
    ("find-periods-level", "find_periods, fap_level=1.5",
     lambda c: periods.find_periods(np.sin(X), fap_level=1.5), ValueError, r"fap_level must be a number in \(0, 1\)"),
    ("units-unknown", "units.convert to 'rpm'",
     lambda c: units.convert(1.0, "hz", "rpm", sample_rate=10.0), ValueError, r"unknown unit 'rpm'"),
    ("candan-inf", "candan_frequency, a window of inf",
     lambda c: dsp.candan_frequency(np.full(100, INF)), ValueError, r"x contains NaN or inf"),
    ("seasonal-naive-nan", "seasonal_naive, NaN in the last period",
     lambda c: dsp.seasonal_naive([1.0, 2.0, NAN], period=2, horizon=3), ValueError,
     r"history holds NaN/inf in its last period"),
    ("generate-nan", "models.generate, NaN prefix",
     lambda c: _keras("generate", tiny_generator(), [[NAN, 1.0]], 3), ValueError, r"prefix holds NaN/inf"),
    ("export-nan-samples", "export_model, NaN sample_inputs (writes)",
     lambda c: _export(tiny_freq(), c, np.full((3, 32, 1), NAN)), ValueError, r"sample_inputs hold NaN/inf"),
    # --- wrong rank / shape / dtype ------------------------------------------------------------------------------------
    ("edge-freq-rank4", "exported freq model, input [1, 1, 100, 1]",
     lambda c: edge.load(exported("freq")).predict(np.zeros((1, 1, 100, 1))), ValueError,
     r"input has shape \(1, 1, 100, 1\); this freq model takes \[batch, 100, 1\]"),
    ("edge-freq-strings", "exported freq model, strings",
     lambda c: edge.load(exported("freq")).predict([["a"] * 100]), TypeError, r"real numbers, got dtype <U1"),
    ("edge-generator-state-shape", "exported generator, state of width 8 (model: 64)",
     lambda c: edge.load_step(exported("generator")).step([[0.0]], [np.zeros((1, 8))] * 4), ValueError,
     r"state shapes \[\(1, 8\).* do not match \[\(1, 64\)"),
    ("fit-frequency-2d", "fit_frequency, x of shape [1, 100]",
     lambda c: fitting.fit_frequency(X[None], np.sin(X)[None]), ValueError, r"x must be 1-D, got shape \(1, 100\)"),
    ("fit-frequency-complex", "fit_frequency, complex y",
     lambda c: fitting.fit_frequency(X, np.exp(1j * X)), TypeError, r"y must hold real numbers, got dtype complex"),
    ("spectral-features-window", "SpectralFeatures(window=64) on 32-sample windows",
     lambda c: _layer("SpectralFeatures", 64, 1.0, 10.0)(np.zeros((2, 32, 1), "float32")), ValueError,
     r"built for windows of 64 samples, got 32"),
    ("sequence-units-float", "sequence_model(units=[2.5])",
     lambda c: _keras("sequence_model", [2.5]), ValueError, r"units must be .*positive layer widths \(integers\)"),
    ("generate-strings", "models.generate, a prefix of strings",
     lambda c: _keras("generate", tiny_generator(), ["a", "b"], 3), TypeError, r"prefix must hold real numbers"),
    ("clock-rates-shape", "clock_exact_rates, digits [3, 2] for 3 timestamps",
     lambda c: evaluate.clock_exact_rates(np.zeros((3, 2), int), np.arange(3)), ValueError,
     r"digits has shape \(3, 2\); expected \[3, 3\]"),
    ("export-wrong-shape", "export_model, samples [3, 16, 1] for a 32-sample model (writes)",
     lambda c: _export(tiny_freq(), c, np.zeros((3, 16, 1))), ValueError,
     r"sample_inputs must have shape \[n>0, 32, 1\], got \(3, 16, 1\)"),
    # --- empty arrays ----------------------------------------------------------------------------------------------------
    ("edge-freq-empty", "exported freq model, batch of 0 windows",
     lambda c: edge.load(exported("freq")).predict(np.zeros((0, 100))), ValueError, r"input batch is empty"),
    ("edge-divider-empty", "exported divider, inputs [1, 0]",
     lambda c: edge.load_step(exported("divider")).run(np.zeros((1, 0))), ValueError, r"inputs is empty"),
    ("fit-frequency-empty", "fit_frequency([], [])",
     lambda c: fitting.fit_frequency([], []), ValueError, r"needs at least 4 samples .*got 0"),
    ("as-series-empty", "data.as_series([])",
     lambda c: as_series([]), ValueError,
     r"series is empty"),
    ("export-step-empty-prefix", "export_step_model, empty prefix (writes)",
     lambda c: _export_step(c, np.zeros((1, 0))), ValueError, r"prefix is empty"),
    # --- window shorter than the model's ----------------------------------------------------------------------------------
    ("edge-freq-short-window", "exported freq model (100 samples), windows of 99",
     lambda c: edge.load(exported("freq")).predict(np.zeros((2, 99))), ValueError,
     r"input has shape \(2, 99\); this freq model takes \[batch, 100, 1\] \(or \[batch, 100\]\)"),
    ("keras-freq-short-window", "frequency_regressor(window=32).predict on 31 samples",
     lambda c: tiny_freq().predict(np.zeros((2, 31, 1)), verbose=0), ValueError,
     r"expected shape=\(None, 32, 1\), found shape=\(2, 31"),
    ("candan-short-window", "candan_frequency, 4-sample window",
     lambda c: dsp.candan_frequency(np.zeros(4)), ValueError, r"window too short: x has 4 samples"),
    ("windowed-dataset-short", "windowed_dataset, 10 samples, window=20",
     lambda c: windowed_dataset(np.zeros(10), window=20),
     ValueError, r"series has 10 samples, fewer than one window of 20"),
    # --- frequencies above Nyquist ----------------------------------------------------------------------------------------
    ("regressor-fmax-nyquist", "frequency_regressor(window=100, fmax=60)",
     lambda c: _keras("frequency_regressor", window=100, fmax=60.0), ValueError,
     r"fmax=60.0 cycles/window is at or above the Nyquist limit window/2 = 50.0"),
    ("sine-windows-nyquist", "signals.sine_windows(window=64, fmax=32)",
     lambda c: signals.sine_windows(4, window=64, fmax=32.0), ValueError, r"at or above the Nyquist limit"),
    ("fit-frequency-nyquist", "fit_frequency, max_frequency above pi/dt of regular x",
     lambda c: fitting.fit_frequency(X, np.sin(X), max_frequency=100.0), ValueError,
     r"max_frequency=100.0 is above the Nyquist frequency"),
    ("candan-fmax-nyquist", "candan_frequency(fmax=60) on 100 samples",
     lambda c: dsp.candan_frequency(np.zeros(100), fmax=60.0), ValueError, r"fmax=60.0 .*outside \(0, window/2\)"),
    # --- negative counts --------------------------------------------------------------------------------------------------
    ("sine-windows-negative-n", "signals.sine_windows(n=-1)",
     lambda c: signals.sine_windows(-1), ValueError, r"n must be a positive integer, got -1"),
    ("frequency-arrays-negative-n", "data.frequency_arrays(n=-3)",
     lambda c: frequency_arrays(-3), ValueError,
     r"n must be a positive integer, got -3"),
    ("fit-frequencies-negative-tones", "fit_frequencies(n_tones=-1)",
     lambda c: fitting.fit_frequencies(X, np.sin(X), -1), ValueError, r"n_tones must be an integer >= 1, got -1"),
    ("edge-generate-negative-steps", "exported generator, generate(n_steps=-1)",
     lambda c: edge.load_step(exported("generator")).generate([[0.0]], -1), ValueError,
     r"n_steps must be a non-negative integer, got -1"),
    ("edge-zero-state-negative", "exported generator, zero_state(batch=-1)",
     lambda c: edge.load_step(exported("generator")).zero_state(-1), ValueError,
     r"batch must be a positive integer, got -1"),
    ("edge-num-threads-negative", "edge.load(num_threads=-2)",
     lambda c: edge.load(exported("freq"), num_threads=-2), ValueError,
     r"num_threads must be a positive integer or None, got -2"),
    ("activation-mlp-negative-width", "activation_mlp('relu', width=-1)",
     lambda c: _keras("activation_mlp", "relu", width=-1), ValueError, r"width must be a positive integer, got -1"),
    ("inference-variant-batch-0", "inference_variant(batch_size=0)",
     lambda c: _keras("inference_variant", tiny_freq(), batch_size=0), ValueError,
     r"batch_size must be a positive integer, got 0"),
    ("export-step-negative-steps", "export_step_model(n_steps=-1) (writes)",
     lambda c: _export_step(c, [[0.0, 1.0]], n_steps=-1), ValueError, r"n_steps must be a positive integer, got -1"),
    # --- unknown task / variant / activation names ------------------------------------------------------------------------
    ("unknown-frontend", "frequency_regressor(frontend='fft')",
     lambda c: _keras("frequency_regressor", frontend="fft"), ValueError, r"unknown frontend 'fft': expected one of"),
    ("unknown-activation", "activation_mlp('gelu')",
     lambda c: _keras("activation_mlp", "gelu"), ValueError, r"unknown activation 'gelu': expected one of"),
    ("unknown-cell", "sequence_model(cell='transformer')",
     lambda c: _keras("sequence_model", 8, cell="transformer"), ValueError, r"unknown cell 'transformer'"),
    ("unknown-naive-clock", "naive_clock_model('relu')",
     lambda c: _keras("naive_clock_model", "relu"), ValueError, r"unknown naive clock 'relu'"),
    ("unknown-split", "data.frequency_arrays(split='valid')",
     lambda c: frequency_arrays(3, "valid"), ValueError,
     r"unknown split 'valid': expected one of"),
    ("edge-unknown-variant", "edge.load(variant='int4')",
     lambda c: edge.load(exported("freq"), "int4"), edge.ExportedModelError,
     r"variant 'int4' not in .*available: \['float16', 'float32', 'int8'\]"),
    ("export-unknown-variant", "export_model(variants=('float32', 'int3')) (writes)",
     lambda c: _export(tiny_freq(), c, np.zeros((3, 32, 1)), variants=("float32", "int3")), ValueError,
     r"unknown TFLite variant\(s\) \['int3'\]"),
    # --- float timestamps where int64 is needed ---------------------------------------------------------------------------
    ("periodic-encoding-float", "PeriodicEncoding on float64 timestamps",
     lambda c: _layer("PeriodicEncoding", [60])(np.array([[1.7e9]])), TypeError,
     r"PeriodicEncoding needs integer timestamps \(int64\)"),
    ("edge-clock-float", "exported clock model, float64 timestamps",
     lambda c: edge.load(exported("clock")).predict(np.array([1.7e9])), TypeError,
     r"takes integer input \(int64\); got float64: floats cannot hold large timestamps"),
    ("edge-clock-uint64-overflow", "exported clock model, uint64 2**64 - 1",
     lambda c: edge.load(exported("clock")).predict(np.array([2**64 - 1], np.uint64)), ValueError,
     r"outside the int64 range"),
    ("clock-digits-float", "signals.clock_digits on float seconds",
     lambda c: signals.clock_digits(np.array([1.7e9])), TypeError, r"clock timestamps must be integers"),
    ("naive-clock-scale-0", "naive_clock_model(scale=0)",
     lambda c: _keras("naive_clock_model", "siren", hidden=4, depth=1, scale=0), ValueError,
     r"scale must be a finite number > 0"),
    ("export-clock-float-samples", "export_model of an int64 clock model, float samples (writes)",
     lambda c: _export(_keras("clock_reader", _keras("clock_model", hidden=4)), c, np.array([[1.7e9]])), TypeError,
     r"takes int64 input: sample_inputs must be integers, got float64"),
    # --- too few samples ---------------------------------------------------------------------------------------------------
    ("fit-frequency-3-samples", "fit_frequency on 3 samples",
     lambda c: fitting.fit_frequency(X[:3], np.sin(X[:3])), ValueError,
     r"fitting 1 tone needs at least 4 samples .*got 3"),
    ("fit-2-tones-6-samples", "fit_frequencies(n_tones=2) on 6 samples",
     lambda c: fitting.fit_frequencies(X[:6], np.sin(X[:6]), 2), ValueError,
     r"fitting 2 tones needs at least 7 samples .*got 6"),
    ("fit-frequency-constant-x", "fit_frequency, all x equal",
     lambda c: fitting.fit_frequency(np.ones(10), np.arange(10.0)), ValueError, r"x is constant \(zero span\)"),
    # --- truncated / corrupt .tflite ---------------------------------------------------------------------------------------
    ("edge-one-byte-changed", "copied freq export, one byte of model.tflite changed",
     lambda c: edge.load(c.replace_model("freq", _flip_byte, update_checksum=False)), edge.ExportedModelError,
     r"model.tflite' does not match the SHA-256 in metadata.json: corrupt or replaced"),
    ("edge-truncated", "copied clock export, model.tflite cut in half",
     lambda c: edge.load(c.replace_model("clock", lambda b: b[: len(b) // 2], update_checksum=False)),
     edge.ExportedModelError, r"does not match the SHA-256"),
    ("edge-truncated-checksum-updated", "truncated model.tflite whose SHA-256 was (wrongly) updated",
     lambda c: edge.load(c.replace_model("freq", lambda b: b[: len(b) // 2], update_checksum=True)),
     edge.ExportedModelError, r"LiteRT cannot load .*model.tflite'"),
    ("edge-empty-model-file", "empty model.tflite, SHA-256 updated",
     lambda c: edge.load(c.replace_model("freq", lambda b: b"", update_checksum=True)), edge.ExportedModelError,
     r"LiteRT cannot load"),
    ("edge-model-file-missing", "copied export without model.tflite",
     lambda c: edge.load(c.without("freq", "model.tflite")), edge.ExportedModelError,
     r"model file .*model.tflite' is missing"),
    # --- metadata.json missing fields or disagreeing with the model file -------------------------------------------------
    ("edge-metadata-missing", "copied export without metadata.json",
     lambda c: edge.load(c.without("freq", "metadata.json")), edge.ExportedModelError,
     r"metadata.json' is missing: not an exported model directory"),
    ("edge-metadata-not-json", "metadata.json holding '{not json'",
     lambda c: edge.load(c.overwrite("freq", "metadata.json", "{not json")),
     edge.ExportedModelError, r"metadata.json' is not valid JSON"),
    ("edge-metadata-no-tflite", "metadata.json without 'tflite'",
     lambda c: edge.load(c.edit("freq", _pop("tflite"))), edge.ExportedModelError,
     r"lacks required field\(s\) \['tflite'\]"),
    ("edge-metadata-no-input-shape", "metadata.json without input.shape",
     lambda c: edge.load(c.edit("freq", _pop("input", "shape"))), edge.ExportedModelError,
     r"field 'input.shape' is missing or not a list of integers"),
    ("edge-metadata-no-checksum", "metadata.json without tflite.float32.sha256",
     lambda c: edge.load(c.edit("freq", _pop("tflite", "float32", "sha256"))), edge.ExportedModelError,
     r"field 'tflite.float32.sha256' is missing"),
    ("edge-metadata-no-file", "metadata.json without tflite.float32.file",
     lambda c: edge.load(c.edit("freq", _pop("tflite", "float32", "file"))), edge.ExportedModelError,
     r"field 'tflite.float32.file' is missing"),
    ("edge-metadata-shape-disagrees", "metadata.json says input [1, 64, 1], the file takes [1, 100, 1]",
     lambda c: edge.load(c.edit("freq", _set("input", "shape", value=[1, 64, 1]))), edge.ExportedModelError,
     r"model.tflite' takes \(1, 100, 1\) float32, but metadata.json says \(1, 64, 1\) float32"),
    ("edge-metadata-dtype-disagrees", "metadata.json says int64, the file takes float32",
     lambda c: edge.load(c.edit("freq", _set("input", "dtype", value="int64"))), edge.ExportedModelError,
     r"takes \(1, 100, 1\) float32, but metadata.json says \(1, 100, 1\) int64"),
    ("edge-model-swapped", "the clock model copied over the freq model, SHA-256 updated",
     lambda c: edge.load(c.replace_model("freq", lambda b: _read("clock", "model.tflite"), True)),
     edge.ExportedModelError, r"takes \(1, 2\) int32, but metadata.json says \(1, 100, 1\) float32"),
    ("edge-step-shapes-disagree", "the burst model over the divider's, SHA-256 updated",
     lambda c: edge.load_step(c.replace_model("divider", lambda b: _read("burst", "model.tflite"), True)),
     edge.ExportedModelError, r"takes inputs of shapes \[\[1, 1\], \[1, 16\], \[1, 16\]\], but metadata.json says"),
    ("edge-step-widths-disagree", "generator metadata state.widths [32, 32, 64, 64]",
     lambda c: edge.load_step(c.edit("generator", _set("state", "widths", value=[32, 32, 64, 64]))),
     edge.ExportedModelError, r"carries state of widths \[64, 64, 64, 64\], but metadata.json says \[32, 32, 64, 64\]"),
    ("edge-step-dtype-disagrees", "generator metadata input.dtype int64",
     lambda c: edge.load_step(c.edit("generator", _set("input", "dtype", value="int64"))), edge.ExportedModelError,
     r"takes float32 inputs, but metadata.json says int64"),
    ("edge-step-model-as-plain", "edge.load on a step-model export",
     lambda c: edge.load(exported("generator")), edge.ExportedModelError,
     r"has several inputs: load a step model with edge.load_step"),
    ("edge-plain-model-as-step", "edge.load_step on the freq export",
     lambda c: edge.load_step(exported("freq")), edge.ExportedModelError, r"is not a step model export"),
    # --- not an export / missing directory ----------------------------------------------------------------------------------
    ("edge-saved-model-dir", "edge.load on the export's saved_model/ directory",
     lambda c: edge.load(c.copy("freq", "saved_model")), edge.ExportedModelError,
     r"saved_model/metadata.json' is missing: not an exported model directory"),
    ("edge-file-not-dir", "edge.load on model.tflite itself",
     lambda c: edge.load(c.copy("freq", "model.tflite")), edge.ExportedModelError,
     r"model.tflite' is a file, not an exported model directory"),
    ("edge-missing-dir", "edge.load on a directory that does not exist",
     lambda c: edge.load(c.out), edge.ExportedModelError, r"exported model directory not found: '.*out'"),
    ("as-series-missing-csv", "data.as_series on a missing CSV file",
     lambda c: as_series(os.path.join(c.out, "x.csv"), "y"),
     FileNotFoundError, r"series CSV file not found: '.*x.csv'"),
    # --- scripts: exit status 2, one line on stderr, nothing written (all fail before TensorFlow loads) ---------------------
    ("script-freq-nyquist", "train_freq.py --fmax 60", script("train_freq.py --fmax 60"), EXIT_2,
     r"fmax=60.0 cycles/window is at or above the Nyquist limit"),
    ("script-freq-negative-steps", "train_freq.py --steps -5", script("train_freq.py --steps -5"), EXIT_2,
     r"steps must be a positive integer, got -5"),
    ("script-burst-negative-n-test", "train_burst.py --n-test -1", script("train_burst.py --n-test -1"), EXIT_2,
     r"n_test must be a positive integer, got -1"),
    ("script-divider-window-too-long", "train_divider.py --window 1000", script("train_divider.py --window 1000"),
     EXIT_2, r"window=1000 is longer than the training sequences"),
    ("script-clock-unknown-naive", "train_clock.py --naive relu", script("train_clock.py --naive relu"), EXIT_2,
     r"unknown naive baseline\(s\) \['relu'\]"),
    ("script-activations-unknown", "benchmark_activations.py --activations gelu",
     script("benchmark_activations.py --activations gelu"), EXIT_2, r"unknown activation 'gelu'"),
    ("script-generator-float-steps", "train_generator.py --early-weight 2.5 3",
     script("train_generator.py --early-weight 2.5 3"), EXIT_2, r"--early-weight STEPS must be an integer, got 2.5"),
    ("script-fit-too-few-points", "benchmark_fit_frequency.py --n-points 3",
     script("benchmark_fit_frequency.py --n-points 3"), EXIT_2, r"n_points must be an integer >= 16, got 3"),
]


#: TensorFlow/absl log lines a subprocess may print before our line (not ours to silence).
_LOG_NOISE = re.compile(r"^(WARNING: All log messages before absl|[IWEF]\d{4} )")


def test_the_catalogue_is_one_complete_table():
    ids = [case[0] for case in CASES]
    assert len(ids) == len(set(ids)) and len(ids) >= 35
    assert sum(isinstance(case[2], Script) for case in CASES) <= 8


@pytest.mark.parametrize("case_id, description, call, error, match", CASES, ids=[case[0] for case in CASES])
def test_bad_input(case_id, description, call, error, match, tmp_path):
    ctx = Ctx(tmp_path)
    if isinstance(call, Script):
        done = run_main(call.name, *call.args, "--output-dir", ctx.out, timeout=120)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr, done.stderr
        lines = [line for line in done.stderr.splitlines() if line.strip() and not _LOG_NOISE.match(line)]
        assert len(lines) == 1, done.stderr
        assert lines[0].startswith(f"{call.name}: error: "), lines
        assert re.search(match, lines[0]), lines[0]
    else:
        with pytest.raises(error, match=match):
            call(ctx)
    # Nothing written: no output, no staging directory beside it; only the copied inputs remain.
    assert not os.path.exists(ctx.out)
    assert set(os.listdir(tmp_path)) <= {"in"}, os.listdir(tmp_path)

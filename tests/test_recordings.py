"""Real recordings with a fundamental-frequency truth, read from files inside installed wheels."""

import importlib.util
import socket

import numpy as np
import pytest

from periodic_keras.data import recordings as R


def _need(pkg):
    if importlib.util.find_spec(pkg) is None:
        pytest.skip(f"{pkg} is not installed (pip install 'periodic-keras[recordings]')")


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network use is not allowed: recordings are read from installed files")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


@pytest.fixture(scope="module")
def notes():
    _need("pretty_midi")
    return R.recording_windows("instrument_notes", seed=0)


def test_notes_truth_in_band_and_finite(notes):
    x, f0, info = notes
    assert x.shape == (len(f0), 100) and len(f0) > 500
    assert np.isfinite(x).all() and ((f0 >= 1) & (f0 <= 30)).all()
    assert x.std(axis=1).min() > 0
    assert info["notes"] > 200 and set(info["dropped"]) >= {"unpitched", "yin_disagrees"}


def test_notes_spectral_peak_on_a_harmonic(notes):
    """A resampled note's strongest spectral line sits on a harmonic of its truth (k * f0, k = 1..4)."""
    x, f0, _ = notes
    spec = np.abs(np.fft.rfft((x - x.mean(1, keepdims=True)) * np.hanning(100), 1600, axis=1))
    peak = spec.argmax(axis=1) / 16.0  # cycles per window
    k = np.maximum(1, np.round(peak / f0))
    on = (np.abs(peak - k * f0) <= 0.6) & (k <= 4)
    big = f0 >= 3  # a Hann main lobe is 4 bins wide: below 3 cycles the fundamental is not resolved
    assert on[big].mean() > 0.9


def test_soundfont_header_and_zone_pitch():
    _need("pretty_midi")
    pcm, shdr, uses = R.read_sf2(R._data_file("instrument_notes", "TimGM6mb.sf2"))
    assert pcm.dtype == np.int16 and len(shdr) == 520
    names = [s["name"].split(b"\0")[0].decode() for s in shdr]
    oboe = names.index("Oboe A5")  # root key 81 = A5 = 880 Hz, no correction
    assert {round(f0, 1) for _, f0, _ in uses[oboe]} == {880.0}
    x = pcm[shdr[oboe]["start"]:shdr[oboe]["end"]].astype(float)
    assert abs(R._yin(x[len(x) // 2:], float(shdr[oboe]["rate"])) / 880.0 - 1) < 0.01


def test_seeded_and_capped():
    _need("pretty_midi")
    a = R.recording_windows("instrument_notes", seed=3, max_windows=20)
    b = R.recording_windows("instrument_notes", seed=3, max_windows=20)
    c = R.recording_windows("instrument_notes", seed=4, max_windows=20)
    assert a[0].shape == (20, 100) and np.array_equal(a[1], b[1]) and np.array_equal(a[0], b[0])
    assert not np.array_equal(a[1], c[1])
    x, f0, _ = R.recording_windows("instrument_notes", window=64, fmin=2, fmax=20, max_windows=50)
    assert x.shape == (50, 64) and ((f0 >= 2) & (f0 <= 20)).all()


@pytest.mark.parametrize("name, pkg", [("ppg_heartpy", "heartpy"), ("ecg_bitalino", "pyhrv")])
def test_heart_truth(name, pkg):
    _need(pkg)
    x, f0, info = R.recording_windows(name)
    assert len(f0) >= 20 and np.isfinite(x).all() and ((f0 >= 1) & (f0 <= 30)).all()
    for rel, sr_kind in [(r[3], r) for r in R._read_heart(name)]:
        sig, sr, kind, _ = sr_kind
        beats = R.detect_beats(sig, sr, kind)
        ok = R._valid_rr(beats, R._clipped(sig, sr), sr)
        rr = np.diff(beats)[ok]
        assert ok.mean() > 0.75, rel  # most beats pass the plausibility checks
        assert 40 < 60 / np.median(rr) < 120, rel  # resting heart rate, bpm
    # The truth is the beat phase advance: a window at ~1 cycle per window holds one beat.
    assert info["beats"] and all(v > 20 for v in info["beats"].values())


def test_recording_sets_leaves_out_missing(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in ("pyhrv", "heartpy") else real(name, *a))
    with pytest.raises(ImportError, match=r"pip install 'periodic-keras\[recordings\]'"):
        R.recording_windows("ecg_bitalino")
    sets = R.recording_sets(max_windows=5)
    assert "ecg_bitalino" not in sets and "ppg_heartpy" not in sets
    if real("pretty_midi") is not None:
        assert sets["instrument_notes"][0].shape == (5, 100)


@pytest.mark.parametrize("kwargs, match", [
    ({"name": "violin"}, "unknown recording"),
    ({"window": 4}, "window must be"),
    ({"window": 100.0}, "window must be"),
    ({"fmin": 0}, "fmin"),
    ({"fmin": 30, "fmax": 10}, "fmin"),
    ({"fmax": 60}, "fmax"),
    ({"fmax": float("nan")}, "fmax"),
    ({"max_windows": 0}, "max_windows"),
])
def test_bad_arguments(kwargs, match):
    kwargs = {"name": "instrument_notes", **kwargs}
    with pytest.raises(ValueError, match=match):
        R.recording_windows(**kwargs)


def test_catalogue():
    for name, entry in R.RECORDINGS.items():
        assert {"description", "package", "licence", "files"} <= set(entry), name

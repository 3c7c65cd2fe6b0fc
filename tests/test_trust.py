"""Trust: each frequency answer comes with whether it can be believed (periodic_keras.classical.trust, edge)."""

import json
import os
import shutil

import numpy as np
import pytest

from periodic_keras import edge, signals
from periodic_keras.classical import dsp, trust
from periodic_keras.edge import ExportedModelError
from script_runner import ROOT

N = 100
n = np.arange(N)


def tone(f, amplitude=1.0, phase=0.3):
    return amplitude * np.sin(2 * np.pi * f * n / N + phase)


CASES = {  # window, estimate, the flag it must raise
    "flat": (np.full(N, 3.0), 7.0, "flat"),
    "tone below float32 resolution on an offset": (1e4 + 1e-5 * tone(5.0), 5.0, "flat"),
    "trend": (tone(12.3) + 0.06 * n, 12.3, "trend"),
    "out of band": (tone(12.3), 31.0, "out_of_band"),
    "two tones": (tone(8.2) + 0.8 * tone(17.9, phase=1.0), 8.2, "multi_tone"),
    "harmonic": (tone(6.0) + 0.7 * tone(12.0), 6.0, "multi_tone"),
    "overflow scale": (1e19 * tone(12.3), 12.3, "scale"),
    "wrong answer": (tone(20.0), 7.5, "low_snr"),
}


@pytest.mark.parametrize("name", CASES)
def test_windows_outside_the_trained_conditions_are_flagged(name):
    window, estimate, flag = CASES[name]
    q = trust.tone_quality(window, [estimate], fmin=1, fmax=30)
    assert q[flag][0] and not q["trusted"][0], {k: v[0] for k, v in q.items()}


def test_clean_and_noisy_tones_are_trusted_with_a_calibrated_error_estimate():
    x, f, info = signals.sine_windows(500, N, 1, 30, snr_db=10.0, amplitude=(0.1, 10), seed=5)
    est = dsp.ml_frequency(x, fmin=1, fmax=30)
    q = trust.tone_quality(x, est, fmin=1, fmax=30)
    assert q["trusted"].mean() > 0.99
    assert abs(np.median(q["snr_db"]) - 10.0) < 0.5  # the SNR is estimated from the window alone
    rmse = np.sqrt(np.mean((est - f) ** 2))
    assert 0.8 < rmse / np.median(q["std"]) < 1.25  # the error it announces is the error it makes


def test_low_snr_answers_are_flagged_and_trusted_ones_stay_accurate():
    x, f, _ = signals.sine_windows(500, N, 1, 30, snr_db=-6.0, seed=6)
    est = dsp.ml_frequency(x, fmin=1, fmax=30)
    q = trust.tone_quality(x, est, fmin=1, fmax=30)
    assert q["trusted"].mean() < 0.2
    assert np.max(np.abs(est - f)[q["trusted"]]) < 0.5  # the outliers (errors of cycles) are all flagged
    assert np.max(np.abs(est - f)) > 5


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"one frequency per window"):
        trust.tone_quality(np.zeros((3, N)), [1.0, 2.0], 1, 30)
    with pytest.raises(ValueError, match=r"unknown threshold\(s\) \['snr'\]"):
        trust.tone_quality(np.zeros(N), [1.0], 1, 30, snr=3)
    with pytest.raises(ValueError, match=r"must be finite"):
        trust.tone_quality(np.full(N, np.nan), [1.0], 1, 30)


def test_edge_reports_quality_with_each_answer():
    model = edge.load(os.path.join(ROOT, "exported", "freq"))
    windows = np.stack([tone(12.3), np.full(N, 2.0), tone(12.3) + 0.06 * n])
    f, q = model.predict(windows, return_quality=True)
    np.testing.assert_array_equal(f, model.predict(windows))
    assert q["trusted"].tolist() == [True, False, False]
    assert q["flat"][1] and q["trend"][2]
    assert set(q) == {"frequency", "trusted", "snr_db", "std", *trust.FLAGS}


def test_edge_quality_refuses_other_tasks_and_bad_thresholds(tmp_path):
    with pytest.raises(ExportedModelError, match=r"quality figures exist for frequency exports"):
        edge.load(os.path.join(ROOT, "exported", "clock")).quality(np.zeros((1, 1), np.int64))
    d = tmp_path / "freq"
    shutil.copytree(os.path.join(ROOT, "exported", "freq"), d)
    meta = json.loads((d / "metadata.json").read_text())
    meta["quality"] = {"thresholds": {"min_snr_db": "low"}}
    (d / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ExportedModelError, match=r"field 'quality.thresholds'"):
        edge.load(str(d)).quality(tone(5.0))

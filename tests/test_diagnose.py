"""periodic_keras.classical.diagnose: conflicting windows, the memoryless floor, the context that removes it."""

import numpy as np
import pytest

from periodic_keras import signals
from periodic_keras.classical import diagnose


@pytest.fixture(scope="module")
def divider():
    x, y, info = signals.divider_sequences(64, 256, period=20 * np.pi, seed=0)  # sin(t), t step 0.1
    return x, y, info


def test_divider_windows_report_the_zero_predictor_floor_and_ask_for_state(divider):
    x, y, _ = divider
    report = diagnose.diagnose_sequences(x, y, window=16, contexts=(16, 64), max_windows=8000, max_queries=500)
    assert report.kind == "regression" and report.conflicting
    assert 0.4 < report.floor < 0.6 and 0.45 < report.baseline < 0.55 and report.coverage > 0.9
    assert list(report.context.context) == [16, 64, 256]
    assert report.context.floor.iloc[0] > 0.3 and report.context.floor.iloc[-1] < 0.01
    assert report.context_needed == 256  # only from the sequence start
    assert 55 <= report.repeat_lag <= 70  # the input period, 62.8 steps
    text = str(report)
    assert "Carry the state" in text and "sequence start" in text
    worst = report.conflicts.iloc[0]
    assert worst.input_difference < 0.1 and worst.target_difference > 0.5


def test_learnable_target_reports_no_conflict(divider):
    x, _, _ = divider
    y2 = np.sin(2 * 0.1 * np.arange(256))[None].repeat(len(x), 0)  # sin(2t): a function of the window
    report = diagnose.diagnose_sequences(x, y2, window=16, contexts=(16,), max_windows=8000, max_queries=500)
    assert not report.conflicting and report.floor < 0.01 and report.context_needed == 16
    assert "No conflicting windows" in report.recommendation()


def test_classes_get_an_error_rate_floor_and_a_context():
    x, y, _ = signals.burst_sequences(400, 130, seed=0)
    report = diagnose.diagnose_sequences(x, y, window=16, contexts=(16, 64), max_windows=8000, max_queries=500)
    assert report.kind == "classification" and report.conflicting
    assert 0.03 < report.floor < report.baseline  # all-zero windows: before or after the burst?
    assert report.context_needed == 64  # bursts end by step 59: 64 steps always show it, or the start


def test_windows_from_arrays_and_from_a_dataset_agree():
    import tensorflow as tf

    x, y, _ = signals.divider_sequences(256, 128, period=(40, 80), seed=0)  # a windowed training set
    wx, wy = signals.cut_windows(x, 16), signals.cut_windows(y, 16)
    direct = diagnose.diagnose_windows(wx, wy, max_queries=200)
    ds = tf.data.Dataset.from_tensor_slices((wx[..., None], wy[..., None])).batch(32)
    via_ds = diagnose.diagnose_windows(ds, max_queries=200)
    assert via_ds.n_windows == direct.n_windows == len(wx)
    assert via_ds.floor == pytest.approx(direct.floor, rel=1e-6) and direct.conflicting
    single = diagnose.diagnose_windows(ds.unbatch(), max_queries=200, batched=False)
    assert single.floor == pytest.approx(direct.floor, rel=1e-6)


@pytest.mark.parametrize("call, error, match", [
    (lambda w, t: diagnose.diagnose_windows(w, t[:-1]), ValueError, "holds 16 windows but targets 15"),
    (lambda w, t: diagnose.diagnose_windows(np.where(w > 0.5, np.nan, w), t), ValueError, "inputs hold NaN"),
    (lambda w, t: diagnose.diagnose_windows(w, t * np.inf), ValueError, "targets hold NaN"),
    (lambda w, t: diagnose.diagnose_windows(w[:0], t[:0]), ValueError, "inputs is empty"),
    (lambda w, t: diagnose.diagnose_windows(w), ValueError, "targets are missing"),
    (lambda w, t: diagnose.diagnose_windows(w[:, 0], t), ValueError, "windows \\[n, steps"),
    (lambda w, t: diagnose.diagnose_windows(w.astype(str), t), TypeError, "must hold numbers"),
    (lambda w, t: diagnose.diagnose_windows(w, t, tolerance=2.0), ValueError, "tolerance must lie in"),
    (lambda w, t: diagnose.diagnose_sequences(w, t[:, :-1], 4), ValueError, "both be \\[n_sequences, length\\]"),
    (lambda w, t: diagnose.diagnose_sequences(w, t, 40), ValueError, "longer than the sequences"),
])
def test_bad_inputs_name_the_problem(call, error, match):
    x, y, _ = signals.divider_sequences(16, 32, seed=0)
    with pytest.raises(error, match=match):
        call(x, y)


def test_no_window_with_a_neighbour_reports_a_weak_check_instead_of_crashing():
    # Yearly-sunspot-like: 300 steps of a noisy cycle, no two 11-step windows alike within the tolerance.
    rng = np.random.default_rng(0)
    s = 60 + 50 * np.sin(2 * np.pi * np.arange(300) / 11.0) + rng.normal(0, 15, 300)
    report = diagnose.diagnose_sequences(s[None, :-1], s[None, 1:], window=11)
    assert report.coverage < 0.05 and not report.conflicting
    assert "the check is weak here" in str(report)


def test_noisy_targets_are_told_apart_from_missing_memory():
    rng = np.random.default_rng(0)
    x = np.sin(0.1 * np.arange(256)[None] + rng.uniform(0, 6, (64, 1)))
    y = x**2 + rng.normal(0, 0.3, x.shape)  # a function of the current input, plus noise of variance 0.09
    report = diagnose.diagnose_sequences(x, y, window=16, max_windows=8000, max_queries=500)
    assert report.conflicting and report.verdict == "noisy" and report.context_needed is None
    assert 0.06 < report.context.floor.min() < 0.12  # the noise variance, at every context
    assert "memory will not help" in str(report) and "Carry the state" not in str(report)


@pytest.mark.slow
def test_context_floor_never_grows_and_weak_contexts_decide_nothing(divider):
    x, y, _ = divider
    report = diagnose.diagnose_sequences(x, y, window=16, contexts=(16, 32, 64, 128), max_windows=8000,
                                         max_queries=500)
    assert report.verdict == "needs_memory"
    floors = report.context.floor.to_numpy()
    assert np.all(np.diff(floors) <= 0)
    # yearly-sunspot-like: raw estimates grow with context (smooth-target bias), the floor does not
    rng = np.random.default_rng(1)
    s = 60 + 50 * np.sin(2 * np.pi * np.arange(2000) / 11.0) + rng.normal(0, 5, 2000)
    noisy = diagnose.diagnose_sequences(s[None, :-1], s[None, 1:], window=11, tolerance=0.3, max_queries=500)
    table = noisy.context
    finite = table.floor[np.isfinite(table.floor)].to_numpy()
    assert np.all(np.diff(finite) <= 0) and np.all(table.weak == (table.coverage < diagnose.MIN_COVERAGE))


@pytest.mark.slow
def test_trending_series_are_compared_by_shape():
    rng = np.random.default_rng(0)
    t = np.arange(3001.0)
    s = 0.05 * t + np.sin(2 * np.pi * t / 25) + rng.normal(0, 0.1, t.size)
    shaped = diagnose.diagnose_sequences(s[None, :-1], s[None, 1:], window=25, tolerance=0.3, max_queries=500)
    assert shaped.trend_share > 0.9 and shaped.detrended  # "auto"
    assert shaped.coverage > 0.9 and shaped.verdict == "fits" and shaped.baseline < 1.0
    by_level = diagnose.diagnose_sequences(s[None, :-1], s[None, 1:], window=25, tolerance=0.3, max_queries=500,
                                           detrend=False)
    assert not by_level.detrended and by_level.baseline > 1000  # the trend counted as target variance
    assert "detrend=True compares them by shape" in str(by_level)
    with pytest.raises(TypeError, match="detrend"):
        diagnose.diagnose_sequences(s[None, :-1], s[None, 1:], window=25, detrend="yes")

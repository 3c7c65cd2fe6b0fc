"""Signals and pipelines of the memory tasks (divider, burst) and their TFDS builders."""

import numpy as np
import pytest

from periodic_keras import signals
from periodic_keras.data import (burst_dataset, consecutive_windows, divider_dataset, independent_windows,
                                 sequence_dataset)


def test_divider_input_repeats_while_target_flips():
    x, y, info = signals.divider_sequences(3, 400, period=(40, 80), amplitude=(0.5, 2.0), seed=1)
    t = np.arange(400)
    for i in range(3):
        p, a = info["period"][i], info["amplitude"][i]
        np.testing.assert_allclose(x[i], a * np.sin(2 * np.pi * t / p), atol=1e-6)
        np.testing.assert_allclose(y[i], np.sin(np.pi * t / p), atol=1e-6)
    x, y, _ = signals.divider_sequences(1, 200, period=40)
    np.testing.assert_allclose(x[0, 40:80], x[0, :40], atol=1e-6)  # same input one period later...
    np.testing.assert_allclose(y[0, 40:80], -y[0, :40], atol=1e-6)  # ...opposite target


def test_burst_target_latches_to_zero_when_the_burst_ends():
    x, y, info = signals.burst_sequences(200, 130, burst_length=(5, 20), amplitude=(0.2, 2.0), seed=3)
    assert set(np.unique(info["burst_length"])) <= set(range(5, 21)) and info["start"].max() < 50
    for i in range(200):
        s, n, a = info["start"][i], info["burst_length"][i], info["amplitude"][i]
        assert np.all(y[i, : s + n] == 1) and np.all(y[i, s + n :] == 0)
        assert np.all(x[i, :s] == 0) and np.all(x[i, s + n :] == 0)
        np.testing.assert_allclose(x[i, s : s + n], a * np.sin(np.pi * np.arange(n) / n), atol=1e-6)


@pytest.mark.parametrize("call, match", [
    (lambda: signals.burst_sequences(4, 55, start=(0, 50)), "does not end before"),
    (lambda: signals.burst_sequences(4, burst_length=2), "burst_length must be >= 3"),
    (lambda: signals.burst_sequences(4, start=(10, 10)), "start must be"),
    (lambda: signals.burst_sequences(4, amplitude=(-1.0, 1.0)), "amplitude must be finite and above 0"),
    (lambda: signals.divider_sequences(4, 100, period=3.0), "period must be finite and above 4"),
    (lambda: signals.divider_sequences(4, 100, period=(80, 40)), "low <= high"),
    (lambda: signals.divider_sequences(0, 100), "n must be a positive integer"),
])
def test_memory_signal_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_consecutive_windows_continue_each_sequence_and_switch_groups():
    x = np.arange(6 * 40, dtype=np.float32).reshape(6, 40)  # value = 40 * sequence + step
    ds, k = consecutive_windows(x, x + 0.5, window=10, batch_size=3, repeat=False)
    batches = [(a.numpy()[..., 0], b.numpy()[..., 0]) for a, b in ds]
    assert k == 4 and len(batches) == 8
    for j, (a, b) in enumerate(batches):
        np.testing.assert_array_equal(b, a + 0.5)  # targets aligned with their inputs
        if j % k:  # within a group: row r continues row r of the previous batch
            np.testing.assert_array_equal(a[:, 0], batches[j - 1][0][:, -1] + 1)
        else:  # a new group starts at step 0 of new sequences: the state must be reset here
            assert np.all(a[:, 0] % 40 == 0)
    assert {int(r) for a, _ in batches[:k] for r in a[:, 0] // 40} == {0, 1, 2}
    assert {int(r) for a, _ in batches[k:] for r in a[:, 0] // 40} == {3, 4, 5}


def test_shuffled_groups_keep_their_window_order():
    x = np.arange(8 * 30, dtype=np.float32).reshape(8, 30)
    ds, k = consecutive_windows(x, x, window=10, batch_size=2, shuffle=True, seed=1, repeat=False)
    firsts = [a.numpy()[:, 0, 0] for a, _ in ds]
    groups = [tuple(firsts[g * k] // 30) for g in range(4)]
    assert sorted(groups) == [(0, 1), (2, 3), (4, 5), (6, 7)] and groups != sorted(groups)
    for g in range(4):
        np.testing.assert_array_equal([f % 30 for f in firsts[g * k : (g + 1) * k]], [[0, 0], [10, 10], [20, 20]])


def test_independent_windows_and_sequences_hold_real_aligned_data():
    x, y, _ = signals.divider_sequences(4, 64, seed=0)
    xb, yb = next(iter(independent_windows(x, y, window=16, batch_size=8, seed=2)))
    for a, b in zip(xb.numpy()[..., 0], yb.numpy()[..., 0]):
        s, t = np.argwhere(np.isclose(x.reshape(4, 4, 16), a).all(-1))[0]
        np.testing.assert_array_equal(b, y[s, 16 * t : 16 * t + 16])
    xb, yb = next(iter(sequence_dataset(x, y, batch_size=4, shuffle=False)))
    np.testing.assert_array_equal(xb.numpy()[..., 0], x)
    np.testing.assert_array_equal(yb.numpy()[..., 0], y)
    ds, k = divider_dataset(32, 64, batch_size=8, window=16)
    assert k == 4 and tuple(next(iter(ds))[1].shape) == (8, 16, 1)
    xb, yb = next(iter(burst_dataset(64, batch_size=16)))
    assert yb.dtype.name == "float32" and tuple(xb.shape) == (16, 130, 1)


@pytest.mark.parametrize("call, error, match", [
    (lambda x, y: consecutive_windows(x, y[:, :-1], 8, 2), ValueError, "same"),
    (lambda x, y: consecutive_windows(x, y[:3], 8, 2), ValueError, "same"),
    (lambda x, y: sequence_dataset(np.where(x > 0.9, np.nan, x), y), ValueError, "inputs holds NaN"),
    (lambda x, y: sequence_dataset(x, np.full_like(y, np.inf)), ValueError, "targets holds NaN"),
    (lambda x, y: independent_windows(x[:, :0], y[:, :0], 4), ValueError, "inputs is empty"),
    (lambda x, y: independent_windows(x, y, 100), ValueError, "longer than the sequences"),
    (lambda x, y: consecutive_windows(x, y, 8, 10), ValueError, "exceeds the 4 sequences"),
    (lambda x, y: sequence_dataset(x.astype(str), y), TypeError, "real numbers"),
])
def test_memory_pipelines_bad_inputs(call, error, match):
    x, y, _ = signals.divider_sequences(4, 64, seed=0)
    with pytest.raises(error, match=match):
        call(x, y)


def test_tfds_builders_match_the_signals(tmp_path):
    pytest.importorskip("tensorflow_datasets")
    from periodic_keras.data.tfds_memory import build_memory_dataset

    div = build_memory_dataset(tmp_path, "sine_divider", "small")
    test = list(div.as_dataset(split="test"))
    x, y, info = signals.divider_sequences(8, 1280, (40.0, 80.0), seed=1)
    np.testing.assert_array_equal(np.stack([e["inputs"].numpy()[:, 0] for e in test]), x)
    np.testing.assert_array_equal(np.stack([e["targets"].numpy()[:, 0] for e in test]), y)
    burst = build_memory_dataset(tmp_path, "sine_burst", "small")
    assert {k: v.num_examples for k, v in burst.info.splits.items()} == {"train": 256, "test": 32, "test_long": 32}
    ex = next(iter(burst.as_dataset(split="test_long")))
    s, n = int(ex["start"]), int(ex["burst_length"])
    t = ex["targets"].numpy()
    assert len(t) == 1300 and t[: s + n].all() and not t[s + n :].any()
    with pytest.raises(ValueError, match="unknown dataset"):
        build_memory_dataset(tmp_path, "sine_clock")

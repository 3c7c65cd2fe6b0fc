import numpy as np
import pytest

from periodic_keras.classical import dsp
from periodic_keras.jobs import evaluate
from periodic_keras.data import random_windows


def series(n=5, length=400):
    return (np.arange(n)[:, None] * 1000 + np.arange(length)[None, :]).astype(np.float32)


def test_crops_are_real_windows_and_targets_shift_by_one():
    x = series()
    inputs, targets = next(iter(random_windows(x, window=20, batch_size=16, seed=3)))
    inputs, targets = inputs.numpy()[..., 0], targets.numpy()[..., 0]
    np.testing.assert_array_equal(targets, inputs + 1)
    rows, starts = (inputs[:, 0] // 1000).astype(int), (inputs[:, 0] % 1000).astype(int)
    for r, s, crop in zip(rows, starts, inputs):
        np.testing.assert_array_equal(crop, x[r, s:s + 20])
    assert len(set(rows)) > 1 and len(set(starts)) > 4


def test_stream_is_reproducible_and_covers_the_series():
    x = series(3, 60)
    take = lambda seed: np.concatenate([b[0].numpy() for b in random_windows(x, 10, 32, seed=seed).take(20)])
    a, b, c = take(1), take(1), take(2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    starts = (a[:, 0, 0] % 1000).astype(int)
    assert starts.min() == 0 and starts.max() == 60 - 10 - 1  # every start that fits is drawn


def test_mixed_window_lengths_follow_the_mix():
    ds = random_windows(series(), window=(10, 30), batch_size=4, mix=(0.75, 0.25), seed=0)
    lengths = [int(b[0].shape[1]) for b in ds.take(400)]
    assert set(lengths) == {10, 30}
    assert 0.18 < lengths.count(30) / len(lengths) < 0.32


def test_noise_ramps_in_and_spares_the_targets():
    x = np.zeros((4, 300), np.float32)
    ds = random_windows(x, window=200, batch_size=256, noise_std=0.5, noise_ramp=100, seed=0)
    inputs, targets = next(iter(ds))
    std = inputs.numpy()[..., 0].std(axis=0)
    assert np.all(targets.numpy() == 0)
    assert std[0] == 0.0
    assert abs(std[50] - 0.25) < 0.05 and abs(std[150:].mean() - 0.5) < 0.02


@pytest.mark.parametrize("kwargs, match", [
    (dict(window=400), "longer than"),
    (dict(window=()), "non-empty"),
    (dict(window=(10, 0)), "window must be a positive integer"),
    (dict(window=(10, 20), mix=(1.0,)), "one non-negative probability per window"),
    (dict(window=(10, 20), mix=(-1.0, 2.0)), "one non-negative probability per window"),
    (dict(window=(10, 20), weights=np.ones(10)), "single window length"),
    (dict(noise_std=-0.1), "noise_std"),
    (dict(noise_std=float("nan")), "noise_std"),
    (dict(noise_ramp=-1), "noise_ramp"),
    (dict(batch_size=0), "batch_size"),
])
def test_random_windows_bad_inputs(kwargs, match):
    with pytest.raises(ValueError, match=match):
        random_windows(series(), **(dict(window=10) | kwargs))


def test_seasonal_naive_repeats_the_last_period():
    history = np.arange(48.0).reshape(2, 24)
    out = dsp.seasonal_naive(history, period=12, horizon=30)
    np.testing.assert_array_equal(out[:, :12], history[:, 12:])
    np.testing.assert_array_equal(out[:, 12:24], history[:, 12:])
    with pytest.raises(ValueError, match="fewer than one period"):
        dsp.seasonal_naive(np.zeros(5), period=6, horizon=2)
    with pytest.raises(ValueError, match="horizon must be a positive integer"):
        dsp.seasonal_naive(np.zeros(5), period=2, horizon=0)


def test_forecast_table_scores_each_method():
    truth = np.ones((3, 4))
    table = evaluate.forecast_table({"a": truth + 0.5, "b": truth - 1.0}, truth).set_index("method")
    assert table.loc["a", "mae"] == pytest.approx(0.5) and table.loc["b", "rmse"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="shape"):
        evaluate.forecast_table({"c": np.ones((3, 5))}, truth)

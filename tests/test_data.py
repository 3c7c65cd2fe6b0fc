import numpy as np
import pandas as pd
import pytest

from periodic_keras.data import as_series, frequency_arrays, frequency_dataset, windowed_dataset


def test_train_stream_shapes_dtypes_and_fresh_batches():
    ds = frequency_dataset("train", window=64, fmin=1, fmax=20, batch_size=16, seed=3)
    batches = list(ds.take(3).as_numpy_iterator())
    for x, f in batches:
        assert x.shape == (16, 64, 1) and f.shape == (16,)
        assert x.dtype == np.float32 and f.dtype == np.float32
        assert np.all((f >= 1) & (f <= 20))
    assert not np.array_equal(batches[0][0], batches[1][0])


def test_train_stream_is_reproducible():
    a = next(iter(frequency_dataset("train", window=64, fmin=1, fmax=20, batch_size=8, seed=5)))
    b = next(iter(frequency_dataset("train", window=64, fmin=1, fmax=20, batch_size=8, seed=5)))
    c = next(iter(frequency_dataset("train", window=64, fmin=1, fmax=20, batch_size=8, seed=6)))
    np.testing.assert_array_equal(a[0].numpy(), b[0].numpy())
    assert not np.array_equal(a[0].numpy(), c[0].numpy())


def test_fixed_sets_repeat_and_splits_differ():
    ds = frequency_dataset("test", window=64, fmin=1, fmax=20, snr_db=10.0, batch_size=10, num_examples=25)
    first = np.concatenate([f for _, f in ds.as_numpy_iterator()])
    second = np.concatenate([f for _, f in ds.as_numpy_iterator()])
    assert first.shape == (25,)
    np.testing.assert_array_equal(first, second)
    _, fv = frequency_arrays(25, "validation", window=64, fmin=1, fmax=20, snr_db=10.0)
    assert not np.array_equal(first, fv)


def test_clean_fraction():
    x, f = frequency_arrays(100, "test", window=64, fmin=2, fmax=20, snr_db=0.0, clean_fraction=0.5)
    x = x[..., 0].astype(np.float64)
    # A noiseless sine satisfies x[n-1] + x[n+1] = 2 cos(w) x[n] exactly; noise breaks it.
    lhs, mid = x[:, :-2] + x[:, 2:], x[:, 1:-1]
    c = np.sum(lhs * mid, axis=1) / np.sum(mid * mid, axis=1)
    residual = np.sum((lhs - c[:, None] * mid) ** 2, axis=1) / np.sum(lhs**2, axis=1)
    assert (residual < 1e-8).sum() == 50


@pytest.mark.parametrize("kwargs, match", [
    (dict(split="test"), "pass num_examples"),
    (dict(split="bogus", num_examples=3), "unknown split"),
    (dict(fmax=40, window=64), "Nyquist"),
    (dict(batch_size=0), "batch_size"),
])
def test_bad_dataset_arguments(kwargs, match):
    args = dict(window=64, fmin=1, fmax=20) | kwargs
    with pytest.raises(ValueError, match=match):
        frequency_dataset(**args)


def test_windowed_dataset_from_numpy_and_pandas():
    t = np.arange(1000)
    series = np.sin(2 * np.pi * 7 * t / 100)
    windows = np.concatenate(list(windowed_dataset(series, window=100, stride=50, batch_size=4).as_numpy_iterator()))
    assert windows.shape == (19, 100, 1)
    np.testing.assert_allclose(windows[1, :, 0], series[50:150], rtol=1e-6)
    frame = pd.DataFrame({"temp": series})
    from_frame = np.concatenate(list(windowed_dataset(frame, 100, 50, column="temp").as_numpy_iterator()))
    np.testing.assert_array_equal(windows, from_frame)


def test_windowed_dataset_with_targets_pairs_window_starts():
    series = np.arange(20, dtype=float)
    ds = windowed_dataset(series, window=5, stride=3, batch_size=100, targets=series * 10)
    x, y = next(iter(ds))
    np.testing.assert_array_equal(x.numpy()[:, 0, 0] * 10, y.numpy())


def test_windowed_dataset_from_csv(tmp_path):
    path = tmp_path / "s.csv"
    pd.DataFrame({"v": np.arange(30.0)}).to_csv(path, index=False)
    x = next(iter(windowed_dataset(str(path), window=10, stride=10, column="v")))
    assert x.shape == (3, 10, 1)


@pytest.mark.parametrize("data, kwargs, error, match", [
    (np.array([1.0, np.nan, 2.0] * 50), {}, ValueError, "NaN/inf"),
    (np.array([1.0, np.inf] * 80), {}, ValueError, "NaN/inf"),
    (np.zeros((10, 20)), {}, ValueError, "1-D"),
    (np.array([]), {}, ValueError, "empty"),
    (np.zeros(50), {}, ValueError, "fewer than one window"),
    (np.array(["a"] * 200), {}, TypeError, "real numbers"),
    ("/no/such/file.csv", {"column": "v"}, FileNotFoundError, "not found"),
    (pd.DataFrame({"a": np.zeros(200)}), {"column": "b"}, KeyError, "column 'b' not found"),
    (np.zeros(200), {"targets": np.zeros(10)}, ValueError, "targets has length"),
    (np.zeros(200), {"stride": 0}, ValueError, "stride must be a positive integer"),
])
def test_adapter_bad_inputs(data, kwargs, error, match):
    with pytest.raises(error, match=match):
        windowed_dataset(data, window=100, **kwargs)


def test_as_series_dtype():
    assert as_series([1, 2, 3]).dtype == np.float32

"""The offline TFDS builder ``sine_frequency`` (config ``small``)."""

from __future__ import annotations

import os
import socket

import numpy as np
import pytest

tfds = pytest.importorskip("tensorflow_datasets")

from periodic_keras import signals  # noqa: E402
from periodic_keras.data import tfds_sine_frequency as sf  # noqa: E402  (registers the builder)

NAME = "sine_frequency/small"
CONFIG = next(c for c in sf.SineFrequency.BUILDER_CONFIGS if c.name == "small")
SIZES = {"train": 1000, "validation": 200, "test": 200}


def _no_network(*args, **kwargs):
    raise AssertionError(f"tfds tried to reach the network: {args!r}")


def _load_all(data_dir):
    """Build (offline, with Python sockets disabled) and load every split as NumPy."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", _no_network)
        mp.setattr(socket, "create_connection", _no_network)
        mp.setattr(socket, "getaddrinfo", _no_network)
        splits = tfds.load(
            NAME, data_dir=os.fspath(data_dir), try_gcs=False, download=True, batch_size=-1
        )
    return {name: tfds.as_numpy(ds) for name, ds in splits.items()}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return _load_all(tmp_path_factory.mktemp("tfds_a"))


def test_registered_with_default_config():
    assert "sine_frequency" in tfds.list_builders(with_community_datasets=False)
    assert sf.SineFrequency.DEFAULT_CONFIG_NAME == "w100_f1_30"
    assert {c.name for c in sf.SineFrequency.BUILDER_CONFIGS} >= {"w100_f1_30", "small"}
    assert sf.SineFrequency.VERSION == "1.0.0"


def test_split_sizes_shapes_and_dtypes(data):
    assert set(data) == set(SIZES)
    for split, n in SIZES.items():
        ex = data[split]
        assert set(ex) == {"window", "frequency", "snr_db", "amplitude", "phase"}
        assert ex["window"].shape == (n, CONFIG.window, 1)
        for key in ("frequency", "snr_db", "amplitude", "phase"):
            assert ex[key].shape == (n,), key
        for key, value in ex.items():
            assert value.dtype == np.float32, key


def test_value_ranges(data):
    for split, ex in data.items():
        f = ex["frequency"]
        assert np.all((f >= CONFIG.fmin) & (f <= CONFIG.fmax)), split
        assert np.all((ex["amplitude"] >= 0.5) & (ex["amplitude"] <= 2.0)), split
        assert np.all((ex["phase"] >= 0) & (ex["phase"] <= np.float32(2 * np.pi))), split
        assert np.all(np.isfinite(ex["window"])), split
    assert np.all(np.isposinf(data["test"]["snr_db"]))
    for split in ("train", "validation"):
        snr = data[split]["snr_db"]
        assert np.all((snr >= 0.0) & (snr <= 40.0)), split
        assert snr.std() > 5.0, split  # drawn per window, not one value


def test_noiseless_test_fft_peak(data):
    ex = data["test"]
    spectrum = np.abs(np.fft.rfft(ex["window"][..., 0], axis=-1))
    peak = spectrum[:, 1:].argmax(axis=-1) + 1  # skip DC
    assert np.all(np.abs(peak - np.round(ex["frequency"])) <= 1)
    # The windows are exactly the noiseless tones their metadata describe.
    n = np.arange(CONFIG.window) / CONFIG.window
    tone = ex["amplitude"][:, None] * np.sin(
        2 * np.pi * ex["frequency"][:, None] * n + ex["phase"][:, None]
    )
    np.testing.assert_allclose(ex["window"][..., 0], tone, atol=1e-4)


def test_matches_sine_windows_in_generation_order(data):
    seed = np.random.SeedSequence([CONFIG.seed, sf.SPLIT_INDEX["validation"], 0])
    x, f, info = signals.sine_windows(
        SIZES["validation"], CONFIG.window, CONFIG.fmin, CONFIG.fmax,
        snr_db=CONFIG.snr_db, amplitude=CONFIG.amplitude, seed=seed,
    )
    np.testing.assert_array_equal(data["validation"]["window"][..., 0], x)
    np.testing.assert_array_equal(data["validation"]["frequency"], f)
    np.testing.assert_array_equal(data["validation"]["snr_db"], info["snr_db"].astype(np.float32))


def test_deterministic_across_builds(data, tmp_path):
    # Built through the helper this time, in another directory.
    builder = sf.build_sine_frequency(tmp_path, "small")
    assert {k: v.num_examples for k, v in builder.info.splits.items()} == SIZES
    other = _load_all(tmp_path)  # reuses the prepared files
    for split in SIZES:
        for key, value in data[split].items():
            np.testing.assert_array_equal(other[split][key], value, err_msg=f"{split}/{key}")
    assert not np.array_equal(data["train"]["frequency"][:200], data["validation"]["frequency"])

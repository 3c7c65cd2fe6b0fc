import numpy as np
import pytest

from periodic_keras import signals


def test_fft_peak_at_requested_integer_frequency():
    x, f, _ = signals.sine_windows(200, window=128, fmin=1, fmax=60, integer_frequencies=True, seed=1)
    peaks = np.argmax(np.abs(np.fft.rfft(x, axis=1)), axis=1)
    np.testing.assert_array_equal(peaks, f.astype(int))


def test_continuous_frequency_peak_within_half_bin():
    x, f, _ = signals.sine_windows(500, window=100, fmin=1, fmax=30, seed=2)
    spectrum = np.abs(np.fft.rfft(x, n=1600, axis=1))  # 16x zero padding: bins of 1/16 cycle
    peaks = np.argmax(spectrum, axis=1) / 16
    assert np.max(np.abs(peaks - f)) < 0.5
    assert np.median(np.abs(peaks - f)) < 0.05
    assert len(np.unique(np.round(f, 3))) > 450  # continuous, not integer


@pytest.mark.parametrize("snr_db", [0.0, 10.0, 20.0])
def test_measured_snr_matches_request(snr_db):
    n, window = 400, 256
    x, f, info = signals.sine_windows(n, window=window, fmin=5, fmax=50, snr_db=snr_db, seed=3)
    t = np.arange(window) / window
    clean = info["amplitude"][:, None] * np.sin(2 * np.pi * f.astype(np.float64)[:, None] * t + info["phase"][:, None])
    noise = x - clean
    measured = 10 * np.log10(np.mean(clean**2) / np.mean(noise**2))
    assert abs(measured - snr_db) < 0.2


def test_snr_range_and_noiseless():
    x, _, info = signals.sine_windows(1000, snr_db=(0, 10), seed=4)
    assert info["snr_db"].min() >= 0 and info["snr_db"].max() <= 10 and info["snr_db"].std() > 2
    _, _, info = signals.sine_windows(10, snr_db=None, seed=4)
    assert np.all(np.isinf(info["snr_db"])) and np.all(info["noise_std"] == 0)


def test_deterministic_from_seed():
    a = signals.sine_windows(20, snr_db=5, seed=7)
    b = signals.sine_windows(20, snr_db=5, seed=7)
    c = signals.sine_windows(20, snr_db=5, seed=8)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])


def test_amplitude_range():
    x, _, info = signals.sine_windows(300, amplitude=(0.5, 2.0), seed=5)
    assert 0.5 <= info["amplitude"].min() and info["amplitude"].max() <= 2.0
    assert np.max(np.abs(x)) <= 2.0 + 1e-6


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(window=100, fmin=1, fmax=50), "Nyquist"),
        (dict(window=100, fmin=1, fmax=60), "Nyquist"),
        (dict(window=4, fmin=1, fmax=1.5), "too short"),
        (dict(window=100, fmin=0, fmax=10), "fmin=0 must be positive"),
        (dict(window=100, fmin=10, fmax=5), "below fmin"),
        (dict(window=100, fmin=1, fmax=float("nan")), "finite"),
        (dict(window=100, fmin=1, fmax=10, snr_db=float("nan")), "NaN"),
        (dict(window=100, fmin=1, fmax=10, amplitude=(-1, 2)), "amplitude"),
    ],
)
def test_bad_arguments_name_the_problem(kwargs, match):
    with pytest.raises(ValueError, match=match):
        signals.sine_windows(3, **kwargs)


def test_window_must_be_integer():
    with pytest.raises(TypeError, match="window must be an integer"):
        signals.sine_windows(3, window=100.5)

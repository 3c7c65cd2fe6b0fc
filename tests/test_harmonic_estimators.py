"""Harmonic NLS (``harmonic_frequency``) and YIN (``yin_frequency``) fundamental-frequency estimators."""

from __future__ import annotations

import numpy as np
import pytest

from periodic_keras.classical import harmonic_frequency, ml_frequency, yin_frequency

N = 100
n = np.arange(N)


def harmonic(f0, amplitudes, phase=0.3):
    """Band-limited waveform: harmonics ``k f0 < N/2`` with the given amplitudes."""
    return sum(a * np.sin(2 * np.pi * k * f0 * n / N + k * phase)
               for k, a in enumerate(amplitudes, 1) if k * f0 < N / 2)


PROFILES = {
    "sawtooth": [1 / k for k in range(1, 61)],
    "square": [1 / k if k % 2 else 0.0 for k in range(1, 61)],
    "pulse": [1.0] * 60,
    "missing": [0.0] + [1 / k for k in range(2, 61)],
}


def noisy(rng, x, snr_db):
    power = np.mean((x - x.mean(-1, keepdims=True)) ** 2, -1, keepdims=True)
    return x + rng.normal(size=x.shape) * np.sqrt(power / 10 ** (snr_db / 10))


def gross(est, f0):
    return np.mean(np.abs(est - f0) > np.maximum(0.03 * f0, 0.2))


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_exact_on_noiseless_harmonic_windows(profile):
    f0 = np.array([1.3, 3.7, 7.3, 11.1, 19.9, 29.7] if profile != "missing" else [1.3, 3.7, 7.3, 11.1, 16.1])
    x = np.stack([harmonic(f, PROFILES[profile]) for f in f0])
    np.testing.assert_allclose(harmonic_frequency(x), f0, atol=1e-6)


def test_order_selection():
    rng = np.random.default_rng(0)
    five = noisy(rng, np.stack([harmonic(f, [1, 0.8, 0.6, 0.5, 0.4], p) for f, p in
                                zip(rng.uniform(2, 9, 20), rng.uniform(0, 6, 20))]), 20)
    f, k = harmonic_frequency(five, return_order=True)
    assert np.median(k) == 5 and np.all(np.abs(k - 5) <= 1)
    tone = noisy(rng, np.stack([harmonic(f, [1.0]) for f in rng.uniform(2, 30, 40)]), 20)
    k = harmonic_frequency(tone, return_order=True)[1]
    assert np.mean(k == 1) >= 0.85  # the MAP rule's ln N per harmonic: a noise harmonic passes ~4 % of the time
    square = harmonic(6.1, PROFILES["square"])
    f, k = harmonic_frequency(square, return_order=True)
    assert abs(float(f) - 6.1) < 1e-6 and int(k) == 7  # harmonics 1, 3, 5, 7; the even ones absent


@pytest.mark.parametrize("profile", ["sawtooth", "square"])
def test_no_octave_errors_at_10_db(profile):
    rng = np.random.default_rng(1)
    f0 = rng.uniform(1, 30, 200)
    x = noisy(rng, np.stack([harmonic(f, PROFILES[profile], p) for f, p in zip(f0, rng.uniform(0, 6, 200))]), 10)
    assert gross(harmonic_frequency(x), f0) <= 0.01


def test_pure_tones_match_ml_frequency():
    rng = np.random.default_rng(2)
    f0 = rng.uniform(1.5, 30, 200)
    x = noisy(rng, np.stack([harmonic(f, [1.0], p) for f, p in zip(f0, rng.uniform(0, 6, 200))]), 10)
    rmse = np.sqrt(np.mean((harmonic_frequency(x) - f0) ** 2))
    rmse_ml = np.sqrt(np.mean((ml_frequency(x, fmin=1, fmax=N / 2 - 1 / 8) - f0) ** 2))
    assert rmse <= 1.1 * rmse_ml


def test_trend_on_a_quadratic_baseline():
    rng = np.random.default_rng(3)
    f0 = rng.uniform(1.5, 10, 40)
    u = np.linspace(-1, 1, N)
    base = 3.0 * (0.3 + 0.5 * u - 1.0 * u**2)
    x = noisy(rng, np.stack([harmonic(f, [1.0], p) for f, p in zip(f0, rng.uniform(0, 6, 40))]), 20) + base
    err = {d: np.sqrt(np.mean((harmonic_frequency(x, trend=d) - f0) ** 2)) for d in (0, 1, 2)}
    assert err[2] < err[0] and err[1] < err[0] and err[2] < 0.1


def test_robust_with_spikes():
    rng = np.random.default_rng(4)
    f0 = rng.uniform(2, 25, 60)
    x = noisy(rng, np.stack([harmonic(f, [1.0], p) for f, p in zip(f0, rng.uniform(0, 6, 60))]), 10)
    for row in x:
        idx = rng.choice(N, 3, replace=False)
        row[idx] += rng.choice([-1, 1], 3) * 5 * np.std(row)
    plain, robust = harmonic_frequency(x), harmonic_frequency(x, robust=True)
    assert gross(robust, f0) < gross(plain, f0) or gross(robust, f0) == 0
    ok = np.abs(robust - f0) < 0.5
    assert np.median(np.abs(robust - f0)[ok]) < np.median(np.abs(plain - f0)[ok])


def test_shapes_and_batches():
    x = np.stack([harmonic(f, PROFILES["sawtooth"]) for f in (2.5, 5.5, 8.5, 12.5)]).reshape(2, 2, N)
    f, k = harmonic_frequency(x, return_order=True)
    assert f.shape == k.shape == (2, 2)
    np.testing.assert_allclose(f.ravel(), [2.5, 5.5, 8.5, 12.5], atol=1e-6)
    assert abs(float(harmonic_frequency(harmonic(8.2, [1.0, 0.5]), fmin=5, fmax=12, max_harmonics=3)) - 8.2) < 1e-6


@pytest.mark.parametrize("f0", [1.3, 3.7, 5.1])
def test_yin_on_a_noiseless_sawtooth(f0):
    est = float(yin_frequency(harmonic(f0, PROFILES["sawtooth"])))
    assert abs(est - f0) < 0.005 * f0


def test_yin_batches():
    x = np.stack([harmonic(f, PROFILES["sawtooth"]) for f in (2.0, 4.0)])
    assert yin_frequency(x, fmin=1.5, fmax=10).shape == (2,)


@pytest.mark.parametrize("kwargs, match", [
    ({"fmin": 0.0}, "fmin"), ({"fmax": 60.0}, "fmax"), ({"fmin": 20.0, "fmax": 10.0}, "above"),
    ({"max_harmonics": 0}, "max_harmonics"), ({"trend": 4}, "trend"), ({"trend": -1}, "trend"),
    ({"oversample": 0}, "oversample"), ({"robust": "yes"}, "robust"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        harmonic_frequency(harmonic(5.0, [1.0]), **kwargs)


def test_bad_inputs():
    x = harmonic(5.0, [1.0])
    x[3] = np.nan
    for fn in (harmonic_frequency, yin_frequency):
        with pytest.raises(ValueError, match="NaN"):
            fn(x)
    with pytest.raises(ValueError, match="threshold"):
        yin_frequency(harmonic(5.0, [1.0]), threshold=0.0)
    with pytest.raises(ValueError, match="too short"):
        harmonic_frequency(np.ones(8), trend=3)

import dataclasses
import math
import tracemalloc

import numpy as np
import pytest

from periodic_keras.classical import fitting
from periodic_keras.classical import SineFit, SinesFit, crlb_omega_std, fit_frequencies, fit_frequency, lomb_scargle


def test_super_nyquist_tone_on_wide_irregular_x_noiseless():
    # the case gradient descent fails: the loss basin in omega is ~3e-3 wide on a span of 2000
    rng = np.random.default_rng(0)
    x = rng.uniform(-1000, 1000, 1000)
    fit = fit_frequency(x, np.sin(31 * x + 0.3), max_frequency=40)
    assert abs(fit.omega - 31) / 31 <= 1e-6
    assert fit.amplitude == pytest.approx(1, abs=1e-6) and fit.phase == pytest.approx(0.3, abs=1e-6)
    assert abs(fit.offset) < 1e-6 and fit.rmse < 1e-6
    assert fit.period == pytest.approx(2 * np.pi / 31, rel=1e-9)


def test_zero_db_rmse_within_twice_the_crlb():
    rng = np.random.default_rng(1)
    x = rng.uniform(-100, 100, 300)
    sigma = math.sqrt(0.5)  # SNR = A**2 / (2 sigma**2) = 1, 0 dB
    errors, bounds = [], []
    for _ in range(40):
        phase = rng.uniform(-np.pi, np.pi)
        y = 0.5 + np.sin(3.3 * x + phase) + sigma * rng.standard_normal(x.size)
        errors.append(fit_frequency(x, y, max_frequency=10).omega - 3.3)
        bounds.append(crlb_omega_std(x, 3.3, 1.0, sigma, phase=phase))
    ratio = np.sqrt(np.mean(np.square(errors))) / np.sqrt(np.mean(np.square(bounds)))
    assert 0.5 < ratio < 2.0, ratio


@pytest.mark.parametrize("widths", [None, 3.0])  # None: 3.0 and 3.7 (11 widths apart)
def test_two_tones_are_separated(widths):
    rng = np.random.default_rng(2)
    x = rng.uniform(0, 100, 500)
    omega2 = 3.7 if widths is None else 3.0 + widths * 2 * np.pi / np.ptp(x)
    y = 0.2 + np.sin(3.0 * x + 1.0) + 0.5 * np.sin(omega2 * x - 2.0) + 0.05 * rng.standard_normal(x.size)
    fit = fit_frequencies(x, y, 2, max_frequency=10)
    assert isinstance(fit, SinesFit) and len(fit) == 2
    np.testing.assert_allclose(fit.omegas, [3.0, omega2], atol=1e-3)
    np.testing.assert_allclose(fit.amplitudes, [1.0, 0.5], atol=0.03)
    np.testing.assert_allclose(fit.phases, [1.0, -2.0], atol=0.1)
    assert fit.offset == pytest.approx(0.2, abs=0.02) and fit.rmse == pytest.approx(0.05, rel=0.2)


def test_two_tones_noiseless_exact_and_sorted_by_amplitude():
    x = np.random.default_rng(3).uniform(0, 50, 300)
    y = 0.3 * np.sin(1.1 * x) + 2.0 * np.sin(1.4 * x + 0.5)
    fit = fit_frequencies(x, y, 2, max_frequency=5)
    np.testing.assert_allclose(fit.omegas, [1.4, 1.1], rtol=1e-10)
    np.testing.assert_allclose(fit.amplitudes, [2.0, 0.3], rtol=1e-9)
    np.testing.assert_allclose(fit.periods, 2 * np.pi / np.array([1.4, 1.1]), rtol=1e-10)
    assert fit.tones[0].offset == fit.offset and fit.tones[1].offset == 0.0
    np.testing.assert_allclose(fit.predict(x), y, atol=1e-9)


def test_regular_sampling_fft_path():
    dt = 0.01
    x = 5.0 + np.arange(2000) * dt
    rng = np.random.default_rng(4)
    for omega in (3.0, 250.0):
        y = np.sin(omega * x + 1.0) + 0.01 * rng.standard_normal(x.size)
        fit = fit_frequency(x, y)  # default band: up to the Nyquist frequency pi / dt
        assert abs(fit.omega - omega) < 5 * crlb_omega_std(x, omega, 1.0, 0.01, phase=1.0)
    # the FFT periodogram is the generalised Lomb-Scargle one on its grid
    t = x - x.mean()
    w = np.full(x.size, 1 / x.size)
    grid, power = fitting.frequency_grid(t, w, fitting.regular_step(t), 1.0, 300.0, 3)
    assert np.allclose(np.diff(grid), 2 * np.pi / (3 * x.size * dt))
    np.testing.assert_allclose(power(y), lomb_scargle(x, y, grid), atol=1e-9)
    with pytest.raises(ValueError, match="Nyquist"):
        fit_frequency(x, y, max_frequency=400)


def test_daily_period_from_hourly_irregular_timestamps():
    rng = np.random.default_rng(5)
    t = 1.7e9 + np.arange(365 * 24) * 3600.0 + rng.uniform(-900, 900, 365 * 24)  # hourly +- 15 min, in s
    t = t[rng.random(t.size) > 0.1]  # 10 % missing
    sigma = math.sqrt(0.5 / 10**1.5)  # 15 dB
    y = 3.0 + np.sin(2 * np.pi * t / 86400 + 0.7) + sigma * rng.standard_normal(t.size)
    fit = fit_frequency(t, y)
    assert abs(fit.period - 86400) < 1.0
    assert fit.rmse == pytest.approx(sigma, rel=0.05)
    np.testing.assert_allclose(fit.predict(t[:100]), 3 + np.sin(2 * np.pi * t[:100] / 86400 + 0.7), atol=0.05)


def test_lomb_scargle_is_fraction_of_variance_explained_by_least_squares():
    rng = np.random.default_rng(6)
    x = rng.uniform(-20, 20, 60)
    y = 1 + np.sin(0.9 * x) + rng.standard_normal(x.size)
    weights = rng.uniform(0.5, 2.0, x.size)
    omegas = np.linspace(0.05, 3, 7)
    expected = []
    for omega in omegas:
        basis = np.column_stack([np.ones_like(x), np.cos(omega * x), np.sin(omega * x)]) * np.sqrt(weights)[:, None]
        resid = np.sqrt(weights) * y - basis @ np.linalg.lstsq(basis, np.sqrt(weights) * y, rcond=None)[0]
        mean = np.average(y, weights=weights)
        expected.append(1 - resid @ resid / np.sum(weights * (y - mean) ** 2))
    np.testing.assert_allclose(lomb_scargle(x, y, omegas, weights=weights), expected, atol=1e-12)
    # uniform grids go through block products, others directly: same values
    grid = np.linspace(0.01, 5, 500)
    order = rng.permutation(grid.size)
    np.testing.assert_allclose(lomb_scargle(x, y, grid)[order], lomb_scargle(x, y, grid[order]), atol=1e-10)
    assert lomb_scargle(x, y, [0.0])[0] == 0.0


def test_lomb_scargle_memory_stays_bounded():
    rng = np.random.default_rng(7)
    x = rng.uniform(0, 1000, 20000)
    omegas = np.linspace(0.01, 10, 1000)  # a full exp(i omega x) matrix would be 305 MiB
    tracemalloc.start()
    try:
        power = lomb_scargle(x, np.sin(3 * x), omegas)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20, peak
    assert abs(omegas[np.argmax(power)] - 3) < 0.01


def test_crlb_matches_fisher_information_of_amplitude_phase_model():
    x = 1000.0 + np.arange(50.0)
    omega, amplitude, phase, sigma = 0.8, 2.0, 0.4, 0.3
    # Jacobian of c + A sin(omega x + phase) in (omega, A, phase, c)
    jac = np.column_stack([x * amplitude * np.cos(omega * x + phase), np.sin(omega * x + phase),
                           amplitude * np.cos(omega * x + phase), np.ones_like(x)])
    expected = math.sqrt(np.linalg.inv(jac.T @ jac / sigma**2)[0, 0])
    assert crlb_omega_std(x, omega, amplitude, sigma, phase=phase) == pytest.approx(expected, rel=1e-6)
    # large-sample approximation; scaling in sigma / A; per-sample noise
    x = np.random.default_rng(8).uniform(-1000, 1000, 1000)
    approx = sigma / (amplitude * math.sqrt(np.sum((x - x.mean()) ** 2) / 2))
    assert crlb_omega_std(x, 31.0, amplitude, sigma) == pytest.approx(approx, rel=0.1)  # ~1/sqrt(N) phase effect
    assert crlb_omega_std(x, 31.0, 1.0, 1.0) == pytest.approx(
        crlb_omega_std(x, 31.0, amplitude, sigma) * amplitude / sigma, rel=1e-12)
    assert crlb_omega_std(x, 31.0, 1.0, np.full(x.size, 2.0)) == pytest.approx(2 * crlb_omega_std(x, 31.0, 1.0, 1.0))


def test_weights_zero_out_outliers_and_order_does_not_matter():
    rng = np.random.default_rng(9)
    x = rng.uniform(0, 200, 400)
    y = np.sin(2.2 * x + 0.1)
    y[:20] += 50.0
    weights = np.ones(x.size)
    weights[:20] = 0.0
    fit = fit_frequency(x, y, max_frequency=5, weights=weights)
    assert fit.omega == pytest.approx(2.2, rel=1e-10) and fit.amplitude == pytest.approx(1.0, rel=1e-9)
    order = rng.permutation(x.size)
    assert fit_frequency(x[order], y[order], max_frequency=5, weights=weights[order]).omega == pytest.approx(
        fit.omega, rel=1e-12)


def test_results_are_frozen_and_predict():
    fit = SineFit(omega=2.0, amplitude=1.5, phase=0.25, offset=-1.0, rmse=0.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fit.omega = 3.0
    x = np.linspace(0, 3, 7).reshape(7, 1)
    np.testing.assert_allclose(fit.predict(x), -1 + 1.5 * np.sin(2 * x + 0.25))
    assert fit.predict(x).shape == (7, 1) and fit.period == pytest.approx(np.pi)


X = np.linspace(0, 10, 20)
Y = np.sin(X)


@pytest.mark.parametrize("call, error, match", [
    (lambda: fit_frequency(X, Y[:-1]), ValueError, "same length"),
    (lambda: fit_frequency(X.reshape(4, 5), Y.reshape(4, 5)), ValueError, "1-D"),
    (lambda: fit_frequency(np.where(X > 5, np.inf, X), Y), ValueError, "x contains NaN or inf"),
    (lambda: fit_frequency(X, np.where(X > 5, np.inf, Y)), ValueError, "y contains NaN or inf"),
    (lambda: fit_frequency(X + 0j, Y), TypeError, "real numbers"),
    (lambda: fit_frequency(X > 5, Y), TypeError, "real numbers"),
    (lambda: fit_frequency(X[:3], Y[:3]), ValueError, "at least 4 samples.*got 3"),
    (lambda: fit_frequencies(X[:9], Y[:9], 3), ValueError, "fitting 3 tones needs at least 10 samples.*got 9"),
    (lambda: fit_frequencies(X, Y, 0), ValueError, "n_tones"),
    (lambda: fit_frequencies(X, Y, 1.5), ValueError, "n_tones"),
    (lambda: fit_frequency(np.ones(20), Y), ValueError, "constant"),
    (lambda: fit_frequency(X, Y, min_frequency=-1), ValueError, "min_frequency"),
    (lambda: fit_frequency(X, Y, max_frequency=0), ValueError, "max_frequency"),
    (lambda: fit_frequency(X, Y, min_frequency=2, max_frequency=1), ValueError, "below"),
    (lambda: fit_frequency(X, Y, min_frequency=7), ValueError, "empty frequency band"),
    (lambda: fit_frequency(X, Y, oversample=0.5), ValueError, "oversample"),
    (lambda: fit_frequency(X, Y, weights=-np.ones(20)), ValueError, "weights"),
    (lambda: fit_frequency(X, Y, weights=np.ones(19)), ValueError, "weights"),
    (lambda: lomb_scargle(X, Y, [-1.0, 1.0]), ValueError, "omegas"),
    (lambda: crlb_omega_std(X, 1.0, 0.0, 1.0), ValueError, "amplitude"),
    (lambda: crlb_omega_std(X, 1.0, 1.0, 0.0), ValueError, "noise_std"),
])
def test_bad_inputs_raise_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_default_band_finds_a_frequency_far_above_the_average_spacing():
    # Issue 14's seed problem with default arguments: omega = 31 is 20x the average spacing's Nyquist
    # frequency (pi / 2); the default band reaches what 1 % of the spacings resolve (~150 rad/unit).
    rng = np.random.default_rng(3)
    for _ in range(4):
        x = rng.uniform(-1000, 1000, 1000)
        fit = fitting.fit_frequency(x, np.sin(31 * x + rng.uniform(0, 2 * np.pi)))
        assert abs(fit.omega - 31) / 31 < 1e-6 and fit.rmse < 1e-9


@pytest.mark.slow
def test_clustered_sampling_fits_the_right_fringe_and_says_the_band_was_truncated():
    # Two clusters 990 apart: the periodogram is a comb of near-equal fringes 2 pi / 990 apart, and the
    # grid's highest point is often a neighbour; every strong fringe is polished and the best one fitted.
    for seed in range(3):
        rng = np.random.default_rng(seed)
        x = np.concatenate([rng.uniform(0, 10, 500), rng.uniform(990, 1000, 500)])
        with pytest.warns(UserWarning, match=r"the default search stops at .* pass max_frequency to search higher") as w:
            fit = fitting.fit_frequency(x, np.sin(2 * x))
        assert abs(fit.omega - 2.0) < 1e-9 and fit.rmse < 1e-9
        assert w[0].filename == __file__  # the warning names the caller's line, not the package's


def test_trend_is_fitted_jointly_and_auto_keeps_stationary_signals_constant():
    x = np.sort(np.random.default_rng(4).uniform(0, 60, 500))
    trend = 3.0 - 0.2 * x + 0.004 * x**2
    fit = fit_frequency(x, trend + 0.7 * np.sin(2.3 * x + 0.5))
    assert fit.omega == pytest.approx(2.3, rel=1e-10) and fit.amplitude == pytest.approx(0.7, rel=1e-9)
    assert len(fit.trend) == 2 and fit.rmse < 1e-9
    np.testing.assert_allclose(fit.trend_at(x), trend, atol=1e-8)
    np.testing.assert_allclose(fit.predict(x), trend + 0.7 * np.sin(2.3 * x + 0.5), atol=1e-8)
    stationary = fit_frequency(x, 1 + np.sin(2.3 * x))  # many periods, no trend: degree 0 chosen
    assert stationary.trend == () and stationary.offset == pytest.approx(1.0, abs=1e-9)
    with_trend0 = fit_frequency(x, trend + 0.7 * np.sin(2.3 * x), trend=0)
    assert with_trend0.rmse > 0.1  # the constant-only model cannot follow the trend
    cubic = fit_frequencies(x, trend + 0.7 * np.sin(2.3 * x), 1, trend=5)
    assert len(cubic.trend) == 5 and cubic.omegas[0] == pytest.approx(2.3, rel=1e-9)


def test_trend_does_not_cost_accuracy_on_few_periods():
    rng = np.random.default_rng(5)
    errors = {"auto": [], 0: []}
    for _ in range(30):
        x = np.sort(rng.uniform(0, 4 * np.pi, 60))  # two periods of omega = 1
        y = np.sin(x + rng.uniform(0, 6)) + rng.normal(0, 0.1, x.size)
        for trend in errors:
            errors[trend].append(fit_frequency(x, y, trend=trend).omega - 1.0)
    rmse = {k: float(np.sqrt(np.mean(np.square(v)))) for k, v in errors.items()}
    assert rmse["auto"] <= 1.5 * rmse[0], rmse

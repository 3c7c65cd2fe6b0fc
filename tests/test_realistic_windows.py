"""Realistic windows for frequency estimation (issue 30): every kind's truth, the fixed sets,
the tf.data pipeline and the offline TFDS builder ``realistic_frequency/small``."""

from __future__ import annotations

import numpy as np
import pytest

from periodic_keras.data import (GROSS_ABSOLUTE, GROSS_RELATIVE, KINDS, gross_errors, realistic_arrays,
                                 realistic_dataset, realistic_windows)
from periodic_keras.data.realistic import DISTURBANCES

N = 100


def _clean(kind, n=120, seed=0, **kwargs):
    """Noiseless windows of ``kind`` (the coloured kinds excepted: they are never noiseless)."""
    return realistic_windows(n, kind, window=N, clean_fraction=1.0, seed=seed, **kwargs)


def _fit(x, info, i, extra=()):
    """Least squares of window ``i`` on a constant, the fundamental, every other harmonic present
    (phase from the chirp's ends) and ``extra`` tones: ``(fraction of variance explained, harmonic
    amplitudes / scale, residual / scale)``."""
    t = np.arange(x.shape[1]) / x.shape[1]
    fa, fb = info["f_start"][i], info["f_end"][i]
    theta = 2 * np.pi * (fa * t + (fb - fa) * t**2 / 2)
    ks = np.union1d(np.nonzero(info["amplitudes"][i])[0] + 1, [1])
    cols = [np.ones_like(t)] + [g(k * theta) for k in ks for g in (np.sin, np.cos)]
    cols += [g(2 * np.pi * f * t) for f in extra for g in (np.sin, np.cos)]
    X = np.stack(cols, axis=1)
    y = x[i].astype(np.float64)
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    r = y - X @ coef
    amps = {int(k): float(np.hypot(coef[1 + 2 * j], coef[2 + 2 * j])) / info["scale"][i] for j, k in enumerate(ks)}
    return 1 - np.sum(r**2) / np.sum((y - y.mean()) ** 2), amps, r / info["scale"][i]


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_shape_dtype_range_and_reproducible(kind):
    x, f0, info = realistic_windows(64, kind, window=N, seed=3)
    assert x.shape == (64, N) and x.dtype == np.float32 and f0.shape == (64,) and f0.dtype == np.float32
    assert np.all(np.isfinite(x)) and np.all((f0 >= 1.0) & (f0 <= 30.0))
    assert all(len(v) == 64 for v in info.values())
    assert np.all((info["scale"] >= 0.1) & (info["scale"] <= 10))
    assert np.all(np.abs(info["offset"]) <= 3 * info["scale"])
    np.testing.assert_allclose(np.sum(info["amplitudes"] ** 2, axis=1), 1.0)  # unit power before the scale
    x2, f2, _ = realistic_windows(64, kind, window=N, seed=3)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(f0, f2)
    assert not np.array_equal(x, realistic_windows(64, kind, window=N, seed=4)[0])
    if kind in DISTURBANCES:
        assert all(kind in d.split("+") for d in info["disturbances"])
    elif kind == "mixed":
        assert all(1 <= len(d.split("+")) <= 3 for d in info["disturbances"])
    else:
        assert set(info["disturbances"]) == {""}


@pytest.mark.parametrize("kind", ["tone", "harmonic", "weak_fundamental", "missing_fundamental", "drift"])
def test_noiseless_windows_are_their_harmonics_at_the_truth(kind):
    x, f0, info = _clean(kind)
    assert np.all(np.isinf(info["snr_db"]))
    np.testing.assert_allclose((info["f_start"] + info["f_end"]) / 2, f0, rtol=1e-6)
    for i in range(len(f0)):
        explained, amps, _ = _fit(x, info, i)
        assert explained > 0.999, (kind, i, explained)
        # A wrong frequency explains far less: the fit does test the truth.
        if kind == "tone":
            assert amps[1] == pytest.approx(1.0, rel=1e-3)  # a unit sine, as in signals.sine_windows
        if 2 * len(amps) + 1 <= N // 4:  # few enough columns for a wrong f0 to fit badly
            shifted = {k: info[k] * (info["f_start"][i] + 0.5) / info["f_start"][i] for k in ("f_start", "f_end")}
            assert _fit(x, info | shifted, i)[0] < 0.99
        if kind == "missing_fundamental":
            assert amps[1] < 1e-3 and max(amps.values()) > 0.1
        if kind == "weak_fundamental":
            strongest = max(v for k, v in amps.items() if k > 1)
            assert 0.05 - 1e-3 < amps[1] / strongest < 0.3 + 1e-3
    if kind == "harmonic":
        assert np.mean(np.count_nonzero(info["amplitudes"], axis=1) > 1) > 0.5
    if kind == "missing_fundamental":
        assert f0.max() < N / 6 and np.all(info["amplitudes"][:, 0] == 0)
    if kind == "drift":
        df = np.abs(info["f_end"] - info["f_start"])
        assert np.all(df <= 0.1 * f0 + 1e-6) and np.max(df / f0) > 0.05


def test_tone_snr_is_power_over_noise_power():
    x, f0, info = realistic_windows(200, "tone", window=N, snr_db=10.0, clean_fraction=0.0, seed=1)
    ratios = []
    for i in range(len(f0)):
        explained, amps, _ = _fit(x, info, i)
        residual = (1 - explained) * np.var(x[i].astype(np.float64)) / info["scale"][i] ** 2
        ratios.append(0.5 / residual)
    assert 10 * np.log10(np.mean(ratios)) == pytest.approx(10.0, abs=1.0)


def test_clean_fraction_and_coloured_noise_is_never_clean():
    _, _, info = realistic_windows(50, "harmonic", window=N, clean_fraction=0.2, seed=0)
    assert np.sum(np.isinf(info["snr_db"])) == 10
    for kind in ("pink_noise", "brown_noise"):
        _, _, info = realistic_windows(20, kind, window=N, clean_fraction=1.0, seed=0)
        assert np.all(np.isfinite(info["snr_db"])) and np.all((info["snr_db"] >= 0) & (info["snr_db"] <= 40))


def test_coloured_noise_has_its_slope():
    """The residual after the true harmonics: white is flat, pink tilted, brown steeper still."""
    tilt = {}
    for kind in ("tone", "pink_noise", "brown_noise"):
        x, f0, info = realistic_windows(80, kind, window=N, fmin=10, fmax=20, snr_db=0.0, clean_fraction=0.0, seed=2)
        low = high = 0.0
        for i in range(len(f0)):
            spectrum = np.abs(np.fft.rfft(_fit(x, info, i)[2])) ** 2
            low, high = low + spectrum[1:4].sum() / 3, high + spectrum[30:50].sum() / 20
        tilt[kind] = low / high
    assert tilt["tone"] < 2 and tilt["pink_noise"] > 5 and tilt["brown_noise"] > 5 * tilt["pink_noise"]


def test_interferer_is_weaker_and_not_harmonic():
    x, f0, info = _clean("interference")
    fi, ai = info["f_interferer"], info["a_interferer"]
    assert np.all((ai >= 0.1) & (ai <= 0.5)) and np.all(np.abs(fi - f0) >= 2) and np.all(fi < N / 2)
    ratios = np.array([p / q for p in range(1, 5) for q in range(1, 5)])
    assert np.all(np.abs(fi[:, None] / f0[:, None] - ratios) > 0.05)
    for i in range(len(f0)):
        assert _fit(x, info, i)[0] < 0.999 < _fit(x, info, i, extra=[fi[i]])[0]


def test_quantised_windows_have_few_levels():
    x, _, info = realistic_windows(40, "quantised", window=N, seed=0)
    assert np.all((info["bits"] >= 3) & (info["bits"] <= 6))
    for row, bits in zip(x, info["bits"]):
        assert len(np.unique(row)) <= 2**bits


def test_clipped_windows_have_flat_tops():
    x, _, _ = _clean("clipped", n=40)
    flat = [max(np.sum(row == row.max()), np.sum(row == row.min())) for row in x]
    assert min(flat) >= 2


def test_lost_samples_are_held_or_zeroed_in_short_runs():
    x, _, info = realistic_windows(60, "missing_samples", window=N, seed=5)
    lost, held = info["lost"], info["held"]
    assert not lost[:, 0].any() and held.any() and (~held).any()
    fraction = lost.mean(axis=1)
    assert np.all((fraction >= 0.05) & (fraction <= 0.2))
    for row, mask, hold in zip(x, lost, held):
        edges = np.diff(np.concatenate([[0], mask.astype(int), [0]]))
        assert np.all(np.nonzero(edges == -1)[0] - np.nonzero(edges == 1)[0] <= 10)
        where = np.nonzero(mask)[0]
        expected = row[where - 1] if hold else 0.0
        np.testing.assert_array_equal(row[where], expected)


def test_impulsive_windows_have_spikes():
    x, _, info = _clean("impulsive", n=80)
    tones = np.nonzero(np.count_nonzero(info["amplitudes"], axis=1) == 1)[0]  # 3 parameters: spikes stay out
    assert len(tones) > 20 and all(np.abs(_fit(x, info, i)[2]).max() > 1.5 for i in tones)


def test_gross_errors_boundaries():
    assert (GROSS_RELATIVE, GROSS_ABSOLUTE) == (0.03, 0.2)
    truth = np.array([0.0, 0.0, 100.0, 100.0, 4.0, 4.0, 5.0, 5.0])
    est = np.array([0.2, 0.2001, 97.0, 96.9, 3.8125, 4.25, np.nan, np.inf])
    assert gross_errors(est, truth).tolist() == [False, True, False, True, False, True, True, True]
    assert gross_errors(np.full((2, 3), 10.0), 10.0).shape == (2, 3)


@pytest.mark.parametrize("kwargs, match", [
    (dict(kind="sawtooth"), "unknown kind"),
    (dict(fmax=50.0), "Nyquist"),
    (dict(fmin=0.0), "positive"),
    (dict(n=-1), "n must be"),
    (dict(snr_db=(40.0, 0.0)), "reversed"),
    (dict(snr_db=(0.0, np.nan)), "finite"),
    (dict(clean_fraction=1.5), "clean_fraction"),
    (dict(kind="missing_fundamental", window=16, fmin=3.0, fmax=7.0), "harmonics 2 and 3"),
    (dict(kind="weak_fundamental", window=16, fmin=4.5, fmax=7.0), "harmonic 2"),
])
def test_bad_arguments(kwargs, match):
    args = dict(n=4, kind="tone", window=N) | kwargs
    with pytest.raises(ValueError, match=match):
        realistic_windows(**args)


@pytest.mark.parametrize("kwargs, match", [
    (dict(split="bogus"), "unknown split"),
    (dict(kinds=["tone", "bogus"]), "unknown kind"),
    (dict(kinds=[]), "empty"),
    (dict(kinds=["tone", "tone"]), "repeats"),
    (dict(kinds=["tone", "am"], weights=[1.0]), "weights"),
    (dict(kinds=["tone", "am"], weights=[1.0, -1.0]), "weights"),
])
def test_bad_set_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        realistic_arrays(8, **kwargs)


def test_arrays_share_kinds_evenly_and_splits_are_disjoint():
    x, f0, k = realistic_arrays(34, "test", window=64, fmin=1, fmax=8)
    assert x.shape == (34, 64, 1) and x.dtype == np.float32 and k.dtype == np.int32
    assert np.bincount(k, minlength=len(KINDS)).tolist() == [3, 3] + [2] * (len(KINDS) - 2)
    assert np.all(np.diff(k) >= 0)
    np.testing.assert_array_equal(x, realistic_arrays(34, "test", window=64, fmin=1, fmax=8)[0])
    sets = {s: realistic_arrays(34, s, window=64, fmin=1, fmax=8)[1] for s in ("train", "validation", "test")}
    for a in sets:
        for b in sets:
            if a < b:
                assert not np.intersect1d(sets[a], sets[b]).size
    _, _, k = realistic_arrays(40, kinds=["tone", "mixed"], weights=[1, 3], window=64, fmin=1, fmax=8)
    assert np.bincount(k).tolist()[KINDS.index("tone")] == 10 and np.sum(k == KINDS.index("mixed")) == 30
    assert realistic_arrays(0, window=64, fmin=1, fmax=8)[0].shape == (0, 64, 1)


def test_pipeline_shapes_and_reproducible():
    kw = dict(window=64, fmin=1, fmax=8, batch_size=16)
    batches = list(realistic_dataset("train", seed=1, **kw).take(2).as_numpy_iterator())
    for x, f in batches:
        assert x.shape == (16, 64, 1) and f.shape == (16,) and x.dtype == np.float32
        assert np.all((f >= 1) & (f <= 8))
    assert not np.array_equal(batches[0][0], batches[1][0])
    again = next(realistic_dataset("train", seed=1, **kw).as_numpy_iterator())
    np.testing.assert_array_equal(batches[0][0], again[0])
    only = next(realistic_dataset("train", kinds=["tone", "drift"], weights=[0, 1], seed=1, **kw).as_numpy_iterator())
    assert only[0].shape == (16, 64, 1)
    fixed = realistic_dataset("validation", num_examples=40, **kw)
    first = np.concatenate([f for _, f in fixed.as_numpy_iterator()])
    np.testing.assert_array_equal(first, np.concatenate([f for _, f in fixed.as_numpy_iterator()]))
    _, f_arrays, _ = realistic_arrays(40, "validation", window=64, fmin=1, fmax=8)
    np.testing.assert_array_equal(np.sort(first), np.sort(f_arrays))
    with pytest.raises(ValueError, match="num_examples"):
        realistic_dataset("test", **kw)
    with pytest.raises(ValueError, match="batch_size"):
        realistic_dataset("train", window=64, fmin=1, fmax=8, batch_size=0)


def test_tfds_small_builds_offline(tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")
    from periodic_keras.data import tfds_realistic_frequency as rf

    builder = rf.build_realistic_frequency(tmp_path, "small")
    assert "realistic_frequency" in tfds.list_builders(with_community_datasets=False)
    assert {k: v.num_examples for k, v in builder.info.splits.items()} == {"train": 600, "validation": 120,
                                                                           "test": 120}
    test = tfds.as_numpy(builder.as_dataset(split="test", batch_size=-1))
    assert set(test) == {"window", "frequency", "kind", "snr_db"}
    assert test["window"].shape == (120, 64, 1) and test["window"].dtype == np.float32
    assert np.all((test["frequency"] >= 1) & (test["frequency"] <= 8))
    assert np.bincount(test["kind"], minlength=len(KINDS)).tolist() == [8] * 8 + [7] * 8
    # Example i is reproducible from realistic_windows: kind 0 of chunk 0 of the test split.
    seed = np.random.SeedSequence([0, 2, 0, 0])  # config seed 0, split "test", chunk 0, kind 0
    _, f, info = realistic_windows(8, KINDS[0], 64, 1.0, 8.0, (0.0, 40.0), 0.2, seed=seed)
    mine = test["kind"] == 0
    np.testing.assert_array_equal(np.sort(test["frequency"][mine]), np.sort(f))
    np.testing.assert_array_equal(np.sort(test["snr_db"][mine]), np.sort(info["snr_db"].astype(np.float32)))

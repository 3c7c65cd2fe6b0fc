import numpy as np
import pytest
import keras

from periodic_keras import training
from periodic_keras.classical import crlb_frequency_std
from periodic_keras.data import frequency_arrays, frequency_dataset
from periodic_keras.layers import SpectralFeatures
from periodic_keras.models import FRONTENDS, frequency_regressor, inference_variant

SMALL = dict(window=32, fmin=1.0, fmax=8.0)


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_output_shape_and_units(frontend):
    model = frequency_regressor(**SMALL, frontend=frontend, lstm_units=4, dense_units=4)
    x, _ = frequency_arrays(3, **SMALL)
    assert model.predict(x, verbose=0).shape == (3, 1)


def test_spectral_anchor_is_the_peak_bin():
    layer = SpectralFeatures(window=100, fmin=1, fmax=30, oversample=2)
    x, f = frequency_arrays(200, window=100, fmin=1, fmax=30)
    features, peak = (keras.ops.convert_to_numpy(t) for t in layer(x))
    assert features.shape == (200, layer.bins, 5)
    err = np.abs(peak[:, 0] - f)
    # Half an oversampled bin, plus a little pull from the real tone's negative-frequency image.
    assert np.max(err) <= 0.3 and np.median(err) <= 0.15
    # Ratio features are 1 + 0j at the peak bin itself.
    at_peak = features[np.arange(200), np.argmax(features[..., 2], axis=1)]
    np.testing.assert_allclose(at_peak[:, :3], np.tile([1.0, 0.0, 1.0], (200, 1)), atol=1e-5)


def test_spectral_layer_config_round_trip():
    layer = SpectralFeatures(window=64, fmin=2, fmax=10, oversample=3, margin=0.5, clip=2.0, candidates=2)
    clone = SpectralFeatures.from_config(layer.get_config())
    np.testing.assert_array_equal(layer.frequencies, clone.frequencies)
    assert clone.candidates == 2


def test_spectral_candidates_are_the_next_local_peaks_inside_the_band():
    n = np.arange(100)
    tones = np.sin(2 * np.pi * 7.0 * n / 100) + 0.6 * np.sin(2 * np.pi * 19.5 * n / 100)
    x = (tones + 0.3 * np.sin(2 * np.pi * 25.0 * n / 100) + 0.9 * np.sin(2 * np.pi * 33.0 * n / 100))[None]
    _, peak, others = (keras.ops.convert_to_numpy(t) for t in SpectralFeatures(100, 1, 30, candidates=2)(x))
    assert peak[0, 0] == 7.0 and others[0].tolist() == [19.5, 25.0]  # 33 is stronger but outside the band
    # No other local maximum (a silent window): the peak fills in.
    _, peak, others = (keras.ops.convert_to_numpy(t) for t in SpectralFeatures(64, 5, 9, candidates=3)(
        np.zeros((1, 64), "float32")))
    assert others.shape == (1, 3) and np.all(others == peak)
    with pytest.raises(ValueError, match="candidates must be an integer >= 0"):
        SpectralFeatures(100, 1, 30, candidates=-1)


@pytest.mark.slow
def test_model_learns_on_a_tiny_run():
    training.set_seed(0)
    # The learned part alone (no refinement, which would start from the spectral peaks anyway).
    model = frequency_regressor(**SMALL, lstm_units=8, dense_units=16, refine_steps=0)
    training.compile_regressor(model, steps=150, learning_rate=1e-2)
    x, f = frequency_arrays(256, "validation", **SMALL, snr_db=20.0)
    before = model.evaluate(x, f, verbose=0)[0]
    history = training.fit(model, frequency_dataset(**SMALL, batch_size=64), steps=150, steps_per_epoch=50, verbose=0)
    after = model.evaluate(x, f, verbose=0)[0]
    peak_bin_mse = np.mean((np.round(f * 2) / 2 - f) ** 2)  # what the spectral anchor alone gives
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert after < 0.1 * before
    assert after < 0.2 * peak_bin_mse  # the LSTM learned to interpolate between bins
    # With the refinement, even the untrained model is the least-squares estimator at 20 dB.
    refined = frequency_regressor(**SMALL, lstm_units=8, dense_units=16).predict(x, verbose=0)[:, 0]
    crlb = float(crlb_frequency_std(20.0, SMALL["window"]))
    assert np.sqrt(np.mean((refined - f) ** 2)) < 1.3 * crlb
    # The trained weights in the same call with a refinement started from the LSTM's estimate only.
    from_lstm = frequency_regressor(**SMALL, lstm_units=8, dense_units=16, refine_steps=2, refine_from="lstm",
                                    hedge=None)
    assert "starts" not in {layer.name for layer in from_lstm.layers}
    from_lstm.set_weights(model.get_weights())
    estimate = keras.Model(from_lstm.inputs, from_lstm.get_layer("lstm_estimate").output)
    np.testing.assert_allclose(estimate.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    assert np.sqrt(np.mean((from_lstm.predict(x, verbose=0)[:, 0] - f) ** 2)) < 1.3 * crlb
    with pytest.raises(ValueError, match="unknown refine_from 'peaks'"):
        frequency_regressor(**SMALL, refine_from="peaks")


def test_save_load_safe_mode_same_predictions(tmp_path):
    model = frequency_regressor(**SMALL, lstm_units=4, dense_units=4)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    x, _ = frequency_arrays(5, **SMALL)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


@pytest.mark.parametrize("unroll", [True, False])
def test_inference_variant_matches(unroll):
    model = frequency_regressor(**SMALL, lstm_units=4, dense_units=4)
    fixed = inference_variant(model, batch_size=1, unroll=unroll)
    assert fixed.input_shape == (1, 32, 1)
    x, _ = frequency_arrays(3, **SMALL)
    expected = model.predict(x, verbose=0)
    got = np.concatenate([fixed.predict(x[i : i + 1], verbose=0) for i in range(3)])
    np.testing.assert_allclose(got, expected, atol=1e-5)


@pytest.mark.parametrize("kwargs, match", [
    (dict(frontend="fft"), "unknown frontend"),
    (dict(window=32, fmin=1, fmax=16), "Nyquist"),
    (dict(window=4, fmin=1, fmax=1.5), "too short"),
])
def test_bad_model_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        frequency_regressor(**(SMALL | kwargs))


def test_compile_rejects_zero_steps():
    with pytest.raises(ValueError, match="steps"):
        training.compile_regressor(frequency_regressor(**SMALL, lstm_units=4, dense_units=4), steps=0)


@pytest.mark.slow
def test_fit_draws_fresh_batches_across_epochs(monkeypatch):
    from periodic_keras.data import frequency as pipeline

    first_frequencies = []
    original = pipeline._mixed_windows

    def spy(n, *args, **kwargs):
        x, f = original(n, *args, **kwargs)
        first_frequencies.append(float(f[0]))
        return x, f

    monkeypatch.setattr(pipeline, "_mixed_windows", spy)
    model = frequency_regressor(**SMALL, lstm_units=2, dense_units=2)
    model.compile(optimizer="adam", loss="mse")
    training.fit(model, frequency_dataset(**SMALL, batch_size=4), steps=9, steps_per_epoch=3, verbose=0)
    # Keras keeps one iterator across epochs: 9 steps see 9+ distinct batches, none replayed.
    assert len(first_frequencies) >= 9
    assert len(set(first_frequencies)) == len(first_frequencies)


def test_hedge_options_build_the_posterior_layer_they_name():
    def hedge_layers(model):
        return {layer.name: layer for layer in model.layers if layer.name in ("hedged", "temperature")}

    assert hedge_layers(frequency_regressor(**SMALL, lstm_units=2, dense_units=2, hedge=None)) == {}
    fixed = hedge_layers(frequency_regressor(**SMALL, lstm_units=2, dense_units=2, hedge=2.0))
    assert list(fixed) == ["hedged"] and fixed["hedged"].temperature == 2.0
    learned = hedge_layers(frequency_regressor(**SMALL, lstm_units=2, dense_units=2, hedge="learned"))
    assert sorted(learned) == ["hedged", "temperature"]
    for bad in (0.0, -1.0, float("inf"), True, "warm"):
        with pytest.raises(ValueError, match="hedge must be None, 'learned' or a temperature > 0"):
            frequency_regressor(**SMALL, hedge=bad)

"""ToneRefinement: exactness, near-CRLB noise performance, invariance, gradients, saving, TFLite, bad inputs."""

import numpy as np
import pytest
import keras

from periodic_keras.classical import candan_frequency, crlb_frequency_std, ml_frequency
from periodic_keras.layers import SpectralFeatures, ToneRefinement
from periodic_keras.signals import sine_windows
from script_runner import builtin_litert_outputs, safe_load_in_fresh_process

N = 100


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _refine(x, f0, **kwargs):
    return _np(ToneRefinement(**kwargs)([np.asarray(x, "float32"), np.asarray(f0, "float32").reshape(-1, 1)]))[:, 0]


def _noiseless(count, seed, window=N, fmin=1.0, fmax=30.0):
    """Windows with a float64-exact frequency (``sine_windows`` rounds its returned f to float32)."""
    rng = np.random.default_rng(seed)
    f = rng.uniform(fmin, fmax, count)
    n = np.arange(window)
    x = rng.uniform(-3, 3, (count, 1)) + rng.uniform(0.5, 2, (count, 1)) * np.sin(
        2 * np.pi * f[:, None] * n / window + rng.uniform(0, 2 * np.pi, (count, 1)))
    return x, f, rng


def _spectral_refine_model(window=N, steps=3):
    """Window -> FFT peak (the initial guess) -> ToneRefinement: a single-input model."""
    inputs = keras.Input(shape=(window, 1))
    _, peak = SpectralFeatures(window, 1.0, 30.0, oversample=2)(inputs)
    return keras.Model(inputs, ToneRefinement(steps=steps, fmin=1.0, fmax=30.0)([inputs, peak]))


def test_noiseless_windows_are_refined_to_the_exact_frequency():
    x, f, rng = _noiseless(3000, seed=0)
    near = f + rng.uniform(-0.2, 0.2, f.shape)
    assert np.abs(_refine(x, near) - f).max() < 1e-5  # default: 3 steps
    far = f + rng.uniform(-0.3, 0.3, f.shape)
    assert np.abs(_refine(x, far, steps=4) - f).max() < 1e-5
    above = f >= 1.5  # 3 steps are short only for a start 0.3 below a tone under 1.5 cycles/window
    assert np.abs(_refine(x[above], far[above]) - f[above]).max() < 1e-5
    # (batch, N, 1) windows, integer windows and a dynamic window length give the same answers.
    np.testing.assert_array_equal(_refine(x[:50, :, None], near[:50]), _refine(x[:50], near[:50]))
    ints = np.round(1000 * x[:50]).astype("int32")
    assert np.abs(_np(ToneRefinement()([ints, near[:50, None].astype("float32")]))[:, 0] - f[:50]).max() < 1e-3
    window, f0 = keras.Input(shape=(None, 1)), keras.Input(shape=(1,))
    dynamic = keras.Model([window, f0], ToneRefinement()([window, f0]))
    x64, f64, _ = _noiseless(20, seed=1, window=64, fmin=2.0, fmax=20.0)
    got = dynamic.predict([x64[..., None].astype("float32"), (f64 + 0.1)[:, None].astype("float32")], verbose=0)
    assert np.abs(got[:, 0] - f64).max() < 1e-5


def test_clamp_and_step_clip():
    x, f, _ = _noiseless(40, seed=2, fmin=10, fmax=20)
    out = _refine(x, f, fmin=12.0, fmax=18.0)  # every step stays in the band: the best in-band fit
    inside = (f > 12.5) & (f < 17.5)
    assert 0 < inside.sum() < 40 and np.all((out >= 12.0) & (out <= 18.0))
    np.testing.assert_allclose(out[inside], f[inside], atol=1e-5)
    x, f, _ = _noiseless(50, seed=2, fmin=10, fmax=20)
    moved = np.abs(_refine(x, f + 3.0, steps=1, max_step=0.25) - (f + 3.0))
    assert moved.max() < 0.25 + 1e-5 and np.mean(moved > 0.25 - 1e-5) > 0.5  # far starts: mostly clipped steps


def test_noisy_windows_reach_the_cramer_rao_bound():
    for snr in (30.0, 10.0, 0.0):
        x, f, _ = sine_windows(300, N, 1.0, 30.0, snr_db=snr, seed=int(snr) + 7)
        crlb = crlb_frequency_std(snr, N)
        candan = candan_frequency(x, fmin=1, fmax=30)
        refined = _refine(x, candan)
        start = f + np.random.default_rng(int(snr)).uniform(-0.2, 0.2, f.shape)
        from_near = _refine(x, start)
        ml = ml_frequency(x, fmin=1, fmax=30)
        rmse = lambda estimate: float(np.sqrt(np.mean((estimate - f) ** 2)))  # noqa: E731
        assert rmse(candan) > 1.3 * crlb  # the starting estimator is far from the bound ...
        assert rmse(refined) < 1.08 * crlb and rmse(from_near) < 1.08 * crlb  # ... the refined one is not
        # It is the least-squares (ML) estimate itself, up to float32 (and ML's clamp to [1, 30]).
        inside = (ml > 1.0) & (ml < 30.0)
        assert np.median(np.abs(refined - ml)[inside]) < 1e-4 * max(1.0, 10 * crlb)
        assert rmse(refined) < 1.005 * rmse(ml) + 1e-6


def test_amplitude_and_offset_invariance():
    x, f, rng = _noiseless(200, seed=3)
    x = x + 0.1 * rng.standard_normal(x.shape)
    f0 = f + rng.uniform(-0.2, 0.2, f.shape)
    reference = _refine(x, f0)
    for scale in (1e-3, 1e-1, 10.0, 1e4):
        np.testing.assert_allclose(_refine(scale * x, f0), reference, atol=1e-5)
    np.testing.assert_allclose(_refine(x + 50.0, f0), reference, atol=1e-4)  # float32 keeps ~5e-6 of 50
    silent = _refine(np.zeros((2, N)), [5.0, 7.0])  # a constant window has nothing to fit: f0 comes back
    np.testing.assert_array_equal(silent, [5.0, 7.0])


def test_gradients_are_finite_and_a_model_trains_end_to_end():
    import tensorflow as tf

    x, f, _ = _noiseless(32, seed=4, fmin=2, fmax=28)
    x = x.astype("float32")
    windows = tf.constant(x)
    # Converged: the output hardly depends on f0. A clipped step passes f0 through (gradient 1).
    for start, steps in ((f + 0.05, 3), (f + 3.0, 1)):
        f0 = tf.Variable(start[:, None].astype("float32"))
        with tf.GradientTape() as tape:
            y = ToneRefinement(steps=steps)([windows, f0])
        grad = _np(tape.gradient(y, f0))[:, 0]
        assert np.all(np.isfinite(grad))
        if steps == 3:
            assert np.abs(grad).max() < 1e-3
        else:
            clipped = np.abs(_np(y)[:, 0] - start) > 0.5 - 1e-5
            assert clipped.sum() > 10 and np.allclose(grad[clipped], 1.0)
    silent, f0 = tf.Variable(tf.zeros((2, N))), tf.Variable([[5.0], [7.0]])
    with tf.GradientTape() as tape:
        y = ToneRefinement()([silent, f0])
    assert all(np.all(np.isfinite(_np(g))) for g in tape.gradient(y, [silent, f0]))

    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(N, 1))
    _, peak = SpectralFeatures(N, 1.0, 30.0, oversample=2)(inputs)
    guess = keras.layers.Add()([peak, keras.layers.Dense(1)(keras.layers.Flatten()(inputs))])
    model = keras.Model(inputs, ToneRefinement()([inputs, guess]))
    model.compile(keras.optimizers.SGD(1e-3), "mse")
    history = model.fit(x[..., None], f[:, None].astype("float32"), batch_size=16, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())


def test_config_round_trip_and_mixed_precision_default():
    layer = ToneRefinement(steps=5, max_step=0.25, fmin=1.0, fmax=30.0, name="refine")
    config = layer.get_config()
    assert {k: config[k] for k in ("steps", "max_step", "fmin", "fmax")} == dict(
        steps=5, max_step=0.25, fmin=1.0, fmax=30.0)
    assert ToneRefinement.from_config(config).get_config() == config
    again = keras.layers.deserialize(keras.layers.serialize(layer))
    assert type(again) is ToneRefinement and again.get_config() == config
    previous = keras.config.dtype_policy()
    try:
        keras.config.set_dtype_policy("mixed_float16")
        assert ToneRefinement().compute_dtype == "float32"
    finally:
        keras.config.set_dtype_policy(previous)


@pytest.mark.slow
def test_safe_mode_load_in_a_fresh_process(tmp_path):
    model = _spectral_refine_model()
    x, _, _ = sine_windows(16, N, 1.0, 30.0, snr_db=20, seed=5)
    assert "ToneRefinement" in safe_load_in_fresh_process(model, x[..., None], tmp_path)


@pytest.mark.slow
def test_converts_to_builtin_tflite_and_matches_keras():
    model = _spectral_refine_model()
    x, f, _ = sine_windows(40, N, 1.0, 30.0, snr_db=20, seed=6)
    x = x[..., None]
    expected = model.predict(x, verbose=0)
    got, ops = builtin_litert_outputs(model, x)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert np.sqrt(np.mean((expected[:, 0] - f) ** 2)) < 1.2 * crlb_frequency_std(20, N)
    refinement = {"SIN", "COS", "MUL", "ADD", "SUB", "SUM", "MEAN", "DIV", "RSQRT", "SQRT", "SQUARE", "ABS",
                  "REDUCE_MAX", "MAXIMUM", "MINIMUM", "RESHAPE", "SQUEEZE", "STRIDED_SLICE"}
    spectral = {"FULLY_CONNECTED", "BATCH_MATMUL", "CUMSUM", "EQUAL", "PAD", "CAST", "REDUCE_MAX"}
    assert ops <= refinement | spectral, ops - refinement - spectral
    assert {"SIN", "COS"} <= ops


@pytest.mark.parametrize("shapes, match", [
    (((4, N, 2), (4, 1)), r"\(batch, N\) or \(batch, N, 1\).*\(4, 100, 2\)"),
    (((4, N, 1, 1), (4, 1)), r"\(4, 100, 1, 1\)"),
    (((N,), (1, 1)), r"\(100,\)"),
    (((4, 2), (4, 1)), r"at least 3 samples.*\(4, 2\)"),
    (((4, N), (4,)), r"f0 of shape \(batch, starts\).*\(4,\)"),
    (((4, N), (3, 1)), r"4 windows but 3 initial frequencies"),
])
def test_bad_input_shapes_are_named(shapes, match):
    window, f0 = (np.zeros(s, "float32") for s in shapes)
    with pytest.raises(ValueError, match=match):
        ToneRefinement()([window, f0])


def test_bad_inputs_and_config():
    with pytest.raises(ValueError, match=r"two inputs \[window, f0\]"):
        ToneRefinement()(np.zeros((4, N), "float32"))
    with pytest.raises(ValueError, match="window"):
        ToneRefinement().compute_output_shape([(None, N, 3), (None, 1)])
    for kwargs, name in [({"steps": 0}, "steps"), ({"steps": 1.5}, "steps"), ({"steps": True}, "steps"),
                         ({"max_step": 0.0}, "max_step"), ({"max_step": -1.0}, "max_step"),
                         ({"max_step": float("nan")}, "max_step"), ({"fmin": -1.0}, "fmin"),
                         ({"fmax": float("inf")}, "fmax"), ({"fmin": 5.0, "fmax": 2.0}, "fmin must be <= fmax")]:
        with pytest.raises(ValueError, match=name):
            ToneRefinement(**kwargs)


def test_return_snr_estimates_the_windows_snr():
    x, f, _ = sine_windows(400, N, 1.0, 30.0, snr_db=10.0, seed=8)
    refined, snr = (_np(v)[:, 0] for v in ToneRefinement(return_snr=True)(
        [x.astype("float32"), candan_frequency(x, fmin=1, fmax=30).astype("float32")[:, None]]))
    assert abs(np.median(snr) - 10.0) < 0.5
    np.testing.assert_allclose(refined, _refine(x, candan_frequency(x, fmin=1, fmax=30)), atol=1e-6)
    clean, _, _ = _noiseless(4, 9)
    assert (_np(ToneRefinement(return_snr=True)([clean.astype("float32"), np.full((4, 1), 5.0, "float32")])[1])
            <= 100.0).all()  # capped, finite
    layer = ToneRefinement(return_snr=True)
    assert ToneRefinement.from_config(layer.get_config()).return_snr


def test_refinement_gate_mixes_values_and_trains_the_coarse_estimate_straight_through():
    from periodic_keras.layers import RefinementGate
    import tensorflow as tf

    coarse, refined, gate = tf.Variable([[10.0]]), tf.constant([[10.4]]), tf.Variable([[1.0]])
    with tf.GradientTape() as tape:
        out = RefinementGate()([coarse, refined, gate])
    d_coarse, d_gate = tape.gradient(out, [coarse, gate])
    assert float(out[0, 0]) == pytest.approx(10.4)
    assert float(d_coarse[0, 0]) == 1.0 and float(d_gate[0, 0]) == pytest.approx(0.4)  # never starved
    with pytest.raises(ValueError, match=r"three inputs"):
        RefinementGate()([coarse, refined])


def test_several_starts_keep_the_best_fit():
    x, f, _ = _noiseless(64, 11)
    wrong = f + 3.0  # far outside the basin: refined there, it stays a poor fit
    both = np.stack([wrong, f + 0.2], axis=1).astype("float32")
    got = _np(ToneRefinement()([x.astype("float32"), both]))[:, 0]
    assert np.max(np.abs(got - f)) < 1e-4
    swapped = _np(ToneRefinement()([x.astype("float32"), both[:, ::-1].copy()]))[:, 0]
    np.testing.assert_allclose(got, swapped, atol=1e-6)

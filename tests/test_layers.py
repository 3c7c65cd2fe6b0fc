"""Periodic layers: exactness, numerics, initialisation, serialization, TFLite."""

import math

import numpy as np
import pytest
import keras

from periodic_keras.layers import FourierFeatures, LearnedPeriodicEncoding, PeriodicEncoding, Sine, Snake
from script_runner import safe_load_in_fresh_process



def _np(x):
    return keras.ops.convert_to_numpy(x)


def _reference_encoding(t, periods, harmonics):
    """sin/cos features from Python integer arithmetic, in float64."""
    rows = []
    for value in t.tolist():
        row = []
        for p in periods:
            phases = [2 * math.pi * ((k * (value % p)) % p) / p for k in range(1, harmonics + 1)]
            row += [math.sin(a) for a in phases] + [math.cos(a) for a in phases]
        rows.append(row)
    return np.array(rows)


def test_periodic_encoding_exact_for_large_and_negative_int64():
    rng = np.random.default_rng(0)
    t = np.concatenate([
        rng.integers(-2**62, 2**62, size=300, dtype=np.int64),
        rng.integers(-4 * 10**9, 4 * 10**9, size=300, dtype=np.int64),
        np.array([-1, 0, 1, 3_800_000_007, -3_800_000_007, 2**63 - 1, -2**63], dtype=np.int64),
    ])
    periods = [7, 60, 3600, 86400, 31_556_952]
    out = _np(PeriodicEncoding(periods, harmonics=3)(t[:, None]))
    assert out.shape == (len(t), 2 * 3 * len(periods))
    np.testing.assert_allclose(out, _reference_encoding(t, periods, 3), atol=2e-6)
    # The remainder itself comes back exactly from the first harmonic's angle.
    enc = _np(PeriodicEncoding([86400], harmonics=1)(t))
    angle = np.mod(np.arctan2(enc[:, 0], enc[:, 1]), 2 * np.pi)
    recovered = np.round(angle * 86400 / (2 * np.pi)).astype(np.int64) % 86400
    np.testing.assert_array_equal(recovered, np.array([v % 86400 for v in t.tolist()]))


def test_float32_cannot_hold_timestamps_but_the_encoding_is_exact():
    t = 3_800_000_007
    assert int(np.float32(t)) % 60 != t % 60  # the problem the encoding exists for
    features = _np(PeriodicEncoding([60])(np.array([t], dtype=np.int64)))
    assert round(math.atan2(features[0, 0], features[0, 1]) % (2 * math.pi) * 60 / (2 * math.pi)) == 27


def test_periodic_encoding_per_period_harmonics_and_shapes():
    enc = PeriodicEncoding([60, 3600], harmonics=[2, 1])
    assert enc.output_features == 6
    assert _np(enc(np.zeros((4, 5), dtype=np.int32))).shape == (4, 5, 6)  # int32 is widened
    assert enc.compute_output_shape((None, 1)) == (None, 6)


@pytest.mark.parametrize("periods, match", [
    ([0], "> 0"), ([-60], "> 0"), ([60.5], "whole numbers"), ([], "non-empty"), ([float("nan")], "finite"),
])
def test_periodic_encoding_bad_periods(periods, match):
    with pytest.raises(ValueError, match=match):
        PeriodicEncoding(periods)


@pytest.mark.parametrize("harmonics", [0, [1], 1.5])
def test_periodic_encoding_bad_harmonics(harmonics):
    with pytest.raises(ValueError, match="harmonics"):
        PeriodicEncoding([60, 3600], harmonics=harmonics)


def test_float_timestamps_are_refused():
    with pytest.raises(TypeError, match="integer timestamps"):
        PeriodicEncoding([60])(np.array([[1.7e9]], dtype="float64"))
    with pytest.raises(TypeError, match="integer timestamps"):
        PeriodicEncoding([60])(keras.Input(shape=(1,)))  # a float32 model input


def test_learned_encoding_matches_float64_phase_for_large_timestamps():
    rng = np.random.default_rng(1)
    origin = 1_700_000_000
    t = origin + rng.integers(-3 * 10**8, 3 * 10**8, size=500, dtype=np.int64)
    period = 86400.37
    out = _np(LearnedPeriodicEncoding([period], harmonics=2, origin=origin)(t[:, None]))
    cycles = (t - origin) / period
    angles = 2 * np.pi * np.stack([cycles, 2 * cycles], axis=1)
    expected = np.concatenate([np.sin(angles), np.cos(angles)], axis=1)
    np.testing.assert_allclose(out, expected, atol=5e-5)


def test_learned_encoding_float_inputs_and_bad_origin():
    enc = LearnedPeriodicEncoding([4.0], origin=0.5)
    np.testing.assert_allclose(_np(enc(np.array([[1.5]], dtype="float32"))), [[1.0, 0.0]], atol=1e-6)
    with pytest.raises(TypeError, match="integer origin"):
        enc(np.array([[2]], dtype="int64"))
    with pytest.raises(ValueError, match="> 0"):
        LearnedPeriodicEncoding([0.0])


def test_learned_period_is_trainable_and_can_be_frozen():
    for trainable in (True, False):
        enc = LearnedPeriodicEncoding([10.3], trainable_periods=trainable)
        enc.build((None, 1))
        assert len(enc.trainable_weights) == int(trainable)
        np.testing.assert_allclose(enc.current_periods, [10.3], rtol=1e-6)


def test_snake_values_and_gradient_near_zero_alpha():
    import tensorflow as tf

    x = np.array([[-3.0, -0.1, 0.0, 0.7, 5.0]], dtype="float32")
    for alpha in (1e-9, 1e-3, 0.5, 4.0):
        layer = Snake(alpha=alpha)
        xv = tf.Variable(x)
        with tf.GradientTape() as tape:
            y = layer(xv)
        dx, dlog = tape.gradient(y, [xv, layer.log_alpha])
        a = float(layer.alpha[0])
        x64 = x.astype("float64")
        np.testing.assert_allclose(_np(y), x64 + np.sin(a * x64) ** 2 / a, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(_np(dx), 1 + np.sin(2 * a * x64), rtol=1e-4, atol=1e-6)
        # d/d(log a) = a * d/da, with d/da = x sin(2ax)/a - sin²(ax)/a² (-> x² as a -> 0)
        da = np.where(np.abs(a * x64) < 1e-3, x64**2, x64 * np.sin(2 * a * x64) / a - np.sin(a * x64) ** 2 / a**2)
        assert np.all(np.isfinite(_np(dlog)))
        np.testing.assert_allclose(_np(dlog), a * da[0], rtol=1e-3, atol=1e-12)  # one a per channel


def test_snake_rejects_non_positive_alpha_and_frozen_alpha_stays():
    for bad in (0.0, -1.0, float("inf")):
        with pytest.raises(ValueError, match="alpha"):
            Snake(alpha=bad)
    keras.utils.set_random_seed(0)
    frozen = Snake(alpha=2.0, trainable_alpha=False)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3), frozen, keras.layers.Dense(1)])
    model.compile("adam", "mse")
    x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    model.fit(x, x[:, :1] ** 2, epochs=2, verbose=0)
    assert frozen.trainable_weights == []
    np.testing.assert_allclose(frozen.alpha, [2.0, 2.0, 2.0], rtol=1e-6)
    learned = Snake(alpha=2.0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3), learned, keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(0.05), "mse")
    model.fit(x, x[:, :1] ** 2, epochs=2, verbose=0)
    assert np.all(learned.alpha > 0) and not np.allclose(learned.alpha, 2.0)


def test_siren_initialisation_statistics():
    n, units, omega0 = 256, 2048, 30.0
    first = Sine(units, first=True, seed=0)
    first.build((None, n))
    w = _np(first.kernel)
    assert np.abs(w).max() <= 1 / n and np.std(w) == pytest.approx(1 / n / math.sqrt(3), rel=0.02)
    hidden = Sine(units, omega0=omega0, seed=1)
    hidden.build((None, n))
    w, b = _np(hidden.kernel), _np(hidden.bias)
    limit = math.sqrt(6 / n) / omega0
    assert np.abs(w).max() <= limit and np.std(w) == pytest.approx(limit / math.sqrt(3), rel=0.02)
    assert np.abs(b).max() <= 1 / math.sqrt(n)
    # The point of the scheme: for arcsine-distributed inputs (outputs of a sine layer),
    # omega0 * (x W) has unit variance, so activations keep their distribution with depth.
    x = np.sin(np.random.default_rng(2).uniform(-np.pi, np.pi, size=(512, n))).astype("float32")
    assert np.std(omega0 * x @ w) == pytest.approx(1.0, rel=0.05)
    same = Sine(units, omega0=omega0, seed=1)
    same.build((None, n))
    np.testing.assert_array_equal(_np(same.kernel), w)  # seeded: reproducible


def test_fourier_features_random_and_given():
    layer = FourierFeatures(num_features=4000, scale=3.0, seed=0)
    layer.build((None, 2))
    b = _np(layer.kernel)
    assert b.shape == (2, 4000) and np.std(b) == pytest.approx(3.0, rel=0.03)
    assert layer.trainable_weights == []
    given = FourierFeatures(frequencies=[[1.0, 0.5], [0.0, 2.0]])
    x = np.array([[0.25, 0.125]], dtype="float32")
    z = 2 * np.pi * x @ np.array([[1.0, 0.5], [0.0, 2.0]])
    np.testing.assert_allclose(_np(given(x)), np.concatenate([np.cos(z), np.sin(z)], axis=1), atol=1e-6)
    with pytest.raises(ValueError, match="rows"):
        FourierFeatures(frequencies=[1.0, 2.0])(np.zeros((1, 3), dtype="float32"))
    with pytest.raises(ValueError, match="scale"):
        FourierFeatures(scale=0.0)


def _all_layers_model():
    keras.utils.set_random_seed(0)
    stamp = keras.Input(shape=(1,), dtype="int64", name="t")
    value = keras.Input(shape=(2,), name="x")
    features = keras.layers.Concatenate()([
        PeriodicEncoding([60, 86400], harmonics=2)(stamp),
        LearnedPeriodicEncoding([86400.5], origin=1_700_000_000)(stamp),
        Snake(0.7)(keras.layers.Dense(4)(value)),
        Sine(4, first=True, seed=0)(value),
        FourierFeatures(3, scale=2.0, seed=0)(value),
    ])
    return keras.Model([stamp, value], keras.layers.Dense(2)(features))


@pytest.mark.slow
def test_serialization_round_trip_in_a_fresh_process(tmp_path):
    model = _all_layers_model()
    rng = np.random.default_rng(0)
    t = rng.integers(1_600_000_000, 1_800_000_000, size=(16, 1), dtype=np.int64)
    x = rng.uniform(-1, 1, size=(16, 2)).astype("float32")
    seen = safe_load_in_fresh_process(model, [t, x], tmp_path, atol=1e-5)
    assert {"FourierFeatures", "LearnedPeriodicEncoding", "PeriodicEncoding", "Sine", "Snake"} <= seen


@pytest.mark.parametrize("name", ["PeriodicEncoding", "LearnedPeriodicEncoding", "Snake", "Sine", "FourierFeatures"])
def test_each_layer_converts_to_builtin_tflite(name):
    from ai_edge_litert.interpreter import Interpreter
    from periodic_keras.export import tflite_models

    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(0)
    if name.endswith("PeriodicEncoding"):
        inputs = keras.Input(shape=(1,), dtype="int64")
        layer = (PeriodicEncoding([60, 3600, 86400], harmonics=2) if name == "PeriodicEncoding"
                 else LearnedPeriodicEncoding([86400.3, 3600.0], origin=1_700_000_000))
        x = rng.integers(-3_800_000_000, 3_800_000_000, size=(20, 1), dtype=np.int64)
        if name == "LearnedPeriodicEncoding":
            x = x // 16 + 1_700_000_000
    else:
        inputs = keras.Input(shape=(3,))
        layer = {"Snake": Snake(0.8), "Sine": Sine(5, first=True, seed=0), "FourierFeatures": FourierFeatures(5, seed=0)}[name]
        x = rng.uniform(-1, 1, size=(20, 3)).astype("float32")
    model = keras.Model(inputs, keras.layers.Dense(2)(layer(inputs)))
    interpreter = Interpreter(model_content=tflite_models(model)["float32"])
    interpreter.allocate_tensors()
    (inp,), out = interpreter.get_input_details(), interpreter.get_output_details()[0]
    assert inp["dtype"] == x.dtype
    got = []
    for row in x:
        interpreter.set_tensor(inp["index"], row[None])
        interpreter.invoke()
        got.append(interpreter.get_tensor(out["index"])[0])
    np.testing.assert_allclose(np.array(got), model.predict(x, verbose=0), atol=1e-4)

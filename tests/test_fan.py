"""The FAN layer (Fourier Analysis Networks): values, serialisation, TFLite, gradients, bad inputs."""

import numpy as np
import keras
import pytest
import tensorflow as tf

from periodic_keras.export import op_names, tflite_models
from periodic_keras.layers import FAN
from periodic_keras.models import activation_mlp


def test_output_is_cos_sin_and_the_dense_part():
    layer = FAN(10, p_ratio=0.2, activation="tanh")  # 2 cosines, 2 sines, 6 tanh features
    x = np.random.default_rng(0).normal(size=(5, 3)).astype("float32")
    y = keras.ops.convert_to_numpy(layer(x))
    wp, bp, wg, bg = (keras.ops.convert_to_numpy(w) for w in (layer.p_kernel, layer.p_bias, layer.g_kernel,
                                                                layer.g_bias))
    phase = x @ wp + bp
    np.testing.assert_allclose(y, np.concatenate([np.cos(phase), np.sin(phase), np.tanh(x @ wg + bg)], -1), atol=1e-6)
    assert layer.periodic_units == 2 and y.shape == (5, 10)
    assert FAN(8, use_p_bias=False)(x).shape == (5, 8)
    assert FAN(4)(np.array([[1, 2]], "int32")).dtype == "float32"  # integer inputs are cast, as Dense does


def test_saves_and_loads_with_safe_mode_and_converts_to_builtin_tflite(tmp_path):
    keras.utils.set_random_seed(0)
    model = activation_mlp("fan", width=16, depth=2)
    x = np.linspace(-1, 1, 7, dtype="float32")[:, None]
    path = tmp_path / "fan.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    assert isinstance(loaded.layers[2], FAN) and loaded.layers[2].get_config()["p_ratio"] == 0.25
    blob = tflite_models(model)["float32"]
    assert {"SIN", "COS"} <= set(op_names(blob)) and "CUSTOM" not in op_names(blob)
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=blob)
    run = interpreter.get_signature_runner()
    got = np.concatenate([next(iter(run(args_0=row[None]).values())) for row in x])
    np.testing.assert_allclose(got, model.predict(x, verbose=0), atol=1e-5)


def test_gradients_match_finite_differences():
    layer = FAN(6, p_ratio=1 / 3, dtype="float64")
    x = tf.constant(np.random.default_rng(1).normal(size=(4, 2)))
    layer(x)
    weights = np.random.default_rng(2).normal(size=(4, 6))  # a random linear read-out of the output

    def loss():
        return tf.reduce_sum(layer(x) * weights)

    with tf.GradientTape() as tape:
        value = loss()
    grads = tape.gradient(value, layer.trainable_variables)
    eps = 1e-6
    for variable, grad in zip(layer.trainable_variables, grads):
        flat = variable.numpy().ravel()

        def loss_at(i, delta):
            bumped = flat.copy()
            bumped[i] += delta
            variable.assign(bumped.reshape(variable.shape))
            return float(loss())

        for i in range(flat.size):
            numeric = (loss_at(i, eps) - loss_at(i, -eps)) / (2 * eps)
            variable.assign(flat.reshape(variable.shape))
            assert grad.numpy().ravel()[i] == pytest.approx(numeric, rel=1e-5, abs=1e-7), variable.path


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(units=0), ValueError, "FAN units must be a positive integer"),
    (dict(units=8, p_ratio=0.5), ValueError, r"p_ratio must lie in \(0, 0.5\)"),
    (dict(units=8, p_ratio=0), ValueError, "p_ratio must be a finite number > 0"),
    (dict(units=2), ValueError, "leaves 0 periodic and 2 dense features"),
    (dict(units=8, p_ratio="a"), TypeError, "p_ratio must be a number"),
    (dict(units=8, activation="wiggle"), ValueError, "wiggle"),
])
def test_bad_arguments_name_the_problem(kwargs, error, message):
    with pytest.raises(error, match=message):
        FAN(**kwargs)

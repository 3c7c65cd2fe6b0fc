"""The oscillator generator (issue 17's family generator cell): continuation, parity, export, bad inputs."""

import os

import keras
import numpy as np
import pytest

from periodic_keras import edge
from periodic_keras.export import export_step_model
from periodic_keras.classical import family_split
from periodic_keras.layers import OSCILLATOR_STATE, OscillatorLSTMCell
from periodic_keras.models import generate, oscillator_generator, step_model


def _sine(period, amplitude, phase, steps):
    return amplitude * np.sin(2 * np.pi * np.arange(steps) / period + phase)


@pytest.mark.parametrize("period, amplitude", [(10.0, 2.0), (37.3, 0.2), (100.0, 1.1)])
def test_continues_an_unseen_sine_for_1000_steps(period, amplitude):
    warm = int(min(300, 3 * period))  # at most three periods, or 300 steps
    series = _sine(period, amplitude, 0.7, warm + 1000)
    future = generate(oscillator_generator(), series[None, :warm], 1000)[0]
    assert np.mean((future - series[warm:]) ** 2) < 1e-6
    assert np.mean(future[:200] ** 2) > 0.1 * amplitude**2  # it oscillates; it did not settle on zero


def test_continues_two_sine_sums_and_beats_predicting_zero():
    draws = family_split(8, 1300, "test", seed=5, tones=2)
    future = generate(oscillator_generator(), draws.x[:, :300], 1000)
    mse = np.mean((future - draws.clean[:, 300:]) ** 2, axis=1)
    zero = np.mean(draws.clean[:, 300:] ** 2, axis=1)
    assert np.median(mse) <= 1e-2 and np.all(mse < zero)


@pytest.mark.slow
def test_sequence_model_equals_its_step_model_and_loads_in_safe_mode(tmp_path):
    model = oscillator_generator(units=4)
    x = family_split(2, 120, "validation", tones=(1, 2)).x[:, :, None]
    step = step_model(model)
    assert [t.name for t in step.inputs] == ["x", "h_0", "c_0", "s_0"]
    assert [int(t.shape[-1]) for t in step.inputs] == [1, 4, 4, OSCILLATOR_STATE]
    state = [np.zeros((2, int(t.shape[-1])), "float32") for t in step.inputs[1:]]
    outs = []
    for t in range(x.shape[1]):
        y, *state = step.predict_on_batch([x[:, t], *state])
        outs.append(np.asarray(y))
    np.testing.assert_allclose(np.stack(outs, 1), model.predict(x, verbose=0), atol=1e-5)
    path = tmp_path / "osc.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


@pytest.mark.slow
def test_exports_a_builtin_tflite_step_model_that_generates_the_same(tmp_path):
    series = _sine(23.7, 1.0, 0.3, 1120)
    out = str(tmp_path / "osc")
    meta = export_step_model(step_model(oscillator_generator(), batch_size=1), out, "generator", series[None, :120],
                             n_steps=1000, tolerance=1e-3)
    assert meta["state"]["names"] == ["h_0", "c_0", "s_0"] and "CUSTOM" not in meta["tflite"]["float32"]["ops"]
    assert meta["tflite"]["float32"]["parity_max_abs_diff"] < 1e-3
    runner = edge.load_step(out)
    generated = runner.generate(series[None, :120], 1000)[0]  # LiteRT, no TensorFlow
    assert np.mean((generated - series[120:1120]) ** 2) < 1e-6
    assert os.path.exists(os.path.join(out, "model.tflite"))


@pytest.mark.parametrize("kwargs, message", [
    (dict(units=0), "units must be a positive integer"),
    (dict(tolerance=0.0), "tolerance must be a finite number > 0"),
    (dict(ridge=-1.0), "ridge must be a finite number > 0"),
])
def test_bad_arguments_name_the_problem(kwargs, message):
    with pytest.raises(ValueError, match=message):
        OscillatorLSTMCell(**kwargs)


def test_bad_inputs_name_the_problem():
    with pytest.raises(ValueError, match="one value per step"):
        keras.layers.RNN(OscillatorLSTMCell(4))(np.zeros((1, 5, 2), "float32"))
    with pytest.raises(ValueError, match="prefix"):
        generate(oscillator_generator(), np.zeros((1, 0)), 10)  # a warm-up shorter than one step


def test_first_steps_repeat_the_last_value_until_an_order_has_enough_equations():
    from periodic_keras.layers import MIN_SAMPLES
    assert MIN_SAMPLES == {1: 6, 2: 9, 3: 12}
    d = family_split(16, 80, "train", seed=3, tones=(1, 3), noise_std=0.01)
    y = np.asarray(oscillator_generator().predict(d.x[:, :-1, None], verbose=0))[..., 0]
    # before an order answers, the prediction is the input itself (persistence)
    np.testing.assert_array_equal(y[:, :MIN_SAMPLES[1] - 1], d.x[:, :MIN_SAMPLES[1] - 1])
    # and afterwards it stays on the signal's scale: no exact fit to too few samples blowing up
    assert np.isfinite(y).all() and np.abs(y).max() < 2 * np.abs(d.x).max()


def test_a_third_of_a_period_of_warm_up_is_enough():
    # 30 steps of a period-100 sine: too little for a periodogram, enough for the recurrence
    t = np.arange(1030)
    x = 1.3 * np.sin(2 * np.pi * t / 97.0 + 0.4)
    future = generate(oscillator_generator(), x[None, :30], 1000)[0]
    assert np.mean((future - x[30:]) ** 2) < 1e-6

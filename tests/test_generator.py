import numpy as np
import pytest

from periodic_keras import signals, training
from periodic_keras.data import next_step_dataset, stateful_windows, step_weights
from periodic_keras.generation import closed_loop
from periodic_keras.models import generate, keras_step_function, sequence_generator, step_model, zero_state


def series(n=4, length=61, seed=0):
    x, _ = signals.classic_sine_series(n, length, seed=seed)
    return x


def test_classic_series_matches_the_formula_and_continuation():
    x, offsets = signals.classic_sine_series(100, 1000, seed=2)
    assert x.shape == (100, 1000) and offsets.min() >= -80 and offsets.max() < 80
    np.testing.assert_allclose(x[5, 123], np.sin((123 + offsets[5]) / 20.0), atol=1e-6)
    np.testing.assert_allclose(signals.sine_continuation(offsets, 0, 1000), x, atol=1e-6)


def test_sum_of_sines_noise_and_scale():
    x, clean = signals.sum_of_sines(20, 500, snr_db=10, seed=1)
    assert np.max(np.abs(clean)) <= 1 + 1e-6
    measured = 10 * np.log10(np.mean(clean**2) / np.mean((x - clean) ** 2))
    assert abs(measured - 10) < 0.3


def test_next_step_targets_are_inputs_shifted_by_one():
    x = series()
    inputs, targets = next(iter(next_step_dataset(x, batch_size=4, shuffle=False)))
    np.testing.assert_array_equal(inputs.numpy()[:, 1:, 0], targets.numpy()[:, :-1, 0])
    np.testing.assert_array_equal(inputs.numpy()[:, :, 0], x[:, :-1])


def test_noise_only_on_inputs_and_weights_as_third_element():
    x = series()
    w = step_weights(60, half_life=10)
    inputs, targets, weights = next(iter(next_step_dataset(x, batch_size=4, shuffle=False, noise_std=0.1, weights=w)))
    np.testing.assert_array_equal(targets.numpy()[:, :, 0], x[:, 1:])
    assert 0.07 < np.std(inputs.numpy()[:, :, 0] - x[:, :-1]) < 0.13
    assert weights.shape == (4, 60) and weights.numpy()[0, 0] > weights.numpy()[0, -1]


def test_stateful_batches_continue_each_other_and_groups_change():
    x = np.arange(6 * 31, dtype=np.float32).reshape(6, 31)  # value encodes (sequence, time)
    ds, k = stateful_windows(x, window=10, batch_size=3, repeat=False)
    batches = [b[0].numpy()[..., 0] for b in ds]
    assert k == 3 and len(batches) == 6
    for g in range(2):
        for j in range(1, k):
            np.testing.assert_array_equal(batches[g * k + j][:, 0], batches[g * k + j - 1][:, -1] + 1)
        np.testing.assert_array_equal(batches[g * k][:, 0], x[g * 3 : g * 3 + 3, 0])


def test_stateful_model_over_windows_equals_whole_sequence_with_resets():
    x = series(4, 61)
    seq = sequence_generator(units=(5, 4))
    stateful = sequence_generator(units=(5, 4), stateful=True, batch_size=2)
    stateful.set_weights(seq.get_weights())
    ds, k = stateful_windows(x, window=20, batch_size=2, repeat=False)
    preds = []
    for i, (inputs, _) in enumerate(ds):
        if i % k == 0:
            training.reset_rnn_states(stateful)
        preds.append(stateful.predict_on_batch(inputs)[..., 0])
    got = np.concatenate([np.concatenate(preds[g * k : (g + 1) * k], axis=1) for g in range(2)])
    expected = seq.predict(x[:, :-1, None], verbose=0)[..., 0]
    np.testing.assert_allclose(got, expected, atol=1e-5)
    # Without the reset the second group would start from the first group's state.
    assert training.reset_rnn_states(stateful) == 2


def test_reset_callback_resets_every_k_batches():
    model = sequence_generator(units=(3,), stateful=True, batch_size=2)
    model.compile(optimizer="adam", loss="mse")
    x = series(4, 41)
    ds, k = stateful_windows(x, window=10, batch_size=2)
    seen = []

    class Probe(training.ResetStatesEvery):
        def on_train_batch_begin(self, batch, logs=None):
            super().on_train_batch_begin(batch, logs)
            seen.append(float(np.abs(self.model.get_layer("lstm_0").states[0].numpy()).sum()))

    model.fit(ds, steps_per_epoch=2 * k, epochs=1, verbose=0, callbacks=[Probe(k)])
    assert seen[0] == 0 and seen[k] == 0 and all(v > 0 for i, v in enumerate(seen) if i % k)


def test_step_model_equals_sequence_model_on_teacher_forcing():
    x = series(3, 40)
    seq = sequence_generator(units=(6, 5))
    step = step_model(seq)
    fn = keras_step_function(step)
    state = zero_state(step, 3)
    outs = []
    for t in range(39):
        y, state = fn(x[:, t : t + 1], state)
        outs.append(y[:, 0])
    np.testing.assert_allclose(np.stack(outs, 1), seq.predict(x[:, :-1, None], verbose=0)[..., 0], atol=1e-5)


def test_generate_continues_with_the_step_model():
    seq = sequence_generator(units=(4,))
    prefix = series(2, 30)
    out = generate(seq, prefix, 7)
    assert out.shape == (2, 7)
    # The first generated value is the sequence model's prediction after the prefix.
    np.testing.assert_allclose(out[:, 0], seq.predict(prefix[:, :, None], verbose=0)[:, -1, 0], atol=1e-5)


@pytest.mark.slow
def test_small_generator_learns():
    training.set_seed(0)
    x, _ = signals.classic_sine_series(16, 121, seed=3)
    model = sequence_generator(units=(16,))
    model.compile(optimizer="adam", loss="mse")
    ds = next_step_dataset(x, batch_size=8)
    before = model.evaluate(x[:, :-1, None], x[:, 1:, None], verbose=0)
    model.fit(ds, steps_per_epoch=40, epochs=2, verbose=0)
    after = model.evaluate(x[:, :-1, None], x[:, 1:, None], verbose=0)
    assert after < 0.2 * before


@pytest.mark.parametrize("prefix, n_steps, match", [
    (np.zeros((1, 0)), 5, "prefix is empty"),
    (np.array([[0.1, np.nan, 0.2]]), 5, "NaN"),
    (np.zeros((1, 3)), -1, "non-negative"),
    (np.zeros((1, 2, 3, 4)), 1, "shape"),
])
def test_generation_bad_inputs(prefix, n_steps, match):
    with pytest.raises(ValueError, match=match):
        closed_loop(lambda x, s: (x, s), prefix, n_steps, [])


def test_keras_step_rejects_wrong_state_shapes():
    step = step_model(sequence_generator(units=(4,)))
    fn = keras_step_function(step)
    with pytest.raises(ValueError, match="state shapes"):
        fn(np.zeros((1, 1)), [np.zeros((1, 3)), np.zeros((1, 4))])


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(series=np.full((2, 10), np.nan)), ValueError, "NaN"),
    (dict(series=np.zeros((2, 1))), ValueError, "needs at least 2 steps"),
    (dict(series=np.zeros((0, 10))), ValueError, "empty"),
    (dict(series=np.zeros((2, 10)), window=20), ValueError, "longer than"),
    (dict(series=np.zeros((2, 10)), batch_size=3), ValueError, "exceeds the 2 sequences"),
    (dict(series=np.zeros((2, 10)), weights=np.ones(3)), ValueError, "weights has 3 steps"),
])
def test_pipeline_bad_inputs(kwargs, error, match):
    args = dict(window=5, batch_size=2) | kwargs
    with pytest.raises(error, match=match):
        stateful_windows(**args)

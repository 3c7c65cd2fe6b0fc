"""Memory-task models: they learn on small runs, stream step by step, export and run on the edge."""

import json
import os

import numpy as np
import pytest

from periodic_keras import edge, export, signals, training
from periodic_keras.data import consecutive_windows
from periodic_keras.models import divider_model, sequence_model, step_model, stream
from script_runner import run_python

#: Fixtures that train or run a job: the tests using them are marked slow (tests/conftest.py).
SLOW_FIXTURES = ('divider',)



@pytest.fixture(scope="module")
def divider():
    """A small divider trained with state carried over consecutive windows (truncated BPTT)."""
    training.set_seed(0)
    x, y, _ = signals.divider_sequences(512, 128, period=(40, 80), seed=0)
    stateful = divider_model(16, stateful=True, batch_size=32)
    training.compile_regressor(stateful, 600, 1e-2)
    data, k = consecutive_windows(x, y, 64, 32, shuffle=True)
    training.fit(stateful, data, 600, verbose=0, callbacks=[training.ResetStatesEvery(k)])
    model = divider_model(16)
    model.set_weights(stateful.get_weights())
    return model


def test_divider_learns_with_carried_state_and_holds_on_longer_sequences(divider):
    xt, yt, _ = signals.divider_sequences(16, 512, period=(40, 80), seed=5)  # 4x the training length
    mse = float(np.mean((divider.predict(xt[..., None], verbose=0)[..., 0] - yt) ** 2))
    assert mse < 0.05, mse  # the windowed setup cannot beat ~0.5


def test_burst_detector_learns_and_latches_on_long_sequences(burst_detector):
    for length in (130, 600):
        xt, yt, _ = signals.burst_sequences(200, length, seed=7)
        wrong = (burst_detector.predict(xt[..., None], verbose=0)[..., 0] > 0.5) != yt
        assert wrong.mean() < 0.01, (length, wrong.mean())


def test_stream_matches_the_sequence_model_and_carries_state(divider):
    x, _, _ = signals.divider_sequences(3, 120, period=50.0, seed=1)
    full = divider.predict(x[..., None], verbose=0)[..., 0]
    first, state = stream(divider, x[:, :70])
    rest, _ = stream(divider, x[:, 70:], state)
    np.testing.assert_allclose(np.concatenate([first, rest], axis=1), full, atol=1e-5)
    fresh, _ = stream(divider, x[:, 70:])  # zeros: a new sequence, not the continuation
    assert np.max(np.abs(fresh - full[:, 70:])) > 1e-3


def test_step_model_keeps_the_head_activation_and_refuses_other_cells(burst_detector):
    step = step_model(burst_detector)
    assert step.get_layer("head").activation.__name__ == "sigmoid"
    with pytest.raises(ValueError, match="LSTM layers only"):
        step_model(sequence_model(4, cell="gru"))


def test_stream_export_matches_keras_and_records_parity(burst_export, burst_detector):
    out, meta, x = burst_export
    assert meta["mode"] == "stream" and meta["parity"]["streamed_steps"] == 300
    assert meta["tflite"]["float32"]["parity_max_abs_diff"] <= 1e-4
    assert json.load(open(os.path.join(out, edge.METADATA)))["threshold"] == 0.5
    runner = edge.load_step(out)
    probs, state = runner.run(x)
    np.testing.assert_allclose(probs, burst_detector.predict(x[..., None], verbose=0)[..., 0], atol=1e-4)
    a, s = runner.run(x[:, :100])
    b, _ = runner.run(x[:, 100:], s)  # a device reading in chunks carries the state
    np.testing.assert_allclose(np.concatenate([a, b], axis=1), probs, atol=1e-6)


def test_edge_streaming_without_tensorflow(burst_export):
    code = (
        "import sys, numpy as np\n"
        "from periodic_keras import edge\n"
        f"m = edge.load_step({burst_export[0]!r})\n"
        "y, s = m.run(np.zeros((2, 30)))\n"
        "print(y.shape, [a.shape for a in s])\n"
        "bad = [k for k in sys.modules if k.split('.')[0] in ('tensorflow', 'keras')]\n"
        "assert not bad, bad\n"
    )
    done = run_python("-c", code, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(2, 30) [(2, 8), (2, 8)]"


@pytest.mark.parametrize("call, match", [
    (lambda m: m.run(np.zeros((1, 0))), "inputs is empty"),
    (lambda m: m.run(np.array([[0.0, np.nan]])), "inputs holds NaN"),
    (lambda m: m.run(np.zeros((1, 5)), [np.zeros((1, 8))]), "state shapes"),
    (lambda m: m.run(np.zeros((2, 2, 2))), "shape \\[batch, steps\\]"),
])
def test_edge_streaming_bad_inputs(burst_export, call, match):
    with pytest.raises(ValueError, match=match):
        call(edge.load_step(burst_export[0]))


def test_stream_export_bad_arguments(tmp_path, burst_detector):
    step = step_model(burst_detector, batch_size=1)
    with pytest.raises(ValueError, match="mode must be"):
        export.export_step_model(step, str(tmp_path / "a"), "burst", np.zeros((1, 5)), mode="drive")
    with pytest.raises(ValueError, match="reference has shape"):
        export.export_step_model(step, str(tmp_path / "b"), "burst", np.zeros((1, 5)), mode="stream",
                                 reference=np.zeros((1, 4)))
    assert not os.listdir(tmp_path)

import numpy as np
import pytest

from periodic_keras import training
from periodic_keras.data import random_windows
from periodic_keras.models import generate, sequence_generator
from periodic_keras.models import rollout


def _series():
    return np.sin(np.arange(4 * 120, dtype="float32").reshape(4, 120) / 7.0)


def test_early_weight_any_window_length():
    ds = random_windows(_series(), window=(10, 30), batch_size=4, seed=0, early_weight=(5, 3.0))
    for x, y, w in ds.take(6):
        assert w.shape == x.shape[:2]
        assert np.all(w.numpy()[:, :5] == 3.0) and np.all(w.numpy()[:, 5:] == 1.0)


@pytest.mark.parametrize("kwargs", [dict(early_weight=(0, 2.0)), dict(early_weight=(3, -1.0)),
                                    dict(early_weight=3), dict(early_weight=(3, 2.0), weights=np.ones(10))])
def test_early_weight_bad(kwargs):
    with pytest.raises(ValueError):
        random_windows(_series(), window=10, **kwargs)


def test_rollout_matches_teacher_forcing_then_generation():
    training.set_seed(0)
    m = sequence_generator(units=(6, 5))
    x = _series()[:2, :30]
    warm = 12
    y = np.asarray(rollout(m, x[..., None], warm))[..., 0]
    np.testing.assert_allclose(y[:, :warm], m.predict(x[:, :warm, None], verbose=0)[..., 0], atol=1e-5)
    # after the warm-up the rollout is the closed-loop generation (inputs ignored)
    np.testing.assert_allclose(y[:, warm - 1:], generate(m, x[:, :warm], 30 - warm + 1), atol=1e-4)


def test_fit_closed_loop_continues_the_optimizer():
    training.set_seed(0)
    m = training.compile_regressor(sequence_generator(units=(4,)), steps=10)
    training.fit(m, random_windows(_series(), 20, 8, seed=0), 4, verbose=0)
    losses = training.fit_closed_loop(m, random_windows(_series(), 30, 8, seed=1, early_weight=(3, 2.0)), 6, warm=10)
    assert int(m.optimizer.iterations.numpy()) == 10 and len(losses) == 1 and np.isfinite(losses[0])
    with pytest.raises(ValueError, match="no free-running step"):
        training.fit_closed_loop(m, random_windows(_series(), 10, 8), 2, warm=10)


def test_fit_closed_loop_resumes_from_its_backup(tmp_path):
    def run(steps_done_before):
        training.set_seed(0)
        m = training.compile_regressor(sequence_generator(units=(4,)), steps=30)
        data = random_windows(_series(), 30, 8, seed=1)
        losses = training.fit_closed_loop(m, data, 25, warm=10, run_dir=str(tmp_path), backup_every=10)
        return m, losses

    first, losses = run(0)
    assert int(first.optimizer.iterations.numpy()) == 25 and len(losses) == 1
    again, losses = run(25)  # the backup holds all 25 steps: nothing runs again
    assert losses == [] and int(again.optimizer.iterations.numpy()) == 25
    for a, b in zip(again.get_weights(), first.get_weights()):
        np.testing.assert_array_equal(a, b)

"""LearnedPeriodicEncoding.from_data: find a daily period in timestamped samples, then train."""

import numpy as np
import pytest
import keras

from periodic_keras import signals
from periodic_keras.layers import LearnedPeriodicEncoding

DAY = 86400.0


def _hourly_year():
    return signals.daily_cycle_samples(seed=0)


def _train(enc, t, y, epochs):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((1,), dtype="int64")
    model = keras.Model(inputs, keras.layers.Dense(1)(enc(inputs)))
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    model.fit(t[:, None], y, batch_size=256, epochs=epochs, verbose=0)
    return model.evaluate(t[:, None], y, verbose=0)


@pytest.mark.slow
def test_daily_period_found_to_a_second_and_kept_by_training():
    t, y = _hourly_year()
    enc = LearnedPeriodicEncoding.from_data(t, y, harmonics=2, min_period=2 * 3600, max_period=30 * DAY)
    assert abs(enc.periods[0] - DAY) <= 1.0
    mse = _train(enc, t, y, epochs=6)
    assert abs(enc.current_periods[0] - DAY) <= 1.0
    assert mse < 0.06  # the noise variance is 0.05


@pytest.mark.slow
def test_gradient_descent_alone_does_not_find_the_period():
    t, y = _hourly_year()
    enc = LearnedPeriodicEncoding([1.02 * DAY], harmonics=2, origin=int(np.median(t)))  # 2 % off
    mse = _train(enc, t, y, epochs=6)
    assert abs(enc.current_periods[0] - DAY) > 100 and mse > 0.3


def test_from_data_bad_inputs():
    t, y = _hourly_year()
    with pytest.raises(ValueError, match="min_period"):
        LearnedPeriodicEncoding.from_data(t, y, min_period=0)
    with pytest.raises(ValueError, match="1-D"):
        LearnedPeriodicEncoding.from_data(t[:, None], y)
    with pytest.raises(ValueError, match="NaN or inf"):
        LearnedPeriodicEncoding.from_data(t, np.where(np.arange(len(y)) == 5, np.inf, y))
    with pytest.raises(ValueError, match="samples"):
        LearnedPeriodicEncoding.from_data(t[:3], y[:3])

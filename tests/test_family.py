"""The periodic family (issue 17's training and test signals): ranges, parameters, reproducibility, bad inputs."""

import numpy as np
import pytest

from periodic_keras.classical import check_warmup, family_draws, family_split


def test_draws_stay_in_range_and_the_parameters_rebuild_the_series():
    d = family_draws(200, 400, tones=(1, 3), seed=3)
    assert d.x.shape == d.clean.shape == (200, 400) and d.x.dtype == np.float32
    assert set(np.unique(d.n_tones)) == {1, 2, 3}
    used = ~np.isnan(d.periods)
    assert (used.sum(axis=1) == d.n_tones).all()
    assert (d.periods[used] >= 10).all() and (d.periods[used] <= 100).all()
    assert (d.amplitudes[used] >= 0.2).all() and (d.amplitudes[used] <= 2.0).all()
    assert d.periods[used].max() > 90 and d.periods[used].min() < 20  # the whole range, real values
    t = np.arange(400)
    rebuilt = np.nansum(d.amplitudes[:, :, None] * np.sin(2 * np.pi * t / d.periods[:, :, None]
                                                         + d.phases[:, :, None]), axis=1)
    np.testing.assert_allclose(d.clean, rebuilt, atol=1e-5)
    np.testing.assert_array_equal(d.x, d.clean)  # no noise asked


def test_noise_and_reproducibility():
    a = family_draws(5, 100, noise_std=0.1, seed=1)
    b = family_draws(5, 100, noise_std=0.1, seed=1)
    np.testing.assert_array_equal(a.x, b.x)
    assert 0.08 < np.std(a.x - a.clean) < 0.12
    assert not np.array_equal(family_split(5, 100, "train").x, family_split(5, 100, "test").x)
    np.testing.assert_array_equal(family_split(5, 100, "test", seed=2).x, family_split(5, 100, "test", seed=2).x)
    fixed = family_draws(3, 50, periods=(25.0, 25.0), amplitude=1.0, seed=0)
    assert (fixed.periods[:, 0] == 25.0).all() and (fixed.amplitudes[:, 0] == 1.0).all()


@pytest.mark.parametrize("kwargs, message", [
    (dict(periods=(100, 10)), r"periods range is reversed: low 100 > high 10"),
    (dict(periods=(1.5, 10)), r"periods must be at least 2"),
    (dict(periods="10-100"), r"periods must be a number or a \(low, high\) pair"),
    (dict(tones=(0, 2)), r"tones must be at least 1"),
    (dict(tones=1.5), r"tones must be a number or a \(low, high\) pair"),
    (dict(amplitude=(0, 1)), r"amplitude must be > 0"),
    (dict(amplitude=(1, float("nan"))), r"amplitude must hold finite numbers"),
    (dict(noise_std=-0.1), r"noise_std must be a finite number >= 0"),
])
def test_bad_family_arguments_name_the_problem(kwargs, message):
    with pytest.raises(ValueError, match=message):
        family_draws(2, 50, **kwargs)


def test_bad_sizes_splits_and_warmups():
    with pytest.raises(ValueError, match="length must be a positive integer"):
        family_draws(2, 0)
    with pytest.raises(ValueError, match="unknown split 'dev'"):
        family_split(2, 10, "dev")
    assert check_warmup(300, 1300) == 300
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="warm-up must be at least one step"):
            check_warmup(bad)
    with pytest.raises(ValueError, match="leaves nothing to continue"):
        check_warmup(100, 100)

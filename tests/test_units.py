"""periodic_keras.units.convert: round trips, the documented relations, errors."""

import itertools

import numpy as np
import pytest

from periodic_keras.units import UNITS, convert

KW = dict(window=128, sample_rate=250.0)


@pytest.mark.parametrize("a, b", list(itertools.permutations(UNITS, 2)))
def test_every_pair_round_trips(a, b):
    value = np.array([0.5, 3.0, 17.25])
    np.testing.assert_allclose(convert(convert(value, a, b, **KW), b, a, **KW), value, rtol=1e-12)


def test_documented_relations():
    f = 12.3  # cycles per window of 128 samples at 250 Hz
    assert convert(f, "cycles_per_window", "hz", **KW) == pytest.approx(f / 128 * 250)
    assert convert(f, "cycles_per_window", "rad_per_sample", window=128) == pytest.approx(2 * np.pi * f / 128)
    assert convert(f, "cycles_per_window", "period_samples", window=128) == pytest.approx(128 / f)
    assert convert(50.0, "hz", "period_seconds", sample_rate=1.0) == pytest.approx(0.02)


@pytest.mark.parametrize("kwargs, match", [
    (dict(value=1.0, from_unit="hz", to_unit="cycles_per_sample"), "needs sample_rate"),
    (dict(value=1.0, from_unit="cycles_per_window", to_unit="hz", sample_rate=10.0), "needs window"),
    (dict(value=1.0, from_unit="rpm", to_unit="hz"), "unknown unit"),
    (dict(value=0.0, from_unit="period_samples", to_unit="cycles_per_sample"), "positive"),
    (dict(value=1.0, from_unit="hz", to_unit="cycles_per_sample", sample_rate=-1.0), "sample_rate"),
])
def test_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        convert(**kwargs)

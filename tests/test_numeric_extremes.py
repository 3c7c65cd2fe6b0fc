"""Numeric extremes: float32 overflow in the data adapters, empty CSV files, uint64 timestamps,
integer inputs to float layers, huge/tiny amplitudes and oversized search grids in fitting."""

import re
import tracemalloc

import keras
import numpy as np
import pandas as pd
import pytest

from periodic_keras.classical import fitting
from periodic_keras.data import as_series, paired_sequences, windowed_dataset
from periodic_keras.layers import FourierFeatures, LearnedPeriodicEncoding, PeriodicEncoding, Sine, Snake, SpectralFeatures

FLOAT32_RANGE = r"holds values beyond the float32 range \(\|x\| > 3.403e\+38\): up to "


def _csv(tmp_path, text, name="s.csv"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# 1. float64 values beyond the float32 range are refused, not turned into inf windows
@pytest.mark.parametrize("call, message", [
    (lambda p: windowed_dataset(np.array([1e39, 1, 2, 3]), 2), r"^series " + FLOAT32_RANGE + r"1e\+39$"),
    (lambda p: as_series(np.array([0.0, -3.5e38])), r"^series .* up to 3.5e\+38$"),
    (lambda p: as_series(pd.DataFrame({"v": [1.0, 2.0, 1e300]}), column="v"), r"^series .* up to 1e\+300$"),
    (lambda p: as_series(_csv(p, "v\n1\n1e39\n"), column="v"), r"^series .* up to 1e\+39$"),
    (lambda p: windowed_dataset(np.arange(4.0), 2, targets=[0.0, 1e40, 0.0, 0.0]), r"^targets .* up to 1e\+40$"),
    (lambda p: paired_sequences([[0.0, 2e39]], [[0.0, 1.0]]), r"^inputs .* up to 2e\+39$"),
    (lambda p: paired_sequences([[0.0, 1.0]], [[-2e39, 1.0]]), r"^targets .* up to 2e\+39$"),
], ids=["windowed_dataset", "as_series-array", "as_series-DataFrame", "as_series-CSV", "windowed_dataset-targets",
        "paired_sequences-inputs", "paired_sequences-targets"])
def test_values_beyond_float32_are_refused(tmp_path, call, message):
    with pytest.raises(ValueError, match=FLOAT32_RANGE) as info:
        call(tmp_path)
    assert re.search(message, str(info.value)) and "\n" not in str(info.value)
    top = float(np.finfo(np.float32).max)
    assert as_series(np.array([-top, top]))[1] == np.float32(top)  # the float32 range itself is kept


# 2. an empty CSV file, or one with only a header, names the file
@pytest.mark.parametrize("text, message", [
    ("", r"series CSV file '.*empty\.csv' is empty: no header and no data rows"),
    ("v\n", r"series CSV file '.*empty\.csv' holds no data rows \(columns \['v'\]\)"),
], ids=["empty-file", "header-only"])
def test_empty_csv_is_refused_with_its_name(tmp_path, text, message):
    path = _csv(tmp_path, text, "empty.csv")
    with pytest.raises(ValueError, match=message):
        as_series(path, column="v")
    with pytest.raises(ValueError, match=message):
        windowed_dataset(path, window=2, column="v")


# 3. uint64 timestamps: exact remainders beyond 2**63
def _remainders(features, period, harmonics=1):
    """Decode ``t mod period`` from the k=1 (sin, cos) pair of each row."""
    sin, cos = features[:, 0], features[:, harmonics]
    return np.round(np.mod(np.arctan2(sin, cos), 2 * np.pi) * period / (2 * np.pi)) % period


def test_periodic_encoding_is_exact_for_uint64():
    values = [2**63 + 5, 2**64 - 1, 2**63, 7]
    out = keras.ops.convert_to_numpy(PeriodicEncoding([60])(np.array([[v] for v in values], np.uint64)))
    assert _remainders(out, 60).tolist() == [13, 15, 8, 7] == [v % 60 for v in values]
    # every period and harmonic equals the encoding of the true remainder (incl. a period near 2**61)
    periods = [60, 86400, 2**61 + 1]
    enc = PeriodicEncoding(periods, harmonics=2)
    got = keras.ops.convert_to_numpy(enc(np.array([[v] for v in values], np.uint64)))
    for j, p in enumerate(periods):
        want = keras.ops.convert_to_numpy(enc(np.array([[v % p] for v in values], np.int64)))
        np.testing.assert_array_equal(got[:, 4 * j:4 * j + 4], want[:, 4 * j:4 * j + 4])
    # LearnedPeriodicEncoding: uint64 >= 2**63 with an origin beside them is the same as int64 near 0
    far = LearnedPeriodicEncoding([60.3], origin=2**63)
    near = LearnedPeriodicEncoding([60.3], origin=0)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(far(np.array([[2**63 + 5], [2**63 + 1000]], np.uint64))),
                                  keras.ops.convert_to_numpy(near(np.array([[5], [1000]], np.int64))))
    assert far.origin == 2**63 and isinstance(far.origin, int)
    with pytest.raises(ValueError, match=r"origin=18446744073709551616 is outside the int64/uint64 range"):
        LearnedPeriodicEncoding([60.0], origin=2**64)


# 4. integer inputs to the float layers are cast to the compute dtype (as Dense does)
@pytest.mark.parametrize("make, x", [
    (lambda: Snake(alpha=2.0), np.array([[1, 2]], np.int32)),
    (lambda: Sine(3, seed=0), np.array([[1, 2]], np.int32)),
    (lambda: FourierFeatures(frequencies=[[1.0, 0.3], [2.0, 0.1]]), np.array([[1, 2]], np.int32)),
    (lambda: SpectralFeatures(window=16, fmin=2, fmax=5),
     np.round(100 * np.sin(2 * np.pi * 3 * np.arange(16) / 16)).astype(np.int32)[None]),
], ids=["Snake", "Sine", "FourierFeatures", "SpectralFeatures"])
def test_float_layers_cast_integer_inputs(make, x):
    layer = make()
    got, want = layer(x), layer(x.astype(np.float32))
    for g, w in zip(keras.tree.flatten(got), keras.tree.flatten(want)):
        assert keras.backend.standardize_dtype(g.dtype) == "float32"
        np.testing.assert_allclose(keras.ops.convert_to_numpy(g), keras.ops.convert_to_numpy(w), rtol=1e-6, atol=1e-6)
    inputs = keras.Input(x.shape[1:], dtype="int32")  # and inside a functional model
    model = keras.Model(inputs, make()(inputs))
    assert all(np.isfinite(o).all() for o in keras.tree.flatten(model.predict(x, verbose=0)))


# 5. huge and tiny amplitudes fit as well as unit ones; constant or subnormal y is refused
X = np.linspace(-10, 10, 500)


@pytest.mark.parametrize("amplitude", [1e200, 1e-300, 1e300, 1e-307])
def test_fit_frequency_any_amplitude(amplitude, recwarn):
    fit = fitting.fit_frequency(X, amplitude * np.sin(3 * X + 0.4) + 2 * amplitude)
    assert abs(fit.omega - 3) < 1e-6
    assert fit.amplitude / amplitude == pytest.approx(1, abs=1e-9)
    assert fit.offset / amplitude == pytest.approx(2, abs=1e-9) and fit.phase == pytest.approx(0.4, abs=1e-9)
    rng = np.random.default_rng(0)
    xi = np.sort(rng.uniform(-10, 10, 300))
    two = fitting.fit_frequencies(xi, amplitude * (np.sin(3 * xi) + 0.5 * np.sin(4.1 * xi + 1)), 2)
    np.testing.assert_allclose(two.omegas, [3, 4.1], atol=1e-6)
    np.testing.assert_allclose(np.array(two.amplitudes) / amplitude, [1, 0.5], atol=1e-9)
    omegas = np.linspace(0.5, 5, 46)
    np.testing.assert_allclose(fitting.lomb_scargle(xi, amplitude * np.sin(3 * xi), omegas),
                               fitting.lomb_scargle(xi, np.sin(3 * xi), omegas), atol=1e-12)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]  # no overflow / invalid value


@pytest.mark.parametrize("y, message", [
    (np.zeros(500), r"y is constant \(every value 0\): there is no tone to fit"),
    (np.full(500, 2.5), r"y is constant \(every value 2.5\)"),
    (1e-310 * np.sin(3 * X), r"y is too small: its largest \|value\| 1e-310 is subnormal \(below 2.23e-308\)"),
], ids=["zeros", "constant", "subnormal"])
def test_fit_frequency_refuses_constant_or_subnormal_y(y, message):
    with pytest.raises(ValueError, match=message):
        fitting.fit_frequency(X, y)


# 6. a search grid too large to allocate is refused before any allocation
@pytest.mark.parametrize("x, kwargs, message", [
    (np.random.default_rng(0).uniform(-1000, 1000, 50), dict(max_frequency=1e6),
     r"max_frequency=1e\+06 with oversample=5 needs 1.5\de\+09 grid points .* above MAX_GRID_POINTS=2e\+07: "
     r"lower max_frequency or oversample, or raise min_frequency"),
    (np.random.default_rng(0).uniform(-10, 10, 50), dict(oversample=1e9),
     r"max_frequency=\S+ with oversample=1e\+09 needs \S+ grid points"),
    (X[:50], dict(oversample=1e9),
     r"oversample=1e\+09 needs an FFT of 5e\+10 points for 50 regularly spaced samples, above MAX_GRID_POINTS=2e\+07"),
], ids=["irregular-max_frequency", "irregular-oversample", "regular-oversample"])
def test_fit_frequency_refuses_oversized_grid(x, kwargs, message):
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=message):
            fitting.fit_frequency(x, np.sin(3 * x), **kwargs)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20  # refused before allocating

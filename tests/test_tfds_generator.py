import numpy as np
import pytest

tfds = pytest.importorskip("tensorflow_datasets")

from periodic_keras import signals  # noqa: E402
from periodic_keras.data.tfds_sine_generator import SineGeneratorConfig, build_sine_generator  # noqa: E402


@pytest.fixture(scope="module")
def classic(tmp_path_factory):
    return build_sine_generator(tmp_path_factory.mktemp("tfds"), "classic")


def arrays(builder, split, key):
    return np.stack([ex[key].numpy()[:, 0] for ex in builder.as_dataset(split=split)])


def test_classic_matches_the_demo_split_and_its_future(classic):
    x, offsets = signals.classic_sine_series()
    assert {k: v.num_examples for k, v in classic.info.splits.items()} == {"train": 97, "test": 3}
    np.testing.assert_array_equal(arrays(classic, "test", "series"), x[:3])
    np.testing.assert_array_equal(arrays(classic, "train", "series"), x[3:])
    np.testing.assert_allclose(arrays(classic, "test", "continuation"),
                               signals.sine_continuation(offsets[:3], 1000, 1000), atol=1e-6)
    assert [int(ex["offset"]) for ex in classic.as_dataset(split="test")] == list(offsets[:3])


def test_sums_continue_their_series_and_load_offline(tmp_path):
    ds = tfds.load("sine_generator/sums_small", split="test", data_dir=str(tmp_path), try_gcs=False)
    ex = next(iter(ds))
    series, future = ex["series"].numpy()[:, 0], ex["continuation"].numpy()[:, 0]
    assert series.shape == future.shape == (200,) and int(ex["offset"]) == -1
    assert np.max(np.abs(future)) <= 1.0 + 1e-6
    assert np.std(series) > 0.1  # noisy observed part around a real signal


def test_bad_configs():
    with pytest.raises(ValueError, match="kind"):
        SineGeneratorConfig(name="x", kind="cosines")
    with pytest.raises(ValueError, match="fixed at 97"):
        SineGeneratorConfig(name="x", num_train=10)

"""The clock task: labels, data, TFDS builder, model, export to int64 TFLite (the script: test_train_clock_script.py)."""

import os
import socket

import numpy as np
import pytest
import keras

from periodic_keras import edge, signals, training
from periodic_keras.data import clock_arrays, clock_dataset, clock_targets
from periodic_keras.jobs.evaluate import clock_exact_rates as exact_rates
from periodic_keras.models import clock_model, clock_reader, naive_clock_model
from script_runner import ROOT

#: Fixtures that train or run a job: the tests using them are marked slow (tests/conftest.py).
SLOW_FIXTURES = ('trained',)


def _python_clock(values):
    out = []
    for v in values:
        _, day = divmod(int(v), 86400)
        h, rest = divmod(day, 3600)
        out.append((h, *divmod(rest, 60)))
    return np.array(out)


def test_clock_digits_match_python_integers():
    rng = np.random.default_rng(0)
    t = np.concatenate([rng.integers(-2**63, 2**63 - 1, size=2000, dtype=np.int64),
                        np.array([-1, 0, 59, 60, 3599, 3600, 86399, 86400, -86401, 3_800_000_007], dtype=np.int64)])
    np.testing.assert_array_equal(signals.clock_digits(t), _python_clock(t))
    assert signals.clock_digits(np.array([-1])).tolist() == [[23, 59, 59]]
    with pytest.raises(TypeError, match="integers"):
        signals.clock_digits(np.array([1.5e9]))


def test_clock_times_range_and_bad_years():
    t, digits = signals.clock_times(10_000, years=120, seed=0)
    limit = 120 * signals.SECONDS_PER_YEAR
    assert t.dtype == np.int64 and t.min() >= -limit and t.max() <= limit
    assert (t < 0).mean() == pytest.approx(0.5, abs=0.03) and t.max() > 0.99 * limit
    np.testing.assert_array_equal(digits, _python_clock(t))
    for bad in (0, -1, float("nan"), True, 3e11):
        with pytest.raises(ValueError, match="years"):
            signals.clock_times(3, years=bad)


def test_clock_dataset_stream_and_fixed_sets():
    t, y = next(iter(clock_dataset(batch_size=64, seed=3)))
    assert t.dtype.name == "int64" and tuple(t.shape) == (64, 1)
    np.testing.assert_array_equal(np.stack([y[k].numpy() for k in ("hh", "mm", "ss")], 1), _python_clock(t.numpy()[:, 0]))
    t2, _ = next(iter(clock_dataset(batch_size=64, seed=3)))
    np.testing.assert_array_equal(t.numpy(), t2.numpy())  # reproducible
    a, _ = clock_arrays(100, "test")
    b, _ = clock_arrays(100, "validation")
    assert not np.array_equal(a, b)
    fixed = clock_dataset("test", batch_size=40, num_examples=100)
    assert sum(int(x.shape[0]) for x, _ in fixed) == 100
    with pytest.raises(ValueError, match="num_examples"):
        clock_dataset("test")
    assert clock_targets(np.array([3_800_000_007]))["ss"].tolist() == [27]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A clock model trained on random int64 timestamps for a short run (about 15 s on 2 cores)."""
    training.set_seed(0)
    model = clock_model(hidden=128)
    model.compile(optimizer=training.adam_cosine(1500, 1e-2),
                  loss={k: "sparse_categorical_crossentropy" for k in ("hh", "mm", "ss")})
    training.fit(model, clock_dataset(batch_size=1024, seed=0), 1500, verbose=0)
    return model


def test_the_clock_is_learned_exactly_on_every_second_of_a_day(trained):
    reader = clock_reader(trained)
    day = np.arange(86_400, dtype=np.int64)[:, None]
    rates = exact_rates(reader.predict(day, batch_size=8192, verbose=0), day)
    assert rates["exact"] == 1.0, rates
    t, _ = clock_arrays(100_000, "test")
    far = t + np.int64(2**40)  # far outside the training range: the encoding reduces exactly
    for stamps in (t, far):
        assert exact_rates(reader.predict(stamps, batch_size=8192, verbose=0), stamps)["exact"] == 1.0
    assert reader.predict(np.array([[-1]], dtype=np.int64), verbose=0).tolist() == [[23, 59, 59]]


@pytest.mark.slow
def test_clock_export_runs_int64_tflite_on_the_edge(trained, tmp_path):
    from periodic_keras import export

    t, _ = clock_arrays(2000, "test", seed=5)
    meta = export.export_model(clock_reader(trained), str(tmp_path / "clock"), "clock", t[:200], variants=("float32",))
    assert meta["input"]["dtype"] == "int64" and meta["output"]["dtype"] == "int32"
    runner = edge.load(str(tmp_path / "clock"))
    got = runner.predict(t)
    assert got.dtype == np.int32 and exact_rates(got, t)["exact"] == 1.0
    assert runner.predict(np.array([-1], dtype=np.int64)).tolist() == [[23, 59, 59]]
    with pytest.raises(TypeError, match="integer input"):
        runner.predict(t.astype(np.float64))
    with pytest.raises(TypeError, match="integers"):
        export.export_model(clock_reader(trained), str(tmp_path / "bad"), "clock", t[:5].astype("float32"))
    assert not os.path.exists(tmp_path / "bad")


def test_naive_models_see_float_seconds():
    from periodic_keras.jobs import clock as job
    from periodic_keras.models import NAIVE_CLOCKS

    assert job.NAIVE_CLOCKS == NAIVE_CLOCKS
    for kind in ("siren", "gelu_mlp"):
        model = naive_clock_model(kind, hidden=8, depth=2)
        assert keras.backend.standardize_dtype(model.input.dtype) == "float32"
        assert sorted(model.output) == ["hh", "mm", "ss"]
    with pytest.raises(ValueError, match="unknown naive clock"):
        naive_clock_model("relu")


def _no_network(*args, **kwargs):
    raise AssertionError(f"tfds tried to reach the network: {args!r}")


@pytest.mark.slow
def test_tfds_clock_builder_offline(tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")
    from periodic_keras.data import tfds_clock  # noqa: F401  (registers the builder)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", _no_network)
        mp.setattr(socket, "create_connection", _no_network)
        splits = tfds.load("clock/small", data_dir=os.fspath(tmp_path), try_gcs=False, download=True, batch_size=-1)
    data = {k: tfds.as_numpy(v) for k, v in splits.items()}
    assert {k: len(v["t"]) for k, v in data.items()} == {"train": 2000, "validation": 200, "test": 2000, "day": 86400}
    for split, ex in data.items():
        assert ex["t"].dtype == np.int64
        np.testing.assert_array_equal(np.stack([ex["hh"], ex["mm"], ex["ss"]], 1), _python_clock(ex["t"]), split)
    np.testing.assert_array_equal(np.sort(data["day"]["t"]), np.arange(86400))
    assert (data["test"]["t"] < 0).any() and not np.array_equal(data["train"]["t"][:200], data["validation"]["t"])


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["float32", "float16"])
def test_committed_clock_model_is_exact_on_the_edge(variant):
    runner = edge.load(os.path.join(ROOT, "exported", "clock"), variant)
    assert runner.metadata["input"]["dtype"] == "int64" and runner.metadata["output"]["columns"] == ["hh", "mm", "ss"]
    day = np.arange(86_400, dtype=np.int64)
    t, _ = clock_arrays(100_000, "test", seed=77)
    for stamps in (day, t[:, 0], np.array([-1, 0, 3_800_000_007, -3_800_000_007, 2**62], dtype=np.int64)):
        assert exact_rates(runner.predict(stamps), stamps)["exact"] == 1.0

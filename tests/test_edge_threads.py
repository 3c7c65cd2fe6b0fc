"""The edge runtime shared between threads: every model called from 8 threads at once gives,
call for call, exactly the answer the same call gives alone (LiteRT and TFLM), and a step
model's ``generate`` / ``run`` are atomic with respect to their state.

Before: 8 threads x 50 ``predict`` calls on one ``edge.load("exported/freq")`` raised LiteRT's
"There is at least 1 reference to internal data in the interpreter" in 382 of 400 calls and
answered wrongly, silently, in 3.
"""

import os
import threading

import numpy as np
import pytest

from periodic_keras import edge
from periodic_keras.edge.runtime import RunnerPool
from script_runner import ROOT

#: Fixtures that train or export: the tests using them are marked slow (tests/conftest.py).
SLOW_FIXTURES = ("small_forecaster_export",)

THREADS = 8


def exported(task: str) -> str:
    return os.path.join(ROOT, "exported", task)


def concurrently(call, jobs: list, threads: int = THREADS) -> list:
    """``[call(*job) for job in jobs]``, the jobs dealt round-robin to ``threads`` threads that
    start together; the first exception a thread meets is raised here."""
    results, errors = [None] * len(jobs), []
    start = threading.Barrier(threads)

    def work(k):
        start.wait()
        try:
            for i in range(k, len(jobs), threads):
                results[i] = call(*jobs[i])
        except BaseException as exc:  # noqa: BLE001 -- re-raised below
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if errors:
        raise errors[0]
    return results


def assert_same(got: list, want: list) -> None:
    """Exactly equal, job for job (nested tuples, lists and dicts of arrays)."""
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        if isinstance(w, dict):
            assert g.keys() == w.keys(), i
            assert_same(list(g.values()), list(w.values()))
        elif isinstance(w, (tuple, list)):
            assert_same(list(g), list(w))
        else:
            np.testing.assert_array_equal(g, w, err_msg=f"job {i}")
            assert np.asarray(g).dtype == np.asarray(w).dtype


def windows(n: int, seed: int) -> list:
    """``n`` batches of 1-4 noisy sine windows of 100 samples."""
    rng = np.random.default_rng(seed)
    t = np.arange(100) / 100
    out = []
    for _ in range(n):
        f = rng.uniform(2, 28, size=(rng.integers(1, 5), 1))
        out.append(np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) + 0.1 * rng.normal(size=(len(f), 100)))
    return out


def prefixes(n: int, seed: int, length: int = 60) -> list:
    """``n`` warm-up prefixes ``[1, length]`` of sums of sines."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    return [np.sin(2 * np.pi * t / rng.uniform(12, 40) + rng.uniform(0, 6))[None] for _ in range(n)]


@pytest.mark.parametrize("max_interpreters", [None, 2, 1])
def test_frequency_predict_from_8_threads_equals_serial(max_interpreters):
    model = edge.load(exported("freq"), max_interpreters=max_interpreters)
    jobs = [(x,) for x in windows(200, seed=1)]
    want = [model.predict(x) for (x,) in jobs]
    assert_same(concurrently(model.predict, jobs), want)


def test_frequency_quality_and_clock_from_8_threads_equal_serial():
    model = edge.load(exported("freq"))
    jobs = [(x,) for x in windows(40, seed=2)]
    want = [model.predict(x, return_quality=True) for (x,) in jobs]
    assert_same(concurrently(lambda x: model.predict(x, return_quality=True), jobs), want)
    assert_same(concurrently(model.quality, jobs), [q for _, q in want])
    clock = edge.load(exported("clock"))
    stamps = [(np.random.default_rng(i).integers(-2**40, 2**40, size=(3, 1)),) for i in range(80)]
    assert_same(concurrently(clock.predict, stamps), [clock.predict(t) for (t,) in stamps])


def test_generate_from_8_threads_equals_serial():
    """Each generate call owns its interpreter for its whole warm-up and closed loop."""
    model = edge.load_step(exported("generator_family"))
    jobs = [(p, 40) for p in prefixes(32, seed=3)]
    want = [model.generate(p, n) for p, n in jobs]
    assert_same(concurrently(model.generate, jobs), want)
    # from a given state, and a batch of two sequences per call
    state = [np.full((2, w), 0.05, np.float32) for w in model.state_widths]
    jobs = [(np.concatenate([p, p[:, ::-1]]), 20, state) for p in prefixes(16, seed=4)]
    assert_same(concurrently(model.generate, jobs), [model.generate(*job) for job in jobs])


@pytest.mark.parametrize("task", ["divider", "burst"])
def test_streams_carried_chunk_by_chunk_from_8_threads_equal_serial(task):
    """Each thread streams its own sequence in chunks, carrying the state between ``run``
    calls, while the others do the same: every chunk's output and state as alone."""
    model = edge.load_step(exported(task))
    rng = np.random.default_rng(5)
    sequences = [np.sin(2 * np.pi * np.arange(120) / rng.uniform(40, 80))[None] for _ in range(THREADS)]

    def chunked(x):
        outs, state = [], None
        for start in range(0, x.shape[1], 30):
            out, state = model.run(x[:, start:start + 30], state)
            outs.append(out)
        return np.concatenate(outs, axis=1), state

    want = [chunked(x) for x in sequences]
    assert_same(concurrently(chunked, [(x,) for x in sequences]), want)
    # single steps too
    steps = [(x[:, :1].T, [s[:1] for s in model.zero_state(1)]) for x in sequences] * 4
    assert_same(concurrently(model.step, steps), [model.step(*job) for job in steps])


@pytest.fixture(scope="module")
def small_forecaster_export(tmp_path_factory):
    """A small forecaster (numeric index, 160 steps, horizon 12) exported once (about 15 s)."""
    import pandas as pd

    from periodic_keras.forecasting import Forecaster

    t = np.arange(160)
    values = 10 + 0.01 * t + np.sin(2 * np.pi * t / 24) + np.random.default_rng(0).normal(0, 0.1, t.size)
    series = pd.Series(values, index=pd.Index(100 + 0.5 * t))
    forecaster = Forecaster(horizon=12, steps=30, units=4, hidden=8, periods=[12.0]).fit(series)
    out = str(tmp_path_factory.mktemp("forecaster") / "export")
    forecaster.export(out)
    return out, values, 100 + 0.5 * t


def test_forecast_from_8_threads_equals_serial(small_forecaster_export):
    out, values, times = small_forecaster_export
    model = edge.load_forecaster(out)
    jobs = [(values[: 100 + i], times[: 100 + i]) for i in range(0, 60, 2)]
    want = [model.forecast(v, t) for v, t in jobs]
    got = concurrently(model.forecast, jobs)
    assert_same([tuple(g) for g in got], [tuple(w) for w in want])


def test_tflm_models_from_8_threads_equal_serial_and_keep_stderr():
    """TFLM's runs take turns (each captures file descriptor 2): answers as alone, and the
    process's stderr still points where it did (interleaved captures used to leave it on a
    deleted file)."""
    pytest.importorskip("tflite_micro")
    before = os.fstat(2)
    freq = edge.load(exported("freq"), runtime="tflm")
    jobs = [(x,) for x in windows(24, seed=6)]
    assert_same(concurrently(freq.predict, jobs), [freq.predict(x) for (x,) in jobs])
    divider = edge.load_step(exported("divider"), runtime="tflm")
    jobs = [(x, None) for x in prefixes(16, seed=7, length=40)]
    assert_same(concurrently(divider.run, jobs), [divider.run(*job) for job in jobs])
    after = os.fstat(2)
    assert (after.st_dev, after.st_ino) == (before.st_dev, before.st_ino)


def test_micro_runner_itself_is_safe_to_share():
    pytest.importorskip("tflite_micro")
    with open(os.path.join(exported("burst"), "model.tflite"), "rb") as fh:
        runner = edge.MicroRunner(fh.read())
    rng = np.random.default_rng(8)
    jobs = [{name: rng.normal(size=spec["shape"]).astype(spec["dtype"]) for name, spec in runner.inputs.items()}
            for _ in range(64)]
    assert_same(concurrently(lambda kw: runner(**kw), [(kw,) for kw in jobs]), [runner(**kw) for kw in jobs])


def test_pool_opens_no_more_interpreters_than_allowed_and_reuses_them():
    made, busy, most = [], [0], [0]
    guard = threading.Lock()

    class Slow:
        inputs, outputs = {"x": None}, {"y": None}

        def __call__(self, x):
            with guard:
                busy[0] += 1
                most[0] = max(most[0], busy[0])
            threading.Event().wait(0.002)
            with guard:
                busy[0] -= 1
            return {"y": x * 2}

    def make():
        made.append(1)
        return Slow()

    pool = RunnerPool(make, Slow(), limit=3)
    got = concurrently(lambda x: pool(x=x), [(i,) for i in range(200)])
    assert got == [{"y": 2 * i} for i in range(200)]
    assert pool.size == 1 + len(made) <= 3 and most[0] <= 3
    concurrently(lambda x: pool(x=x), [(i,) for i in range(50)])
    assert pool.size <= 3  # reused, not reopened

    def failing():
        raise MemoryError("no room")

    pool = RunnerPool(failing, Slow(), limit=4)  # cannot open a second: every call shares the first
    assert concurrently(lambda x: pool(x=x), [(i,) for i in range(40)]) == [{"y": 2 * i} for i in range(40)]
    assert pool.size == 1


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "2"])
def test_max_interpreters_must_be_a_positive_integer(bad):
    with pytest.raises(ValueError, match="max_interpreters must be a positive integer or None"):
        edge.load(exported("freq"), max_interpreters=bad)


def test_throughput_figure():
    model = edge.load(exported("freq"))
    assert model.throughput(windows(1, seed=9)[0], threads=3, repeats=2) > 0
    with pytest.raises(ValueError, match="threads must be a positive integer"):
        model.throughput(windows(1, seed=9)[0], threads=0)

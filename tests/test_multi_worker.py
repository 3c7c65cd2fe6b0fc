"""Multi-worker training: two worker processes on 127.0.0.1 train the frequency regressor together."""

import json
import os
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from periodic_keras import training
from periodic_keras.training import distributed
from script_runner import ROOT, run_main

WORKER = textwrap.dedent("""
    import json, os, sys, time
    import numpy as np
    from periodic_keras import training
    from periodic_keras.training import distributed
    from periodic_keras.data import frequency_arrays, frequency_dataset
    from periodic_keras.models import frequency_regressor

    out, strategy_name = sys.argv[1], sys.argv[2]
    strategy = training.get_strategy(strategy_name)      # first: before any other TensorFlow work
    training.set_seed(0)
    small = dict(window=32, fmin=1.0, fmax=8.0)
    x, f = frequency_arrays(256, "validation", **small, snr_db=20.0)
    with strategy.scope():
        model = frequency_regressor(**small, lstm_units=8, dense_units=16, refine_steps=0)  # the learned part
        training.compile_regressor(model, 150, learning_rate=1e-2)
    before = float(np.mean((distributed.local_model(model).predict(x, verbose=0)[:, 0] - f) ** 2))
    start = time.time()
    history = training.fit(model, frequency_dataset(**small, batch_size=64), 150, steps_per_epoch=50,
                           run_dir=os.path.join(out, "run"), verbose=0, strategy=strategy)
    seconds = time.time() - start
    after = float(np.mean((distributed.local_model(model).predict(x, verbose=0)[:, 0] - f) ** 2))
    np.save(os.path.join(out, "weights.npy"), np.concatenate([w.ravel() for w in model.get_weights()]))
    with open(os.path.join(out, "result.json"), "w") as fh:
        json.dump(dict(before=before, after=after, loss=history.history["loss"], seconds=seconds,
                       replicas=strategy.num_replicas_in_sync, worker=distributed.worker_info()), fh)
""")


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _launch(script, out, strategy, tf_config=None):
    env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("TF_CONFIG", None)
    if tf_config is not None:
        env["TF_CONFIG"] = json.dumps(tf_config)
    os.makedirs(out, exist_ok=True)
    return subprocess.Popen([sys.executable, str(script), str(out), strategy], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _wait(procs, timeout=240):
    try:
        outputs = [p.communicate(timeout=timeout)[0] for p in procs]
    finally:
        for p in procs:  # never leave a worker behind
            if p.poll() is None:
                p.kill()
                p.wait()
    for p, text in zip(procs, outputs):
        assert p.returncode == 0, text[-3000:]


@pytest.mark.slow
def test_two_workers_train_together_and_end_identical(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in _free_ports(2)]}
    procs = [_launch(script, tmp_path / f"w{i}", "multi-worker",
                     {"cluster": cluster, "task": {"type": "worker", "index": i}}) for i in range(2)]
    _wait(procs)
    single = _launch(script, tmp_path / "single", "default")
    _wait([single])

    results = [json.loads((tmp_path / f"w{i}" / "result.json").read_text()) for i in range(2)]
    weights = [np.load(tmp_path / f"w{i}" / "weights.npy") for i in range(2)]
    np.testing.assert_array_equal(weights[0], weights[1])  # gradients all-reduced: one model
    for r in results:
        assert r["replicas"] == 2 and len(r["loss"]) == 3
        assert r["after"] < 0.5 * r["before"], r  # the loss fell
    assert [r["worker"]["chief"] for r in results] == [True, False]
    assert results[0]["loss"] == results[1]["loss"]  # the loss is reduced across workers
    # Each worker kept its own backup of the finished training (cleared by the jobs at the end of a run).
    assert (tmp_path / "w0" / "run" / ".periodic_keras" / "backup" / "training.npz").exists()
    assert (tmp_path / "w1" / "run" / ".periodic_keras" / "backup" / "worker-1" / "training.npz").exists()
    alone = json.loads((tmp_path / "single" / "result.json").read_text())
    assert alone["replicas"] == 1 and alone["after"] < 0.5 * alone["before"]
    print(f"150 steps of 64 windows: 2 workers {results[0]['seconds']:.1f} s (MSE {results[0]['before']:.4f} -> "
          f"{results[0]['after']:.4f}), 1 worker {alone['seconds']:.1f} s ({alone['before']:.4f} -> {alone['after']:.4f})")


def test_worker_info_and_bad_tf_config(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker",
                                                                                                "index": 1}}))
    assert distributed.worker_info() == {"workers": 2, "index": 1, "chief": False}
    assert distributed.worker_dirs("runs/x", "exported/x") == (os.path.join("runs/x", "worker-1"), None)
    for bad, match in (("{not json", "not a valid cluster spec"),
                       (json.dumps({"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 3}}),
                        "outside the cluster"),
                       (json.dumps({"cluster": {"worker": ["a:1"]}, "task": {"type": "ps", "index": 0}}),
                        "not supported")):
        monkeypatch.setenv("TF_CONFIG", bad)
        with pytest.raises(ValueError, match=match):
            distributed.worker_info()
    with pytest.raises(ValueError, match="unknown strategy"):
        training.get_strategy("tpu")


def test_scripts_refuse_multi_worker_without_tf_config_or_for_stateful_jobs(tmp_path):
    done = run_main("train_freq.py", "--strategy", "multi-worker", "--output-dir", str(tmp_path / "f"),
                      timeout=120)
    assert done.returncode == 2 and "needs TF_CONFIG" in done.stderr and "Traceback" not in done.stderr
    done = run_main("train_divider.py", "--strategy", "multi-worker", "--output-dir", str(tmp_path / "d"),
                      timeout=120)
    assert done.returncode == 2 and "stateful LSTM" in done.stderr
    assert not (tmp_path / "f").exists() and not (tmp_path / "d").exists()

"""The memory jobs: a frequency divider and a latching burst detector, naive setup vs fix.

- :func:`train_divider`: input ``sin(t)``, target ``sin(t / 2)``. The naive setup (shuffled
  windows of 16 steps, each from a zero state) is reproduced next to the fix (state
  carried over consecutive windows of each sequence from its start), and both are tested
  on held-out sequences 10x longer than the training sequences.
- :func:`train_burst`: zeros with one half-sine burst; target 1 until the burst has
  ended. The naive setup (hidden state carried over from the previous batch) next to the
  fix (state reset for each sequence), on 1000 held-out sequences of 130 and of 1300 steps.

Both print the :mod:`periodic_keras.classical.diagnose` report of the windowed data, write a
results table and a plot, and export the fix as a streaming step model (state explicit,
carried between calls on the device).
"""

from __future__ import annotations

import os
import time

import numpy as np

from periodic_keras.jobs.common import finish, job, phase, start_strategy, summary
from periodic_keras.signals import check_positive_int

__all__ = ["memory_summary", "train_burst", "train_divider"]

_STATEFUL_FIX = "the fix is a stateful LSTM whose state is carried over consecutive windows"


def _check(units, steps, naive_steps, batch_size, learning_rate, **positive):
    check_positive_int(units=units, steps=steps, naive_steps=naive_steps, batch_size=batch_size, **positive)
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be positive, got {learning_rate}")


def _fit(model, data, steps, run_dir, verbose, strategy, callbacks=()):
    """Train for ``steps`` with the shared helper; return the seconds it took."""
    from periodic_keras import training

    start = time.time()
    training.fit(model, data, steps, run_dir=run_dir, verbose=verbose, callbacks=callbacks, strategy=strategy)
    return time.time() - start


def _export_stream(model, export_dir, task, inputs, reference, metadata, evaluate=None):
    """Export ``model`` as a streaming step model (float32, float16, int8), verified on ``inputs``
    against ``reference``; ``evaluate(runner, variant, runtime)``: task figures per variant and runtime."""
    from periodic_keras import export
    from periodic_keras.models import step_model

    return export.export_step_model(step_model(model, batch_size=1), export_dir, task, inputs, mode="stream",
                                    reference=reference, variants=("float32", "float16", "int8"), metadata=metadata,
                                    evaluate=evaluate)


def _diagnosis(x, y, window, output_dir, seed):
    from periodic_keras.classical import diagnose_sequences
    from periodic_keras._io import atomic_write_text

    report = diagnose_sequences(x, y, window, seed=seed)
    path = os.path.join(output_dir, "diagnosis.txt")
    atomic_write_text(path, str(report) + "\n")
    return report, path


@job(evaluation_only=("n_test", "test_factor"))
def train_divider(
    units: int = 32,
    period=(40.0, 80.0),
    length: int = 512,
    window: int = 256,
    n_train: int = 4096,
    n_test: int = 64,
    test_factor: int = 10,
    steps: int = 3000,
    batch_size: int = 32,
    learning_rate: float = 1e-2,
    naive_window: int = 16,
    naive_steps: int = 1000,
    naive_batch_size: int = 16,
    seed: int = 0,
    output_dir: str = "runs/divider",
    export_dir: str | None = "exported/divider",
    no_export: bool = False,
    verbose: int = 1,
    strategy: str = "default",
    restart: bool = False,
) -> dict:
    """Frequency divider: learn ``sin(t) -> sin(t / 2)`` with state carried from ``t = 0``.

    Data: ``n_train`` sequences of ``length`` steps with input period ``period`` (a
    number of steps or a range; :func:`periodic_keras.signals.divider_sequences`);
    held out: ``n_test`` sequences ``test_factor`` times longer.

    - Naive (reproduced): SimpleRNN and LSTM of ``units`` trained on shuffled windows of
      ``naive_window`` steps (batch ``naive_batch_size``), each from a zero state, and
      tested the same way, window by window.
    - Fix: a ``stateful`` LSTM on consecutive windows of ``window`` steps, the state
      carried within a sequence and reset between sequences (truncated
      back-propagation), tested on the whole held-out sequences from their start.

    ``strategy``: ``default`` or ``mirrored`` (multi-worker is refused: stateful models).

    Outputs in ``output_dir``: ``diagnosis.txt``, ``results.csv``/``.md`` (setup, model,
    test MSE, memoryless floor, training seconds), ``divider.png``; the fix's streaming
    step model in ``export_dir``.

    Example (a tiny run)::

        out = train_divider(length=64, window=32, n_train=64, n_test=4, steps=20, naive_steps=10,
                            output_dir="/tmp/d", no_export=True)
    """
    _check(units, steps, naive_steps, batch_size, learning_rate, length=length, window=window, n_train=n_train,
           n_test=n_test, test_factor=test_factor, naive_window=naive_window, naive_batch_size=naive_batch_size)
    for w, name in ((window, "window"), (naive_window, "naive_window")):
        if w > length:
            raise ValueError(f"{name}={w} is longer than the training sequences (length={length})")
    from periodic_keras import signals

    x, y, _ = signals.divider_sequences(n_train, length, period, seed=seed)  # checks period
    xt, yt, _ = signals.divider_sequences(n_test, test_factor * length, period, seed=seed + 1)
    strat, output_dir, export_dir, no_export = start_strategy(strategy, output_dir, export_dir, no_export,
                                                              _STATEFUL_FIX)

    import pandas as pd

    from periodic_keras import training
    from periodic_keras.jobs import results
    from periodic_keras.data import consecutive_windows, independent_windows
    from periodic_keras.models import divider_model, sequence_model

    report, diagnosis_path = _diagnosis(x, y, naive_window, output_dir, seed)
    rows, naive_pred = [], None
    for cell in ("simple_rnn", "lstm"):  # the naive windowed setup
        training.set_seed(seed)
        with strat.scope():
            model = sequence_model(units, cell, name=f"naive_{cell}")
            training.compile_regressor(model, naive_steps, learning_rate)
        seconds = _fit(model, independent_windows(x, y, naive_window, naive_batch_size, seed=seed), naive_steps,
                       phase(output_dir, f"naive_{cell}"), verbose, strat)
        k = xt.shape[1] // naive_window
        windows = signals.cut_windows(xt, naive_window)[..., None]
        pred = np.asarray(model.predict(windows, verbose=0, batch_size=1024)).reshape(n_test, k * naive_window)
        pred = np.pad(pred, ((0, 0), (0, xt.shape[1] - k * naive_window)))
        naive_pred = pred
        rows.append({"setup": f"windows of {naive_window}, each from a zero state", "model": f"{cell}({units})",
                     "test_mse": float(np.mean((pred[:, : k * naive_window] - yt[:, : k * naive_window]) ** 2)),
                     "train_s": round(seconds, 1)})

    training.set_seed(seed)
    with strat.scope():
        stateful = divider_model(units, stateful=True, batch_size=batch_size)
        training.compile_regressor(stateful, steps, learning_rate)
    data, per_sequence = consecutive_windows(x, y, window, batch_size, shuffle=True, seed=seed)
    seconds = _fit(stateful, data, steps, phase(output_dir, "fix"), verbose, strat,
                   callbacks=[training.ResetStatesEvery(per_sequence)])
    model = divider_model(units)
    model.set_weights(stateful.get_weights())
    pred = np.asarray(model.predict(xt[..., None], verbose=0))[..., 0]
    err = (pred.astype(np.float64) - yt) ** 2
    rows.append({"setup": f"state carried over windows of {window} from t = 0, reset per sequence",
                 "model": f"lstm({units})", "test_mse": float(err.mean()), "train_s": round(seconds, 1)})
    table = pd.DataFrame(rows)
    table["test_steps"] = xt.shape[1]
    table["memoryless_floor"] = report.floor
    table_paths = results.write_table(table, os.path.join(output_dir, "results"))
    plot = results.plot_sequence(xt[0], yt[0], {f"naive: windows of {naive_window}": naive_pred[0],
                                                "fix: carried state": pred[0]},
                                 os.path.join(output_dir, "divider.png"), zoom=400,
                                 title=f"held-out sequence of {xt.shape[1]} steps (trained on {length})")
    meta = None
    if not no_export:
        meta = _export_stream(model, export_dir, "divider", xt[:2], pred[:2], {
            "description": "frequency divider: y_t = sin(t/2) from x_t = sin(t); stream it from t = 0, "
                           "carrying the state between calls",
            "data": f"input period {period} steps, amplitude 1",
            "evaluation": {"test_mse": float(err.mean()), "test_steps": int(xt.shape[1]), "n_test": n_test},
            "training": {"units": units, "length": length, "window": window, "steps": steps, "seed": seed,
                         "seconds": round(seconds, 1)},
        }, evaluate=lambda runner, *_: {"test_mse_8": float(np.mean((runner.run(xt[:8])[0] - yt[:8]) ** 2)),
                                        "keras_test_mse_8": float(np.mean((pred[:8] - yt[:8]) ** 2))})
    finish(output_dir)  # the run is complete: a rerun starts afresh
    return dict(model=model, table=table, table_paths=table_paths, plot=plot, diagnosis=report,
                diagnosis_path=diagnosis_path, train_seconds=sum(r["train_s"] for r in rows), export=meta,
                export_dir=None if no_export else export_dir)


def _burst_errors(prob, y):
    wrong = (np.asarray(prob) > 0.5).astype(np.int32) != y
    return {"step_error_rate": float(wrong.mean()), "wrong_steps": int(wrong.sum()),
            "sequences_with_errors": int(wrong.any(axis=1).sum())}


def _carried_predict(model, x, batch_size):
    """Run a stateful model over ``x`` in consecutive batches without resetting its state."""
    pad = -len(x) % batch_size
    xp = np.concatenate([x, np.zeros((pad, x.shape[1]), x.dtype)])[..., None]
    out = [np.asarray(model.predict_on_batch(xp[i : i + batch_size])) for i in range(0, len(xp), batch_size)]
    return np.concatenate(out)[: len(x), :, 0]


@job(evaluation_only=("n_test", "test_lengths"))
def train_burst(
    units: int = 16,
    length: int = 130,
    test_lengths=(130, 1300),
    start=(0, 50),
    random_length=(5, 20),
    random_amplitude=(0.2, 2.0),
    n_train: int = 8192,
    n_test: int = 1000,
    steps: int = 1500,
    batch_size: int = 32,
    learning_rate: float = 1e-2,
    naive_steps: int = 1500,
    window: int = 16,
    seed: int = 0,
    output_dir: str = "runs/burst",
    export_dir: str | None = "exported/burst",
    no_export: bool = False,
    verbose: int = 1,
    strategy: str = "default",
    restart: bool = False,
) -> dict:
    """Latching burst detector: naive carried state vs state reset per sequence.

    Data (:func:`periodic_keras.signals.burst_sequences`): bursts ``sin(j pi / 10)`` of
    10 steps starting uniformly in ``start``; the target is 1 until the burst has ended.

    - Naive (reproduced): ``stateful`` SimpleRNN and LSTM whose state is carried over from
      the previous batch (never reset), in training and in testing.
    - Fix: an LSTM whose state starts at zero for every sequence.
    - The fix again on bursts of random length (``random_length``, inclusive) and
      amplitude (``random_amplitude``).

    Each is tested on ``n_test`` held-out sequences of every length in ``test_lengths``
    (per-step errors, threshold 0.5). ``diagnosis.txt`` holds the
    :mod:`periodic_keras.classical.diagnose` report of windows of ``window`` steps.

    ``strategy``: ``default`` or ``mirrored`` (multi-worker is refused: the naive setup is stateful).

    Outputs in ``output_dir``: ``diagnosis.txt``, ``results.csv``/``.md``, ``burst.png``;
    the fix (fixed-length bursts) as a streaming step model in ``export_dir``.

    Example (a tiny run)::

        out = train_burst(n_train=64, n_test=8, steps=10, naive_steps=10, test_lengths=(130,),
                          output_dir="/tmp/b", no_export=True)
    """
    _check(units, steps, naive_steps, batch_size, learning_rate, length=length, n_train=n_train, n_test=n_test,
           window=window)
    test_lengths = tuple(test_lengths)
    for n in test_lengths:
        check_positive_int(test_length=n)
    from periodic_keras import signals

    variants = {"fixed": {}, "random": {"burst_length": tuple(random_length), "amplitude": tuple(random_amplitude)}}
    data = {name: signals.burst_sequences(n_train, length, start, seed=seed, **kw)[:2] for name, kw in variants.items()}
    tests = {(name, n): signals.burst_sequences(n_test, n, start, seed=seed + 1, **kw)[:2]
             for name, kw in variants.items() for n in test_lengths}  # checks every length fits a burst
    if window > length:
        raise ValueError(f"window={window} is longer than the training sequences (length={length})")
    strat, output_dir, export_dir, no_export = start_strategy(
        strategy, output_dir, export_dir, no_export,
        "the naive setup is a stateful RNN whose state is carried between batches")

    import pandas as pd

    from periodic_keras import training
    from periodic_keras.jobs import results
    from periodic_keras.data import sequence_dataset
    from periodic_keras.models import burst_model

    report, diagnosis_path = _diagnosis(*data["fixed"], window, output_dir, seed)
    rows, probs, total = [], {}, 0.0
    x, y = data["fixed"]
    for cell in ("simple_rnn", "lstm"):  # naive: the state carried over from the previous batch
        training.set_seed(seed)
        with strat.scope():
            model = burst_model(units, cell, stateful=True, batch_size=batch_size)
            training.compile_binary_classifier(model, naive_steps, learning_rate)
        seconds = _fit(model, sequence_dataset(x, y, batch_size, seed=seed), naive_steps,
                       phase(output_dir, f"naive_{cell}"), verbose, strat)
        total += seconds
        for n in test_lengths:
            xt, yt = tests["fixed", n]
            p = _carried_predict(model, xt, batch_size)
            probs["naive", n] = p
            rows.append({"setup": "state carried over from the previous batch", "bursts": "fixed",
                         "model": f"{cell}({units})", "test_length": n, **_burst_errors(p, yt),
                         "train_s": round(seconds, 1)})
    fixes = {}
    for name, (x, y) in data.items():
        training.set_seed(seed)
        with strat.scope():
            model = burst_model(units)
            training.compile_binary_classifier(model, steps, learning_rate)
        seconds = _fit(model, sequence_dataset(x, y, batch_size, seed=seed), steps,
                       phase(output_dir, f"fix_{name}"), verbose, strat)
        total += seconds
        fixes[name] = model
        for n in test_lengths:
            xt, yt = tests[name, n]
            p = np.asarray(model.predict(xt[..., None], verbose=0, batch_size=250))[..., 0]
            probs[name, n] = p
            rows.append({"setup": "state reset for every sequence", "bursts": name, "model": f"lstm({units})",
                         "test_length": n, **_burst_errors(p, yt), "train_s": round(seconds, 1)})
    table = pd.DataFrame(rows)
    table_paths = results.write_table(table, os.path.join(output_dir, "results"))
    n0 = test_lengths[0]
    xt, yt = tests["fixed", n0]
    plot = results.plot_sequence(xt[0], yt[0], {"naive: carried state (lstm)": probs["naive", n0][0],
                                                "fix: reset per sequence": probs["fixed", n0][0]},
                                 os.path.join(output_dir, "burst.png"),
                                 title=f"held-out sequence of {n0} steps: P(burst not ended yet)")
    meta = None
    if not no_export:
        n1 = test_lengths[-1]
        fixed = table[(table.bursts == "fixed") & (table.setup == "state reset for every sequence")]
        meta = _export_stream(fixes["fixed"], export_dir, "burst", tests["fixed", n1][0][:4],
                              probs["fixed", n1][:4], {
            "description": "latching burst detector: y_t = P(the burst has not ended yet); threshold 0.5; "
                           "stream a sequence from its start carrying the state, zeros for a new sequence",
            "threshold": 0.5,
            "data": f"bursts sin(j pi / 10), 10 steps, start uniform in {list(start)}",
            "evaluation": {f"step_error_rate_{int(r.test_length)}": float(r.step_error_rate)
                           for r in fixed.itertuples()},
            "training": {"units": units, "length": length, "steps": steps, "seed": seed},
        }, evaluate=lambda runner, *_: {f"test_{n0}": _burst_errors(runner.run(tests["fixed", n0][0])[0],
                                                                    tests["fixed", n0][1])})
    finish(output_dir)  # the run is complete: a rerun starts afresh
    return dict(model=fixes["fixed"], models=fixes, table=table, table_paths=table_paths, plot=plot,
                diagnosis=report, diagnosis_path=diagnosis_path, train_seconds=total,
                export=meta, export_dir=None if no_export else export_dir)


def memory_summary(result: dict) -> str:
    """Human-readable summary of :func:`train_divider` or :func:`train_burst`."""
    text = summary(result, lambda k, v, meta: f"{k} max|diff| {v['parity_max_abs_diff']:.2g} over "
                                              f"{meta['parity']['streamed_steps']} steps, "
                                              f"{v['ms_per_step']:.3f} ms/step")
    return f"diagnosis of the windowed data ({result['diagnosis_path']}):\n{result['diagnosis']}\n\n{text}"

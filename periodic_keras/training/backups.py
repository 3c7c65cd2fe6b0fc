"""Training backups that survive ``kill -9``: one file per run, written atomically.

A backup holds every model variable, every optimizer variable (step counter and moments,
so the learning-rate schedule continues), the number of finished epochs and a fingerprint
of the training (variable shapes, epochs, steps per epoch). It is written to a temporary
file and renamed over the previous one, so a process killed at any moment leaves either
the old backup or the new one, never a torn file; the same command then resumes from it.

A finished training keeps its backup (marked with all its epochs): a job that trains
several models in turn, killed in a later phase, resumes without retraining the earlier
ones. :func:`clear` removes a run directory's backups (the jobs remove a whole run's with
:func:`periodic_keras.runs.finish_run`).

The backup lives in the run directory's marked state folder,
``<run_dir>/.periodic_keras/backup/training.npz``; under multi-worker training worker ``i``
writes ``.../backup/worker-<i>/training.npz`` (each machine keeps its own copy). Nothing
outside that folder is ever written or removed.

The fingerprint covers what makes the training what it is: the model (each layer's class
and configuration, every variable's shape), the optimizer (its configuration: learning-rate
schedule, clipping, ...), the epochs and steps per epoch, the data's element spec, and the
caller's ``run_args`` (seed, data options: what the model cannot show). A backup whose
fingerprint differs is refused, naming what differs.
"""

from __future__ import annotations

import io
import json
import os
import shutil

import numpy as np

from periodic_keras._io import STATE, atomic_write_bytes, is_marked, mark
from periodic_keras.training.cluster import worker_info

__all__ = ["BACKUP_DIR", "clear", "path", "restore", "save"]

BACKUP_DIR = "backup"
FILE = "training.npz"
_HINT = "start afresh with --restart (restart=True), or use another run directory"


def path(run_dir: str) -> str:
    """This worker's backup file under ``run_dir``.

    >>> path("runs/x").replace(os.sep, "/") if "TF_CONFIG" not in os.environ else None
    'runs/x/.periodic_keras/backup/training.npz'
    """
    info = worker_info()
    folder = os.path.join(run_dir, STATE, BACKUP_DIR)
    if not info["chief"]:
        folder = os.path.join(folder, f"worker-{info['index']}")
    return os.path.join(folder, FILE)


def _plain(config):
    """``config`` without the ``name`` entries (Keras numbers them per process)."""
    if isinstance(config, dict):
        return {k: _plain(v) for k, v in config.items() if k != "name"}
    if isinstance(config, (list, tuple)):
        return [_plain(v) for v in config]
    return config


def _config(obj):
    try:
        return _plain(obj.get_config())
    except (NotImplementedError, TypeError, ValueError, AttributeError):
        return None


def _fingerprint(model, epochs: int, per_epoch: int, data=None, run_args=None) -> dict:
    value = {"model": [[type(layer).__name__, _config(layer)] for layer in model.layers],
             "variables": [list(v.shape) for v in model.variables],
             "optimizer": [type(model.optimizer).__name__, _config(model.optimizer),
                           [list(v.shape) for v in model.optimizer.variables]],
             "epochs": epochs, "steps_per_epoch": per_epoch, "data": None if data is None else str(data),
             "run_args": run_args or {}}
    return json.loads(json.dumps(value, default=lambda o: type(o).__name__, sort_keys=True))


def _differences(saved: dict, now: dict) -> str:
    missing = object()
    keys = sorted(k for k in set(saved) | set(now) if saved.get(k, missing) != now.get(k, missing))
    parts = []
    for key in keys:
        if key == "run_args" and isinstance(saved.get(key), dict):
            old, new = saved[key], now.get(key, {})
            parts += [f"{k} {old.get(k, '(unset)')!r} -> {new.get(k, '(unset)')!r}" for k in sorted(set(old) | set(new))
                      if old.get(k, missing) != new.get(k, missing)]
        elif key in ("epochs", "steps_per_epoch"):
            parts.append(f"{key} {saved.get(key)!r} -> {now.get(key)!r}")
        else:
            parts.append({"model": "the model's layers", "variables": "the model's variables",
                          "optimizer": "the optimizer or its learning-rate schedule",
                          "data": "the data's element spec"}.get(key, key))
    return "; ".join(parts)


def save(run_dir: str, model, epoch: int, epochs: int, per_epoch: int, data=None, run_args=None) -> str:
    """Write the backup after ``epoch`` finished epochs (of ``epochs`` of ``per_epoch`` steps).

    ``data`` (the dataset's element spec) and ``run_args`` (a JSON-able dict) join the
    fingerprint that :func:`restore` checks.
    """
    arrays = {f"model_{i}": np.asarray(v.numpy()) for i, v in enumerate(model.variables)}
    arrays.update({f"optimizer_{i}": np.asarray(v.numpy()) for i, v in enumerate(model.optimizer.variables)})
    buf = io.BytesIO()
    fingerprint = json.dumps(_fingerprint(model, epochs, per_epoch, data, run_args))
    np.savez(buf, epoch=np.int64(epoch), fingerprint=np.array(fingerprint), **arrays)
    target = path(run_dir)
    mark(os.path.join(run_dir, STATE), "run")
    os.makedirs(os.path.dirname(target), exist_ok=True)
    atomic_write_bytes(target, buf.getvalue())
    return target


def restore(run_dir: str, model, epochs: int, per_epoch: int, data=None, run_args=None) -> int:
    """Load the backup into ``model`` (and its optimizer); return the finished epochs (0: none).

    Raises ``ValueError`` when the backup belongs to another training (other model,
    optimizer or schedule, epochs, steps per epoch, data or ``run_args``), naming what
    differs and how to start afresh.
    """
    target = path(run_dir)
    if not os.path.exists(target):
        return 0
    if model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    try:
        saved = np.load(target)
        fingerprint, epoch = json.loads(str(saved["fingerprint"])), int(saved["epoch"])
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(f"the training backup {target!r} cannot be read ({exc}); {_HINT}") from None
    with saved:
        now = _fingerprint(model, epochs, per_epoch, data, run_args)
        if not isinstance(fingerprint, dict) or fingerprint != now:
            differ = _differences(fingerprint, now) if isinstance(fingerprint, dict) else "its format"
            raise ValueError(f"the training backup {target!r} belongs to another training (differs in: {differ}); "
                             f"{_HINT}")
        for prefix, variables in (("model", model.variables), ("optimizer", model.optimizer.variables)):
            for i, var in enumerate(variables):  # the fingerprint matched: same variables, same order
                var.assign(saved[f"{prefix}_{i}"])
    return epoch


def clear(run_dir: str) -> None:
    """Remove the backups of ``run_dir`` (its ``.periodic_keras/backup``, nothing else).

    >>> clear("/nonexistent/run")
    """
    state = os.path.join(run_dir, STATE)
    if is_marked(state):
        shutil.rmtree(os.path.join(state, BACKUP_DIR), ignore_errors=True)

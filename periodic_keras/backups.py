"""Training backups that survive ``kill -9``: one file per run, written atomically.

A backup holds every model variable, every optimizer variable (step counter and moments,
so the learning-rate schedule continues), the number of finished epochs and a fingerprint
of the training (variable shapes, epochs, steps per epoch). It is written to a temporary
file and renamed over the previous one, so a process killed at any moment leaves either
the old backup or the new one, never a torn file; the same command then resumes from it.

A finished training keeps its backup (marked with all its epochs): a job that trains
several models in turn, killed in a later phase, resumes without retraining the earlier
ones. :func:`clear` removes the backups once the whole run is done (the jobs call it).

Under multi-worker training the chief writes ``<run_dir>/backup/training.npz`` and worker
``i`` ``<run_dir>/backup/worker-<i>/training.npz`` (each machine keeps its own copy).
"""

from __future__ import annotations

import io
import json
import os
import shutil

import numpy as np

from periodic_keras._io import atomic_write_bytes

__all__ = ["BACKUP_DIR", "clear", "path", "restore", "save"]

BACKUP_DIR = "backup"
FILE = "training.npz"


def path(run_dir: str) -> str:
    """This worker's backup file under ``run_dir``."""
    from periodic_keras.distributed import worker_info

    info = worker_info()
    folder = os.path.join(run_dir, BACKUP_DIR)
    if not info["chief"]:
        folder = os.path.join(folder, f"worker-{info['index']}")
    return os.path.join(folder, FILE)


def _fingerprint(model, epochs: int, per_epoch: int) -> str:
    return json.dumps({"variables": [list(v.shape) for v in model.variables],
                       "optimizer": [list(v.shape) for v in model.optimizer.variables],
                       "epochs": epochs, "steps_per_epoch": per_epoch})


def save(run_dir: str, model, epoch: int, epochs: int, per_epoch: int) -> str:
    """Write the backup after ``epoch`` finished epochs (of ``epochs`` of ``per_epoch`` steps)."""
    arrays = {f"model_{i}": np.asarray(v.numpy()) for i, v in enumerate(model.variables)}
    arrays.update({f"optimizer_{i}": np.asarray(v.numpy()) for i, v in enumerate(model.optimizer.variables)})
    buf = io.BytesIO()
    np.savez(buf, epoch=np.int64(epoch), fingerprint=np.array(_fingerprint(model, epochs, per_epoch)), **arrays)
    target = path(run_dir)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    atomic_write_bytes(target, buf.getvalue())
    return target


def restore(run_dir: str, model, epochs: int, per_epoch: int) -> int:
    """Load the backup into ``model`` (and its optimizer); return the finished epochs (0: none).

    Raises ``ValueError`` when the backup belongs to another training (other model or
    optimizer variables, epochs or steps per epoch), naming the file to delete.
    """
    target = path(run_dir)
    if not os.path.exists(target):
        return 0
    if model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    try:
        saved = np.load(target)
        fingerprint, epoch = str(saved["fingerprint"]), int(saved["epoch"])
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(f"the training backup {target!r} cannot be read ({exc}); delete it to start afresh") from None
    with saved:
        if fingerprint != _fingerprint(model, epochs, per_epoch):
            raise ValueError(f"the training backup {target!r} belongs to another training (different model or "
                             "steps); delete it, or use another run directory, to start afresh")
        for prefix, variables in (("model", model.variables), ("optimizer", model.optimizer.variables)):
            for i, var in enumerate(variables):  # the fingerprint matched: same variables, same order
                var.assign(saved[f"{prefix}_{i}"])
    return epoch


def clear(output_dir: str) -> None:
    """Remove every backup folder below ``output_dir`` (call it when the whole run is done)."""
    if not os.path.isdir(output_dir):
        return
    for root, dirs, _ in os.walk(output_dir):
        if BACKUP_DIR in dirs:
            shutil.rmtree(os.path.join(root, BACKUP_DIR), ignore_errors=True)
            dirs.remove(BACKUP_DIR)

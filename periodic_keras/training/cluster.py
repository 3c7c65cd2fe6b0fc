"""This process's place in a ``TF_CONFIG`` cluster (pure Python, read as TensorFlow reads it):
what :mod:`periodic_keras.training.distributed` and the backups of each worker need."""

from __future__ import annotations

import json
import os

__all__ = ["worker_info"]


def worker_info() -> dict:
    """This process's place in the ``TF_CONFIG`` cluster: ``{"workers", "index", "chief"}``.

    Without ``TF_CONFIG``: one worker, index 0, chief. A malformed ``TF_CONFIG`` raises a
    ``ValueError`` naming the problem.

    >>> worker_info() if "TF_CONFIG" not in os.environ else None
    {'workers': 1, 'index': 0, 'chief': True}
    """
    text = os.environ.get("TF_CONFIG")
    if not text:
        return {"workers": 1, "index": 0, "chief": True}
    try:
        config = json.loads(text)
        cluster, task = config["cluster"], config["task"]
        kind, index = task["type"], int(task["index"])
        workers = len(cluster.get("worker", [])) + len(cluster.get("chief", []))
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"TF_CONFIG is not a valid cluster spec ({exc!r}); expected "
                         '{"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker", "index": i}}') from None
    if kind not in ("worker", "chief"):
        raise ValueError(f"TF_CONFIG task type {kind!r} is not supported: use 'worker' (or 'chief')")
    if not 0 <= index < max(workers, 1):
        raise ValueError(f"TF_CONFIG task index {index} is outside the cluster of {workers} workers")
    chief = kind == "chief" or (kind == "worker" and index == 0 and "chief" not in cluster)
    return {"workers": workers, "index": index if kind == "worker" else 0, "chief": chief}

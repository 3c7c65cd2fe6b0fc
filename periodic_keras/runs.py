"""What a run and an export own, and nothing else: output directories, export targets, resume.

- A run's **output directory** must be new, empty, or one an earlier run of this package
  wrote: its ``.periodic_keras/`` is marked and records every file the run wrote with its
  SHA-256 (``files.json``). A file there that the records do not list, or that changed since
  it was written, makes the directory refused before any work: a run never replaces a file
  it did not write, and a copied marker proves nothing. Folders a user adds there are left
  alone (a run writes only its own files at the top level). Training backups live in
  ``.periodic_keras/train/`` inside it, and only that folder is ever cleared.
- An **export** replaces its target directory only when the target is empty or holds a
  previous export proven by the checksums its metadata lists (:mod:`periodic_keras.targets`);
  staging, the previous version during the swap and the lock live in a marked folder beside
  it, ``.<name>.periodic_keras/``, removed when the export is done.
- Inputs are never outputs: an input file inside the output or export directory is refused.
- One writer at a time: a second run or export into the same directory is refused at once
  (an OS lock that dies with its process, so ``kill -9`` leaves none behind).
- **Resume is honest**: a run records its arguments; a rerun into a directory holding an
  interrupted run with other arguments is refused, naming them (``restart=True`` discards).

Pure Python: the edge runtime uses :func:`pending_recovery` and :func:`read_json` (they only read).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil

from periodic_keras._io import (MAX_JSON_DEPTH, MAX_METADATA_BYTES, STATE, atomic_write_text, dir_lock, is_marked,
                                is_state_path, mark, read_json, recorded, sha256_file)
from periodic_keras.errors import LockedError, NotOwnedError
from periodic_keras.targets import (check_creatable, check_export_target, export_staging, names, pending_recovery,
                                    proven_export, publish, recover)

__all__ = ["LockedError", "MAX_JSON_DEPTH", "MAX_METADATA_BYTES", "NotOwnedError", "check_export_target",
           "check_inputs", "claim_output_dir", "export_staging", "finish_run", "open_run", "pending_recovery",
           "phase_dir", "publish", "recover", "read_json"]

_TRAIN = "train"
_RUN_FILE = "run.json"


def _ours(path: str) -> bool:
    """A folder this package wrote: a proven export, a marked folder (an export's box), a run directory."""
    if not os.path.isdir(path) or os.path.islink(path):
        return False
    return is_marked(path) or is_marked(os.path.join(path, STATE)) or proven_export(path)


def claim_output_dir(output_dir: str) -> str:
    """Make ``output_dir`` this run's: created and marked if new or empty; kept if an earlier run's.

    Refused with an error naming the problem, before anything is written: a file; a path
    that cannot be made; a folder inside the package's own state folders; a directory of
    other files; a run directory holding a file its records do not list (a user's file, a
    copied marker) or one changed since the run wrote it. Returns ``output_dir``.

    >>> import tempfile, os
    >>> d = claim_output_dir(os.path.join(tempfile.mkdtemp(), "run"))
    >>> sorted(os.listdir(d))
    ['.periodic_keras']
    """
    output_dir = os.fspath(output_dir)
    if os.path.exists(output_dir) and not os.path.isdir(output_dir):
        raise NotOwnedError(f"output directory {output_dir!r} is a file: choose a directory")
    if is_state_path(os.path.realpath(output_dir)):
        raise NotOwnedError(f"output directory {output_dir!r} lies inside a folder periodic_keras keeps for itself "
                            "(.periodic_keras): choose a directory outside it")
    check_creatable(output_dir, "output directory")
    state = os.path.join(output_dir, STATE)
    if os.path.isdir(output_dir) and not is_marked(state):
        foreign = [e for e in os.listdir(output_dir) if e != STATE and not _ours(os.path.join(output_dir, e))]
        if foreign:
            raise NotOwnedError(f"output directory {output_dir!r} already holds files that periodic_keras did not "
                                f"write ({names(foreign)}); choose a new or empty directory")
    elif os.path.isdir(output_dir):
        records, foreign, changed = recorded(state), [], []
        for entry in os.listdir(output_dir):
            path = os.path.join(output_dir, entry)
            if entry == STATE or (os.path.isdir(path) and not os.path.islink(path)):
                continue  # a run writes only files at its top level; folders there stay as they are
            if os.path.islink(path) or not os.path.isfile(path) or entry not in records:
                foreign.append(entry)
            elif sha256_file(path) != records[entry]:
                changed.append(entry)
        if foreign:
            raise NotOwnedError(f"output directory {output_dir!r} holds files its periodic_keras records do not list "
                                f"({names(foreign)}); a run never replaces a file it did not write: move them, or "
                                "choose a new or empty directory (a run directory of an older periodic_keras has "
                                "no records)")
        if changed:
            raise NotOwnedError(f"output directory {output_dir!r} holds files changed since periodic_keras wrote them "
                                f"({names(changed)}); a run would replace them: move or rename them, or choose "
                                "another output directory")
    mark(state, "run")
    return output_dir


def check_inputs(inputs, *directories) -> None:
    """Refuse an input file that lies inside one of the run's output ``directories`` (None
    skipped): a run replaces what it writes there, so an input must not be one of them.

    >>> check_inputs(["data/series.csv"], "runs/forecast", None)
    >>> check_inputs(["runs/forecast/forecast.csv"], "runs/forecast")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: the input 'runs/forecast/forecast.csv' lies inside the output directory 'runs/forecast', ...
    """
    for path in inputs:
        real = os.path.realpath(path)
        for directory in directories:
            if directory is None:
                continue
            if real == os.path.realpath(directory) or real.startswith(os.path.realpath(directory) + os.sep):
                raise ValueError(f"the input {os.fspath(path)!r} lies inside the output directory {os.fspath(directory)!r}, "
                                 "where this run writes its own files: move the input, or choose another output "
                                 "directory")


def phase_dir(output_dir: str, name: str) -> str:
    """Where a run keeps the training backups of its phase ``name`` (inside its marked state folder).

    >>> phase_dir("runs/clock", "naive_siren").replace(os.sep, "/")
    'runs/clock/.periodic_keras/train/naive_siren'
    """
    return os.path.join(output_dir, STATE, _TRAIN, name)


def _normalised(args: dict) -> dict:
    return json.loads(json.dumps(args, default=repr, sort_keys=True))


def _check_resume(output_dir: str, args: dict, restart: bool) -> None:
    state = os.path.join(output_dir, STATE)
    backups = os.path.join(state, _TRAIN)
    if not os.path.isdir(backups):
        return
    if restart:
        shutil.rmtree(backups)
        return
    try:
        previous = read_json(os.path.join(state, _RUN_FILE)).get("args", {})
    except (OSError, ValueError, AttributeError):
        previous = {}
    missing = object()
    differ = sorted(k for k in set(previous) | set(args) if previous.get(k, missing) != args.get(k, missing))
    if differ:
        shown = "; ".join(f"{k} {previous.get(k, '(unset)')!r} -> {args.get(k, '(unset)')!r}" for k in differ[:6])
        raise ValueError(f"output directory {output_dir!r} holds an interrupted run with other arguments ({shown}): "
                         "rerun with the same arguments to resume it, add --restart (restart=True) to discard its "
                         "training backups and start afresh, or choose another output directory")


@contextlib.contextmanager
def open_run(output_dir: str, export_dir: str | None, args: dict, restart: bool = False):
    """Claim, lock and check ``output_dir`` for a run with arguments ``args``, for the ``with`` block.

    In order, before any work: the export target (:func:`check_export_target`, also against
    ``output_dir``), the output directory (:func:`claim_output_dir`), its lock (a second
    run there is refused), and resume (an interrupted run there with other ``args`` is
    refused unless ``restart``, which discards its backups). Call :func:`finish_run` once
    the run has completed. (A job that reads files checks them first, :func:`check_inputs`.)
    """
    if export_dir is not None:
        check_export_target(export_dir, output_dir)
    claim_output_dir(output_dir)
    state = os.path.join(output_dir, STATE)
    with dir_lock(state, f"the run directory {output_dir!r}", "run"):
        args = _normalised(args)
        _check_resume(output_dir, args, restart)
        atomic_write_text(os.path.join(state, _RUN_FILE), json.dumps({"args": args, "complete": False}, indent=1))
        yield output_dir


def finish_run(output_dir: str) -> None:
    """Mark the run in ``output_dir`` complete and remove its training backups (only those)."""
    state = os.path.join(output_dir, STATE)
    if not is_marked(state):
        return
    shutil.rmtree(os.path.join(state, _TRAIN), ignore_errors=True)
    path = os.path.join(state, _RUN_FILE)
    try:
        record = read_json(path)
    except (OSError, ValueError):
        return
    if isinstance(record, dict):
        atomic_write_text(path, json.dumps({**record, "complete": True}, indent=1))

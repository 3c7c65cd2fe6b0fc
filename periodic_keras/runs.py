"""What a run and an export own, and nothing else: output directories, export targets, resume.

- A run's **output directory** must be new, empty, or one an earlier run of this package
  wrote (it carries ``.periodic_keras/owner.json``); its training backups live in
  ``.periodic_keras/train/`` inside it, and only that folder is ever cleared.
- An **export** replaces its target directory only when the target is empty or holds a
  previous export and nothing else (``metadata.json``, ``saved_model/`` and the model files
  the metadata lists); staging, the previous version during the swap and the lock live in a
  marked folder beside it, ``.<name>.periodic_keras/``, removed when the export is done.
- One writer at a time: a second run or export into the same directory is refused at once
  (an OS lock that dies with its process, so ``kill -9`` leaves none behind).
- **Resume is honest**: a run records its arguments; a rerun into a directory holding an
  interrupted run with other arguments is refused, naming them (``restart=True`` discards).

Pure Python: the edge runtime uses :func:`pending_recovery` (it only reads).
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import tempfile

from periodic_keras._io import MARKER, STATE, atomic_write_text, dir_lock, is_marked, mark, umask
from periodic_keras.errors import LockedError, NotOwnedError

__all__ = ["LockedError", "NotOwnedError", "check_export_target", "claim_output_dir", "export_staging", "finish_run", "open_run",
           "pending_recovery", "phase_dir", "publish", "recover", "read_json"]

METADATA = "metadata.json"
#: The largest metadata.json the package reads (bytes), and the deepest nesting it accepts.
MAX_METADATA_BYTES = 1 << 20
MAX_JSON_DEPTH = 32
_TRAIN = "train"
_RUN_FILE = "run.json"


def _json_depth(text: str) -> int:
    """Deepest ``[``/``{`` nesting of JSON ``text`` (strings skipped), without parsing it."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def read_json(path: str, max_bytes: int = MAX_METADATA_BYTES, max_depth: int = MAX_JSON_DEPTH):
    """Parse the JSON file ``path`` after checking its size and nesting; ``ValueError`` names the problem.

    A link is refused (the file must lie where it is named), as is a file over ``max_bytes``
    or nested deeper than ``max_depth``: checked before parsing, so a crafted file cannot
    exhaust memory or the recursion limit.

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "m.json")
    >>> _ = open(p, "w").write("[" * 100 + "]" * 100)
    >>> read_json(p)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: ...m.json' nests JSON 100 levels deep (at most 32)
    """
    if os.path.islink(path):
        raise ValueError(f"{path!r} is a symbolic link; it must be a regular file")
    with open(path, "rb") as fh:
        raw = fh.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise ValueError(f"{path!r} is larger than {max_bytes} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path!r} is not valid JSON: {exc}") from None
    depth = _json_depth(text)
    if depth > max_depth:
        raise ValueError(f"{path!r} nests JSON {depth} levels deep (at most {max_depth})")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path!r} is not valid JSON: {exc}") from None


def _export_files(path: str):
    """The entries a previous export in ``path`` owns, or ``None`` when ``path`` holds no export of ours."""
    meta_path = os.path.join(path, METADATA)
    if not os.path.isfile(meta_path):
        return None
    try:
        meta = read_json(meta_path)
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or not isinstance(meta.get("tflite"), dict) or "task" not in meta:
        return None
    versions = meta.get("versions")
    if meta.get("written_by") != "periodic_keras" and not (isinstance(versions, dict) and "periodic-keras" in versions):
        return None
    files = {METADATA, "saved_model"}
    for entry in meta["tflite"].values():
        if isinstance(entry, dict) and isinstance(entry.get("file"), str):
            files.add(entry["file"])
    c_array = meta.get("c_array")  # model_data.cc / .h for firmware
    for key in ("source", "header"):
        entry = c_array.get(key) if isinstance(c_array, dict) else None
        if isinstance(entry, dict) and isinstance(entry.get("file"), str):
            files.add(entry["file"])
    return files


def _names(entries) -> str:
    entries = sorted(entries)
    return ", ".join(entries[:4]) + (f" and {len(entries) - 4} more" if len(entries) > 4 else "")


def check_export_target(export_dir: str, output_dir: str | None = None) -> None:
    """Refuse an export target this package may not replace, before any work starts.

    Allowed: a path that does not exist, an empty directory, or a previous export holding
    only its own files. Refused (:class:`NotOwnedError`, naming the path): a file, a link,
    a directory of other files, and a target that is, or contains, ``output_dir`` (an export
    replaces its whole directory, so the run's results there would be lost).

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> check_export_target(os.path.join(d, "new"))
    >>> _ = open(os.path.join(d, "notes.txt"), "w").write("mine")
    >>> check_export_target(d)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    periodic_keras.errors.NotOwnedError: export directory ... holds files but no periodic_keras export ...
    """
    if os.path.islink(export_dir):
        raise NotOwnedError(f"export directory {export_dir!r} is a symbolic link: give the real directory")
    if os.path.exists(export_dir):
        if not os.path.isdir(export_dir):
            raise NotOwnedError(f"export directory {export_dir!r} is a file, not a previous export: it will not be "
                                "replaced; choose another export directory")
        entries = os.listdir(export_dir)
        if entries:
            owned = _export_files(export_dir)
            if owned is None:
                raise NotOwnedError(f"export directory {export_dir!r} holds files but no periodic_keras export (no "
                                    "valid metadata.json); an export replaces its whole directory, so it will not "
                                    "write there: choose a new or empty directory")
            foreign = set(entries) - owned
            if foreign:
                raise NotOwnedError(f"export directory {export_dir!r} holds files that are not part of its previous "
                                    f"export ({_names(foreign)}); an export replaces its whole directory: move them "
                                    "or choose another export directory")
    if output_dir is not None:
        target, out = os.path.realpath(export_dir), os.path.realpath(output_dir)
        if target == out:
            raise NotOwnedError(f"the export directory {export_dir!r} is the output directory; an export replaces "
                                "its whole directory and would delete the run's results: use a subdirectory, "
                                f"e.g. {os.path.join(output_dir, 'exported')!r}")
        if out.startswith(target + os.sep):
            raise NotOwnedError(f"the output directory {output_dir!r} lies inside the export directory "
                                f"{export_dir!r}, which an export replaces whole: choose directories side by side")


def _ours(path: str) -> bool:
    """A folder this package wrote: marked, a run directory, or a previous export."""
    if not os.path.isdir(path) or os.path.islink(path):
        return False
    files = _export_files(path)
    return is_marked(path) or is_marked(os.path.join(path, STATE)) or (files is not None and set(os.listdir(path)) <= files)


def claim_output_dir(output_dir: str) -> str:
    """Make ``output_dir`` this run's: created and marked if new or empty; kept if an earlier run's.

    A file, or a directory holding files this package did not write, is refused with
    :class:`NotOwnedError` before anything is written. Returns ``output_dir``.

    >>> import tempfile, os
    >>> d = claim_output_dir(os.path.join(tempfile.mkdtemp(), "run"))
    >>> sorted(os.listdir(d))
    ['.periodic_keras']
    """
    if os.path.exists(output_dir) and not os.path.isdir(output_dir):
        raise NotOwnedError(f"output directory {output_dir!r} is a file: choose a directory")
    state = os.path.join(output_dir, STATE)
    if os.path.isdir(output_dir) and not is_marked(state):
        foreign = [e for e in os.listdir(output_dir) if e != STATE and not _ours(os.path.join(output_dir, e))]
        if foreign:
            raise NotOwnedError(f"output directory {output_dir!r} already holds files that periodic_keras did not "
                                f"write ({_names(foreign)}); choose a new or empty directory")
    mark(state, "run")
    return output_dir


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
    the run has completed.
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


# --- exports: staging, swap and recovery beside the target, in a marked folder --------------------

def _box(final: str) -> str:
    parent, name = os.path.split(os.path.abspath(final))
    return os.path.join(parent, f".{name}{STATE}")


def _olds(box: str) -> list:
    return sorted(glob.glob(os.path.join(box, "old-*")), key=os.path.getmtime)


def pending_recovery(final: str):
    """The previous version of export ``final`` left aside by an interrupted swap, if any (reads only)."""
    box = _box(final)
    if os.path.lexists(final) or not is_marked(box):
        return None
    olds = [d for d in _olds(box) if _export_files(d) is not None]
    return olds[-1] if olds else None


def _recover_locked(final: str, box: str) -> bool:
    """Under the lock: put back a version left aside, clear what dead exporters left. Whether it put one back."""
    olds, back = _olds(box), False
    if not os.path.lexists(final):
        valid = [d for d in olds if _export_files(d) is not None]
        if valid:
            os.replace(valid[-1], final)
            olds.remove(valid[-1])
            back = True
    # We hold the lock, and every staging or swap happens under it: these are a dead process's.
    for stale in olds + glob.glob(os.path.join(box, "staging-*")):
        shutil.rmtree(stale, ignore_errors=True)
    return back


def recover(final: str) -> bool:
    """Finish an export of ``final`` interrupted between the two renames of its swap.

    If ``final`` is missing and the previous version waits in ``.<name>.periodic_keras/``
    beside it, that version is put back; what dead exporters left there is cleared. The
    next export does this by itself; :func:`periodic_keras.edge.load` only reports it.
    Returns whether a version was put back.

    >>> recover("/nonexistent/exported/freq")
    False
    """
    box = _box(final)
    if not is_marked(box):
        return False
    with dir_lock(box, f"the export {final!r}", "export", remove=True):
        return _recover_locked(final, box)


@contextlib.contextmanager
def export_staging(final: str):
    """Lock the export target ``final`` and yield a fresh staging directory for it.

    The target is checked (:func:`check_export_target`) before and again under the lock;
    a concurrent export to the same target is refused. Fill the staging directory, verify
    it, then call :func:`publish` inside the block. On any failure the staging directory is
    removed and the previous export stays as it was.
    """
    final = os.path.normpath(final)
    check_export_target(final)
    box = _box(final)
    with dir_lock(box, f"the export {final!r}", "export", remove=True):
        _recover_locked(final, box)
        check_export_target(final)
        tmp = tempfile.mkdtemp(dir=box, prefix="staging-")
        os.chmod(tmp, 0o777 & ~umask())  # mkdtemp makes 0700; give the usual directory mode
        try:
            yield tmp
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def publish(tmp: str, final: str) -> None:
    """Swap the staging directory ``tmp`` (from :func:`export_staging`) into place as ``final``.

    The previous export is renamed aside first and removed only after the new one is in
    place, so one complete version exists on disk at every moment.
    """
    final = os.path.normpath(final)
    check_export_target(final)  # nothing foreign appeared in it while the export ran
    old = None
    if os.path.lexists(final):
        old = tempfile.mkdtemp(dir=os.path.dirname(tmp), prefix="old-")
        os.rmdir(old)
        os.replace(final, old)
    try:
        os.replace(tmp, final)
    except BaseException:
        if old is not None:
            os.replace(old, final)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)

"""Atomic writes, marked folders, locks, a run's records and bounded JSON reads (pure Python:
safe for the edge runtime too).

Everything the package keeps for itself beside a user's files (training backups, export
staging, locks) lives in a folder carrying :data:`MARKER`, a small JSON file naming this
package; code that cleans up removes only inside such folders and never walks a user's tree.

A file written with :func:`atomic_write_bytes` directly inside a run directory (one whose
``.periodic_keras/`` is marked) is recorded there with its SHA-256 (:data:`RECORDS`); a file
there that the records do not list, or that changed since it was written, is never replaced.
A marker alone proves nothing: anyone can copy one, but not the checksums of files they never
had.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import tempfile

from periodic_keras.errors import LockedError, NotOwnedError

__all__ = ["LockedError", "MARKER", "MAX_JSON_DEPTH", "MAX_METADATA_BYTES", "NotOwnedError", "RECORDS", "STATE",
           "atomic_write_bytes", "atomic_write_text", "dir_lock", "is_marked", "is_state_path", "mark", "read_json",
           "recorded", "run_state", "sha256_file", "umask"]

#: The folder a run or an export keeps its own state in, inside (or beside) the user's directory.
STATE = ".periodic_keras"
#: The file that marks a folder as written by this package.
MARKER = "owner.json"
#: The file in a run's :data:`STATE` listing what the run wrote: ``{"files": {name: sha256}}``.
RECORDS = "files.json"
#: The largest metadata.json (or other JSON) the package reads (bytes), and the deepest nesting it accepts.
MAX_METADATA_BYTES = 1 << 20
MAX_JSON_DEPTH = 32
_OWNER = "periodic_keras"


def umask() -> int:
    """The process's file-creation mask (read without changing it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file renamed into place.

    Directly inside a run directory (see :func:`run_state`) the file is recorded with its
    SHA-256, and an existing file there is replaced only when the records list it unchanged:
    otherwise :class:`NotOwnedError`, and nothing is written.

    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> _ = mark(os.path.join(d, STATE), "run")
    >>> atomic_write_text(os.path.join(d, "results.md"), "ours")
    >>> sorted(recorded(os.path.join(d, STATE)))
    ['results.md']
    >>> _ = open(os.path.join(d, "notes.txt"), "w").write("a user's")
    >>> atomic_write_text(os.path.join(d, "notes.txt"), "ours")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    periodic_keras.errors.NotOwnedError: ...notes.txt' is not a file periodic_keras wrote here ...
    """
    directory = os.path.dirname(os.path.abspath(path))
    state = run_state(path)
    name = os.path.basename(path)
    if state is not None:
        records = recorded(state)
        if os.path.lexists(path) and (os.path.islink(path) or not os.path.isfile(path)
                                      or records.get(name) != sha256_file(path)):
            raise NotOwnedError(f"{path!r} is not a file periodic_keras wrote here (its run records do not list "
                                "it, or it changed since): it will not be replaced; move it or choose another "
                                "output directory")
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~umask())  # mkstemp makes 0600; give the usual file mode
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if state is not None:
        records[name] = hashlib.sha256(data).hexdigest()
        atomic_write_text(os.path.join(state, RECORDS), json.dumps({"files": records}, indent=1, sort_keys=True))


def is_state_path(path: str) -> bool:
    """Whether ``path`` lies in (or is) a folder the package keeps for itself: a run's
    :data:`STATE` or an export's ``.<name>.periodic_keras`` beside it.

    >>> is_state_path("runs/freq/.periodic_keras/train"), is_state_path("runs/freq/results.md")
    (True, False)
    """
    parts = os.path.abspath(path).split(os.sep)
    return any(part == STATE or (part.startswith(".") and part.endswith(STATE)) for part in parts)


def run_state(path: str):
    """The marked :data:`STATE` folder of the run directory ``path`` lies directly in, or None
    (also for paths inside a state folder: the package's own files there are not recorded)."""
    parent = os.path.dirname(os.path.abspath(path))
    if is_state_path(parent):
        return None
    state = os.path.join(parent, STATE)
    return state if is_marked(state) else None


def recorded(state: str) -> dict:
    """``{name: sha256}`` of the files a run directory's ``state`` folder records (empty if none)."""
    path = os.path.join(state, RECORDS)
    if not os.path.lexists(path):
        return {}
    try:
        files = read_json(path).get("files")
    except (OSError, ValueError, AttributeError):
        return {}
    if not isinstance(files, dict):
        return {}
    return {k: v for k, v in files.items() if isinstance(k, str) and isinstance(v, str)}


def atomic_write_text(path: str, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


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
    """Parse the JSON file ``path`` after checking its size and nesting; ``ValueError`` names the file.

    A link is refused (the file must lie where it is named), as is a file over ``max_bytes``
    or nested deeper than ``max_depth``: checked before parsing, so a crafted file cannot
    exhaust memory or the recursion limit. A number past Python's integer digit limit is
    refused too (``NaN`` is read: metadata records undefined figures that way).

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "m.json")
    >>> _ = open(p, "w").write("[" * 100 + "]" * 100)
    >>> read_json(p)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: ...m.json' nests JSON 100 levels deep (at most 32)
    >>> _ = open(p, "w").write('{"window": ' + "9" * 5000 + "}")
    >>> read_json(p)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: ...m.json' is not valid JSON: ...
    """
    if os.path.islink(path):
        raise ValueError(f"{path!r} is a symbolic link; it must be a regular file")
    if os.path.isdir(path):
        raise ValueError(f"{path!r} is a directory; it must be a regular file")
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
    except (json.JSONDecodeError, ValueError) as exc:  # ValueError: an integer past Python's digit limit
        raise ValueError(f"{path!r} is not valid JSON: {str(exc)[:200]}") from None


def sha256_file(path: str) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_marked(folder: str) -> bool:
    """Whether ``folder`` is a real directory (not a link) carrying this package's :data:`MARKER`."""
    path = os.path.join(folder, MARKER)
    if os.path.islink(folder) or os.path.islink(path) or not os.path.isfile(path):
        return False
    try:
        with open(path, "rb") as fh:
            data = json.loads(fh.read(4096).decode("utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("owner") == _OWNER


def mark(folder: str, kind: str) -> str:
    """Create ``folder`` (and parents) if needed and mark it as this package's; return it.

    An existing folder is marked only when it is empty or already marked: anything else
    belongs to someone else and raises :class:`NotOwnedError`.
    """
    if os.path.islink(folder) or (os.path.exists(folder) and not os.path.isdir(folder)):
        raise NotOwnedError(f"{folder!r} exists and is not a directory this package wrote")
    os.makedirs(folder, exist_ok=True)
    if not is_marked(folder):
        if os.listdir(folder):
            raise NotOwnedError(f"{folder!r} holds files this package did not write; it will not write there")
        atomic_write_text(os.path.join(folder, MARKER), json.dumps({"owner": _OWNER, "kind": kind}) + "\n")
    return folder


def _flock(fd: int) -> bool:
    """Try to lock ``fd`` exclusively without waiting; whether it worked."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextlib.contextmanager
def dir_lock(folder: str, what: str, kind: str = "state", remove: bool = False):
    """Hold an exclusive OS lock on ``folder/lock`` (``folder`` is created and marked) for the block.

    A second process asking for the same lock is refused at once with :class:`LockedError`
    (``what`` names the directory being protected). The lock dies with its process, so a
    run killed with ``kill -9`` never leaves a stale lock; the lock file is removed on release,
    and with ``remove`` the folder too when nothing but its marker is left in it.
    """
    path = os.path.join(folder, "lock")
    while True:
        mark(folder, kind)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o666)  # never a planted link
        except FileNotFoundError:  # the folder was removed by its previous holder: make it again
            continue
        except OSError as exc:
            if exc.errno not in (errno.ELOOP, errno.EISDIR, errno.ENXIO, errno.EMLINK):
                raise
            raise NotOwnedError(f"{path!r} is not periodic_keras's lock file (a link or a directory put there); "
                                f"it will not be used: remove it, or use another directory for {what}") from None
        if not _flock(fd):
            os.close(fd)
            raise LockedError(f"another periodic_keras process is writing {what} (lock {path!r}); wait for it to "
                              "finish, or use another directory")
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:  # else the holder removed this file as we opened it: lock the new one
            break
        os.close(fd)
    try:
        if not is_marked(folder):  # a previous holder tidied it away as we came in: it is ours now
            atomic_write_text(os.path.join(folder, MARKER), json.dumps({"owner": _OWNER, "kind": kind}) + "\n")
        yield path
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
            if remove and os.listdir(folder) == [MARKER]:
                os.unlink(os.path.join(folder, MARKER))
                os.rmdir(folder)
        os.close(fd)

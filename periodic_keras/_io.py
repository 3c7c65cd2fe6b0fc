"""Atomic writes, marked folders and locks (pure Python: safe for the edge runtime too).

Everything the package keeps for itself beside a user's files (training backups, export
staging, locks) lives in a folder carrying :data:`MARKER`, a small JSON file naming this
package; code that cleans up removes only inside such folders and never walks a user's tree.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile

from periodic_keras.errors import LockedError, NotOwnedError

__all__ = ["LockedError", "MARKER", "NotOwnedError", "STATE", "atomic_write_bytes", "atomic_write_text", "dir_lock",
           "is_marked", "mark", "sha256_file", "umask"]

#: The folder a run or an export keeps its own state in, inside (or beside) the user's directory.
STATE = ".periodic_keras"
#: The file that marks a folder as written by this package.
MARKER = "owner.json"
_OWNER = "periodic_keras"


def umask() -> int:
    """The process's file-creation mask (read without changing it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file renamed into place."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
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


def atomic_write_text(path: str, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


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

"""Atomic file and directory writes (pure Python: safe for the edge runtime too)."""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import shutil
import tempfile

__all__ = ["atomic_write_bytes", "atomic_write_text", "recover_dir", "replace_dir", "sha256_file", "staging_dir"]


def _umask() -> int:
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
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual file mode
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


@contextlib.contextmanager
def staging_dir(final: str):
    """Yield a fresh temporary directory beside ``final``; removed if the block fails.

    Use with :func:`replace_dir` inside the block once the contents are verified.
    """
    parent = os.path.dirname(os.path.abspath(final))
    os.makedirs(parent, exist_ok=True)
    recover_dir(final)
    # A process killed while exporting (kill -9) leaves its staging directory behind: clear
    # them (one export per target directory at a time is assumed).
    for stale in glob.glob(os.path.join(parent, glob.escape(f".{os.path.basename(final)}.staging-") + "*")):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = tempfile.mkdtemp(dir=parent, prefix=f".{os.path.basename(final)}.staging-")
    os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700; give the usual directory mode
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def recover_dir(final: str) -> bool:
    """Put back the previous version of ``final`` if a process died inside :func:`replace_dir`.

    Between its two renames ``final`` is briefly absent while the old version waits as
    ``.<name>.old-*`` beside it; if ``final`` is missing and such a directory exists, the
    newest is renamed back. Returns whether it did.
    """
    if os.path.exists(final):
        return False
    parent, base = os.path.dirname(os.path.abspath(final)), os.path.basename(os.path.abspath(final))
    olds = glob.glob(os.path.join(parent, glob.escape(f".{base}.old-") + "*"))
    if not olds:
        return False
    os.replace(max(olds, key=os.path.getmtime), final)
    return True


def replace_dir(src: str, final: str) -> None:
    """Move directory ``src`` to ``final``, replacing any previous ``final``.

    The old directory is renamed aside first and removed only after the new one is in
    place, so at every moment one complete version exists on disk (:func:`recover_dir`
    puts the old one back if the process dies between the two renames).
    """
    old = None
    if os.path.exists(final):
        old = tempfile.mkdtemp(dir=os.path.dirname(os.path.abspath(final)), prefix=f".{os.path.basename(final)}.old-")
        os.rmdir(old)
        os.replace(final, old)
    try:
        os.replace(src, final)
    except BaseException:
        if old is not None:
            os.replace(old, final)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)

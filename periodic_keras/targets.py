"""What an export owns, and the proof of it: export targets, staging, the swap and its recovery.

- An export replaces its target directory only when the target is new, empty, or a previous
  export **proven** by its metadata: ``metadata.json`` lists every other file of the export
  with its SHA-256 (:data:`FILES`, ``saved_model/`` included), and the directory holds those
  files, unchanged, and nothing else (no links). A ``metadata.json`` copied into a folder of
  a user's files proves nothing: it cannot list the checksums of files its writer never had.
- Staging, the previous version during the swap, and the lock live in a marked folder beside
  the target, ``.<name>.periodic_keras/``. What a dead exporter left there is removed only
  when proven its: a staging folder by the record made when it was created (its device and
  inode), a previous version by its manifest. Anything else there is left alone.
- A target inside a folder the package keeps for itself (a run's ``.periodic_keras/``, an
  export's box) is refused: the package clears those.

Pure Python: the edge runtime uses :func:`pending_recovery` (it only reads).
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import tempfile

from periodic_keras._io import STATE, atomic_write_text, dir_lock, is_marked, is_state_path, read_json, sha256_file, umask
from periodic_keras.errors import NotOwnedError

__all__ = ["FILES", "METADATA", "check_creatable", "check_export_target", "export_staging", "file_listing", "names",
           "pending_recovery", "proven_export", "publish", "recover"]

METADATA = "metadata.json"
#: The metadata key listing every file of an export but ``metadata.json``: ``{path with /: sha256}``.
FILES = "files"


def names(entries) -> str:
    """At most four of ``entries``, sorted, for a message."""
    entries = sorted(entries)
    return ", ".join(entries[:4]) + (f" and {len(entries) - 4} more" if len(entries) > 4 else "")


def file_listing(directory: str) -> dict:
    """``{path relative to directory, with /: sha256}`` of every file under ``directory``
    but its top-level ``metadata.json``: what an export's :data:`FILES` records.

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp(); os.makedirs(os.path.join(d, "saved_model"))
    >>> _ = open(os.path.join(d, "saved_model", "x.pb"), "wb").write(b"")
    >>> file_listing(d)
    {'saved_model/x.pb': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'}
    """
    out = {}
    for folder, dirs, files in os.walk(directory):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, directory).replace(os.sep, "/")
            if rel != METADATA:
                out[rel] = sha256_file(path)
    return out


def _manifest(path: str):
    """``(files, None)`` for a directory whose metadata.json is this package's and lists its
    files' checksums; ``(None, why not)`` otherwise."""
    meta_path = os.path.join(path, METADATA)
    not_ours = "holds files but no periodic_keras export (no valid metadata.json)"
    if os.path.islink(meta_path) or not os.path.isfile(meta_path):
        return None, not_ours
    try:
        meta = read_json(meta_path)
    except (OSError, ValueError):
        return None, not_ours
    if not isinstance(meta, dict) or not isinstance(meta.get("tflite"), dict) or "task" not in meta:
        return None, not_ours
    versions = meta.get("versions")
    if meta.get("written_by") != "periodic_keras" and not (isinstance(versions, dict) and "periodic-keras" in versions):
        return None, not_ours
    files = meta.get(FILES)
    if not (isinstance(files, dict) and all(isinstance(k, str) and isinstance(v, str) and len(v) == 64
                                            for k, v in files.items())):
        return None, ("holds a metadata.json that does not list the SHA-256 of its files (an export by an older "
                      "periodic_keras, or a copied one), so it cannot be proven to hold only that export")
    return files, None


def _unproven(path: str, files: dict):
    """``(foreign, changed)``: what under ``path`` the listing ``files`` does not account for."""
    foreign, changed = [], []
    for folder, dirs, entries in os.walk(path):
        for name in list(dirs):
            if os.path.islink(os.path.join(folder, name)):
                foreign.append(os.path.relpath(os.path.join(folder, name), path).replace(os.sep, "/"))
                dirs.remove(name)
        for name in entries:
            full = os.path.join(folder, name)
            rel = os.path.relpath(full, path).replace(os.sep, "/")
            if rel == METADATA:
                continue
            if os.path.islink(full) or not os.path.isfile(full) or rel not in files:
                foreign.append(rel)
            elif sha256_file(full) != files[rel]:
                changed.append(rel)
    return foreign, changed


def proven_export(path: str) -> bool:
    """Whether ``path`` is a real directory holding a previous export of this package, every
    file as its metadata lists it, and nothing else.

    >>> proven_export("/nonexistent")
    False
    """
    if os.path.islink(path) or not os.path.isdir(path):
        return False
    files, _ = _manifest(path)
    return files is not None and _unproven(path, files) == ([], [])


def check_creatable(path: str, what: str, beside: bool = False) -> None:
    """Refuse, naming it, a directory ``path`` that could not be made: a part of it is a file
    (or a dangling link), or its nearest existing folder is not writable (with ``beside``,
    the nearest existing folder above it: an export writes beside its target).

    >>> import tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "F"); _ = open(f, "w").write("x")
    >>> check_creatable(os.path.join(f, "sub"), "export directory")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    NotADirectoryError: export directory '...sub' cannot be created: '...F' is a file, not a directory; ...
    """
    full = os.path.abspath(path)
    probe = os.path.dirname(full) if beside else full
    while not os.path.lexists(probe):
        probe = os.path.dirname(probe)
    if probe != full and not os.path.isdir(probe):
        raise NotADirectoryError(f"{what} {path!r} cannot be created: {probe!r} is a file, not a directory; "
                                 "choose another path")
    if os.path.isdir(probe) and not os.access(probe, os.W_OK | os.X_OK):
        raise PermissionError(f"{what} {path!r}: {probe!r} is not writable for this user; choose another path")


def check_export_target(export_dir: str, output_dir: str | None = None) -> None:
    """Refuse an export target this package may not replace, before any work starts.

    Allowed: a path that does not exist (and can be made), an empty directory, or a proven
    previous export (see the module's notes). Refused (:class:`NotOwnedError`, naming the
    path): a file, a link, a directory of other files, an export whose files changed or
    gained a neighbour anywhere inside, a target inside the package's own state folders, and
    a target that is, or contains, ``output_dir`` (an export replaces its whole directory, so
    the run's results there would be lost).

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> check_export_target(os.path.join(d, "new"))
    >>> _ = open(os.path.join(d, "notes.txt"), "w").write("mine")
    >>> check_export_target(d)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    periodic_keras.errors.NotOwnedError: export directory ... holds files but no periodic_keras export ...
    """
    export_dir = os.fspath(export_dir)
    target = os.path.normpath(export_dir)  # 'L/' names the link L itself
    if is_state_path(target) or is_state_path(os.path.realpath(target)):
        raise NotOwnedError(f"export directory {export_dir!r} lies inside a folder periodic_keras keeps for itself "
                            "(.periodic_keras), which it clears: choose a directory outside it")
    if os.path.islink(target):
        raise NotOwnedError(f"export directory {export_dir!r} is a symbolic link: give the real directory")
    check_creatable(target, "export directory", beside=True)
    if os.path.exists(target):
        if not os.path.isdir(target):
            raise NotOwnedError(f"export directory {export_dir!r} is a file, not a previous export: it will not be "
                                "replaced; choose another export directory")
        if os.listdir(target):
            files, why = _manifest(target)
            if files is None:
                raise NotOwnedError(f"export directory {export_dir!r} {why}; an export replaces its whole "
                                    "directory, so it will not write there: choose a new or empty directory")
            foreign, changed = _unproven(target, files)
            if foreign:
                raise NotOwnedError(f"export directory {export_dir!r} holds files that are not part of its previous "
                                    f"export ({names(foreign)}); an export replaces its whole directory: move them "
                                    "or choose another export directory")
            if changed:
                raise NotOwnedError(f"export directory {export_dir!r} holds files changed since they were exported "
                                    f"({names(changed)}); an export replaces its whole directory: move them or "
                                    "choose another export directory")
    if output_dir is not None:
        real, out = os.path.realpath(target), os.path.realpath(output_dir)
        if real == out:
            raise NotOwnedError(f"the export directory {export_dir!r} is the output directory; an export replaces "
                                "its whole directory and would delete the run's results: use a subdirectory, "
                                f"e.g. {os.path.join(output_dir, 'exported')!r}")
        if out.startswith(real + os.sep):
            raise NotOwnedError(f"the output directory {output_dir!r} lies inside the export directory "
                                f"{export_dir!r}, which an export replaces whole: choose directories side by side")


# --- staging, swap and recovery beside the target, in a marked folder ------------------------------

def _box(final: str) -> str:
    parent, name = os.path.split(os.path.abspath(final))
    return os.path.join(parent, f".{name}{STATE}")


def _olds(box: str) -> list:
    return sorted((d for d in glob.glob(os.path.join(box, "old-*")) if proven_export(d)), key=os.path.getmtime)


def _journal(box: str, staging: str) -> str:
    return os.path.join(box, f"journal-{os.path.basename(staging)}.json")


def _journaled(box: str, staging: str) -> bool:
    """Whether ``staging`` is the very folder an exporter recorded when it made it."""
    try:
        record = read_json(_journal(box, staging))
        st = os.lstat(staging)
    except (OSError, ValueError):
        return False
    return (isinstance(record, dict) and not os.path.islink(staging) and os.path.isdir(staging)
            and record.get("device") == st.st_dev and record.get("inode") == st.st_ino)


def pending_recovery(final: str):
    """The previous version of export ``final`` left aside by an interrupted swap, if any (reads only)."""
    box = _box(final)
    if os.path.lexists(final) or not is_marked(box):
        return None
    olds = _olds(box)
    return olds[-1] if olds else None


def _recover_locked(final: str, box: str) -> bool:
    """Under the lock: put back a version left aside, clear what dead exporters provably left.
    Whether it put one back."""
    olds, back = _olds(box), False
    if olds and not os.path.lexists(final):
        os.replace(olds.pop(), final)
        back = True
    # We hold the lock, and every staging or swap happens under it: proven ones are a dead process's.
    for stale in olds:
        shutil.rmtree(stale, ignore_errors=True)
    for stale in glob.glob(os.path.join(box, "staging-*")):
        if _journaled(box, stale):
            shutil.rmtree(stale, ignore_errors=True)
            with contextlib.suppress(OSError):
                os.unlink(_journal(box, stale))
    return back


def recover(final: str) -> bool:
    """Finish an export of ``final`` interrupted between the two renames of its swap.

    If ``final`` is missing and the previous version (proven by its manifest) waits in
    ``.<name>.periodic_keras/`` beside it, that version is put back; what dead exporters
    provably left there is cleared. The next export does this by itself;
    :func:`periodic_keras.edge.load` only reports it. Returns whether a version was put back.

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
        try:
            st = os.lstat(tmp)
            atomic_write_text(_journal(box, tmp), json.dumps({"device": st.st_dev, "inode": st.st_ino}))
            os.chmod(tmp, 0o777 & ~umask())  # mkdtemp makes 0700; give the usual directory mode
            yield tmp
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
            with contextlib.suppress(OSError):
                os.unlink(_journal(box, tmp))


def publish(tmp: str, final: str) -> None:
    """Swap the staging directory ``tmp`` (from :func:`export_staging`) into place as ``final``.

    The previous export is proven again, renamed aside, and removed only after the new one
    is in place, so one complete version exists on disk at every moment.
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

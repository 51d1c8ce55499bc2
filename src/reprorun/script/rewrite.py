"""Rewrite a user's file safely: read a snapshot, then replace it atomically only if unchanged.

The new version is written to a temporary file beside the old one (same directory, so the same
file system), given the old file's mode, flushed to disk, and moved over the old name with
`os.replace`, so a reader sees the old file or the new one, never half of either. A symlink is
followed, so the link stays a link. If the file's bytes changed since the snapshot was read, or
the file or its directory is read-only, nothing is written and the error says why.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import tempfile
from dataclasses import dataclass

from reprorun.errors import WriteError
from reprorun.script.source import decode, read_regular

log = logging.getLogger("reprorun")


@dataclass(frozen=True)
class Snapshot:
    """A file as read: its bytes and text, or `exists=False` for a file still to be created.

    For a notebook (`.ipynb`), `text` is the source of its first code cell, where the block lives,
    and `notebook` the whole JSON text: `write` puts the new source back into that cell only.
    """

    path: str  # as the user gave it
    real: str  # with symlinks resolved: the file that is replaced
    data: bytes
    text: str
    exists: bool
    notebook: str | None = None


def read(path: str, *, missing_ok: bool = False) -> Snapshot:
    """Read a file as bytes and UTF-8 text; with missing_ok, a missing file is an empty snapshot."""
    real = os.path.realpath(path)
    if missing_ok and not os.path.lexists(real):
        return Snapshot(path, real, b"", "", exists=False)
    data = read_regular(path)
    text = decode(path, data)
    if path.endswith(".ipynb"):
        from reprorun.script import notebooks

        return Snapshot(path, real, data, notebooks.first_code_cell_source(text, path), exists=True, notebook=text)
    return Snapshot(path, real, data, text, exists=True)


def write(snapshot: Snapshot, data: bytes) -> None:
    """Replace the file with data, atomically, if it still holds the snapshot's bytes."""
    if snapshot.notebook is not None:
        from reprorun.script import notebooks

        data = notebooks.replace_first_code_cell_source(
            snapshot.notebook, data.decode("utf-8"), snapshot.path
        ).encode("utf-8")
    folder = os.path.dirname(snapshot.real) or "."
    mode = _check_writable(snapshot, folder)
    _check_unchanged(snapshot)
    try:
        fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(snapshot.real)}.", suffix=".tmp")
    except OSError as exc:
        raise WriteError(
            f"{snapshot.path}: cannot write in {folder}: {exc.strerror}; nothing was written"
        ) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            _keep_owner(snapshot, handle.fileno())
            os.fchmod(handle.fileno(), mode)  # after chown, which may clear set-id bits
            os.fsync(handle.fileno())
        _check_unchanged(snapshot)  # the window left is the next line only
        os.replace(temp, snapshot.real)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _sync_folder(folder)


def _check_writable(snapshot: Snapshot, folder: str) -> int:
    """The mode the new file gets; a read-only file or folder is an error, also for root."""
    try:
        folder_mode = os.stat(folder).st_mode
    except OSError as exc:
        raise WriteError(f"{snapshot.path}: cannot use its folder {folder}: {exc.strerror}") from None
    if not os.access(folder, os.W_OK | os.X_OK) or not folder_mode & 0o222:
        raise WriteError(
            f"{snapshot.path}: its folder {folder} is read-only; nothing was written",
            hint="make the folder writable, or use --dry-run to see the new block",
        )
    if not snapshot.exists:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
    try:
        mode = stat.S_IMODE(os.stat(snapshot.real).st_mode)
    except FileNotFoundError:
        raise WriteError(f"{snapshot.path}: the file was removed meanwhile; nothing was written") from None
    if not os.access(snapshot.real, os.W_OK) or not mode & 0o222:
        raise WriteError(
            f"{snapshot.path}: the file is read-only; nothing was written",
            hint="make it writable (chmod u+w), or use --dry-run to see the new block",
        )
    return mode


def _keep_owner(snapshot: Snapshot, fd: int) -> None:
    """Give the new file the old one's owner and group (root rewriting a user's script must not
    make it root's); say so when this process may not, and when hard links are detached."""
    if not snapshot.exists:
        return
    try:
        old = os.stat(snapshot.real)
    except OSError:
        return
    new = os.fstat(fd)
    if (old.st_uid, old.st_gid) != (new.st_uid, new.st_gid):
        try:
            os.fchown(fd, old.st_uid, old.st_gid)
        except OSError:
            try:  # at least the group, which a member may give
                os.fchown(fd, -1, old.st_gid)
                lost = "owner"
            except OSError:
                lost = "owner and group" if old.st_uid != new.st_uid else "group"
            log.warning("%s: the rewritten file could not keep its %s (uid %d, gid %d): it is now %d:%d",
                        snapshot.path, lost, old.st_uid, old.st_gid, new.st_uid, new.st_gid)  # fmt: skip
    if old.st_nlink > 1:
        log.warning("%s: the file had %d hard links; the rewritten file is a new one, the other names "
                    "keep the old text", snapshot.path, old.st_nlink)  # fmt: skip


def _check_unchanged(snapshot: Snapshot) -> None:
    try:
        with open(snapshot.real, "rb") as handle:
            now: bytes | None = handle.read()
    except FileNotFoundError:
        now = None
    if (now is None) == snapshot.exists or (now is not None and now != snapshot.data):
        what = "was created" if not snapshot.exists else "was removed" if now is None else "changed"
        raise WriteError(
            f"{snapshot.path} {what} on disk while reprorun worked on it; nothing was written",
            hint="run the command again on the file as it is now",
        )


def _sync_folder(folder: str) -> None:
    # The rename itself is only durable once the directory entry is flushed (POSIX).
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

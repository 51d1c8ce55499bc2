"""Failures to write the cache, told as one clear error that names the cache and what to do.

A cache may be read-only (a read-only mount, another user's shared cache) or full (a quota, a
small scratch disk). Either can strike at any step of a build: creating a folder, pip unpacking a
wheel, the store linking files, the bytecode, the publication. `writing()` turns every such
`OSError` into a `CacheError`; `from_output()` recognises the same failures in an installer's
output, where they arrive as text.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
from collections.abc import Iterator

from reprorun.errors import CacheError

FULL = (errno.ENOSPC, errno.EDQUOT)
DENIED = (errno.EROFS, errno.EACCES, errno.EPERM)
_FULL_TEXT = re.compile(r"No space left on device|Disk quota exceeded|\[Errno (?:28|122)\]|os error (?:28|122)\b")
_DENIED_TEXT = re.compile(r"Read-only file system|\[Errno 30\]|os error 30\b")


def is_cache_failure(exc: OSError) -> bool:
    """Whether an OSError is the cache refusing a write (full, read-only, not permitted)."""
    return exc.errno in FULL or exc.errno in DENIED


def cache_error(root: os.PathLike[str] | str, exc: OSError, doing: str) -> CacheError:
    """The CacheError for a failed write under `root` while `doing` something."""
    where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(root) else ""
    reason = exc.strerror or str(exc)
    return _error(os.fspath(root), "full" if exc.errno in FULL else "denied", f"{reason}{where}", doing)


def from_output(root: os.PathLike[str] | str, output: str, doing: str) -> CacheError | None:
    """A CacheError if an installer's output says the disk is full or read-only (or the cache's
    disk is all but full now), else None."""
    if _FULL_TEXT.search(output) or nearly_full(root):
        return _error(os.fspath(root), "full", "No space left on device", doing)
    if _DENIED_TEXT.search(output):
        return _error(os.fspath(root), "denied", "Read-only file system", doing)
    return None


def nearly_full(root: os.PathLike[str] | str, margin: int = 1 << 20) -> bool:
    """Whether the cache's file system has less than `margin` bytes left for this user.

    An installer that runs out of space does not always say so: pip run from its zip fails to
    write its certificates to a temporary file and reports an SSL error instead.
    """
    try:
        info = os.statvfs(root)
    except (OSError, AttributeError):
        return False
    return info.f_bavail * info.f_frsize < margin


def not_writable(root: os.PathLike[str] | str, doing: str) -> CacheError:
    """The error for a cache this process may read but not write."""
    return _error(os.fspath(root), "denied", "not writable by this user", doing)


OWNER_ONLY = ("only a user who may write the cache can change it: ask its owner, or keep a cache of your own "
              "(--cache-dir DIR)")  # fmt: skip


def _error(root: str, kind: str, reason: str, doing: str) -> CacheError:
    if kind == "full":
        message = f"the cache {root} is full: {reason}, while {doing}; nothing of it was kept"
        hint = "free space there (reprorun cache prune --max-size SIZE), or use another cache: --cache-dir DIR"
    else:
        message = f"cannot write the cache {root}: {reason}, while {doing}"
        hint = ("use a cache you can write (--cache-dir DIR or REPRORUN_CACHE_DIR), or ask its owner to "
                "prepare the script there (reprorun sync SCRIPT)")  # fmt: skip
    return CacheError(message, hint=hint)


@contextlib.contextmanager
def writing(root: os.PathLike[str] | str, doing: str) -> Iterator[None]:
    """Turn a full or read-only cache met inside the block into one CacheError."""
    try:
        yield
    except OSError as exc:
        if not is_cache_failure(exc):
            raise
        raise cache_error(root, exc, doing) from None


def require_writable(root: os.PathLike[str] | str, doing: str, hint: str | None = None) -> None:
    """Fail at once, before any change, if the cache exists and this process may not write it."""
    path = os.fspath(root)
    if os.path.isdir(path) and not os.access(path, os.W_OK | os.X_OK):
        error = not_writable(path, doing)
        if hint is not None:
            error.hint = hint
        raise error

"""A run's hold on its env for the script's whole life, and the lock mode that decides how.

Two mechanisms, chosen by `REPRORUN_LOCK` (see docs/cache.md, "Locking protocol"):

- `flock` (the default): the run takes `fcntl.flock` shared on `locks/<build>.use` and keeps the
  descriptor open across `exec`. The kernel drops a lock when its holder dies, so a lock left by a
  crash is never stale. Over NFS, Linux emulates flock with POSIX byte-range locks, which work
  across hosts with NFSv4 or NFSv3 + lockd.
- `mkdir`: for file systems without working locks. A run writes a use marker
  `used/<build>.<host>.<pid>` (a thread cannot outlive `exec` to keep a heartbeat).

Exclusive locks (builders, pruners) are in exclusive.py. A run holds its env with `hold_for_run`
(or `hold_and_verify`) right before `exec`. This module's top level imports only `os` and
`fcntl`: it is on the warm path.
"""

from __future__ import annotations

import fcntl
import os

from reprorun.envs import layout
from reprorun.envs.liveness import host, process_start

MODES = ("flock", "mkdir")
STALE_SECONDS = 60.0  # default age after which an mkdir lock's heartbeat counts as dead


def mode() -> str:
    """The lock mechanism: `flock` unless `REPRORUN_LOCK=mkdir` (anything else means flock)."""
    return "mkdir" if os.environ.get("REPRORUN_LOCK", "").strip().lower() == "mkdir" else "flock"


def hold_for_run(cache_root: str, build: str) -> None:
    """Hold the env `build` in use until this process (and what it execs) ends; best effort."""
    _hold(cache_root, build)


def hold_and_verify(cache_root: str, build: str) -> bool:
    """Hold the env, then check it is still complete; False (and nothing held) if it is gone."""
    held = _hold(cache_root, build)
    if os.path.isfile(os.path.join(layout.env_dir(cache_root, build), layout.COMPLETE)):
        return True
    if isinstance(held, int):
        os.close(held)
    elif isinstance(held, str):
        _remove(held)
    return False


def _hold(cache_root: str, build: str) -> int | str | None:
    if mode() == "mkdir":
        return _mark_use(cache_root, build)
    path = layout.use_lock(cache_root, build)
    marker = None
    try:
        fd = open_lock_file(path)
    except OSError:
        # A reader of a shared cache, and no lock file it may open (missing, or the owner's only):
        # announce the use in readers/ first, then try again: a pruner creates the file to lock
        # it, and reads readers/ while it holds it, so one of us sees the other (docs/cache.md).
        marker = _write_marker(layout.reader_marker(cache_root, build, host(), os.getpid()))
        try:
            fd = open_lock_file(path)
        except OSError:
            return marker
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)  # waits only while a pruner is removing this very env
    except OSError:
        os.close(fd)
        return marker
    if marker is not None:  # the shared lock holds the env now
        _remove(marker)
    # The descriptor stays open, unclosed on purpose, across exec: the script holds the lock.
    os.set_inheritable(fd, True)
    return fd


def open_lock_file(path: str) -> int:
    """A descriptor on a lock file: read-write (created if missing), else read-only."""
    # Read-write, because NFS emulates flock with POSIX locks and an exclusive one needs write
    # access; read-only as a fallback for a cache the user may read but not write (another
    # user's, or a read-only mount), where a shared lock is all a run needs.
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError:  # EACCES, EPERM, EROFS; anything else fails again, and is raised, just below
        return os.open(path, os.O_RDONLY)


def flock_exclusive(path: str, blocking: bool) -> int | None:
    """An fd holding an exclusive flock on path (None if busy and not blocking): a builder's or a
    pruner's lock (exclusive.Lock in flock mode; here for the first run's lean build, launch/firstrun.py)."""
    while True:
        fd = open_lock_file(path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return None
        # A stale-lock sweep may have unlinked the file while we waited: then lock the new one.
        try:
            now = os.stat(path)
        except FileNotFoundError:
            os.close(fd)
            continue
        held = os.fstat(fd)
        if (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino):
            return fd
        os.close(fd)


def _mark_use(cache_root: str, build: str) -> str | None:
    """mkdir mode: a `used/<build>.<host>.<pid>` marker, then wait out a pruner's intent."""
    marker = _write_marker(layout.use_marker(cache_root, build, host(), os.getpid()))
    if marker is None:  # a user who may read the shared cache but not write used/: readers/
        marker = _write_marker(layout.reader_marker(cache_root, build, host(), os.getpid()))
    if marker is None:
        return None
    # A pruner announces itself with mkdir before it reads the markers; we wrote ours before
    # looking for its announcement, so one of us always sees the other (see docs/cache.md).
    intent = layout.prune_intent(cache_root, build)
    if os.path.isdir(intent):
        import time

        deadline = time.monotonic() + 2 * STALE_SECONDS
        while os.path.isdir(intent) and time.monotonic() < deadline:
            time.sleep(0.05)
    return marker


def _write_marker(marker: str) -> str | None:
    try:
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o644)
        try:
            os.write(fd, (process_start(os.getpid()) + "\n").encode())
        finally:
            os.close(fd)
    except OSError:
        return None
    return marker


def _remove(path: str) -> None:
    try:  # noqa: SIM105 - contextlib is one import too many on the warm path
        os.unlink(path)
    except OSError:
        pass

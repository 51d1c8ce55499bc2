"""A run's hold on its env for the script's whole life, and the lock mode that decides how.

Two mechanisms, chosen by `REPRORUN_LOCK` (see docs/cache.md, "Locking protocol"):

- `flock` (the default): the run takes `fcntl.flock` shared on `locks/<build>.use` and keeps the
  descriptor open across `exec`. The kernel drops a lock when its holder dies, so a lock left by a
  crash is never stale. Over NFS, Linux emulates flock with POSIX byte-range locks, which work
  across hosts with NFSv4 or NFSv3 + lockd.
- `mkdir`: for file systems without working locks. A run writes a use marker
  `used/<build>.<host>.<pid>` (a thread cannot outlive `exec` to keep a heartbeat).

Exclusive locks (builders, pruners) are in exclusive.py. A run holds its env with `hold_for_run`
(or `hold_and_verify`) right before `exec`. The hold itself is defined in `reprorun.cachefiles`
(the warm start takes it before anything else of reprorun is imported); this module names it.
"""

from __future__ import annotations

import fcntl
import os

from reprorun.cachefiles import STALE_SECONDS, hold, hold_and_verify, open_lock_file
from reprorun.cachefiles import lock_mode as mode

__all__ = ["MODES", "STALE_SECONDS", "flock_exclusive", "hold_and_verify", "hold_for_run", "mode", "open_lock_file"]
MODES = ("flock", "mkdir")


def hold_for_run(cache_root: str, build: str) -> None:
    """Hold the env `build` in use until this process (and what it execs) ends; best effort."""
    hold(cache_root, build)


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

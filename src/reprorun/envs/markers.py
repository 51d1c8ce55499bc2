"""Use markers, as a pruner reads them: whether a live run still uses an env it would remove.

A run that cannot hold a flock on its env (`REPRORUN_LOCK=mkdir`) leaves the marker
`used/<build>.<host>.<pid>` holding its process start time, or `readers/<build>.<host>.<pid>`
when it may not write `used/` (a reader of a shared cache); in flock mode, a reader who cannot
open the env's lock file leaves the `readers/` marker too. locks.py writes them; this module
judges them, and drops those of runs that ended. `readers/` is world-writable: what is found there
is read without following links or blocking, and counts only for a process of its owner.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from reprorun.envs import layout, locks
from reprorun.envs.cache import Cache
from reprorun.envs.inventory import use_ttl
from reprorun.envs.liveness import alive, host, server_now


def in_use_elsewhere(cache: Cache, build: str) -> bool:
    """Whether a live run has a use marker of the env (mkdir mode: in `used/` or `readers/`; flock
    mode: in `readers/`, a reader that could not open the lock file); drops dead ones."""
    here = host()
    ttl = use_ttl()
    busy = False
    markers = [*cache.used.glob(f"{build}.*.*")] if locks.mode() == "mkdir" else []
    markers += (cache.path / layout.READERS).glob(f"{build}.*.*")
    for path in markers:
        other, _, pid = path.name[len(build) + 1 :].rpartition(".")
        if not pid.isdigit() or not other:
            continue
        try:
            start = _small_text(path)
            age = server_now(str(cache.locks)) - path.lstat().st_mtime
        except (OSError, UnicodeDecodeError):
            continue
        live = alive(int(pid), start) if other == here else age < ttl
        if live and other == here and path.parent.name == layout.READERS:
            live = _owns(path, int(pid))  # in the world-writable folder, only a user's own process counts
        if live:
            busy = True
        else:
            with contextlib.suppress(OSError):
                path.unlink()
    return busy


def _owns(marker: Path, pid: int) -> bool:
    """Whether the marker's owner runs process pid (Linux: the owner of /proc/<pid>)."""
    try:
        return marker.lstat().st_uid == os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return not os.path.isdir("/proc")  # no /proc to ask: trust the marker


def _small_text(path: Path) -> str:
    """A marker's text, read safely: another user may have put anything in readers/ (a FIFO, a link)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return ""
        return os.read(fd, 64).decode("ascii").strip()
    finally:
        os.close(fd)

"""Who owns a lock or a marker, and whether it still runs: this host's name, a process's identity.

A pid alone does not name a process for long (pids are reused, 32768 of them on many Linux
systems), so an owner is recorded as host, pid and the process's start time (from /proc), and a
process counts as alive only while all three match. Standard library only. `host` and
`process_start` are defined in `reprorun.cachefiles` (a warm start's use marker records them).
"""

from __future__ import annotations

import os

from reprorun.cachefiles import host, process_start
from reprorun.cachefiles import stat_fields as _stat_fields

__all__ = ["alive", "host", "process_start", "server_now"]


def alive(pid: int, start: str) -> bool:
    """Whether the process pid of this host runs, and is the one that started at `start`.

    A killed process that its parent has not reaped yet (a zombie) is dead: it holds nothing and
    writes nothing. Where there is no /proc to ask, a process that exists counts as alive.
    """
    foreign = False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        foreign = True  # it exists, owned by someone else
    fields = _stat_fields(pid)
    if fields is None:  # ended since kill(0); or hidden from us (hidepid), or no /proc at all
        return foreign or not os.path.isdir("/proc")
    if fields and fields[0] in ("Z", "X") and _threads(pid) <= 1:  # a leader may end before its threads
        return False
    return not start or len(fields) <= 19 or fields[19] == start


def server_now(folder: str) -> float:
    """The file system's clock (the mtime of a file just written), so other hosts' skew is moot."""
    import time

    probe = os.path.join(folder, f".now.{host()}.{os.getpid()}")
    try:
        with open(probe, "w"):
            pass
        now = os.stat(probe).st_mtime
        os.unlink(probe)
    except OSError:
        return time.time()
    return now


def _threads(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return 0

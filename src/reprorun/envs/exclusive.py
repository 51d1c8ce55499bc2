"""Exclusive locks in the cache: one builder per key, and a pruner's hold on an env it removes.

`Lock` takes `fcntl.flock` on a file (`REPRORUN_LOCK=flock`, the default), or makes the directory
`<path>.d` (`REPRORUN_LOCK=mkdir`, for file systems without working locks). An mkdir lock holds an
owner file (host, pid, process start) whose mtime a thread refreshes while the lock is held; it is
stale when its owner is dead (same host) or its heartbeat is older than `REPRORUN_LOCK_STALE`
seconds (any host), and then any taker breaks it. See docs/cache.md, "Locking protocol".
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time

from reprorun.envs import locks
from reprorun.envs.liveness import alive, host, process_start, server_now
from reprorun.envs.locks import flock_exclusive  # the flock itself: stdlib-only, shared with the lean build

__all__ = ["Lock", "break_if_stale", "flock_exclusive", "stale_seconds", "write_owner"]


class Lock:
    """An exclusive lock on a path of the cache: flock on `path`, or mkdir of `path + '.d'`."""

    def __init__(self, path: str, stale_after: float | None = None) -> None:
        self.path = path
        self.mode = locks.mode()
        self.stale_after = stale_after if stale_after is not None else stale_seconds()
        self._fd: int | None = None
        self._stop: threading.Event | None = None

    def acquire(self, blocking: bool = True) -> bool:
        """Take the lock; with `blocking=False` return False at once if another holds it."""
        if self.mode == "flock":
            self._fd = flock_exclusive(self.path, blocking)
            return self._fd is not None
        return self._acquire_dir(blocking)

    def release(self) -> None:
        """Let go of the lock."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        elif self._stop is not None:
            self._stop.set()
            self._stop = None
            shutil.rmtree(self.path + ".d", ignore_errors=True)

    def release_and_remove(self) -> None:
        """Remove the lock file or directory while still holding it, then let go (stale cleanup)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.path)
        self.release()

    def _acquire_dir(self, blocking: bool) -> bool:
        folder = self.path + ".d"
        delay = 0.05
        while True:
            try:
                os.mkdir(folder)
            except FileExistsError:
                if break_if_stale(folder, self.stale_after):
                    continue
                if not blocking:
                    return False
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            write_owner(folder)
            self._stop = _heartbeat(os.path.join(folder, "owner"), self.stale_after / 4)
            return True


def write_owner(folder: str) -> None:
    """Record who holds an mkdir lock: host, pid, process start."""
    pid = os.getpid()
    with open(os.path.join(folder, "owner"), "w", encoding="utf-8") as handle:
        handle.write(f"{host()}\n{pid}\n{process_start(pid)}\n")


def break_if_stale(folder: str, stale_after: float) -> bool:
    """Remove an mkdir lock whose owner is dead or silent; True if it was removed (or vanished)."""
    owner = os.path.join(folder, "owner")
    try:
        with open(owner, encoding="utf-8") as handle:
            text = handle.read()
        beat = os.stat(owner).st_mtime
    except FileNotFoundError:
        try:  # made but its owner not yet written: judge by the directory's own age
            text, beat = "", os.stat(folder).st_mtime
        except FileNotFoundError:
            return True
    except OSError:
        return False
    if not _stale(text, beat, folder, stale_after):
        return False
    # rename first: only one of several breakers wins, and the loser's rename fails harmlessly.
    graveyard = os.path.join(os.path.dirname(folder), f".stale-{os.urandom(6).hex()}")
    try:
        os.rename(folder, graveyard)
    except OSError:
        return True
    try:
        with open(os.path.join(graveyard, "owner"), encoding="utf-8") as handle:
            taken = handle.read()
    except OSError:
        taken = text
    if taken != text:  # a new owner took it between our look and our rename: give it back
        try:
            os.rename(graveyard, folder)
            return False
        except OSError:
            pass
    shutil.rmtree(graveyard, ignore_errors=True)
    return True


def _stale(text: str, beat: float, folder: str, stale_after: float) -> bool:
    lines = text.splitlines()
    if len(lines) >= 2 and lines[0] == host() and lines[1].isdigit():
        return not alive(int(lines[1]), lines[2] if len(lines) > 2 else "")
    return server_now(os.path.dirname(folder)) - beat > stale_after


def _heartbeat(owner: str, every: float) -> threading.Event:
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every):
            try:
                os.utime(owner)
            except OSError:
                return  # the lock was broken or removed: nothing left to keep alive

    threading.Thread(target=beat, name="reprorun-lock-heartbeat", daemon=True).start()
    return stop


def stale_seconds() -> float:
    """`REPRORUN_LOCK_STALE` seconds (at least 1), else the default."""
    try:
        return max(float(os.environ.get("REPRORUN_LOCK_STALE", "")), 1.0)
    except ValueError:
        return locks.STALE_SECONDS

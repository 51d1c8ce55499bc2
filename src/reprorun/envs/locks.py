"""Locks in the cache: one builder per key, and a run's hold on its env for the script's whole life.

Two mechanisms, chosen by `REPRORUN_LOCK` (see docs/cache.md, "Locking protocol"):

- `flock` (the default): `fcntl.flock` on a file. The kernel drops a lock when its holder dies, so
  a lock left by a crash is never stale. Over NFS, Linux emulates flock with POSIX byte-range
  locks, which work across hosts with NFSv4 or NFSv3 + lockd.
- `mkdir`: for file systems without working locks. An exclusive lock is a directory made with
  `mkdir` (atomic everywhere, NFS included) holding an owner file (host, pid, process start) whose
  mtime a thread refreshes while the lock is held; it is stale when its owner is dead (same host)
  or its heartbeat is older than `REPRORUN_LOCK_STALE` seconds (any host).

A run holds its env with `hold_for_run` (or `hold_and_verify`) right before `exec`. This module's
top level imports only `os` and `fcntl`: it is on the warm path.
"""

from __future__ import annotations

import fcntl
import os

from reprorun.envs import layout

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
    try:
        fd = _open_lock_file(path)
    except OSError:
        return None  # a read-only shared cache: nobody can prune it from here either
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)  # waits only while a pruner is removing this very env
    except OSError:
        os.close(fd)
        return None
    # The descriptor stays open, unclosed on purpose, across exec: the script holds the lock.
    os.set_inheritable(fd, True)
    return fd


def _open_lock_file(path: str) -> int:
    # Read-write, because NFS emulates flock with POSIX locks and an exclusive one needs write
    # access; read-only as a fallback for a cache the user may read but not write.
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except PermissionError:
        return os.open(path, os.O_RDONLY)


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


def host() -> str:
    """This machine's name, as owner files and use markers record it."""
    return os.uname().nodename.replace("/", "_") or "localhost"


def process_start(pid: int) -> str:
    """When a process started (clock ticks since boot, Linux), to tell a reused pid; or ''."""
    try:
        fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
    except OSError:
        return ""
    try:
        data = os.read(fd, 4096).decode("ascii", "replace")
    finally:
        os.close(fd)
    # The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    fields = data[data.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else ""


def alive(pid: int, start: str) -> bool:
    """Whether the process pid of this host runs, and is the one that started at `start`."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, owned by someone else
    return not start or not process_start(pid) or process_start(pid) == start


class Lock:
    """An exclusive lock on a path of the cache: flock on `path`, or mkdir of `path + '.d'`."""

    def __init__(self, path: str, stale_after: float | None = None) -> None:
        self.path = path
        self.mode = mode()
        self.stale_after = stale_after if stale_after is not None else stale_seconds()
        self._fd: int | None = None
        self._stop: object = None

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
            import shutil
            import threading

            assert isinstance(self._stop, threading.Event)
            self._stop.set()
            self._stop = None
            shutil.rmtree(self.path + ".d", ignore_errors=True)

    def release_and_remove(self) -> None:
        """Remove the lock file or directory while still holding it, then let go (stale cleanup)."""
        if self._fd is not None:
            _remove(self.path)
        self.release()

    def _acquire_dir(self, blocking: bool) -> bool:
        import time

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


def flock_exclusive(path: str, blocking: bool) -> int | None:
    """An fd holding an exclusive flock on path (None if busy and not blocking)."""
    while True:
        fd = _open_lock_file(path)
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
    import secrets
    import shutil

    # rename first: only one of several breakers wins, and the loser's rename fails harmlessly.
    graveyard = os.path.join(os.path.dirname(folder), f".stale-{secrets.token_hex(6)}")
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


def _heartbeat(owner: str, every: float) -> object:
    import threading

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
        return STALE_SECONDS

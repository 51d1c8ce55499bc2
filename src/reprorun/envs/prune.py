"""Look at the cache and shrink it: list envs, prune by age and size, clear; never an env in use.

Every removal of a complete env first takes the env's use lock exclusively without waiting (a
run holds it shared for its whole life, see locks.py) and skips the env when it cannot. Under
that lock the env is renamed out of `envs/` in one step, so a run either finds it whole or not
at all; the slow delete happens afterwards, on the renamed copy.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets
import shutil
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from reprorun.envs import keys, layout, locks, scratch, store
from reprorun.envs.cache import COMPLETE, KEY_FILE, Cache, intact, read_info
from reprorun.envs.layout import SHORT

log = logging.getLogger("reprorun")

DAY = 86400.0
USE_TTL = 7 * DAY  # mkdir mode: how long another host's use marker keeps an env (a job's walltime)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": DAY, "w": 7 * DAY}


def parse_duration(text: str) -> float:
    """Seconds in `30d`, `12h`, `90m`, `45s`, `2w` (a bare number means days)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", text.lower())
    if not match:
        raise ValueError(f"not a duration: {text!r} (write it like 30d, 12h, 90m)")
    return float(match.group(1)) * _SECONDS[match.group(2) or "d"]


def parse_size(text: str) -> int:
    """Bytes in `20G`, `500M`, `1.5T`, `20GB`, `20GiB` (binary units; a bare number is bytes)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*", text.lower())
    if not match:
        raise ValueError(f"not a size: {text!r} (write it like 20G, 500M)")
    return int(float(match.group(1)) * _UNITS[match.group(2)])


@dataclass
class Entry:
    """One directory under `envs/` and what the cache knows about it."""

    path: Path
    key: str  # the full key when its key document is readable, else the short one
    complete: bool
    published: bool
    last_used: float
    info: dict[str, object] = field(default_factory=dict)
    interpreter: str = ""
    python_version: str = ""
    inodes: dict[tuple[int, int], int] = field(default_factory=dict)

    @property
    def build(self) -> str:
        """The directory name: `<key20>-<build>`."""
        return self.path.name

    @property
    def size(self) -> int:
        """Bytes on disk, each hard-linked file counted once."""
        return sum(self.inodes.values())


def entries(cache: Cache, sizes: bool = True) -> list[Entry]:
    """Every env directory (trash excluded), least recently used first."""
    found: list[Entry] = []
    try:
        names = sorted(os.listdir(cache.envs))
    except FileNotFoundError:
        return []
    for name in names:
        path = cache.envs / name
        if name.startswith(".") or not path.is_dir():
            continue
        short = name.split("-", 1)[0]
        info = read_info(path)
        key = short
        python: dict[str, object] = {}
        with contextlib.suppress(OSError, ValueError, AttributeError):
            doc = json.loads((path / KEY_FILE).read_text("utf-8"))
            python = doc.get("python", {})
            key = keys.digest(doc)
        entry = Entry(
            path=path,
            key=key,
            complete=(path / COMPLETE).exists(),
            published=cache.published_name(short) == name,
            last_used=last_use(cache, path),
            info=info,
            interpreter=str(python.get("executable") or info.get("interpreter") or ""),
            python_version=str(python.get("version") or ""),
        )
        if sizes:
            entry.inodes = disk_usage(path)
        found.append(entry)
    found.sort(key=lambda e: e.last_used)
    return found


def last_use(cache: Cache, env: Path) -> float:
    """When the env was last used: the mtime of `used/<build>` or of a reader's `readers/<build>.uid<N>`
    (the latest), else when it was completed."""
    readers = [0.0]
    for path in (cache.path / layout.READERS).glob(f"{env.name}.uid*"):
        with contextlib.suppress(OSError):
            readers.append(path.lstat().st_mtime)
    for path in (Path(layout.last_use(str(cache.path), env.name)), env / COMPLETE, env):
        with contextlib.suppress(OSError):
            return max(path.stat().st_mtime, *readers)
    return max(readers)


def scripts(cache: Cache, build: str) -> list[str]:
    """The scripts remembered as users of the env."""
    try:
        return Path(layout.scripts_file(str(cache.path), build)).read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []


def disk_usage(path: Path) -> dict[tuple[int, int], int]:
    """Allocated bytes per (device, inode) under path, without following links."""
    seen: dict[tuple[int, int], int] = {}
    for folder, dirs, files in os.walk(path):
        for name in (*dirs, *files):
            with contextlib.suppress(OSError):
                info = os.lstat(os.path.join(folder, name))
                seen[(info.st_dev, info.st_ino)] = info.st_blocks * 512
    return seen


@dataclass
class Report:
    """What a prune or clear removed (or would), and what it left because it was in use."""

    removed: list[tuple[str, str, int]] = field(default_factory=list)  # (path, reason, bytes)
    skipped: list[str] = field(default_factory=list)  # envs in use
    swept: int = 0  # small files: stale locks, index entries, pointers, markers

    @property
    def freed(self) -> int:
        """Bytes the removed envs occupied."""
        return sum(size for _, _, size in self.removed)


def prune(cache: Cache, older_than: float | None, max_size: int | None, dry_run: bool = False) -> Report:
    """Remove superseded, interrupted, unused-for-`older_than` and over-budget envs, and stale files."""
    report = Report()
    if not cache.envs.is_dir():  # no env yet; a killed freeze may have left a temporary folder
        if not dry_run:
            report.swept += scratch.sweep(cache.path / layout.TMP, _use_ttl())
        return report
    now = time.time()
    all_entries = entries(cache)
    counts: dict[tuple[int, int], int] = {}
    for entry in all_entries:
        for inode in entry.inodes:
            counts[inode] = counts.get(inode, 0) + 1
    total = _unique_bytes(all_entries)
    for entry in all_entries:  # least recently used first
        held = reserved_until(cache, entry.build) > now  # a submitted job will use it
        reason = _reason(entry, now, None if held else older_than)
        if reason is None and not held and max_size is not None and total > max_size:
            reason = "over the size budget"
        if reason is None:
            if held:
                report.skipped.append(str(entry.path))
            continue
        if remove(cache, entry, reason, report, dry_run):
            for inode, size in entry.inodes.items():
                counts[inode] -= 1
                if counts[inode] == 0:
                    total -= size
    _sweep(cache, report, dry_run, everything=False)
    return report


def reserve(cache: Cache, build: str, seconds: float | None = None) -> None:
    """Keep an env from age and size pruning for `seconds` (default REPRORUN_USE_TTL, 7 days):
    queued jobs will use it (`submit`)."""
    marker = cache.used / f"{build}.reserved"
    until = max(time.time() + (_use_ttl() if seconds is None else seconds), reserved_until(cache, build))
    with contextlib.suppress(OSError):
        marker.touch()
        os.utime(marker, (until, until))


def reserved_until(cache: Cache, build: str) -> float:
    """Until when a submitted job reserved the env: the mtime of `used/<build>.reserved` (0: never)."""
    try:
        return (cache.used / f"{build}.reserved").stat().st_mtime
    except OSError:
        return 0.0


def clear(cache: Cache) -> Report:
    """Remove every env not in use, and every other file reprorun keeps in the cache."""
    report = Report()
    for entry in entries(cache):
        remove(cache, entry, "clear", report, dry_run=False)
    _sweep(cache, report, dry_run=False, everything=True)
    return report


def _reason(entry: Entry, now: float, older_than: float | None) -> str | None:
    if not entry.complete:
        return "interrupted build"
    if not entry.published:
        return "superseded"
    if not intact(entry.path):
        return "damaged (a newer build replaces it)"
    if older_than is not None and now - entry.last_used >= older_than:
        return f"unused for {(now - entry.last_used) / DAY:.1f} days"
    return None


def remove(cache: Cache, entry: Entry, reason: str, report: Report, dry_run: bool) -> bool:
    """Remove one env if nothing uses (or builds) it; True when it went (or would go)."""
    size = entry.size
    with _claimed(cache, entry) as free:
        if not free:
            if entry.complete:
                report.skipped.append(str(entry.path))
            return False
        if dry_run:
            report.removed.append((str(entry.path), reason, size))
            return True
        if not entry.complete and (entry.path / COMPLETE).exists():
            return False  # published while we looked: not interrupted after all
        trash = cache.envs / f".trash-{entry.build}-{secrets.token_hex(4)}"
        try:
            os.rename(entry.path, trash)
        except FileNotFoundError:
            return False
    log.debug("removed %s (%s)", entry.path, reason)
    report.removed.append((str(entry.path), reason, size))
    shutil.rmtree(trash, ignore_errors=True)
    for name in (entry.build, f"{entry.build}.scripts"):
        with contextlib.suppress(OSError):
            (cache.used / name).unlink()
    for path in (cache.path / layout.READERS).glob(f"{entry.build}.*"):
        with contextlib.suppress(OSError):
            path.unlink()
    return True


@contextlib.contextmanager
def _claimed(cache: Cache, entry: Entry) -> Iterator[bool]:
    """Hold what keeps others off this env: its use lock (complete) or its key's build lock."""
    if not entry.complete:
        lock = locks.Lock(str(cache.build_lock_path(entry.build)))  # a builder holds it while building
        got = lock.acquire(blocking=False)
        try:
            yield got
        finally:
            if got:
                lock.release()
        return
    lock = locks.Lock(layout.use_lock(str(cache.path), entry.build))
    got = lock.acquire(blocking=False)
    try:
        yield got and not in_use_elsewhere(cache, entry.build)
    finally:
        if got:
            if not entry.path.exists():
                lock.release_and_remove()  # gone for good: nobody will lock this name again
            else:
                lock.release()


def in_use_elsewhere(cache: Cache, build: str) -> bool:
    """mkdir mode: whether a live run has a `used/<build>.<host>.<pid>` marker; drops dead ones."""
    if locks.mode() != "mkdir":
        return False
    here = locks.host()
    ttl = _use_ttl()
    busy = False
    markers = [*cache.used.glob(f"{build}.*.*"), *(cache.path / layout.READERS).glob(f"{build}.*.*")]
    for path in markers:
        other, _, pid = path.name[len(build) + 1 :].rpartition(".")
        if not pid.isdigit() or not other:
            continue
        try:
            start = _small_text(path)
            age = locks.server_now(str(cache.locks)) - path.lstat().st_mtime
        except (OSError, UnicodeDecodeError):
            continue
        live = locks.alive(int(pid), start) if other == here else age < ttl
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


def _use_ttl() -> float:
    try:
        return parse_duration(os.environ.get("REPRORUN_USE_TTL", "") or "7d")
    except ValueError:
        return USE_TTL


def _sweep(cache: Cache, report: Report, dry_run: bool, everything: bool) -> None:  # noqa: PLR0912
    """Remove trash, dangling pointers, stale locks, index entries and markers of gone envs."""
    if dry_run:
        return
    for trash in _listing(cache.envs):
        if trash.startswith(".trash-"):
            shutil.rmtree(cache.envs / trash, ignore_errors=True)
    builds = {name for name in _listing(cache.envs) if not name.startswith(".")}
    for short in _listing(cache.keys):
        report.swept += _sweep_pointer(cache, short)
    for name in _listing(cache.locks):
        report.swept += _sweep_lock(cache, cache.locks / name, builds)
    for name in _listing(cache.used):
        build = name.split(".", 1)[0]
        if build not in builds and not (cache.envs / build).exists():
            report.swept += _unlink(cache.used / name)
        elif name.count(".") >= 2 and not name.endswith(".scripts"):
            in_use_elsewhere(cache, build)  # drop markers of runs that ended
    for name in _listing(cache.path / layout.READERS):
        if name.split(".", 1)[0] not in builds:
            report.swept += _unlink(cache.path / layout.READERS / name)
        elif name.count(".") >= 2 and ".uid" not in name:
            in_use_elsewhere(cache, name.split(".", 1)[0])
    for name in _listing(cache.index):
        report.swept += _sweep_index(cache, cache.index / name, everything)
    report.swept += store.sweep(cache.store)  # files no env links to any more
    report.swept += scratch.sweep(cache.path / layout.TMP, _use_ttl())  # temporary folders of killed builds
    if everything:
        for folder in (cache.interpreters, cache.app_data, cache.pip, cache.stdin, cache.store):
            shutil.rmtree(folder, ignore_errors=True)


def _sweep_pointer(cache: Cache, short: str) -> int:
    """Remove a `keys/` pointer that names no env (truncated, or its env deleted); 1 if removed."""
    if short.startswith("."):
        return _remove_if_old(cache.keys / short)
    if _names_env(cache, short):
        return 0
    lock = locks.Lock(str(cache.build_lock_path(short)))
    if not lock.acquire(blocking=False):
        return 0  # a builder is about to publish
    try:
        return 0 if _names_env(cache, short) else _unlink(cache.keys / short)
    finally:
        lock.release()


def _names_env(cache: Cache, short: str) -> bool:
    name = cache.published_name(short)
    return name is not None and (cache.envs / name).is_dir()


def _sweep_lock(cache: Cache, path: Path, builds: set[str]) -> int:
    """Remove a lock nobody holds whose env or key has no directory left; 1 if removed."""
    name = path.name
    if name.startswith(".stale-"):
        shutil.rmtree(path, ignore_errors=True)
        return 1
    if name.startswith("."):
        return _remove_if_old(path)
    stem = name.removesuffix(".d")
    if not stem.endswith((".lock", ".use")) or _lock_busy(cache, stem, builds):
        return 0
    if name.endswith(".d"):  # REPRORUN_LOCK=mkdir: gone only when its owner is dead or silent
        return int(locks.break_if_stale(str(path), locks.stale_seconds()))
    fd = locks.flock_exclusive(str(path), blocking=False)
    if fd is None:
        return 0
    try:
        # Look again, now holding it: a run locks `<build>.use` only after its env exists, and a
        # build name is never reused, so an env absent now never gets a user of this file.
        if _lock_busy(cache, stem, None):
            return 0
        path.unlink()
    except OSError:
        return 0
    finally:
        os.close(fd)
    return 1


def _lock_busy(cache: Cache, stem: str, builds: set[str] | None) -> bool:
    """Whether the env (`<build>.use`) or some build of the key (`<key20>.lock`) still exists."""
    if builds is None:
        builds = set(_listing(cache.envs))
    if stem.endswith(".use"):
        return stem.removesuffix(".use") in builds
    short = stem.removesuffix(".lock") + "-"
    return any(b.startswith(short) for b in builds)


def _sweep_index(cache: Cache, path: Path, everything: bool) -> int:
    """Remove an index entry whose env or interpreter is gone or changed; 1 if removed."""
    if everything:
        return _unlink(path)
    if path.name.endswith(".tmp"):
        return _remove_if_old(path)
    try:
        key, interpreter, size, mtime = path.read_text("utf-8").splitlines()
        info = os.stat(interpreter)
    except (OSError, ValueError, UnicodeDecodeError):
        return _unlink(path)
    fresh = str(info.st_size) == size and str(info.st_mtime_ns) == mtime
    return 0 if fresh and _names_env(cache, key[:SHORT]) else _unlink(path)


def _listing(folder: Path) -> list[str]:
    try:
        return sorted(os.listdir(folder))
    except OSError:
        return []


def _unlink(path: Path) -> int:
    try:
        path.unlink()
    except OSError:
        return 0
    return 1


def _remove_if_old(path: Path, age: float = 3600.0) -> int:
    """A temporary file some writer may still be about to rename: only once it is an hour old."""
    with contextlib.suppress(OSError):
        if time.time() - path.stat().st_mtime > age:
            return _unlink(path)
    return 0


def _unique_bytes(all_entries: list[Entry]) -> int:
    seen: dict[tuple[int, int], int] = {}
    for entry in all_entries:
        seen.update(entry.inodes)
    return sum(seen.values())

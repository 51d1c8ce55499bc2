"""Shrink the cache: prune by age and size, clear; never an env in use.

Every removal of a complete env first takes the env's use lock exclusively without waiting (a
run holds it shared for its whole life, see locks.py) and skips the env when it cannot. Under
that lock the env is renamed out of `envs/` in one step, so a run either finds it whole or not
at all; the slow delete happens afterwards, on the renamed copy. What the cache holds is read by
inventory.py; the small files left behind are swept by sweep.py.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from reprorun.envs import layout, sweep
from reprorun.envs.cache import COMPLETE, Cache, intact
from reprorun.envs.exclusive import Lock
from reprorun.envs.inventory import DAY, Entry, entries, reserved_until
from reprorun.envs.markers import in_use_elsewhere

log = logging.getLogger("reprorun")


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
            report.swept += sweep.temporary(cache)
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
    if not dry_run:
        report.swept += sweep.sweep(cache, everything=False)
    return report


def clear(cache: Cache) -> Report:
    """Remove every env not in use, and every other file reprorun keeps in the cache."""
    report = Report()
    for entry in entries(cache):
        remove(cache, entry, "clear", report, dry_run=False)
    report.swept += sweep.sweep(cache, everything=True)
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
        lock = Lock(str(cache.build_lock_path(entry.build)))  # a builder holds it while building
        got = lock.acquire(blocking=False)
        try:
            yield got
        finally:
            if got:
                lock.release()
        return
    lock = Lock(layout.use_lock(str(cache.path), entry.build))
    got = lock.acquire(blocking=False)
    try:
        yield got and not in_use_elsewhere(cache, entry.build)
    finally:
        if got:
            if not entry.path.exists():
                lock.release_and_remove()  # gone for good: nobody will lock this name again
            else:
                lock.release()


def _unique_bytes(all_entries: list[Entry]) -> int:
    seen: dict[tuple[int, int], int] = {}
    for entry in all_entries:
        seen.update(entry.inodes)
    return sum(seen.values())

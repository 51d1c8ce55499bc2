"""The small files a prune removes: trash, dangling pointers, stale locks, markers and index entries
of gone envs, store files no env links to, temporary folders of dead processes.

Each is removed only when nothing can still need it: a lock only by a taker that holds it, a
pointer only under its key's build lock, a temporary file only once it is an hour old.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from reprorun.envs import exclusive, layout, scratch, store
from reprorun.envs.cache import Cache
from reprorun.envs.inventory import use_ttl
from reprorun.envs.layout import SHORT
from reprorun.envs.markers import in_use_elsewhere


def sweep(cache: Cache, everything: bool) -> int:  # noqa: PLR0912
    """Remove what no env needs any more (`everything`: also every index, interpreter record and
    app-data file); the number of files and folders removed."""
    swept = 0
    for trash in _listing(cache.envs):
        if trash.startswith(".trash-"):
            shutil.rmtree(cache.envs / trash, ignore_errors=True)
    builds = {name for name in _listing(cache.envs) if not name.startswith(".")}
    for short in _listing(cache.keys):
        swept += _sweep_pointer(cache, short)
    for name in _listing(cache.locks):
        swept += _sweep_lock(cache, cache.locks / name, builds)
    for name in _listing(cache.used):
        build = name.split(".", 1)[0]
        if build not in builds and not (cache.envs / build).exists():
            swept += _unlink(cache.used / name)
        elif name.count(".") >= 2 and not name.endswith(".scripts"):
            in_use_elsewhere(cache, build)  # drop markers of runs that ended
    for name in _listing(cache.path / layout.READERS):
        if name.split(".", 1)[0] not in builds:
            swept += _unlink(cache.path / layout.READERS / name)
        elif name.count(".") >= 2 and ".uid" not in name:
            in_use_elsewhere(cache, name.split(".", 1)[0])
    for name in _listing(cache.index):
        swept += _sweep_index(cache, cache.index / name, everything)
    swept += store.sweep(cache.store)  # files no env links to any more
    swept += temporary(cache)
    if everything:
        for folder in (cache.interpreters, cache.app_data, cache.pip, cache.stdin, cache.store):
            shutil.rmtree(folder, ignore_errors=True)
    return swept


def temporary(cache: Cache) -> int:
    """Remove the temporary folders of killed builds and freezes (scratch.py), and the half-made
    `.<name>.*` folders of wheels and bundles unpacked once (`scratch.fill_once`) an hour old."""
    swept = scratch.sweep(cache.path / layout.TMP, use_ttl())
    for folder in (cache.pip, cache.path / layout.BUNDLES):
        for name in _listing(folder):
            if name.startswith(".") and _older_than(folder / name, 3600.0):
                shutil.rmtree(folder / name, ignore_errors=True)
                swept += 1
    return swept


def _sweep_pointer(cache: Cache, short: str) -> int:
    """Remove a `keys/` pointer that names no env (truncated, or its env deleted); 1 if removed."""
    if short.startswith("."):
        return _remove_if_old(cache.keys / short)
    if _names_env(cache, short):
        return 0
    lock = exclusive.Lock(str(cache.build_lock_path(short)))
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
        return int(exclusive.break_if_stale(str(path), exclusive.stale_seconds()))
    fd = exclusive.flock_exclusive(str(path), blocking=False)
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
    return _unlink(path) if _older_than(path, age) else 0


def _older_than(path: Path, age: float) -> bool:
    try:
        return time.time() - path.lstat().st_mtime > age
    except OSError:
        return False

"""A content store that lets environments share their files through hard links.

uv links an env's files from its own cache already; pip copies them. So, before an env is
published, every regular file of its site-packages is looked up by content (size and sha256) in
`<cache root>/store/`: a file the store has is replaced by a hard link to the stored copy, a file
it lacks is linked into the store. Two envs with numpy and pandas then cost the disk of one.
Where the file system refuses hard links (another device, a file system without them), nothing
changes and the env keeps its own copies. `cache prune` removes store files no env links to.
The store also holds the envs' shared `__pycache__` folders (pycache.py), and `sweep` removes them
with their last env.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

log = logging.getLogger("reprorun")

MIN_SIZE = 1  # even a small file fills a whole disk block; empty ones take none
# The mtime every empty file gets instead of a link (1980-01-01, the oldest a wheel can record):
# the same in every env, as a link would make it, so the bytecode of an empty `__init__.py` is
# valid in every env that shares its folder's `__pycache__` (pycache.py names a folder by mtimes).
EMPTY_MTIME = 315532800


def share(store: Path, tree: Path) -> tuple[int, int]:
    """Hard-link the tree's files with the store; return (files now shared, bytes saved)."""
    try:
        store.mkdir(parents=True, exist_ok=True)
        if os.stat(store).st_dev != os.stat(tree).st_dev:
            return 0, 0  # hard links cannot cross file systems
    except OSError:
        return 0, 0
    files = [(path, info) for path, info in _files(tree) if stat.S_ISREG(info.st_mode) and info.st_nlink == 1]
    candidates = [(path, info) for path, info in files if info.st_size >= MIN_SIZE]
    _settle_empty(path for path, info in files if info.st_size < MIN_SIZE)
    shared = saved = 0
    for (path, info), digest in zip(candidates, _digests([path for path, _info in candidates]), strict=True):
        if digest is None:
            continue
        stored = store / f"{digest}-{info.st_size}-{info.st_mode & 0o777:o}"
        try:
            if stored.exists():
                temp = f"{path}.reprorun-link"
                os.link(stored, temp)
                os.replace(temp, path)  # the same bytes, now shared
                shared += 1
                saved += info.st_size
            else:
                os.link(path, stored)
        except OSError as exc:
            log.debug("not shared: %s (%s)", path, exc.strerror)
            if isinstance(exc, PermissionError) or exc.errno in (18, 31, 95):  # EXDEV, EMLINK, ENOTSUP
                return shared, saved
    return shared, saved


def _settle_empty(paths: Iterable[str]) -> None:
    """Give the empty files EMPTY_MTIME (they are not linked: they take no disk)."""
    for path in paths:
        try:
            os.utime(path, (EMPTY_MTIME, EMPTY_MTIME))
        except OSError as exc:
            log.debug("mtime of %s kept: %s", path, exc.strerror)


def sweep(store: Path) -> int:
    """Remove store files (and shared `__pycache__` folders, pycache.py) that no environment links
    to any more; return how many went."""
    from reprorun.envs import pycache

    return _remove_unlinked(store, lambda info: True) + pycache.sweep(store)


def _files(tree: Path) -> Iterator[tuple[str, os.stat_result]]:
    """Every file under tree (not following links) and its lstat; what cannot be read is left out."""
    for folder, _dirs, names in os.walk(tree):
        for name in names:
            path = os.path.join(folder, name)
            try:
                yield path, os.lstat(path)
            except OSError:
                continue


def _remove_unlinked(store: Path, chosen: Callable[[os.stat_result], bool]) -> int:
    """Remove the store's regular files that no env links to any more (one link left: the
    store's own) and that `chosen` accepts; return how many went."""
    removed = 0
    try:
        entries = list(os.scandir(store))
    except OSError:
        return 0
    for entry in entries:
        try:
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(info.st_mode) and info.st_nlink == 1 and chosen(info):
                os.unlink(entry.path)
                removed += 1
        except OSError:
            continue
    return removed


def _digests(paths: list[str]) -> Iterator[str | None]:
    """The sha256 of each file, in order (None if it cannot be read), hashed on several threads.

    Reading and hashing release the GIL, so threads use every core: for the 160 MB of numpy and
    pandas this takes about half the time of one thread.
    """
    if len(paths) < 64:
        yield from map(_digest, paths)
        return
    from concurrent.futures import ThreadPoolExecutor

    from reprorun.envs._compile import usable_cpus

    with ThreadPoolExecutor(max_workers=min(8, usable_cpus() + 1)) as pool:
        yield from pool.map(_digest, paths, chunksize=16)


def _digest(path: str) -> str | None:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def linked_inodes(tree: Path) -> set[tuple[int, int]]:
    """The (device, inode) of every file under tree that has other links (perhaps the store's)."""
    return {(info.st_dev, info.st_ino) for _path, info in _files(tree) if info.st_nlink > 1}


def release(store: Path, inodes: set[tuple[int, int]]) -> int:
    """Remove the store's copies of these files that no env links to any more (a failed build's)."""
    if not inodes:
        return 0
    from reprorun.envs import pycache

    return _remove_unlinked(store, lambda info: (info.st_dev, info.st_ino) in inodes) + pycache.sweep(store, inodes)

"""Temporary folders inside the cache, so a killed build or freeze leaves nothing outside it.

A build or a freeze works in `tmp/<host>.<pid>.<start>.<random>/` under the cache root: Python's
`tempfile` (virtualenv, uv's throwaway script, freeze's report) and the installers' `TMPDIR`
point there while it runs. It is removed when the work ends; a folder whose process died (same
host, by pid and start time) is removed by the next build or freeze and by `cache prune`; one of
another host when it is older than `REPRORUN_USE_TTL`, as a use marker would be.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from reprorun import processes
from reprorun.envs import layout
from reprorun.envs.liveness import alive, host, process_start

log = logging.getLogger("reprorun")


@contextlib.contextmanager
def scratch(root: Path) -> Iterator[Path | None]:
    """A private temporary folder in the cache for this process's work (None: the cache is read-only).

    Re-entrant: inside another scratch, the same folder is used.
    """
    if processes.TEMP is not None:
        yield Path(processes.TEMP)
        return
    base = root / layout.TMP
    try:
        base.mkdir(parents=True, exist_ok=True)
        sweep(base)
        pid = os.getpid()
        folder = base / f"{host()}.{pid}.{process_start(pid) or 0}.{os.urandom(3).hex()}"
        folder.mkdir(mode=0o700)
    except OSError as exc:  # a read-only cache can still freeze: the system's temporary folder serves
        log.debug("no temporary folder in the cache (%s): using the system's", exc)
        yield None
        return
    previous = tempfile.tempdir
    tempfile.tempdir = processes.TEMP = str(folder)
    try:
        yield folder
    finally:
        tempfile.tempdir = previous
        processes.TEMP = None
        shutil.rmtree(folder, ignore_errors=True)


def fill_once(dest: Path, fill: Callable[[Path], None]) -> Path:
    """`dest`, made once and whole: `fill` writes into a temporary folder beside it (`.<name>.*`),
    which is renamed into place. The rename is atomic, so `dest` either does not exist or is
    complete; a process that loses a race to make it drops its copy. Used for wheels unpacked once
    (virtualenv's pip) and bundles extracted once.
    """
    if dest.is_dir():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        fill(temp)
        try:
            os.rename(temp, dest)
        except OSError:
            if not dest.is_dir():
                raise
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return dest


def sweep(base: Path, ttl: float | None = None) -> int:
    """Remove temporary folders of dead processes of this host (of other hosts: once older than ttl)."""
    here = host()
    removed = 0
    try:
        names = os.listdir(base)
    except OSError:
        return 0
    for name in names:
        parts = name.rsplit(".", 3)
        path = base / name
        if len(parts) != 4 or not parts[1].isdigit():
            if _older_than(path, 3600.0):  # not ours to judge by owner: only when clearly old
                removed += _remove(path)
            continue
        owner, pid, start = parts[0], int(parts[1]), parts[2]
        if owner == here:
            dead = not alive(pid, "" if start == "0" else start)
        else:
            dead = ttl is not None and _older_than(path, ttl)
        if dead:
            removed += _remove(path)
    return removed


def _older_than(path: Path, age: float) -> bool:
    try:
        return time.time() - path.lstat().st_mtime > age
    except OSError:
        return False


def _remove(path: Path) -> int:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except OSError:
        return 0
    return 1

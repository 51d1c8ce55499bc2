"""Bytecode shared between uv-built envs: each package folder's `__pycache__` lives in the store.

uv writes no bytecode: an env's first run compiles each module it imports (most of a science
script's first run) and writes the `.pyc` beside the source. uv links the sources of every env
from its own cache, so a second env of the same packages has the very same source files (same
content, same mtime) and could use that bytecode, but its `__pycache__` folders are its own. Here,
after uv installed, each package folder of the env gets `__pycache__` as a link to a folder of
the content store named by what decides the validity of its bytecode: every `.py` file of the
folder with its sha256 (from the dists' RECORD files: nothing is hashed), mtime and size. What the
first env's run compiles is then there for every later env of the same sources; Python checks
each `.pyc` against its source as always (a timestamp `.pyc` records the source's mtime and size),
so a folder shared wrongly could only cost time, never run stale code.

Why at first run, not at build (issue 17): compiling every module at build costs about 60% more
CPU than the first run compiles (it imports less than half of numpy, pandas and matplotlib), so a
first env would get slower where cores are few or busy; this way it costs what it did, and the
cache holds only the bytecode of what was imported, as uv's does. What the bytecode is compiled
with does not matter: Python replaces the file name in a `.pyc`'s code with the source's real
path when it loads it (`_imp._fix_co_filename`), so tracebacks, `inspect` and coverage name each
env's own files. A Slurm `submit` compiles the rest once (commands/submit.py), into the shared
folders: the array's tasks then write nothing.

Each env holds a hard link to the shared folder's `users` file (`reprorun-pycache/<name>`), so the
folder's users are counted by the file system: `sweep` removes a folder whose `users` has no other
link (its last env is gone), as store.py does for files.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
from pathlib import Path

from reprorun.envs._compile import recorded_digests
from reprorun.envs.installers.venv import site_packages
from reprorun.envs.interpreters import sha256_hex

log = logging.getLogger("reprorun")

FOLDER = "pycache"  # inside the store
USERS = "users"  # in each shared folder; one hard link per env that uses it
REFS = "reprorun-pycache"  # in each env: its links to the `users` files


def share(store: Path, env: Path) -> int:
    """Link the `__pycache__` of each package folder of the env into the store; return how many.

    A folder that has a `__pycache__` already keeps it; one whose files the store cannot share
    (another file system, links refused) is left as it is, and Python writes its bytecode there.
    """
    shared = store / FOLDER
    refs = env / REFS
    try:
        shared.mkdir(parents=True, exist_ok=True)
        refs.mkdir(exist_ok=True)
        if os.stat(shared).st_dev != os.stat(env).st_dev:
            return 0  # hard links cannot cross file systems
    except OSError as exc:
        log.debug("no shared bytecode: %s", exc)
        return 0
    count = 0
    for root in site_packages(env):
        for folder, name in _folders(str(root)):
            try:
                _link(shared / name, Path(folder), refs / name)
            except (FileExistsError, FileNotFoundError) as exc:  # a race with another build or a sweep
                log.debug("bytecode of %s not shared: %s", folder, exc)
                continue
            except OSError as exc:  # links refused, a full disk: the rest would fail alike
                log.debug("bytecode not shared from %s on: %s", folder, exc)
                return count
            count += 1
    return count


def _folders(root: str) -> list[tuple[str, str]]:
    """Each folder under root with `.py` files and no `__pycache__`, and its shared folder's name."""
    digests = recorded_digests(root)
    found = []
    for folder, dirs, names in os.walk(root):
        sources = sorted(name for name in names if name.endswith(".py"))
        if not sources or "__pycache__" in dirs:
            continue
        lines = []
        for name in sources:
            path = os.path.join(folder, name)
            try:
                info = os.stat(path)
            except OSError:
                break
            # A file no RECORD lists (virtualenv's `_virtualenv.py`, written anew for each env)
            # still counts by mtime and size: its folder is then shared with no other env.
            lines.append(f"{name}\0{digests.get(path, '-')}\0{int(info.st_mtime)}\0{info.st_size}\n")
        else:
            found.append((folder, sha256_hex("".join(lines).encode())[:40]))
    return found


def _link(target: Path, folder: Path, ref: Path) -> None:
    """`folder/__pycache__` -> target (relative, so a moved cache keeps working), counted by `ref`."""
    target.mkdir(exist_ok=True)
    users = target / USERS
    if not users.exists():
        users.touch()
    if not ref.exists():
        os.link(users, ref)  # counted first: a sweep meanwhile leaves the folder
    os.symlink(os.path.relpath(target, folder), folder / "__pycache__", target_is_directory=True)


def sweep(store: Path, only: set[tuple[int, int]] | None = None) -> int:
    """Remove the shared folders no env uses any more (`only`: of these `users` inodes); return how many."""
    removed = 0
    try:
        folders = list(os.scandir(store / FOLDER))
    except OSError:
        return 0
    for entry in folders:
        try:
            info = os.lstat(os.path.join(entry.path, USERS))
        except FileNotFoundError:
            info = None  # a build that died between mkdir and touch: no env can use it
        except OSError:
            continue
        if info is not None and (info.st_nlink > 1 or not stat.S_ISREG(info.st_mode)):
            continue
        if only is not None and (info is None or (info.st_dev, info.st_ino) not in only):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed += 1
    return removed

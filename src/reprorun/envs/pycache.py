"""Bytecode shared between envs: each package folder's `__pycache__` lives in the store.

Neither installer writes bytecode at build (uv writes none; pip is told `--no-compile`): an env's
first run compiles each module it imports (most of a science script's first run) and writes the
`.pyc` beside the source. A second env of the same packages has the very same source files (uv
links them from its cache, the content store links pip's: store.py), with the same mtimes, and
could use that bytecode, but its `__pycache__` folders are its own. So after the install (and,
for pip, the store), each package folder of the env gets `__pycache__` as a link to a folder of
the content store named by what decides the validity of its bytecode: every `.py` file of the
folder with its sha256 (from the dists' RECORD files: nothing is hashed), mtime and size. What the
first env's run compiles is then there for every later env of the same sources; Python checks
each `.pyc` against its source as always (a timestamp `.pyc` records the source's mtime and size),
so a folder shared wrongly could only cost time, never run stale code.

Why at first run, not at build (issue 17): compiling every module at build costs about 60% more
CPU than the first run compiles (it imports less than half of numpy, pandas and matplotlib), so a
first env would get slower where cores are few or busy, and the cache would hold the bytecode of
modules nothing imports (14 MiB of a science env's). What the bytecode is compiled with does not
matter: Python replaces the file name in a `.pyc`'s code with the source's real path when it
loads it (`_imp._fix_co_filename`), so tracebacks, `inspect` and coverage name each env's own
files. A Slurm `submit` compiles the rest once (commands/submit.py), into the shared folders: the
array's tasks then write nothing. An env in a cache its user cannot write (a shared cache's
reader) compiles what it imports in memory at each start, as Python does wherever it cannot write.

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


def recorded_digests(root: str) -> dict[str, str]:
    """Each `.py` file's sha256 as the RECORD files of the dists under root give it (urlsafe
    base64, a valid file name), by the file's normalized path."""
    found: dict[str, str] = {}
    try:
        names = [name for name in os.listdir(root) if name.endswith(".dist-info")]
    except OSError:
        return found
    for name in names:
        try:
            with open(os.path.join(root, name, "RECORD"), encoding="utf-8", newline="") as handle:
                lines = handle.read().splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        for line in lines:
            if line.startswith('"'):  # a quoted path (a comma in it): rare, so csv only then
                import csv

                row = next(csv.reader([line]), [])
            else:
                row = line.rsplit(",", 2)
            if len(row) >= 2 and row[0].endswith(".py") and row[1].startswith("sha256="):
                digest = row[1][7:]
                if digest.isascii() and digest.replace("-", "").replace("_", "").isalnum():
                    found[os.path.normpath(os.path.join(root, row[0]))] = digest
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

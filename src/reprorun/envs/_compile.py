"""Compile the modules of an environment's site-packages to bytecode, on every core.

This file is executed by the *environment's* interpreter, which does not have reprorun:

    ENVPYTHON -S _compile.py [--store STORE] SITE_PACKAGES...   bytecode for every module there
    ENVPYTHON -S _compile.py --worker           compile the file names on stdin (NUL-separated)

pip compiles the modules it installs one after another, which is most of the time an install of
a large package takes (numpy and pandas here: 4.7 s of 5.8 s), so reprorun runs pip with
`--no-compile` and compiles afterwards with this file: the modules are spread by size over as
many processes as this one may use (one below FILES_PER_WORKER files), largest first. The
bytecode is what pip would have written (`py_compile`, as `compileall.compile_file` calls it),
and a module that does not compile stays source, as with pip. Unlike pip, the modules of
folders named `tests` stay source too (see SKIPPED).

It runs after the content store has linked the env's files (store.py): a timestamp `.pyc`
records its source's mtime, and a source replaced by a link to the store's copy has the store
copy's mtime, so compiling before that would leave bytecode that Python finds stale and
recompiles at every import where the env is read-only.

The file name compiled into each code object is the module's path inside the env
(`lib/python3.X/site-packages/pkg/mod.py`), not its absolute path (issue 17): the same source
then gives the same `.pyc` in every env, and the store shares it too. Nothing sees that name:
when Python loads a `.pyc` for a source file it sets every code object's `co_filename` to the
source's real path (`_imp._fix_co_filename`), so tracebacks, `inspect` and coverage name the
env's own files (tests/test_bytecode.py checks all three).

With `--store` (the cache's content store, store.py), bytecode is shared between envs (issue 17):
a module whose bytecode the store has gets a hard link to it instead of being compiled, and what
is compiled goes into the store for the next env. The store names a `.pyc` by what decides its
bytes and its validity: the source's sha256 (from the dist's RECORD: nothing is hashed here), the
interpreter's magic number, and the source's mtime and size as the `.pyc` header records them.
uv links an env's sources from its own cache and the store links pip's, so a second env of the
same packages sees the same mtimes and gets every `.pyc` linked. A module without a RECORD hash,
an edited one (another mtime) or a store that refuses links is compiled as before; and Python
itself checks each `.pyc` against its source at import, so a wrong link would only cost time.

It imports the standard library only and runs on Python 3.8+. Bytecode is a cache: whatever
fails here, the exit status is 0 and the env works without it.
"""

# This file runs on Python 3.8+ under an env interpreter.
# ruff: noqa: T201

from __future__ import annotations

import sys

if __name__ == "__main__":
    del sys.path[0]  # this file's folder is reprorun's package: none of it may shadow the stdlib

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    import subprocess

# Below this many files, starting another interpreter (about 17 ms) costs more than it saves.
FILES_PER_WORKER = 64
# Folders left as source (issue 17): a package's own test suite (`tests/`), which scripts do not
# import, is 41 of the 75 MiB of bytecode of numpy, pandas and matplotlib, and half the files to
# compile. Imported anyway, such a module compiles then, as it would in an env of uv.
SKIPPED = frozenset({"__pycache__", "tests"})
TAG = sys.implementation.cache_tag  # `mod.cpython-311.pyc`


def main(argv: list[str]) -> int:
    """Compile the modules of the folders given, or (`--worker`) the files named on stdin."""
    if argv[:1] == ["--worker"]:
        names = sys.stdin.buffer.read().decode("utf-8", "surrogateescape").split("\0")
        _compile([name for name in names if name], _env_root())
        return 0
    store = None
    if argv[:1] == ["--store"] and len(argv) > 1:
        store, argv = argv[1], argv[2:]
    try:
        compile_folders(argv, store)
    except Exception as exc:  # noqa: BLE001 - bytecode is a cache; the env works without it
        print(f"reprorun: could not compile the installed modules: {exc}", file=sys.stderr)
    return 0


def compile_folders(roots: list[str], store: str | None = None) -> None:
    """Bytecode for every module under the roots (an env's site-packages) but those in SKIPPED
    folders and those that have it already: linked from `store`, else compiled in parallel (and
    then put in the store)."""
    shelf = Shelf.open(store, roots) if store else None
    files = []
    for root in roots:  # the caller (installers.compile_env) gives each real folder once
        for folder, dirs, names in os.walk(root):
            cached = _cached(folder) if "__pycache__" in dirs else frozenset()
            dirs[:] = [d for d in dirs if d not in SKIPPED]
            for name in names:
                if not name.endswith(".py") or f"{name[:-3]}.{TAG}.pyc" in cached:
                    continue
                path = os.path.join(folder, name)
                try:
                    info = os.stat(path)
                except OSError:
                    continue
                if shelf is None or not shelf.link(path, info):
                    files.append((info.st_size, path))
    if files:
        shares = _split(files, min(usable_cpus(), max(1, len(files) // FILES_PER_WORKER)))
        workers = [_start_worker(share) for share in shares[1:]]
        _compile(shares[0], _env_root())
        for worker in workers:
            worker.wait()
    if shelf is not None:
        shelf.keep()


class Shelf:
    """The content store seen from one env: `.pyc` files linked from it, or kept in it."""

    def __init__(self, store: str, digests: dict[str, str], magic: str) -> None:
        self.store = store
        self.digests = digests  # source path -> its sha256 from RECORD (urlsafe base64)
        self.magic = magic
        self.missing: list[tuple[str, str]] = []  # (.pyc to be compiled, its name in the store)
        self.usable = True

    @classmethod
    def open(cls, store: str, roots: list[str]) -> Shelf | None:
        """The store, if it exists and is on the roots' file system (hard links cannot cross)."""
        try:
            if any(os.stat(store).st_dev != os.stat(root).st_dev for root in roots):
                return None
        except OSError:
            return None
        from importlib.util import MAGIC_NUMBER

        digests: dict[str, str] = {}
        for root in roots:
            digests.update(recorded_digests(root))
        return cls(store, digests, MAGIC_NUMBER.hex())

    def link(self, source: str, info: os.stat_result) -> bool:
        """Give the source (of that stat) the store's `.pyc` of it; False if it must be compiled
        (it is then remembered, to be kept by `keep`)."""
        digest = self.digests.get(source)
        if digest is None or not self.usable:
            return False
        stored = os.path.join(self.store, f"pyc-{self.magic}-{digest}-{int(info.st_mtime) & 0xFFFFFFFF:x}-"
                                          f"{info.st_size & 0xFFFFFFFF:x}")  # fmt: skip
        folder, name = os.path.split(source)
        pyc = os.path.join(folder, "__pycache__", f"{name[:-3]}.{TAG}.pyc")
        for attempt in (1, 2):
            try:
                os.link(stored, pyc)
                return True
            except FileNotFoundError:
                if not os.path.exists(stored):
                    break
                if attempt == 1:  # the first module of its folder: no __pycache__ yet
                    os.makedirs(os.path.dirname(pyc), exist_ok=True)
            except OSError:  # links refused (permissions, EMLINK...): compile the rest
                self.usable = False
                return False
        self.missing.append((pyc, stored))
        return False

    def keep(self) -> None:
        """Put the bytecode just compiled into the store, for the next env."""
        for pyc, stored in self.missing:
            try:
                os.link(pyc, stored)
            except FileExistsError:  # another build kept it meanwhile: this env keeps its copy
                continue
            except OSError:  # not compiled (a syntax error), or the store refuses: nothing to share
                if not os.path.exists(pyc):
                    continue
                return


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


def _cached(folder: str) -> frozenset[str]:
    """The `.pyc` files already in folder/__pycache__ (linked from the store, or compiled before)."""
    try:
        return frozenset(os.listdir(os.path.join(folder, "__pycache__")))
    except OSError:
        return frozenset()


def _split(files: list[tuple[int, str]], count: int) -> list[list[str]]:
    """`count` lists of about the same number of bytes, largest files first."""
    shares: list[list[str]] = [[] for _ in range(count)]
    loads = [0] * count
    for size, path in sorted(files, reverse=True):
        lightest = loads.index(min(loads))
        shares[lightest].append(path)
        loads[lightest] += size + 2048  # a small file still costs a stat, an open and a write
    return [share for share in shares if share]


def _start_worker(names: list[str]) -> subprocess.Popen[bytes]:
    import subprocess  # here: a small install compiles in this process and never needs it

    worker = subprocess.Popen(
        [sys.executable, "-S", os.path.abspath(__file__), "--worker"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    assert worker.stdin is not None
    worker.stdin.write("\0".join(names).encode("utf-8", "surrogateescape"))
    worker.stdin.close()
    return worker


def _compile(names: list[str], env: str | None = None) -> None:
    # What pip does for each file (compileall.compile_file), without compileall's own imports:
    # the default invalidation mode, the interpreter's optimization level, the file's __pycache__;
    # like pip, without the SyntaxWarnings that old code (invalid escapes...) raises when compiled.
    # `env`: compile with the path relative to it as the file name (see the module's docstring).
    import py_compile
    import warnings

    warnings.filterwarnings("ignore")
    prefix = None if env is None else env.rstrip(os.sep) + os.sep
    for name in names:
        dfile = name[len(prefix) :] if prefix is not None and name.startswith(prefix) else None
        try:
            py_compile.compile(name, dfile=dfile, doraise=True)
        except Exception:  # noqa: BLE001, S112 - as pip does: a module that does not compile stays source
            continue


def _env_root() -> str:
    """The env this interpreter belongs to: the folder above its `bin` (real path: walks give real paths)."""
    return os.path.realpath(os.path.dirname(os.path.dirname(os.path.abspath(sys.executable))))


def usable_cpus() -> int:
    """The CPUs this process may run on (a batch job is often given fewer than the machine has)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

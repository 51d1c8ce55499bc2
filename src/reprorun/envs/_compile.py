"""Compile the modules of an environment's site-packages to bytecode, on every core.

This file is executed by the *environment's* interpreter, which does not have reprorun:

    ENVPYTHON -S _compile.py SITE_PACKAGES...   bytecode for every module there that has none
    ENVPYTHON -S _compile.py --worker           compile the file names on stdin (NUL-separated)

No build compiles (issue 17): an env's first run compiles what it imports, into the `__pycache__`
folders the env shares through the store (pycache.py). Slurm's `submit` runs this file once per
env before an array's tasks start (installers/pip.py `compile_env`), so that the tasks, all at
once, write nothing: compiling one module after another, as pip does, takes seconds for a large
env, so the modules are spread by size over as many processes as this one may use (one below
FILES_PER_WORKER files), largest first. The bytecode is what pip would have written (`py_compile`,
as `compileall.compile_file` calls it), and a module that does not compile stays source, as with
pip. Unlike pip, the modules of folders named `tests` stay source too (see SKIPPED), and a module
that has bytecode already (a run imported it, here or in another env of the same sources) keeps it.

The file name compiled into each code object is the module's path inside the env
(`lib/python3.X/site-packages/pkg/mod.py`), not its absolute path: the same source gives the same
`.pyc` whichever env compiles it. Nothing sees that name: when Python loads a `.pyc` for a source
file it sets every code object's `co_filename` to the source's real path (`_imp._fix_co_filename`),
so tracebacks, `inspect` and coverage name the env's own files (tests/test_bytecode.py checks all
three), in every env that shares the bytecode.

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
    try:
        compile_folders(argv)
    except Exception as exc:  # noqa: BLE001 - bytecode is a cache; the env works without it
        print(f"reprorun: could not compile the installed modules: {exc}", file=sys.stderr)
    return 0


def compile_folders(roots: list[str]) -> None:
    """Bytecode for every module under the roots (an env's site-packages) but those in SKIPPED
    folders and those that have it already, compiled in parallel."""
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
                files.append((info.st_size, path))
    if files:
        shares = _split(files, min(usable_cpus(), max(1, len(files) // FILES_PER_WORKER)))
        workers = [_start_worker(share) for share in shares[1:]]
        _compile(shares[0], _env_root())
        for worker in workers:
            worker.wait()


def _cached(folder: str) -> frozenset[str]:
    """The `.pyc` files already in folder/__pycache__ (a run's, perhaps another env's)."""
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

"""The lean build of an env without requirements: `uv venv`, then the cache's publication, with
the standard library alone (the first run, launch/firstrun.py).

The steps are build.ensure's, build._build's and cache.publish's, in their order and with their
files: the key's build lock (exclusive, flock), a scratch folder as the installer's TMPDIR, a new
`envs/<key20>-<random>` folder, the very command the uv backend runs for an env without
requirements (`uv venv --no-config --quiet --python X DEST`, installers/uv.py `create`), then the
key document, the completion marker, the env held for the run, the pointer and the use record.
Where the full path would wait (a lock held by another), repair (an interrupted build) or fail
(uv fails, a read-only cache, mkdir locks), this module changes nothing and answers None.
"""

from __future__ import annotations

import os
import sys
import time

from reprorun import __version__
from reprorun.envs import layout, leankey, locks
from reprorun.envs.liveness import host, process_start

TYPE_CHECKING = False  # typing's own flag costs an import of typing
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Protocol

    class Options(Protocol):
        """What of the command line the build needs (firstrun's plain run)."""

        refresh: bool
        offline: bool
        verbosity: int


def uv_executable() -> str | None:
    """installers.uv.find_uv's answer when it is certain without importing the `uv` package (whose
    locator costs more than the lean build): the uv package's binary in this venv's `bin`."""
    candidate = os.path.join(sys.prefix, "bin", "uv")
    if sys.prefix == sys.base_prefix or os.name != "posix" or not os.path.isfile(candidate):
        return None
    for entry in sys.path:
        package = os.path.join(entry or os.getcwd(), "uv")
        if os.path.isfile(os.path.join(package, "__init__.py")):
            return candidate if os.path.isfile(os.path.join(package, "_find_uv.py")) else None
        if os.path.isdir(package) or os.path.exists(package + ".py"):
            return None  # something else named uv comes first
    return None


def ensure(root: str, doc: dict[str, Any], python: dict[str, str], label: str, options: Options) -> str | None:
    """The published env of the key document `doc` (no requirements, interpreter `python`), built
    under its lock if needed (build.ensure's steps) and held for the run; None when the full path
    must decide. `label` names the script in the progress line."""
    key = leankey.digest(doc)
    before = layout.published(root, key)
    if not options.refresh:
        found = _lookup(root, key)
        if found is not None:
            return found if locks.hold_and_verify(root, found) else None
    if options.offline or locks.mode() != "flock":
        return None
    if os.path.isdir(root) and not os.access(root, os.W_OK | os.X_OK):
        return None  # the full path says that the cache is not writable
    layout.prepare_root(root)
    fd = locks.flock_exclusive(layout.build_lock(root, key), blocking=False)
    if fd is None:
        return None  # another process builds it: the full path waits and says so
    try:
        found = _lookup(root, key)
        if found is not None and (not options.refresh or layout.published(root, key) != before):
            return found if locks.hold_and_verify(root, found) else None
        published = layout.published(root, key)
        for name in os.listdir(os.path.join(root, layout.ENVS)):
            if name.startswith(key[: layout.SHORT] + "-") and name != published \
                    and not os.path.exists(os.path.join(root, layout.ENVS, name, layout.COMPLETE)):  # fmt: skip
                return None  # an interrupted build: the full path removes it
        return _build(root, key, doc, python, label, options.verbosity)
    finally:
        os.close(fd)


def _lookup(root: str, key: str) -> str | None:
    """The key's published build if it is complete and has its interpreter (Cache.lookup)."""
    build = layout.published(root, key)
    if build is None:
        return None
    env = layout.env_dir(root, build)
    return build if layout.looks_complete(env) and os.path.exists(layout.env_python(env)) else None


def _build(root: str, key: str, doc: dict[str, Any], python: dict[str, str], label: str, verbosity: int) -> str | None:
    """Create the env with `uv venv` and publish it (build._build and cache.publish, in order)."""
    started = time.monotonic()
    pid = os.getpid()
    scratch = os.path.join(root, layout.TMP, f"{host()}.{pid}.{process_start(pid) or 0}.{os.urandom(3).hex()}")
    os.makedirs(os.path.dirname(scratch), exist_ok=True)
    os.mkdir(scratch, 0o700)
    build = f"{key[: layout.SHORT]}-{os.urandom(4).hex()}"
    env = layout.env_dir(root, build)
    published = False
    try:
        os.makedirs(env)
        finish = _progress(f"an environment for {label}: Python {python['version']}, no requirements (uv)", verbosity)
        argv = [uv_executable() or "uv", "venv", "--no-config", "--quiet", "--python", python["executable"], env]
        variables = dict(os.environ, TMPDIR=scratch, TEMP=scratch, TMP=scratch, UV_PYTHON_DOWNLOADS="never")
        if _spawn(argv, variables) and os.path.exists(layout.env_python(env)):  # else the full path shows why
            info = {"created": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()), "reprorun": __version__,
                    "installer": "uv", "interpreter": python["executable"], "packages": 0,
                    "seconds": round(time.monotonic() - started, 2), "built-from-source": []}  # fmt: skip
            layout.write_atomic(os.path.join(env, layout.KEY_FILE), leankey.dumps(doc, indent=2) + "\n", durable=False)
            layout.write_atomic(os.path.join(env, layout.COMPLETE), leankey.dumps(info, indent=2) + "\n", durable=False)
            locks.hold_for_run(root, build)
            layout.write_atomic(layout.pointer(root, key), build + "\n", durable=False)
            published = True
            layout.record_use(root, build)
        finish()
    except KeyboardInterrupt:
        raise SystemExit(130) from None  # as the command line ends on Ctrl-C
    finally:
        _remove(scratch)
        if not published:
            _remove(env)  # build.discard: uv's envs share no files with the store
    return build if published else None


def _spawn(argv: list[str], variables: dict[str, str]) -> bool:
    """Run argv as processes.run does (no stdin, its output kept from the terminal); True if it succeeded."""
    null = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_RDWR, 0) for fd in (0, 1, 2)]
    pid = os.posix_spawn(argv[0], argv, variables, file_actions=null)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0


def _progress(what: str, verbosity: int) -> Callable[[], None]:
    """Say that the build starts as progress.Progress does for a build without requirements (one
    line; on a terminal, the live line that its end clears); return what ends the saying."""
    stream = sys.stderr
    try:
        terminal = stream.isatty()
    except (AttributeError, ValueError):
        terminal = False
    if verbosity < 0 or not terminal:
        if verbosity >= 0:
            _write(f"reprorun: creating {what}\n")
        return _silent
    try:
        width = os.get_terminal_size(stream.fileno()).columns or 80
    except (OSError, ValueError, AttributeError):
        width = 80
    _write("\r\x1b[2K" + f"reprorun: creating {what} 0s"[: width - 1])
    return lambda: _write("\r\x1b[2K")


def _silent() -> None:
    pass


def _write(text: str) -> None:
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (OSError, ValueError):
        pass  # a closed terminal must not fail the build


def _remove(path: str) -> None:
    try:
        os.rmdir(path)
    except FileNotFoundError:
        pass
    except OSError:
        import shutil

        shutil.rmtree(path, ignore_errors=True)

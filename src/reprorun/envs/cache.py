"""The cache on disk: where environments live, how one is published, locked and found again.

Layout under the root (see docs/cache.md):

    CACHEDIR.TAG
    envs/<key20>-<build>/     one environment; never modified once published
        reprorun-key.json      the key document it was built from
        reprorun-complete      written last inside the env: the build finished
    keys/<key20>              names the published build of a key: written atomically, after
                              `reprorun-complete`; this is the publication
    locks/<key20>.lock        one builder per key (REPRORUN_LOCK=mkdir: locks/<key20>.lock.d/)
    locks/<build>.use         shared by every run of the env, exclusive for a pruner (locks.py)
    index/<hash>              warm-path shortcut: block hash -> key (see warm.py)
    used/<build>              its mtime is the env's last use
    used/<build>.scripts      the scripts that used it, one absolute path per line
    used/<build>.<host>.<pid> REPRORUN_LOCK=mkdir only: a run of that process uses the env
    interpreters/*.json       what each interpreter file is (by path, size and mtime)
    virtualenv/               virtualenv's app data, so nothing lands outside the root
    pip/<wheel name>/          virtualenv's embedded pip wheel, unpacked once (bytecode beside it)
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from reprorun.envs import locks
from reprorun.envs.installers import env_python
from reprorun.envs.keys import SHORT
from reprorun.options import Options

log = logging.getLogger("reprorun")

COMPLETE = "reprorun-complete"
KEY_FILE = "reprorun-key.json"
TAG = """Signature: 8a477f597d28d172789f06886806bc55
# This file is a cache directory tag created by reprorun.
# For information about cache directory tags see https://bford.info/cachedir/
"""


def default_root() -> Path:
    """The cache root when nothing overrides it (platformdirs' user cache dir)."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("reprorun", appauthor=False))


def root(options: Options) -> Path:
    """The cache root: --cache-dir, then REPRORUN_CACHE_DIR, then the user cache dir."""
    chosen = options.cache_dir or os.environ.get("REPRORUN_CACHE_DIR")
    return Path(chosen).expanduser().absolute() if chosen else default_root()


class Cache:
    """One cache root and the operations on its layout."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.envs = path / "envs"
        self.keys = path / "keys"
        self.locks = path / "locks"
        self.index = path / "index"
        self.used = path / "used"
        self.interpreters = path / "interpreters"
        self.app_data = path / "virtualenv"
        self.pip = path / "pip"

    def prepare(self) -> None:
        """Create the root and its folders, tagged so backup tools skip it."""
        for folder in (self.envs, self.keys, self.locks, self.index, self.used):
            folder.mkdir(parents=True, exist_ok=True)
        tag = self.path / "CACHEDIR.TAG"
        if not tag.exists():
            _write_atomic(tag, TAG)

    def lookup(self, key: str) -> Path | None:
        """The published, complete and intact env of a key, or None (then a build repairs it)."""
        name = self.published_name(key)
        if name is None:
            return None
        env = self.envs / name
        return env if intact(env) else None

    def published_name(self, key: str) -> str | None:
        """The build directory name the key's pointer names, if any."""
        try:
            name = (self.keys / key[:SHORT]).read_text("utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return None
        return name if name.startswith(key[:SHORT] + "-") and "/" not in name else None

    def build_lock_path(self, key: str) -> Path:
        """The build lock of a key (its short form is enough)."""
        return self.locks / f"{key[:SHORT]}.lock"

    @contextlib.contextmanager
    def build_lock(self, key: str) -> Iterator[None]:
        """Hold the key's build lock; tell the user if another process holds it."""
        lock = locks.Lock(str(self.build_lock_path(key)))
        if not lock.acquire(blocking=False):
            log.info("waiting for another reprorun that is building this environment...")
            lock.acquire()
        try:
            yield
        finally:
            lock.release()

    def new_build(self, key: str) -> Path:
        """A fresh, empty directory for a build of this key."""
        path = self.envs / f"{key[:SHORT]}-{secrets.token_hex(4)}"
        path.mkdir(parents=True)
        return path

    def publish(self, key: str, env: Path, doc: dict[str, Any], info: dict[str, Any]) -> None:
        """Write the key document, then the completion marker, then the pointer: in that order."""
        _write_atomic(env / KEY_FILE, json.dumps(doc, indent=2, sort_keys=True) + "\n")
        _write_atomic(env / COMPLETE, json.dumps(info, indent=2, sort_keys=True) + "\n")
        # The builder holds its new env from before it is published: no prune can take it away
        # between publication and the run (or `sync`) that follows in this process.
        locks.hold_for_run(str(self.path), env.name)
        _write_atomic(self.keys / key[:SHORT], env.name + "\n")
        self.touch(env.name)

    def discard_unpublished(self, key: str) -> None:
        """Remove builds of this key that never completed (call with the build lock held)."""
        published = self.published_name(key)
        for path in self.envs.glob(f"{key[:SHORT]}-*"):
            if path.name != published and not (path / COMPLETE).exists():
                log.debug("removing an interrupted build: %s", path)
                shutil.rmtree(path, ignore_errors=True)

    def touch(self, build: str) -> None:
        """Record a use: the mtime of a tiny file (no lock, no rewrite)."""
        marker = self.used / build
        try:
            os.utime(marker)
        except FileNotFoundError:
            with contextlib.suppress(OSError):
                marker.touch()
        except OSError:
            pass

    def remember_script(self, build: str, script: str) -> None:
        """Note which script used an env (for `cache list`); cheap, append-only, best effort."""
        if script == "-":
            return
        line = os.path.abspath(script) + "\n"
        with contextlib.suppress(OSError), open(self.used / f"{build}.scripts", "a+", encoding="utf-8") as handle:
            handle.seek(0)
            if line not in handle.read().splitlines(keepends=True):
                handle.write(line)


def intact(env: Path) -> bool:
    """Whether an env's completion marker is whole (JSON, as `publish` writes it) and it has Python."""
    try:
        info = json.loads((env / COMPLETE).read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(info, dict) and "created" in info and env_python(env).exists()


def read_info(env: Path) -> dict[str, Any]:
    """The completion marker's record (created, installer, interpreter, packages), or {}."""
    try:
        info = json.loads((env / COMPLETE).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def _write_atomic(path: Path, text: str) -> None:
    temp = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    with open(temp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        if sys.platform != "win32":
            os.fsync(handle.fileno())
    os.replace(temp, path)

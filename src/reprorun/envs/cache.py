"""The cache on disk: how an environment is published, locked and found again.

The names and paths are layout.py's (the one contract the warm path shares); this module holds
the operations on them: publication in a crash-safe order, one builder per key, use records.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from reprorun.envs import exclusive, layout, locks
from reprorun.envs.installers.venv import env_python
from reprorun.options import Options

log = logging.getLogger("reprorun")

COMPLETE = layout.COMPLETE
KEY_FILE = layout.KEY_FILE


def default_root() -> Path:
    """The cache root when nothing overrides it (platformdirs' user cache dir)."""
    simple = layout.default_root()
    if simple is not None:
        return Path(simple)
    from platformdirs import user_cache_dir  # pragma: no cover - neither Linux nor macOS

    return Path(user_cache_dir("reprorun", appauthor=False))


def root(options: Options) -> Path:
    """The cache root: --cache-dir, then REPRORUN_CACHE_DIR, then the config file, then the default.

    `Options.cache_dir` already holds the first of --cache-dir, REPRORUN_CACHE_DIR and the
    configuration file's `cache-dir` (commandline/globalopts.options_from).
    """
    chosen = options.cache_dir or os.environ.get("REPRORUN_CACHE_DIR")
    return Path(chosen).expanduser().absolute() if chosen else default_root()


class Cache:
    """One cache root and the operations on its layout."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.envs = path / layout.ENVS
        self.keys = path / layout.KEYS
        self.locks = path / layout.LOCKS
        self.index = path / layout.INDEX
        self.used = path / layout.USED
        self.interpreters = path / layout.INTERPRETERS
        self.app_data = path / layout.APP_DATA
        self.pip = path / layout.PIP
        self.store = path / layout.STORE
        self.stdin = path / layout.STDIN
        self.snapshots = path / layout.SNAPSHOTS

    def prepare(self) -> None:
        """Create the root and its folders, tagged so backup tools skip it."""
        layout.prepare_root(str(self.path))

    def lookup(self, key: str) -> Path | None:
        """The published, complete and intact env of a key, or None (then a build repairs it)."""
        name = self.published_name(key)
        if name is None:
            return None
        env = self.envs / name
        return env if intact(env) else None

    def published_name(self, key: str) -> str | None:
        """The build directory name the key's pointer names, if any."""
        return layout.published(str(self.path), key)

    def build_lock_path(self, key: str) -> Path:
        """The build lock of a key (its short form is enough)."""
        return Path(layout.build_lock(str(self.path), key))

    @contextlib.contextmanager
    def build_lock(self, key: str) -> Iterator[None]:
        """Hold the key's build lock; tell the user if another process holds it."""
        lock = exclusive.Lock(str(self.build_lock_path(key)))
        if not lock.acquire(blocking=False):
            log.info("waiting for another reprorun that is building this environment...")
            lock.acquire()
        try:
            yield
        finally:
            lock.release()

    def new_build(self, key: str) -> Path:
        """A fresh, empty directory for a build of this key."""
        path = self.envs / f"{key[:layout.SHORT]}-{os.urandom(4).hex()}"
        path.mkdir(parents=True)
        return path

    def publish(self, key: str, env: Path, doc: dict[str, Any], info: dict[str, Any]) -> None:
        """Write the key document, then the completion marker, then the pointer: in that order.

        Each is renamed into place, not fsynced: a killed build leaves the old file or the new one,
        and a file the system lost in a crash reads as damage the next run repairs (docs/cache.md),
        so a sync to the disk (a server round trip on NFS) would buy nothing.
        """
        layout.write_atomic(str(env / KEY_FILE), json.dumps(doc, indent=2, sort_keys=True) + "\n", durable=False)
        layout.write_atomic(str(env / COMPLETE), json.dumps(info, indent=2, sort_keys=True) + "\n", durable=False)
        # The builder holds its new env from before it is published: no prune can take it away
        # between publication and the run (or `sync`) that follows in this process.
        locks.hold_for_run(str(self.path), env.name)
        layout.write_atomic(layout.pointer(str(self.path), key), env.name + "\n", durable=False)
        self.touch(env.name)

    def discard_unpublished(self, key: str) -> None:
        """Remove builds of this key that never completed (call with the build lock held)."""
        published = self.published_name(key)
        for path in self.envs.glob(f"{key[:layout.SHORT]}-*"):
            if path.name != published and not (path / COMPLETE).exists():
                log.debug("removing an interrupted build: %s", path)
                shutil.rmtree(path, ignore_errors=True)

    def touch(self, build: str) -> None:
        """Record a use: the mtime of a tiny file (no lock, no rewrite)."""
        layout.record_use(str(self.path), build)

    def remember_script(self, build: str, script: str) -> None:
        """Note which script used an env (for `cache list`); cheap, append-only, best effort."""
        layout.remember_script(str(self.path), build, script)


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

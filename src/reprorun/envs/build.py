"""Find the environment a script needs, or build it: one builder per key, published last."""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from reprorun import __version__
from reprorun.envs import failures, keys
from reprorun.envs.cache import Cache
from reprorun.envs.installers import backend_for
from reprorun.envs.installers.base import InstallRequest
from reprorun.envs.installers.sources import Sources, sources_for
from reprorun.envs.installers.uv import find_uv
from reprorun.envs.installers.venv import env_python
from reprorun.envs.interpreters import Interpreter
from reprorun.envs.scratch import scratch
from reprorun.envs.selection import Choice, select
from reprorun.errors import BuildError, OfflineError
from reprorun.options import Options
from reprorun.progress import Progress
from reprorun.script.metadata import Metadata

log = logging.getLogger("reprorun")


@dataclass(frozen=True)
class Spec:
    """Everything that decides an environment: requirements, interpreter, sources, hashes."""

    requirements: tuple[str, ...]
    interpreter: Interpreter
    sources: Sources
    hashes: dict[str, tuple[str, ...]]
    interpreter_rule: str = ""  # which rule of DESIGN section 2 chose the interpreter

    def document(self) -> dict[str, Any]:
        """The key document of this spec."""
        return keys.document(self.requirements, self.interpreter, self.sources, self.hashes)


@dataclass(frozen=True)
class Env:
    """A published environment."""

    key: str
    path: Path
    built: bool  # True when this call built it

    @property
    def python(self) -> Path:
        """Its interpreter."""
        return env_python(self.path)


def ensure(cache: Cache, spec: Spec, options: Options, label: str) -> Env:
    """The published env of the spec; build it under the key's lock if there is none."""
    doc = spec.document()
    key = keys.digest(doc)
    found = None if options.refresh else cache.lookup(key)
    if found is not None:
        return Env(key, found, built=False)
    if options.offline:
        raise OfflineError(
            f"{label}: its environment is not built, and --offline forbids building it",
            hint=f"prepare it where the network is reachable: reprorun sync {label}",
        )
    doing = f"building the environment of {label}"
    failures.require_writable(cache.path, doing)
    with failures.writing(cache.path, doing):
        cache.prepare()
        before = cache.published_name(key)
        with cache.build_lock(key):
            found = cache.lookup(key)
            if found is not None and (not options.refresh or cache.published_name(key) != before):
                return Env(key, found, built=False)  # another process built (or refreshed) it meanwhile
            cache.discard_unpublished(key)
            with scratch(cache.path):
                path = _build(cache, key, doc, spec, options, label)
    return Env(key, path, built=True)


def _build(cache: Cache, key: str, doc: dict[str, Any], spec: Spec, options: Options, label: str) -> Path:
    start = time.monotonic()
    interpreter = spec.interpreter
    count = len(spec.requirements)
    # The content store is for pip's files (uv links from its own cache) and every env's bytecode.
    backend = backend_for(options.installer, cache.pip, cache.store, spec.sources)
    what = f"{count} requirement{'' if count == 1 else 's'}" if count else "no requirements"
    progress = Progress(f"an environment for {label}: Python {interpreter.version}, {what} ({backend.name})",
                        f"Python {interpreter.short} on {interpreter.platform_tag}", verbosity=options.verbosity)
    path = cache.new_build(key)
    try:
        with progress:
            request = None
            if spec.requirements:
                request = InstallRequest(spec.requirements, spec.sources, spec.hashes,
                                         path / "reprorun-install.json", watch=progress.feed)  # fmt: skip
            installed = backend.build(path, interpreter, request, cache.app_data, options.verbosity)
            if backend.name == "uv" and request is not None:  # its bytecode, shared with other envs
                from reprorun.envs import pycache

                pycache.share(cache.store, path)
            if not env_python(path).exists():
                raise BuildError(f"the new environment has no interpreter at {env_python(path)}")
            info = {
                "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "reprorun": __version__,
                "installer": backend.name,
                "interpreter": interpreter.executable,
                "packages": installed,
                "seconds": round(time.monotonic() - start, 2),
                "built-from-source": progress.built_from_source,
            }
            cache.publish(key, path, doc, info)
            plural = "" if installed == 1 else "s"
            progress.finish(f"installed {installed} package{plural} in {time.monotonic() - start:.1f}s"
                            if spec.requirements else None)  # fmt: skip
    except BaseException as exc:
        full = None
        if isinstance(exc, BuildError):  # an installer that ran out of space says so only in its output
            full = failures.from_output(cache.path, exc.message, f"building the environment of {label}")
        discard(cache, path)  # (after the look at the free space: this frees it)
        if full is not None:
            raise full from None
        raise
    return path


def discard(cache: Cache, path: Path) -> None:
    """Remove a build that failed, and the store's copies of files only it used."""
    from reprorun.envs import store  # pip's content store: not needed unless a build fails

    inodes = store.linked_inodes(path) if cache.store.is_dir() else set()
    shutil.rmtree(path, ignore_errors=True)
    store.release(cache.store, inodes)


def spec_for(meta: Metadata, options: Options, cache: Cache, script_dir: str | None) -> Spec:
    """The spec of a parsed script: its interpreter, requirements, sources and hashes."""
    chosen = choose_interpreter(meta, options, cache.interpreters)
    sources = sources_for(options, meta.settings, base=script_dir)
    return Spec(meta.dependencies, chosen.interpreter, sources, dict(meta.settings.hashes), chosen.rule)


def choose_interpreter(meta: Metadata, options: Options, store: Path) -> Choice:
    """The script's interpreter by DESIGN section 2, and why (said with -v)."""
    request, origin = (options.python, "--python") if options.python else (options.python_default,
                                                                            options.python_origin)  # fmt: skip
    uv = None if options.offline else find_uv  # only called when nothing installed fits
    chosen = select(meta.requires_python, request, store, origin=origin, frozen_for=meta.settings.frozen_for, uv=uv)
    log.debug("interpreter: Python %s (%s), chosen as %s", chosen.interpreter.version,
              chosen.interpreter.executable, chosen.rule)  # fmt: skip
    return chosen

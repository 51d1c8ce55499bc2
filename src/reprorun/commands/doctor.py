"""`reprorun doctor`: what a bug report needs, in one screen (and `--json`).

reprorun's and Python's versions, the cache root and its size, the interpreters found and the one
a default run would choose, which installers work, where packages would come from (secrets in
URLs masked), the lock mode, and whether the cache's file system takes the default lock.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from reprorun import __version__
from reprorun.envs import interpreters, layout, locks, pipconfig, selection
from reprorun.envs.cache import Cache, root
from reprorun.errors import ReprorunError
from reprorun.options import Options


def describe(name: str) -> str:
    """One line for `--help`."""
    return "Print what a bug report needs: versions, cache, interpreters, installers, package sources, locks."


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    """Arguments of `doctor`."""
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(name: str, ns: argparse.Namespace, options: Options) -> int:
    """Gather every finding (none of them fails the command) and print them."""
    report = gather(options)
    if ns.json:
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    for key, value in report.items():
        if isinstance(value, list):
            sys.stdout.write(f"{key}:\n")
            for item in value:
                sys.stdout.write(f"  {item}\n")
        elif isinstance(value, dict):
            sys.stdout.write(f"{key}:\n")
            for inner, shown in value.items():
                sys.stdout.write(f"  {inner}: {shown}\n")
        else:
            sys.stdout.write(f"{key}: {value}\n")
    return 0


def gather(options: Options) -> dict[str, Any]:
    """Every finding, as plain data."""
    cache = Cache(root(options))
    return {
        "reprorun": __version__,
        "python": f"{sys.version.split()[0]} ({sys.executable})",
        "platform": f"{sys.platform} {os.uname().machine if hasattr(os, 'uname') else ''}".strip(),
        "cache": str(cache.path),
        "cache size": _size(cache.path),
        "cache file system": _file_system(cache.path),
        "lock mode": locks.mode() + ("" if locks.mode() == "flock" else " (REPRORUN_LOCK)"),
        "default lock works here": _flock_works(cache.path),
        "config file": _config(),
        "interpreters": _interpreters(cache),
        "default interpreter": _default(options, cache),
        "installers": _installers(),
        "package sources": _sources(options),
    }


def mask(url: str) -> str:
    """A URL with its password (or token) replaced by ***: `https://me:***@host/simple`."""
    return re.sub(r"(://[^/@:\s]*:)[^/@\s]*@", r"\1***@", re.sub(r"(://)[^/@:\s]+@", r"\1***@", url))


def _size(path: Path) -> str:
    total = 0
    seen: set[tuple[int, int]] = set()
    for folder, _dirs, names in os.walk(path):
        for name in names:
            try:
                info = os.lstat(os.path.join(folder, name))
            except OSError:
                continue
            if (info.st_dev, info.st_ino) not in seen:  # hard links (the content store) count once
                seen.add((info.st_dev, info.st_ino))
                total += info.st_blocks * 512
    return f"{total / 2**20:.1f} MiB" if path.exists() else "(not created yet)"


def _file_system(path: Path) -> str:
    """The file system type of the folder holding the cache (from /proc/mounts, on Linux)."""
    probe = path if path.exists() else path.parent
    try:
        with open("/proc/mounts", encoding="utf-8") as handle:
            mounts = [line.split()[:3] for line in handle]
    except OSError:
        return "unknown"
    real = os.path.realpath(probe)
    best = max((m for m in mounts if real == m[1] or real.startswith(m[1].rstrip("/") + "/")),
               key=lambda m: len(m[1]), default=None)  # fmt: skip
    return f"{best[2]} (mounted at {best[1]})" if best else "unknown"


def _flock_works(path: Path) -> str:
    """Whether flock works on the cache's file system (the default lock mode needs it)."""
    import fcntl
    import tempfile

    folder = path if path.exists() else path.parent
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".doctor-") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    except OSError as exc:
        return f"no ({exc.strerror}): set REPRORUN_LOCK=mkdir (docs/cache.md)"
    return "yes"


def _config() -> str:
    try:
        path, text = layout.config_text()
    except (OSError, UnicodeDecodeError) as exc:
        return f"{layout.config_path()} (unreadable: {exc})"
    return f"{path}" + ("" if text is not None else " (none)")


def _interpreters(cache: Cache) -> list[str]:
    found = interpreters.discover(cache.interpreters)
    return [f"{i.implementation} {i.version} {i.executable}" for i in found] or ["(none found)"]


def _default(options: Options, cache: Cache) -> str:
    try:
        chosen = selection.choose(None, options.python, cache.interpreters)
    except ReprorunError as exc:
        return f"(none: {exc.message})"
    reason = getattr(chosen, "reason", None) or getattr(chosen, "rule", None)
    return f"{chosen.implementation} {chosen.version} {chosen.executable}" + (f" ({reason})" if reason else "")


def _installers() -> dict[str, str]:
    from reprorun import processes
    from reprorun.envs.installers.uv import find_uv

    result: dict[str, str] = {}
    try:
        from reprorun.envs.installers.pip import pip_wheel

        result["pip"] = f"virtualenv's embedded {Path(pip_wheel('3')).name}"
    except ReprorunError as exc:
        result["pip"] = f"unavailable: {exc.message}"
    uv = find_uv()
    if uv is None:
        result["uv"] = "not installed (pip install 'reprorun[uv]')"
    else:
        version = processes.run([uv, "--version"])
        result["uv"] = f"{version.stdout.strip() or 'unknown version'} ({uv})"
    return result


def _sources(options: Options) -> dict[str, str]:
    """Where packages would come from: reprorun's options, then pip's effective settings (pipconfig)."""
    shown: dict[str, str] = {}
    if options.index_url:
        shown["index-url (reprorun)"] = mask(options.index_url)
    for name, values in (("extra-index-url", options.extra_index_urls), ("find-links", options.find_links)):
        if values:
            shown[f"{name} (reprorun)"] = " ".join(mask(value) for value in values)
    try:
        config = pipconfig.load()
    except ReprorunError as exc:
        shown["pip configuration"] = f"(not readable: {mask(exc.message)})"
    else:
        # What decides the packages installed: what uv is given too, and what only pip can honour.
        deciding = {s.name for s in config.unmappable()} | pipconfig.MAPPED
        for name, setting in sorted(config.settings.items()):
            if name in deciding:
                shown[f"{name} (pip)"] = f"{mask(' '.join(setting.value.split()))}  [{setting.origin}]"
        if config.files:
            shown["pip config files read"] = " ".join(config.files)
    for name, value in sorted(os.environ.items()):
        if name.startswith("UV_") and any(k in name for k in ("INDEX", "FIND_LINKS", "OFFLINE", "CONFIG")):
            shown[name] = mask(value)
    return shown or {"(defaults)": "the public index (https://pypi.org/simple)"}

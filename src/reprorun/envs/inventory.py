"""What the cache holds: one entry per env directory, its size, its last use, its reservations.

Read-only looks at the cache for `cache list` and for pruning (prune.py), and the units people
give a prune (`30d`, `20G`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from reprorun.envs import keys, layout
from reprorun.envs.cache import COMPLETE, KEY_FILE, Cache, read_info

DAY = 86400.0
USE_TTL = 7 * DAY  # how long another host's use marker, or a reservation, keeps an env (a job's walltime)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": DAY, "w": 7 * DAY}


def parse_duration(text: str) -> float:
    """Seconds in `30d`, `12h`, `90m`, `45s`, `2w` (a bare number means days)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", text.lower())
    if not match:
        raise ValueError(f"not a duration: {text!r} (write it like 30d, 12h, 90m)")
    return float(match.group(1)) * _SECONDS[match.group(2) or "d"]


def parse_size(text: str) -> int:
    """Bytes in `20G`, `500M`, `1.5T`, `20GB`, `20GiB` (binary units; a bare number is bytes)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*", text.lower())
    if not match:
        raise ValueError(f"not a size: {text!r} (write it like 20G, 500M)")
    return int(float(match.group(1)) * _UNITS[match.group(2)])


def use_ttl() -> float:
    """`REPRORUN_USE_TTL` in seconds (default 7 days)."""
    try:
        return parse_duration(os.environ.get("REPRORUN_USE_TTL", "") or "7d")
    except ValueError:
        return USE_TTL


@dataclass
class Entry:
    """One directory under `envs/` and what the cache knows about it."""

    path: Path
    key: str  # the full key when its key document is readable, else the short one
    complete: bool
    published: bool
    last_used: float
    info: dict[str, object] = field(default_factory=dict)
    interpreter: str = ""
    python_version: str = ""
    inodes: dict[tuple[int, int], int] = field(default_factory=dict)

    @property
    def build(self) -> str:
        """The directory name: `<key20>-<build>`."""
        return self.path.name

    @property
    def size(self) -> int:
        """Bytes on disk, each hard-linked file counted once."""
        return sum(self.inodes.values())


def entries(cache: Cache, sizes: bool = True) -> list[Entry]:
    """Every env directory (trash excluded), least recently used first."""
    found: list[Entry] = []
    try:
        names = sorted(os.listdir(cache.envs))
    except FileNotFoundError:
        return []
    for name in names:
        path = cache.envs / name
        if name.startswith(".") or not path.is_dir():
            continue
        short = name.split("-", 1)[0]
        info = read_info(path)
        key = short
        python: dict[str, object] = {}
        with contextlib.suppress(OSError, ValueError, AttributeError):
            doc = json.loads((path / KEY_FILE).read_text("utf-8"))
            python = doc.get("python", {})
            key = keys.digest(doc)
        entry = Entry(
            path=path,
            key=key,
            complete=(path / COMPLETE).exists(),
            published=cache.published_name(short) == name,
            last_used=last_use(cache, path),
            info=info,
            interpreter=str(python.get("executable") or info.get("interpreter") or ""),
            python_version=str(python.get("version") or ""),
        )
        if sizes:
            entry.inodes = disk_usage(path)
        found.append(entry)
    found.sort(key=lambda e: e.last_used)
    return found


def last_use(cache: Cache, env: Path) -> float:
    """When the env was last used: the mtime of `used/<build>` or of a reader's `readers/<build>.uid<N>`
    (the latest), else when it was completed."""
    readers = [0.0]
    for path in (cache.path / layout.READERS).glob(f"{env.name}.uid*"):
        with contextlib.suppress(OSError):
            readers.append(path.lstat().st_mtime)
    for path in (Path(layout.last_use(str(cache.path), env.name)), env / COMPLETE, env):
        with contextlib.suppress(OSError):
            return max(path.stat().st_mtime, *readers)
    return max(readers)


def scripts(cache: Cache, build: str) -> list[str]:
    """The scripts remembered as users of the env."""
    try:
        return Path(layout.scripts_file(str(cache.path), build)).read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []


def disk_usage(path: Path) -> dict[tuple[int, int], int]:
    """Allocated bytes per (device, inode) under path, without following links."""
    seen: dict[tuple[int, int], int] = {}
    for folder, dirs, files in os.walk(path):
        for name in (*dirs, *files):
            with contextlib.suppress(OSError):
                info = os.lstat(os.path.join(folder, name))
                seen[(info.st_dev, info.st_ino)] = info.st_blocks * 512
    return seen


def reserve(cache: Cache, build: str, seconds: float | None = None) -> None:
    """Keep an env from age and size pruning for `seconds` (default REPRORUN_USE_TTL, 7 days):
    queued jobs will use it (`submit`)."""
    marker = cache.used / f"{build}.reserved"
    until = max(time.time() + (use_ttl() if seconds is None else seconds), reserved_until(cache, build))
    with contextlib.suppress(OSError):
        marker.touch()
        os.utime(marker, (until, until))


def reserved_until(cache: Cache, build: str) -> float:
    """Until when a submitted job reserved the env: the mtime of `used/<build>.reserved` (0: never)."""
    try:
        return (cache.used / f"{build}.reserved").stat().st_mtime
    except OSError:
        return 0.0

"""Bundles: the script, every wheel its pins need on the targets, a pylock.toml and a manifest.

Layout of a bundle (a folder, or the same files in a `.tar.gz`):

    SCRIPT              a copy of the script
    bundle.json         the script's name, the targets and what the pins were frozen for
    pylock.toml         PEP 751: each pin, its marker, its wheels (paths under wheels/) and sha256
    wheels/*.whl        every wheel of the pins, for every target
    SHA256SUMS          sha256 of every other file (`sha256sum -c SHA256SUMS` checks it too)

This module makes bundles; unbundle.py checks and uses them (`reprorun --bundle`).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name, parse_wheel_filename

from reprorun.errors import BundleError, UsageError
from reprorun.portable import pylock
from reprorun.portable.exported import Exported, Wheel
from reprorun.portable.merge import applies
from reprorun.portable.resolve import Resolver
from reprorun.portable.unbundle import INFO, LOCK, MANIFEST, WHEELS, sha256_of

if TYPE_CHECKING:
    pass

log = logging.getLogger("reprorun")

def build(export: Exported, resolver: Resolver, script: bytes, dest: Path) -> list[str]:
    """Write a bundle folder at dest (a new name); return its files. A failure leaves nothing."""
    if dest.exists():
        raise UsageError(f"{dest} exists; a bundle needs a new name")
    dest.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        files = _fill(export, resolver, script, temp)
        os.rename(temp, dest)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return files


def _fill(export: Exported, resolver: Resolver, script: bytes, dest: Path) -> list[str]:
    wheels = dest / WHEELS
    wheels.mkdir()
    found: dict[str, dict[str, Wheel]] = {}
    for target in export.targets:
        chosen = [r for r in export.requirements if applies(r, target) and _pinned(r)]
        # Plain pins: pip would judge a marker for this machine (the target is chosen already), and
        # --hash options would make pip refuse a mismatch without naming the wheel (checked below).
        lines = [_plain(r) for r in chosen]
        with tempfile.TemporaryDirectory(prefix="reprorun-bundle-") as folder:
            resolver.download(target, lines, folder, hashes=False)  # checked below, naming the wheel
            for name in sorted(os.listdir(folder)):
                moved = wheels / name
                if not moved.exists():
                    shutil.move(os.path.join(folder, name), moved)
                sha = sha256_of(moved)
                requirement = _requirement_of(name, chosen)
                _check_hash(name, sha, export.hashes)
                found.setdefault(requirement, {})[name] = Wheel(name, moved.resolve().as_uri(), sha)
    locked = replace(export, wheels={r: tuple(w.values()) for r, w in found.items()})
    text = pylock.render(locked, relative_to=str(dest.resolve()))
    (dest / LOCK).write_text(text, "utf-8")
    (dest / export.name).write_bytes(script)
    info = {"script": export.name, "targets": [t.name for t in export.targets], "frozen-for": export.frozen_for}
    (dest / INFO).write_text(json.dumps(info, indent=2) + "\n", "utf-8")
    files = sorted(str(p.relative_to(dest)).replace(os.sep, "/") for p in dest.rglob("*") if p.is_file())
    (dest / MANIFEST).write_text("".join(f"{sha256_of(dest / f)}  {f}\n" for f in files), "utf-8")
    return [*files, MANIFEST]


def archive(folder: Path, dest: Path) -> None:
    """Pack a bundle folder into a `.tar.gz` (its files at the archive's top)."""
    temp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    with tarfile.open(temp, "w:gz") as tar:
        for path in sorted(folder.rglob("*")):
            tar.add(path, arcname=str(path.relative_to(folder)), recursive=False)
    os.replace(temp, dest)


def _pinned(requirement: str) -> bool:
    from packaging.requirements import Requirement

    from reprorun.script.requirements import exact_version

    return exact_version(Requirement(requirement)) is not None


def _plain(requirement: str) -> str:
    from packaging.requirements import Requirement

    parsed = Requirement(requirement)
    extras = f"[{','.join(sorted(parsed.extras))}]" if parsed.extras else ""
    return f"{parsed.name}{extras}{parsed.specifier}"


def _requirement_of(filename: str, requirements: Sequence[str]) -> str:
    from packaging.requirements import Requirement

    name, version, _, _ = parse_wheel_filename(filename)
    for requirement in requirements:
        parsed = Requirement(requirement)
        if canonicalize_name(parsed.name) == name and parsed.specifier.contains(version, prereleases=True):
            return requirement
    raise BundleError(f"pip downloaded {filename}, which no pin asked for")


def _check_hash(filename: str, sha256: str, hashes: Mapping[str, Sequence[str]]) -> None:
    name = parse_wheel_filename(filename)[0]
    recorded = {canonicalize_name(n): v for n, v in hashes.items()}.get(name)
    if recorded and f"sha256:{sha256}" not in recorded:
        raise BundleError(f"{filename} has sha256:{sha256}, which the block does not record for {name}",
                          hint="the file changed since the freeze; nothing was bundled")  # fmt: skip

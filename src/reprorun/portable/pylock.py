"""PEP 751 `pylock.toml`: write one from exported pins and their wheels, and read one back.

Each pin is a `[[packages]]` entry with its version, its marker (the multi-platform markers of a
block frozen `--for` several targets), and every wheel it installs on the targets, each with its
sha256. `environments` lists the targets, so an installer refuses the lock where it was never
resolved. A wheel in a local folder is written as a `path` (relative when the lock file sits in
a bundle), one from an index as its `url`.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlparse

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from reprorun.errors import UsageError
from reprorun.portable.exported import Exported, Wheel
from reprorun.portable.targets import Target

LOCK_VERSION = "1.0"


def render(exported: Exported, relative_to: str | None = None) -> str:
    """The `pylock.toml` text; wheel paths are made relative to `relative_to` when given."""
    out = [f"lock-version = {_s(LOCK_VERSION)}"]
    targets = list(exported.targets)
    if targets:
        out.append("environments = [" + ", ".join(_s(_full_marker(t)) for t in targets) + "]")
    if exported.requires_python:
        out.append(f"requires-python = {_s(exported.requires_python)}")
    out.append(f"created-by = {_s('reprorun')}")
    for requirement in exported.requirements:
        wheels = exported.wheels.get(requirement, ())
        if not wheels:
            continue  # a requirement kept as written applies on none of the targets
        parsed = Requirement(requirement)
        version = next(iter(parsed.specifier)).version
        out += ["", "[[packages]]", f"name = {_s(canonicalize_name(parsed.name))}", f"version = {_s(version)}"]
        if parsed.marker is not None:
            out.append(f"marker = {_s(str(parsed.marker))}")
        out.append("wheels = [")
        for wheel in sorted(wheels, key=lambda w: w.filename):
            out.append(f"    {{ name = {_s(wheel.filename)}, {_where(wheel, relative_to)}, "
                       f"hashes = {{ sha256 = {_s(wheel.sha256)} }} }},")  # fmt: skip
        out.append("]")
    return "\n".join(out) + "\n"


def _full_marker(target: Target) -> str:
    env = target.environment()
    return (f'sys_platform == "{env["sys_platform"]}" and platform_machine == "{env["platform_machine"]}" '
            f'and python_version == "{env["python_version"]}"')  # fmt: skip


def _where(wheel: Wheel, relative_to: str | None) -> str:
    parsed = urlparse(wheel.url)
    if parsed.scheme == "file":
        path = unquote(parsed.path)
        if relative_to is not None:
            path = os.path.relpath(path, relative_to).replace(os.sep, "/")
        return f"path = {_s(path)}"
    return f"url = {_s(wheel.url)}"


def _s(value: str) -> str:
    # A JSON string is a TOML basic string for every character reprorun writes here.
    return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class Locked:
    """One package of a lock file: the requirement it stands for and the sha256 of its wheels."""

    requirement: str  # name==version; marker
    sha256: tuple[str, ...]
    files: tuple[str, ...]  # wheel paths, as written


def read(text: str, path: str) -> list[Locked]:
    """The packages of a `pylock.toml` (only what installing from a bundle needs)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
    try:
        data: Mapping[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not a valid pylock.toml: {exc}") from None
    if data.get("lock-version") != LOCK_VERSION:
        raise UsageError(f"{path}: lock-version {data.get('lock-version')!r} is not {LOCK_VERSION!r}")
    found = []
    for package in data.get("packages", []):
        wheels: Sequence[Mapping[str, Any]] = package.get("wheels", [])
        marker = package.get("marker")
        requirement = f"{package['name']}=={package['version']}" + (f"; {marker}" if marker else "")
        found.append(Locked(requirement, tuple(f"sha256:{w['hashes']['sha256']}" for w in wheels),
                            tuple(w.get("path") or w.get("url", "") for w in wheels)))  # fmt: skip
    return found

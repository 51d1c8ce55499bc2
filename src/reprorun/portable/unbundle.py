"""Using a bundle (`reprorun --bundle`): check its manifest, then build from its wheels alone.

`open_bundle` checks the manifest before anything is read: a file that is missing, changed or
truncated, or a wheel the manifest does not list, is refused with its name. An archive is
extracted once, by its sha256, under the cache (members that would land outside are refused).
The environment's spec is then the bundle's pins, `wheels/` as the only source (no index), and
the lock's sha256 as hashes, for the Python the bundle was made for on this platform.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from reprorun.envs.scratch import fill_once
from reprorun.errors import BundleError, UsageError
from reprorun.portable import pylock, targets

if TYPE_CHECKING:
    from reprorun.envs.build import Spec
    from reprorun.options import Options

log = logging.getLogger("reprorun")

MANIFEST = "SHA256SUMS"
INFO = "bundle.json"
LOCK = "pylock.toml"
WHEELS = "wheels"


@dataclass(frozen=True)
class Bundle:
    """A verified bundle folder and what it holds."""

    path: Path
    script: str  # the script's file name
    targets: tuple[str, ...]
    requirements: tuple[str, ...]
    hashes: Mapping[str, tuple[str, ...]]

    @property
    def wheels(self) -> Path:
        """The folder of wheels, the only package source of an env built from the bundle."""
        return self.path / WHEELS


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()






def open_bundle(path: str, extract_root: Path) -> Bundle:
    """A verified bundle: a folder as it is, a `.tar.gz` extracted once under `extract_root`."""
    source = Path(path)
    if source.is_dir():
        folder = source
    elif source.is_file():
        folder = _extract(source, extract_root)
    else:
        raise UsageError(f"--bundle {path}: no such folder or file")
    verify(folder, path)
    info = _read_json(folder / INFO, path)
    locked = pylock.read((folder / LOCK).read_text("utf-8"), f"{path}/{LOCK}")
    hashes: dict[str, list[str]] = {}
    for package in locked:
        name = canonicalize_name(package.requirement.split("==")[0])
        hashes.setdefault(name, []).extend(h for h in package.sha256 if h not in hashes.get(name, []))
    names = info.get("targets", [])
    listed = tuple(str(n) for n in names) if isinstance(names, list) else ()
    return Bundle(folder, str(info.get("script", "")), listed, tuple(p.requirement for p in locked),
                  {n: tuple(v) for n, v in hashes.items()})  # fmt: skip


def verify(folder: Path, label: str) -> None:
    """Check every file against the manifest; every wheel must be listed. Raise naming the first bad one."""
    manifest = folder / MANIFEST
    if not manifest.is_file():
        raise BundleError(f"{label}: no {MANIFEST}; this is not a reprorun bundle", hint="make one: reprorun bundle")
    listed: dict[str, str] = {}
    for number, line in enumerate(manifest.read_text("utf-8").splitlines(), start=1):
        digest, _, name = line.partition("  ")
        if len(digest) != 64 or not name or name.startswith("/") or ".." in name.split("/"):
            raise BundleError(f"{label}: {MANIFEST} line {number} is not 'sha256  path': {line!r}")
        listed[name] = digest
    for name, digest in listed.items():
        file = folder / name
        if not file.is_file():
            raise BundleError(f"{label}: {name} is missing from the bundle; refusing it")
        if sha256_of(file) != digest:
            raise BundleError(f"{label}: {name} does not match its sha256 in {MANIFEST} (changed or truncated); "
                              "refusing the bundle", hint="copy the bundle again, or make a new one")  # fmt: skip
    for required in (INFO, LOCK):
        if required not in listed:
            raise BundleError(f"{label}: the manifest does not list {required}; refusing the bundle")
    for wheel in sorted((folder / WHEELS).glob("*")):
        name = f"{WHEELS}/{wheel.name}"
        if name not in listed:
            raise BundleError(f"{label}: {name} is not in the manifest; refusing the bundle")


def _extract(archive_path: Path, root: Path) -> Path:
    """Extract a bundle archive once, into a folder named by its sha256 (safe members only)."""
    def extract(temp: Path) -> None:
        try:
            with tarfile.open(archive_path, "r:*") as tar:
                for member in tar.getmembers():
                    parts = Path(member.name).parts
                    if member.name.startswith("/") or ".." in parts or not (member.isfile() or member.isdir()):
                        raise BundleError(f"{archive_path}: unsafe member {member.name!r}; refusing the bundle")
                tar.extractall(temp, filter="data") if hasattr(tarfile, "data_filter") else tar.extractall(temp)  # noqa: S202 - members checked above
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise BundleError(f"{archive_path}: not a readable bundle archive ({exc}); refusing it") from None

    return fill_once(root / sha256_of(archive_path)[:32], extract)


def _read_json(path: Path, label: str) -> dict[str, object]:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise BundleError(f"{label}: {path.name} is unreadable: {exc}") from None
    if not isinstance(data, dict):
        raise BundleError(f"{label}: {path.name} is not a JSON object")
    return data


def for_run(bundle_path: str, script: str, options: Options, extract_root: Path) -> tuple[Bundle, str, Options]:
    """Open the bundle for `reprorun --bundle`: the script to run and the options to build with.

    A script path that does not exist but names the bundled script runs the bundle's copy. Without
    `--python`, the Python the bundle's pins were resolved for on this platform is asked for.
    """
    opened = open_bundle(bundle_path, extract_root)
    if not os.path.exists(script) and os.path.basename(script) == opened.script:
        script = str(opened.path / opened.script)
    elif os.path.isfile(script) and Path(script).read_bytes() != _bytes(opened.path / opened.script):
        log.warning("%s differs from the copy in the bundle; its environment is the bundle's pins", script)
    here = _this_platform()
    pythons = [t.python for t in map(targets.parse, opened.targets) if t.platform == here and t.python]
    if not pythons:
        raise BundleError(f"{bundle_path} holds wheels for {', '.join(opened.targets)}, not for this platform "
                          f"({here})", hint=f"make a bundle for it: reprorun bundle --for {here} SCRIPT")  # fmt: skip
    if options.python is None:
        options = replace(options, python=pythons[0])
    return opened, script, options


def _bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def spec_from(bundle: Bundle, spec: Spec) -> Spec:
    """The env spec of a script run from a bundle: the bundle's pins, its wheels only, its hashes."""
    from reprorun.envs.installers.sources import Sources

    sources = Sources(find_links=(str(bundle.wheels.resolve()),), no_index=True)
    return replace(spec, requirements=bundle.requirements, sources=sources, hashes=dict(bundle.hashes))


def _this_platform() -> str:
    import platform
    import sys

    machine = platform.machine().lower()
    if sys.platform == "darwin":
        return f"macos-{'arm64' if machine in ('arm64', 'aarch64') else 'x86_64'}"
    if sys.platform == "win32":
        return "windows-x86_64"
    return f"linux-{'aarch64' if machine in ('arm64', 'aarch64') else machine}"

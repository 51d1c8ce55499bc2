"""The distributions in an env: name, version, where each came from and the sha256 of its file.

A pip-built env keeps pip's installation report (`reprorun-install.json`), whose `download_info`
names the file and its hash. A uv-built env keeps none: its dist-info folders give name and
version, `direct_url.json` the source of a direct URL, and the block's `hashes` the sha256 when it
lists exactly one for the package (the installer verified it). What is not known is "unknown".
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

UNKNOWN = "unknown"
REPORT = "reprorun-install.json"


def canonical(name: str) -> str:
    """The PEP 503 normalized form of a distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def distributions(env: Path, block_hashes: Mapping[str, Sequence[str]] | None = None) -> list[dict[str, Any]]:
    """Every distribution installed in the env, sorted by name, as JSON-ready dictionaries."""
    hashes = {canonical(name): list(values) for name, values in (block_hashes or {}).items()}
    reported = _from_report(env / REPORT)
    found: list[dict[str, Any]] = []
    for name, version, folder in _installed(env):
        dist = reported.get(canonical(name)) or {"source": UNKNOWN, "sha256": UNKNOWN}
        if dist["source"] == UNKNOWN:
            dist = {**dist, **_direct_url(folder)}
        if dist["sha256"] == UNKNOWN:
            allowed = [h.partition(":")[2] for h in hashes.get(canonical(name), []) if h.startswith("sha256:")]
            if len(allowed) == 1:
                dist["sha256"] = allowed[0]
        installer = _read(folder / "INSTALLER").strip() or UNKNOWN
        found.append({"name": name, "version": version, "installer": installer, **dist})
    return sorted(found, key=lambda d: canonical(d["name"]))


def requirements_text(dists: Sequence[Mapping[str, Any]]) -> str:
    """A requirements file pinning every distribution, with its hash where the hash is known."""
    lines = ["# every distribution of the recorded environment (written by reprorun)"]
    for dist in dists:
        line = f"{dist['name']}=={dist['version']}"
        if dist.get("sha256", UNKNOWN) != UNKNOWN:
            line += f" --hash=sha256:{dist['sha256']}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def pylock_text(dists: Sequence[Mapping[str, Any]], python_version: str) -> str | None:
    """A PEP 751 `pylock.toml` of the env, or None when a file or hash of it is not known."""
    out = ['lock-version = "1.0"', 'created-by = "reprorun"', f"requires-python = {_toml(f'=={python_version}')}", ""]
    for dist in dists:
        source, digest = dist.get("source", UNKNOWN), dist.get("sha256", UNKNOWN)
        if UNKNOWN in (source, digest) or not source.endswith(".whl"):
            return None
        out += ["[[packages]]", f"name = {_toml(dist['name'])}", f"version = {_toml(dist['version'])}"]
        where = f"path = {_toml(source[len('file://'):])}" if source.startswith("file://") else f"url = {_toml(source)}"
        wheel = source.rstrip("/").rsplit("/", 1)[-1]
        out += [f"wheels = [{{ name = {_toml(wheel)}, {where}, hashes = {{ sha256 = {_toml(digest)} }} }}]", ""]
    return "\n".join(out)


def _toml(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a TOML basic string


def _installed(env: Path) -> list[tuple[str, str, Path]]:
    seen: dict[str, tuple[str, str, Path]] = {}
    for folder in sorted({p.resolve() for p in env.glob("lib*/python*/site-packages/*.dist-info")}):
        name = version = ""
        for line in _read(folder / "METADATA").splitlines():
            if not line.strip():
                break
            key, _, value = line.partition(":")
            if key == "Name" and not name:
                name = value.strip()
            elif key == "Version" and not version:
                version = value.strip()
        if name:
            seen[canonical(name)] = (name, version or UNKNOWN, folder)
    return list(seen.values())


def _from_report(path: Path) -> dict[str, dict[str, Any]]:
    try:
        report = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    found = {}
    for item in report.get("install", []) if isinstance(report, dict) else []:
        try:
            name = item["metadata"]["name"]
            info = item.get("download_info", {})
            archive = info.get("archive_info", {})
            digest = archive.get("hashes", {}).get("sha256") or _hash_field(archive.get("hash", ""))
            found[canonical(name)] = {"source": info.get("url", UNKNOWN), "sha256": digest or UNKNOWN}
        except (KeyError, TypeError, AttributeError):
            continue
    return found


def _direct_url(folder: Path) -> dict[str, str]:
    try:
        info = json.loads((folder / "direct_url.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    found = {"source": str(info.get("url", UNKNOWN))}
    digest = _hash_field(info.get("archive_info", {}).get("hash", ""))
    if digest:
        found["sha256"] = digest
    return found


def _hash_field(value: str) -> str | None:
    algorithm, _, digest = value.partition("=")
    return digest if algorithm == "sha256" and digest else None


def _read(path: Path) -> str:
    try:
        return path.read_text("utf-8", errors="replace")
    except OSError:
        return ""


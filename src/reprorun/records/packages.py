"""The distributions in an env: name, version, where each came from and the sha256 of its file.

A pip-built env keeps pip's installation report (`reprorun-install.json`), whose `download_info`
names the file and its hash. A uv-built env keeps none: its dist-info folders give name and
version, `direct_url.json` the source of a direct URL, and the block's `hashes` the sha256 when it
lists exactly one for the package (the installer verified it). What is not known is "unknown".
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

UNKNOWN = "unknown"
REPORT = "reprorun-install.json"


def canonical(name: str) -> str:
    """The PEP 503 normalized form of a distribution name (runs of `-_.` become one `-`)."""
    out: list[str] = []
    for char in name.lower():
        if char in "-_.":
            if not out or out[-1] != "-":
                out.append("-")
        else:
            out.append(char)
    return "".join(out)


def distributions(env: str, block_hashes: Mapping[str, Sequence[str]] | None = None) -> list[dict[str, Any]]:
    """Every distribution installed in the env, sorted by name, as JSON-ready dictionaries."""
    hashes = {canonical(name): list(values) for name, values in (block_hashes or {}).items()}
    reported = _from_report(os.path.join(env, REPORT))
    found: list[dict[str, Any]] = []
    for name, version, folder in _installed(env):
        dist = reported.get(canonical(name)) or {"source": UNKNOWN, "sha256": UNKNOWN}
        if dist["source"] == UNKNOWN:
            dist = {**dist, **_direct_url(folder)}
        if dist["sha256"] == UNKNOWN:
            allowed = [h.partition(":")[2] for h in hashes.get(canonical(name), []) if h.startswith("sha256:")]
            if len(allowed) == 1:
                dist["sha256"] = allowed[0]
        installer = _read(os.path.join(folder, "INSTALLER")).strip() or UNKNOWN
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


def _installed(env: str) -> list[tuple[str, str, str]]:
    seen: dict[str, tuple[str, str, str]] = {}
    for folder in sorted(_dist_infos(env)):
        name = version = ""
        for line in _read(os.path.join(folder, "METADATA")).splitlines():
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


def _dist_infos(env: str) -> set[str]:
    """The real paths of `lib*/python*/site-packages/*.dist-info` (lib64 is often a link to lib)."""
    found: set[str] = set()
    for lib in ("lib", "lib64"):
        try:
            versions = [v for v in os.listdir(os.path.join(env, lib)) if v.startswith("python")]
        except OSError:
            continue
        for version in versions:
            site = os.path.join(env, lib, version, "site-packages")
            try:
                names = os.listdir(site)
            except OSError:
                continue
            found.update(os.path.realpath(os.path.join(site, n)) for n in names if n.endswith(".dist-info"))
    return found


def _from_report(path: str) -> dict[str, dict[str, Any]]:
    try:
        with open(path, encoding="utf-8") as handle:
            report = json.load(handle)
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


def _direct_url(folder: str) -> dict[str, str]:
    try:
        with open(os.path.join(folder, "direct_url.json"), encoding="utf-8") as handle:
            info = json.load(handle)
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


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


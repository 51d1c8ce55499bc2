"""`reprorun env SCRIPT`: which environment a script maps to, and what it holds."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reprorun.commands import load
from reprorun.envs import build as envs
from reprorun.envs import cache as cachemod
from reprorun.envs import keys
from reprorun.envs.installers import env_python
from reprorun.errors import ReprorunError
from reprorun.options import Options
from reprorun.script.metadata import Metadata


class NotBuilt(ReprorunError):
    """The script's environment is not in the cache (exit 1)."""


@dataclass(frozen=True)
class Located:
    """A script's env as the cache knows it, without building anything."""

    script: str
    meta: Metadata
    spec: envs.Spec
    key: str
    path: Path | None  # None when not built
    cache: cachemod.Cache


def locate(path: str, options: Options) -> Located:
    """Parse the script, choose its interpreter, compute its key and look the env up."""
    script, meta = load(path)
    cache = cachemod.Cache(cachemod.root(options))
    script_dir = None if script.is_stdin else os.path.dirname(os.path.abspath(path))
    spec = envs.spec_for(meta, options, cache, script_dir)
    key = keys.digest(spec.document())
    return Located(path, meta, spec, key, cache.lookup(key), cache)


def installed(env: Path) -> dict[str, tuple[str, str, Path]]:
    """The distributions in an env's site-packages: canonical name -> (name, version, dist-info)."""
    from packaging.utils import canonicalize_name

    found: dict[str, tuple[str, str, Path]] = {}
    patterns = ("lib*/python*/site-packages/*.dist-info", "Lib/site-packages/*.dist-info")
    for folder in sorted({p.resolve() for pattern in patterns for p in env.glob(pattern)}):
        fields = metadata_fields(folder)
        if "name" in fields:
            found[canonicalize_name(fields["name"][0])] = (fields["name"][0], fields.get("version", ["?"])[0], folder)
    return found


def metadata_fields(dist_info: Path) -> dict[str, list[str]]:
    """The header fields of a dist-info's METADATA, lower-cased names, every value kept."""
    fields: dict[str, list[str]] = {}
    try:
        text = (dist_info / "METADATA").read_text("utf-8", errors="replace")
    except OSError:
        return fields
    for line in text.splitlines():
        if not line.strip():
            break  # the body (long description) starts after the first blank line
        name, sep, value = line.partition(":")
        if sep and not line[0].isspace():
            fields.setdefault(name.strip().lower(), []).append(value.strip())
    return fields


def _out(line: object) -> None:
    sys.stdout.write(f"{line}\n")


def describe(name: str) -> str:
    """One line for `--help`."""
    return "Show which environment a script maps to: interpreter, platform, every installed package."


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    """Arguments of `env`."""
    parser.add_argument("script", help="the script")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--path", action="store_true", help="print only the env's interpreter path (for IDEs)")


def run(name: str, ns: argparse.Namespace, options: Options) -> int:
    """Print what the script's environment is and holds."""
    found = locate(ns.script, options)
    if ns.path:
        if found.path is None:
            raise NotBuilt(f"{ns.script}: its environment is not built", hint=f"reprorun sync {ns.script}")
        _out(env_python(found.path))
        return 0
    report = as_json(found)
    if ns.json:
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    interp = found.spec.interpreter
    _out(f"script:       {ns.script}")
    _out(f"key:          {found.key}")
    where = f"{found.path}" if found.path else f"not built (reprorun sync {ns.script})"
    _out(f"environment:  {where}")
    _out(f"interpreter:  {report['python'] or interp.executable} ({interp.implementation} {interp.version})")
    _out(f"platform:     {interp.platform_tag}")
    if found.path is not None:
        _out(f"packages:     {len(report['packages'])}")
        for package in report["packages"]:
            _out(f"  {package['name']} {package['version']}")
    return 0


def as_json(found: Located) -> dict[str, Any]:
    """The `env --json` object."""
    interp = found.spec.interpreter
    packages = installed(found.path) if found.path else {}
    return {
        "script": found.script,
        "key": found.key,
        "exists": found.path is not None,
        "path": str(found.path) if found.path else None,
        "python": str(env_python(found.path)) if found.path else None,
        "interpreter": {
            "executable": interp.executable,
            "implementation": interp.implementation,
            "version": interp.version,
            "abi": interp.abi,
        },
        "platform": interp.platform_tag,
        "requirements": list(found.spec.requirements),
        "packages": [{"name": n, "version": v} for n, v, _ in sorted(packages.values(), key=lambda t: t[0].lower())],
    }

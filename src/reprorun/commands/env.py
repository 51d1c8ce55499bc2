"""`reprorun env SCRIPT`: which environment a script maps to, and what it holds."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from reprorun.commands import Located, locate
from reprorun.envs.installers.venv import env_python, installed
from reprorun.errors import NotBuilt
from reprorun.options import Options


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
    _out(f"chosen as:    {found.spec.interpreter_rule}")
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
            "chosen-as": found.spec.interpreter_rule,
        },
        "platform": interp.platform_tag,
        "requirements": list(found.spec.requirements),
        "packages": [{"name": n, "version": v} for n, v, _ in sorted(packages.values(), key=lambda t: t[0].lower())],
    }

"""Freezing, the resolver: pip's `install --dry-run --report`, and the pins its report names.

Resolution runs pip (the same command builder as builds, `pip.pip_command`) under the interpreter
the script would run with, so markers and wheel tags are that interpreter's.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

from reprorun import processes
from reprorun.envs.installers.pip import pip_command, pip_environment
from reprorun.envs.installers.sources import Sources
from reprorun.envs.interpreters import Interpreter
from reprorun.errors import ResolutionError
from reprorun.freeze.pins import Pin, Plan, Resolution
from reprorun.script.requirements import canonical_name, parse


def resolve(
    plan: Plan, interpreter: Interpreter, sources: Sources, verbosity: int = 0, unpacked: Path | None = None
) -> dict[str, Any]:
    """pip's installation report for the plan, resolved by (and for) the given interpreter."""
    if not plan.requested:
        return {"install": [], "environment": {}}
    argv = pip_command(interpreter.executable, interpreter.short, unpacked, "install", sources, verbosity)
    argv += ["--dry-run", "--ignore-installed"]
    with tempfile.TemporaryDirectory(prefix="reprorun-freeze-") as folder:
        report = os.path.join(folder, "report.json")
        argv += ["--report", report]
        if plan.constraints:
            constraints = os.path.join(folder, "constraints.txt")
            with open(constraints, "w", encoding="utf-8") as handle:
                handle.write("\n".join(plan.constraints) + "\n")
            argv += ["--constraint", constraints]
        argv += ["--", *plan.requested]
        result = processes.run(argv, env=pip_environment(sources), stream=verbosity > 0)
        if result.returncode != 0:
            raise _resolution_error(plan, result.output, interpreter)
        with open(report, encoding="utf-8") as handle:
            return json.load(handle)  # type: ignore[no-any-return]


def _resolution_error(plan: Plan, output: str, interpreter: Interpreter) -> ResolutionError:
    if "no such option: --uploaded-prior-to" in output:
        return ResolutionError(
            "exclude-newer needs pip's --uploaded-prior-to, which the pip in use does not have",
            hint="upgrade virtualenv (its embedded pip must be 26.0 or newer)",
        )
    reasons = [ln.strip() for ln in output.splitlines() if re.match(r"\s*ERROR[:(]", ln)]
    shown = "\n".join(f"  {line}" for line in dict.fromkeys(reasons or output.splitlines()[-5:]))
    hint = "rerun with -v to see pip's full output"
    if plan.constraints:
        hint = "the current pins may conflict with the change; try --upgrade or --upgrade-package NAME"
    return ResolutionError(
        f"could not resolve the block for Python {interpreter.version}; nothing was written:\n{shown}",
        hint=hint,
    )


def from_report(report: Mapping[str, Any], requested: Sequence[str]) -> Resolution:
    """Pins (with hashes and `via`) from pip's installation report; pure."""
    environment = dict(report.get("environment") or {})
    items = {canonicalize_name(i["metadata"]["name"]): i for i in report.get("install", [])}
    extras = _extras_in_use(items, requested, environment)
    parents: dict[str, set[str]] = {name: set() for name in items}
    for parent, item in items.items():
        for text in item["metadata"].get("requires_dist") or ():
            child_requirement = parse(text)
            child = canonicalize_name(child_requirement.name)
            if child not in items or child == parent:
                continue
            marker = child_requirement.marker
            if marker is None or any(marker.evaluate({**environment, "extra": e}) for e in ("", *extras[parent])):
                parents[child].add(parent)
    wanted: dict[str, list[Requirement]] = {}
    for text in requested:
        requirement = parse(text)
        wanted.setdefault(canonicalize_name(requirement.name), []).append(requirement)
    pins = []
    for name, item in sorted(items.items()):
        direct = wanted.get(name, [])
        markers = {str(r.marker) for r in direct if r.marker is not None}
        sha256 = (item.get("download_info", {}).get("archive_info", {}).get("hashes", {}).get("sha256"))
        pins.append(
            Pin(
                name=name,
                version=item["metadata"]["version"],
                extras=tuple(sorted({canonicalize_name(e) for r in direct for e in r.extras})),
                marker=markers.pop() if len(markers) == 1 and all(r.marker for r in direct) else None,
                via=() if direct or item.get("requested") else tuple(sorted(parents[name])),
                hashes=(f"sha256:{sha256}",) if sha256 else (),
                url=item["download_info"]["url"] if item.get("is_direct") else None,
            )
        )
    kept = tuple(r for r in requested if canonical_name(r) not in items)
    return Resolution(tuple(pins), kept)


def _extras_in_use(
    items: Mapping[NormalizedName, Any], requested: Sequence[str], environment: Mapping[str, str]
) -> dict[NormalizedName, set[str]]:
    """Each installed distribution's extras in use: requested ones (pip reports those), and those
    another package's requirement asks for (`b[x]` in a's metadata; pip does not report them), so
    a pin reached only through such an extra gets its `# via` (issue 16)."""
    extras = {name: set(item.get("requested_extras") or ()) for name, item in items.items()}
    for text in requested:
        requirement = parse(text)
        extras.get(canonicalize_name(requirement.name), set()).update(requirement.extras)
    changed = True
    while changed:  # an extra in use may bring a requirement with extras of its own
        changed = False
        for parent, item in items.items():
            for text in item["metadata"].get("requires_dist") or ():
                requirement = parse(text)
                child = canonicalize_name(requirement.name)
                if child not in items or not requirement.extras or requirement.extras <= extras[child]:
                    continue
                marker = requirement.marker
                if marker is None or any(marker.evaluate({**environment, "extra": e}) for e in ("", *extras[parent])):
                    extras[child] |= requirement.extras
                    changed = True
    return extras

"""`reprorun check SCRIPT`: is the block valid, its env built, and exactly what the block asks for?

Exact means: every distribution the block needs (its requirements and theirs, with markers
evaluated for the env's own interpreter) is installed at a version its requirers accept, nothing
else is installed, and what is installed is what the build recorded (pip's `--report`). For a
frozen block the pins must still satisfy `requested`. Exit 0 only when all of it holds.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from reprorun import processes
from reprorun.commands import Located, locate
from reprorun.envs.cache import intact
from reprorun.envs.installers.venv import env_python, installed, metadata_fields
from reprorun.options import Options
from reprorun.script.metadata import Metadata

MARKERS = """\
import json, os, platform, sys
v = sys.version_info
impl = sys.implementation
iv = "%d.%d.%d" % impl.version[:3]
if impl.version.releaselevel != "final":
    iv += impl.version.releaselevel[0] + str(impl.version.serial)
print(json.dumps({"implementation_name": impl.name, "implementation_version": iv, "os_name": os.name,
    "platform_machine": platform.machine(), "platform_release": platform.release(),
    "platform_system": platform.system(), "platform_version": platform.version(),
    "python_full_version": platform.python_version(), "platform_python_implementation":
    platform.python_implementation(), "python_version": "%d.%d" % v[:2], "sys_platform": sys.platform}))
"""


@dataclass(frozen=True)
class Finding:
    """One line of the check: what was checked, whether it holds, and why not."""

    name: str
    ok: bool
    detail: str


def describe(name: str) -> str:
    """One line for `--help`."""
    return "Check a script's block, its env, and that the env holds exactly what the block asks (exit 0 if so)."


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    """Arguments of `check`."""
    parser.add_argument("script", help="the script")
    parser.add_argument("--json", action="store_true", help="print the findings as one JSON object")
    parser.add_argument("--for", dest="targets", action="append", default=[], metavar="TARGET",
                        help="instead: check that the pins install on TARGET from wheels alone (repeatable)")


def run(name: str, ns: argparse.Namespace, options: Options) -> int:
    """Print each finding; exit 0 only if all hold."""
    if ns.targets:
        findings = _for_targets(ns.script, ns.targets, options)
    else:
        found = locate(ns.script, options)  # an invalid block raises: exit 2, with the line marked
        findings = check(found)
    ok = all(f.ok for f in findings)
    if ns.json:
        json.dump({"ok": ok, "checks": [asdict(f) for f in findings]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for f in findings:
            sys.stdout.write(f"{'ok  ' if f.ok else 'FAIL'}  {f.name}: {f.detail}\n")
    return 0 if ok else 1


def _for_targets(path: str, names: list[str], options: Options) -> list[Finding]:
    """`check --for`: each target's findings (portable/wheels.py); nothing is built."""
    from reprorun.commands import load
    from reprorun.portable import lock, multi, wheels

    _, meta = load(path)
    resolver = lock.resolver_for(path, meta, options)
    findings = [Finding("block", True, f"valid ({len(meta.dependencies)} dependencies)")]
    if meta.settings.requested is not None:
        findings.append(_frozen(meta))
    for target in multi.target_list(names, resolver.interpreter):
        verdicts = wheels.check(meta.dependencies, meta.settings.hashes, target, resolver)
        findings += [Finding(v.name, v.ok, v.detail) for v in verdicts]
    return findings


def check(found: Located) -> list[Finding]:
    """All findings for a located script."""
    meta = found.meta
    count = len(meta.dependencies)
    findings = [Finding("block", True, f"valid ({count} dependenc{'y' if count == 1 else 'ies'})")]
    if meta.settings.requested is not None:
        findings.append(_frozen(meta))
    if found.path is None:
        damaged = found.cache.published_name(found.key)
        why = "its env is damaged" if damaged and (found.cache.envs / damaged).exists() else "not built"
        findings.append(Finding("env", False, f"{why}; build it with: reprorun sync {found.script}"))
        return findings
    findings.append(Finding("env", intact(found.path), str(found.path)))
    findings.extend(_contents(found.path, meta))
    return findings


def _frozen(meta: Metadata) -> Finding:
    """Whether the pins answer `requested`: the same rule `--freeze --check` applies (freeze/pins.py)."""
    from reprorun.freeze.pins import problems

    found = problems(meta)
    if found:
        details = [f"{p.pin} does not satisfy requested {p.requested!r}" if p.kind == "mismatch" else p.message
                   for p in found]  # fmt: skip
        return Finding("frozen", False, "; ".join(details) + " (reprorun --freeze --upgrade)")
    return Finding("frozen", True, f"the pins satisfy requested ({len(meta.settings.requested or ())})")


def _contents(env: Path, meta: Metadata) -> list[Finding]:
    have = installed(env)
    result = processes.run([str(env_python(env)), "-I", "-c", MARKERS])
    try:
        markers: dict[str, str] = json.loads(result.stdout)
    except ValueError:
        return [Finding("packages", False, f"the env's interpreter does not run: {result.tail(3)}")]
    needed, problems = _closure(meta.dependencies, have, markers)
    extra = sorted(have[n][0] for n in set(have) - needed)
    if extra:
        problems.append("not asked for: " + ", ".join(extra))
    findings = [Finding("packages", not problems, "; ".join(problems) or f"exactly the {len(needed)} needed")]
    recorded = _recorded(env)
    if recorded is not None:
        now = {n: v for n, (_, v, _) in have.items()}
        changed = sorted(f"{n} {recorded.get(n, '-')} -> {now.get(n, '-')}"
                         for n in set(recorded) | set(now) if recorded.get(n) != now.get(n))  # fmt: skip
        detail = "changed since the build: " + ", ".join(changed) if changed else "as installed at build time"
        findings.append(Finding("record", not changed, detail))
    return findings


def _closure(
    requirements: tuple[str, ...], have: dict[str, tuple[str, str, Path]], markers: dict[str, str]
) -> tuple[set[str], list[str]]:
    """The names the block needs, walking Requires-Dist; and what is missing or mismatched."""
    needed: set[str] = set()
    problems: list[str] = []
    todo = [(text, "") for text in requirements]
    seen: set[tuple[str, str]] = set()
    while todo:
        text, extra = todo.pop()
        if (text, extra) in seen:
            continue
        seen.add((text, extra))
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        if req.marker is not None and not Marker(str(req.marker)).evaluate({**markers, "extra": extra}):
            continue
        name = canonicalize_name(req.name)
        if name not in have:
            problems.append(f"missing {text}")
            continue
        needed.add(name)
        version = have[name][1]
        if not req.url and not req.specifier.contains(version, prereleases=True):
            problems.append(f"{have[name][0]} {version} does not satisfy {text!r}")
        depends = metadata_fields(have[name][2]).get("requires-dist", [])
        for wanted in ("", *sorted(req.extras)):
            todo.extend((dep, wanted) for dep in depends)
    return needed, problems


def _recorded(env: Path) -> dict[str, str] | None:
    try:
        report = json.loads((env / "reprorun-install.json").read_text("utf-8"))
        return {canonicalize_name(item["metadata"]["name"]): item["metadata"]["version"]
                for item in report.get("install", [])}  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None

"""`reprorun check --for TARGET`: does the frozen block install on the target from wheels alone?

Three questions, each a finding: does every pin that applies there have a wheel (and which do
not, with the nearest version that has one); does each wheel match the recorded hashes; and does
the target need nothing the block does not pin (a dependency that only applies there, missed by
a freeze made elsewhere). Offline against `--find-links`, like every pip call of reprorun.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from reprorun.portable.merge import applies, pins_for
from reprorun.portable.resolve import Resolver, wheel_of
from reprorun.portable.targets import Target
from reprorun.script.requirements import exact_version


@dataclass(frozen=True)
class Verdict:
    """One finding about a target: what was checked, whether it holds, and why not."""

    name: str
    ok: bool
    detail: str


def check(dependencies: Sequence[str], hashes: Mapping[str, Sequence[str]], target: Target,
          resolver: Resolver) -> list[Verdict]:  # fmt: skip
    """The findings for one target; every one must hold for the block to install there."""
    pins = pins_for(dependencies, target)
    loose = [d for d in dependencies if applies(d, target) and _is_loose(d)]
    label = target.name
    missing, report = resolver.locate(target, pins)
    if missing:
        detail = "; ".join(m.describe(target) for m in missing)
        return [Verdict(f"wheels {label}", False, detail)]
    findings = [Verdict(f"wheels {label}", True, f"all {len(pins)} pins that apply there have wheels")]
    if hashes and report is not None:
        findings.append(_hashes(report, hashes, label))
    findings.append(_complete(dependencies, pins, loose, target, resolver))
    return findings


def _hashes(report: Mapping[str, Any], hashes: Mapping[str, Sequence[str]], label: str) -> Verdict:
    recorded = {canonicalize_name(n): set(v) for n, v in hashes.items()}
    wrong = []
    for item in report.get("install", []):
        name = canonicalize_name(item["metadata"]["name"])
        filename, _, sha256 = wheel_of(item)
        if sha256 is None:
            wrong.append(f"{filename}: no sha256 known")
        elif f"sha256:{sha256}" not in recorded.get(name, set()):
            wrong.append(f"{filename} has sha256:{sha256}, which is not recorded for {name}")
    if wrong:
        return Verdict(f"hashes {label}", False, "; ".join(wrong) + " (reprorun --freeze --hashes --for TARGET)")
    return Verdict(f"hashes {label}", True, "every wheel matches a recorded hash")


def _complete(dependencies: Sequence[str], pins: Mapping[str, str], loose: Sequence[str], target: Target,
              resolver: Resolver) -> Verdict:  # fmt: skip
    """Resolve the block for the target with dependencies: nothing may come in that is not pinned."""
    label = f"complete {target.name}"
    wanted = [f"{n}=={v}" for n, v in sorted(pins.items())] + list(loose)
    if not wanted:
        return Verdict(label, True, "nothing to install there")
    report, output = resolver.report(target, wanted)
    if report is None:
        return Verdict(label, False, "pip cannot resolve the pins together there: " + output.strip().splitlines()[-1])
    known = set(pins) | {canonicalize_name(Requirement(d).name) for d in loose}
    extra = sorted(f"{item['metadata']['name']} {item['metadata']['version']}" for item in report.get("install", [])
                   if canonicalize_name(item["metadata"]["name"]) not in known)  # fmt: skip
    if extra:
        return Verdict(label, False, f"needs {', '.join(extra)}, which the block does not pin there "
                                     f"(reprorun --freeze --for {target.platform})")  # fmt: skip
    if loose:
        return Verdict(label, False, f"not pinned: {', '.join(loose)} (reprorun --freeze --for {target.platform})")
    return Verdict(label, True, "the pins are all it needs there")


def _is_loose(text: str) -> bool:
    requirement = Requirement(text)
    return requirement.url is None and exact_version(requirement) is None

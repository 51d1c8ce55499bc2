"""Freeze a block: decide what to resolve, resolve it with pip, and turn the result into pins.

A block is *frozen* when `[tool.reprorun]` has `requested` (the user's own requirements) and
`frozen-for` (the interpreter the pins were resolved for), and `dependencies` holds `==` pins.
It is *current* when, in addition, every entry of `dependencies` is a pin or a requested
requirement kept as written, every requested requirement is met by its pin, and every pin has a
hash when hashes are recorded. Deciding that needs no resolution and no network, so `--freeze`
on a current block (and `--freeze --check`) only reads the block. Hand edits to the pins
themselves are taken as they are; `--upgrade-package NAME` or `--upgrade` re-resolves.

Resolution is pip's `install --dry-run --ignore-installed --report`, run by the interpreter the
script would run with, so markers and wheel tags are that interpreter's.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from reprorun.errors import ReprorunError, UsageError
from reprorun.script import blockedit
from reprorun.script.metadata import Metadata, parse_timestamp

if TYPE_CHECKING:
    from reprorun.envs.installers import Sources
    from reprorun.envs.interpreters import Interpreter

log = logging.getLogger("reprorun")

_TAG = re.compile(r"^(?P<impl>[^-]+)-(?P<version>[^-]+)-(?P<platform>.+)$")


class ResolutionError(ReprorunError):
    """pip could not resolve the block's requirements; nothing was written."""


@dataclass(frozen=True)
class Pin:
    """One package of the resolved environment, as `dependencies` records it."""

    name: str  # canonical
    version: str
    extras: tuple[str, ...] = ()
    marker: str | None = None  # kept from a requested requirement only
    via: tuple[str, ...] = ()  # canonical names of the packages needing it; empty when requested
    hashes: tuple[str, ...] = ()
    url: str | None = None  # a direct reference (`name @ url`) is kept as one

    @property
    def requirement(self) -> str:
        """The PEP 508 string: `name[extras]==version; marker`."""
        extras = f"[{','.join(self.extras)}]" if self.extras else ""
        pinned = f"{self.name}{extras} @ {self.url}" if self.url else f"{self.name}{extras}=={self.version}"
        return f"{pinned}; {_single_quoted(self.marker)}" if self.marker else pinned


@dataclass(frozen=True)
class Resolution:
    """What a resolution gives: the pins, and requested requirements that do not apply here."""

    pins: tuple[Pin, ...]
    kept: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    """What `--freeze` will do: resolve `requested` under `constraints`, or nothing at all."""

    requested: tuple[str, ...]
    constraints: tuple[str, ...]
    reasons: tuple[str, ...]  # why the block must be resolved; empty: it is current
    hashes: bool
    exclude_newer: str | None

    @property
    def needed(self) -> bool:
        """Whether a resolution is needed at all."""
        return bool(self.reasons)


def exact_version(requirement: Requirement) -> str | None:
    """The version of an `==`/`===` pin (without wildcards), else None."""
    specs = list(requirement.specifier)
    if requirement.url or len(specs) != 1 or specs[0].operator not in ("==", "===") or "*" in specs[0].version:
        return None
    return specs[0].version


def pins_of(meta: Metadata) -> dict[str, str]:
    """The block's current exact pins: canonical name -> version."""
    pins: dict[str, str] = {}
    for text in meta.dependencies:
        requirement = Requirement(text)
        version = exact_version(requirement)
        if version is not None:
            pins[canonicalize_name(requirement.name)] = version
    return pins


def staleness(meta: Metadata) -> list[str]:
    """Why the block is not frozen and current (an empty list: it is); reads only the block."""
    settings = meta.settings
    if settings.requested is None or settings.frozen_for is None:
        return ["the block is not frozen"]
    reasons = []
    requested = {_normal(r) for r in settings.requested}
    verbatim = {_normal(d) for d in meta.dependencies}
    pinned: dict[str, tuple[str | None, Requirement]] = {}
    for text in meta.dependencies:
        requirement = Requirement(text)
        version = exact_version(requirement)
        if version is None and requirement.url is None:
            if _normal(text) not in requested:
                reasons.append(f"{text!r} in dependencies is not pinned")
            continue
        pinned[canonicalize_name(requirement.name)] = (version, requirement)
    for text in settings.requested:
        if _normal(text) in verbatim:
            continue
        wanted = Requirement(text)
        name = canonicalize_name(wanted.name)
        if name not in pinned:
            reasons.append(f"requested {text!r} has no pin")
            continue
        version, pin = pinned[name]
        if version is not None and not wanted.specifier.contains(version, prereleases=True):
            reasons.append(f"requested {text!r} does not match the pin {pin}")
        elif not _extras(wanted) <= _extras(pin):
            reasons.append(f"requested {text!r} needs extras the pin {pin} lacks")
    if settings.hashes:
        hashed = {canonicalize_name(n) for n in settings.hashes}
        reasons += [f"no hash recorded for {name}" for name in sorted(pinned) if name not in hashed]
    return reasons


def plan(
    meta: Metadata,
    *,
    upgrade: bool = False,
    upgrade_packages: Sequence[str] = (),
    hashes: bool = False,
    exclude_newer: str | None = None,
    force: str | None = None,
) -> Plan:
    """Decide what to resolve; `force` names a reason to resolve even a current block."""
    settings = meta.settings
    if exclude_newer is not None:
        check_timestamp(exclude_newer)
    requested = _requested(meta)
    reasons = staleness(meta)
    if upgrade:
        reasons.append("--upgrade")
    moving: set[str] = {canonicalize_name(n) for n in upgrade_packages}
    current = pins_of(meta)
    for name in sorted(moving - set(current)):
        log.warning("--upgrade-package %s: %s is not pinned in the block", name, name)
    if moving:
        reasons.append("--upgrade-package " + ", ".join(sorted(moving)))
    record_hashes = hashes or bool(settings.hashes)
    if record_hashes and not settings.hashes and meta.dependencies:
        reasons.append("--hashes")
    if exclude_newer is not None and exclude_newer != settings.exclude_newer:
        reasons.append(f"--exclude-newer {exclude_newer}")
    if force:
        reasons.append(force)
    constraints = [] if upgrade else _constraints(current, requested, moving)
    return Plan(
        requested=tuple(dict.fromkeys(requested)),
        constraints=tuple(constraints),
        reasons=tuple(dict.fromkeys(reasons)),
        hashes=record_hashes,
        exclude_newer=exclude_newer or settings.exclude_newer,
    )


def _requested(meta: Metadata) -> list[str]:
    """`requested` of a frozen block (with requirements added to `dependencies` by hand)."""
    if meta.settings.requested is None:
        return list(meta.dependencies)
    known = {_normal(r) for r in meta.settings.requested}
    added = [d for d in meta.dependencies if _is_loose(d) and _normal(d) not in known]
    return [*meta.settings.requested, *added]


def _constraints(current: Mapping[str, str], requested: Sequence[str], moving: set[str]) -> list[str]:
    """The current pins that stay: those not asked to move and still meeting `requested`."""
    wanted = [Requirement(r) for r in requested]
    kept = []
    for name, version in sorted(current.items()):
        fits = all(w.specifier.contains(version, prereleases=True)
                   for w in wanted if canonicalize_name(w.name) == name)  # fmt: skip
        if name not in moving and fits:
            kept.append(f"{name}=={version}")
    return kept


def check_timestamp(value: str) -> str:
    """The value in UTC as pip and uv read it ('2024-06-01' is its midnight UTC)."""
    try:
        moment = parse_timestamp(value)
    except ValueError:
        raise UsageError(
            f"--exclude-newer {value!r} is not an RFC 3339 date-time or a date",
            hint='write it like "2024-06-01" or "2024-06-01T00:00:00Z"',
        ) from None
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def resolve(
    plan: Plan, interpreter: Interpreter, sources: Sources, verbosity: int = 0, unpacked: Path | None = None
) -> dict[str, Any]:
    """pip's installation report for the plan, resolved by (and for) the given interpreter."""
    from reprorun import processes
    from reprorun.envs import installers

    if not plan.requested:
        return {"install": [], "environment": {}}
    argv = [*installers.pip_argv(interpreter.executable, interpreter.short, unpacked), "install",
            "--dry-run", "--ignore-installed", "--no-input", "--disable-pip-version-check"]  # fmt: skip
    argv += sources.pip_args()
    if verbosity <= 0:
        argv.append("--quiet")
    with tempfile.TemporaryDirectory(prefix="reprorun-freeze-") as folder:
        report = os.path.join(folder, "report.json")
        argv += ["--report", report]
        if plan.constraints:
            constraints = os.path.join(folder, "constraints.txt")
            with open(constraints, "w", encoding="utf-8") as handle:
                handle.write("\n".join(plan.constraints) + "\n")
            argv += ["--constraint", constraints]
        argv += ["--", *plan.requested]
        env = processes.environ(PYTHONPATH=None, VIRTUAL_ENV=None, PIP_REQUIRE_VIRTUALENV=None,
                                PIP_USER=None, PYTHONNOUSERSITE="1")  # fmt: skip
        result = processes.run(argv, env=env, stream=verbosity > 0)
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
    parents: dict[str, set[str]] = {name: set() for name in items}
    for parent, item in items.items():
        extras = ("", *item.get("requested_extras", ()))
        for text in item["metadata"].get("requires_dist") or ():
            child_requirement = Requirement(text)
            child = canonicalize_name(child_requirement.name)
            if child not in items or child == parent:
                continue
            marker = child_requirement.marker
            if marker is None or any(marker.evaluate({**environment, "extra": e}) for e in extras):
                parents[child].add(parent)
    wanted: dict[str, list[Requirement]] = {}
    for text in requested:
        requirement = Requirement(text)
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
    kept = tuple(r for r in requested if canonicalize_name(Requirement(r).name) not in items)
    return Resolution(tuple(pins), kept)


def dependency_lines(
    resolution: Resolution, comments: blockedit.ItemComments, frozen: bool
) -> list[blockedit.Line]:
    """The lines of the frozen `dependencies`, sorted by name, the user's comments carried over."""
    own: dict[str, str] = {}
    for item, comment in comments.by_item:
        part = comments.user_part(comment) if frozen else comment
        if part:
            own[_name(item)] = part
    entries: list[tuple[str, int, blockedit.Line]] = []
    for pin in resolution.pins:
        via = f"via {', '.join(pin.via)}" if pin.via else None
        text = "; ".join(p for p in (via, own.pop(pin.name, None)) if p) or None
        entries.append((pin.name, 0, blockedit.Line(pin.requirement, text)))
    for requirement in resolution.kept:
        name = _name(requirement)
        entries.append((name, 1, blockedit.Line(requirement, own.pop(name, None))))
    header = [blockedit.Line("", c) for c in comments.standalone]
    header += [blockedit.Line("", f"{name}: {text}") for name, text in own.items()]
    return header + [line for _, _, line in sorted(entries, key=lambda e: (e[0], e[1]))]


def render(text: str, meta: Metadata, plan: Plan, resolution: Resolution, frozen_for: str) -> str:
    """The script's new text: its block frozen to the resolution; every other byte kept."""
    assert meta.block is not None
    comments = blockedit.array_comments(meta.block.content)
    lines = dependency_lines(resolution, comments, frozen=meta.settings.frozen_for is not None)
    hashes = {p.name: p.hashes for p in resolution.pins if p.hashes} if plan.hashes else None
    fields = blockedit.FrozenFields(plan.requested, frozen_for, plan.exclude_newer, hashes)
    content = blockedit.freeze_content(meta.block.content, lines, fields)
    return blockedit.replace_block(text, meta.block, content)


def frozen_for_mismatch(frozen_for: str | None, tag: str) -> str | None:
    """A warning when pins frozen for one interpreter/platform are used on another, else None.

    Implementation, `major.minor` and the platform's OS and machine must agree; a different patch
    release or glibc/macOS version does not change which wheels a pin names, so it is not worth a
    warning.
    """
    if not frozen_for or frozen_for == tag:
        return None
    frozen, running = _TAG.match(frozen_for), _TAG.match(tag)
    if frozen and running and (
        frozen["impl"] == running["impl"]
        and frozen["version"].split(".")[:2] == running["version"].split(".")[:2]
        and _platform_family(frozen["platform"]) == _platform_family(running["platform"])
    ):
        return None
    return (
        f"the pins were frozen for {frozen_for}, but this is {tag}; they may not install "
        "here, or may miss packages this platform needs (reprorun --freeze --upgrade re-resolves)"
    )


def _platform_family(platform: str) -> str:
    """`manylinux_2_36_x86_64` -> `linux_x86_64`, `macosx_14_0_arm64` -> `macosx_arm64`."""
    family = re.sub(r"^(many|musl)linux_\d+_\d+_", "linux_", platform)
    return re.sub(r"^macosx_\d+_\d+_", "macosx_", family)


def _single_quoted(marker: str) -> str:
    # packaging writes marker values in double quotes; single ones keep the TOML string plain.
    return marker.replace('"', "'") if "'" not in marker else marker


def _normal(requirement: str) -> str:
    return str(Requirement(requirement))


def _name(requirement: str) -> str:
    return canonicalize_name(Requirement(requirement).name)


def _extras(requirement: Requirement) -> set[str]:
    return {canonicalize_name(e) for e in requirement.extras}


def _is_loose(text: str) -> bool:
    requirement = Requirement(text)
    return exact_version(requirement) is None and requirement.url is None


def summary(before: Mapping[str, str], after: Iterable[Pin]) -> tuple[list[str], list[str], list[str], list[str]]:
    """(added, changed, removed, unchanged) as short `name version` lines."""
    now = {p.name: p.version for p in after}
    added = [f"{n} {v}" for n, v in sorted(now.items()) if n not in before]
    changed = [f"{n} {before[n]} -> {v}" for n, v in sorted(now.items()) if n in before and before[n] != v]
    removed = [f"{n} {v}" for n, v in sorted(before.items()) if n not in now]
    unchanged = [f"{n} {v}" for n, v in sorted(now.items()) if before.get(n) == v]
    return added, changed, removed, unchanged

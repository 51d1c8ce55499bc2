"""Freezing, the pure part: which pins a block has, whether it is frozen and current, what to resolve.

A block is *frozen* when `[tool.reprorun]` has `requested` (the user's own requirements) and
`frozen-for` (the interpreter the pins were resolved for), and `dependencies` holds `==` pins.
It is *current* when, in addition, every entry of `dependencies` is a pin or a requested
requirement kept as written, every requested requirement is met by its pin, and every pin has a
hash when hashes are recorded (`problems`: the one rule, which `check` uses too). Deciding that
needs no resolution and no network, so `--freeze` on a current block (and `--freeze --check`)
only reads the block. Hand edits to the pins themselves are taken as they are;
`--upgrade-package NAME` or `--upgrade` re-resolves.

No file system, no subprocess: resolution is `resolve.py`, writing the file is `writeback.py`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from reprorun.errors import UsageError
from reprorun.script import tomlrender
from reprorun.script.metadata import Metadata
from reprorun.script.requirements import canonical_name, exact_version, is_loose, parse
from reprorun.script.timestamps import utc_text

log = logging.getLogger("reprorun")


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



@dataclass(frozen=True)
class Problem:
    """One reason a block is not frozen and current."""

    kind: Literal["not-frozen", "loose", "no-pin", "mismatch", "extras", "no-hash"]
    message: str  # as `--freeze --check` says it
    pin: str | None = None  # the pin concerned, as written in `dependencies`
    requested: str | None = None  # the requested requirement concerned, as written

    def __str__(self) -> str:
        return self.message


def pins_of(meta: Metadata) -> dict[str, str]:
    """The block's current exact pins: canonical name -> version."""
    pins: dict[str, str] = {}
    for text in meta.dependencies:
        requirement = parse(text)
        version = exact_version(requirement)
        if version is not None:
            pins[canonicalize_name(requirement.name)] = version
    return pins


def problems(meta: Metadata) -> list[Problem]:
    """Why the pins do not answer `requested` (an empty list: they do); reads only the block.

    `frozen-for` is not required here (`staleness` adds that): `check` asks only whether the pins
    meet what was requested.
    """
    settings = meta.settings
    if settings.requested is None:
        return [Problem("not-frozen", "the block is not frozen")]
    found = []
    requested = {_normal(r) for r in settings.requested}
    verbatim = {_normal(d) for d in meta.dependencies}
    pinned: dict[str, tuple[str | None, Requirement]] = {}
    for text in meta.dependencies:
        requirement = parse(text)
        version = exact_version(requirement)
        if version is None and requirement.url is None:
            if _normal(text) not in requested:
                found.append(Problem("loose", f"{text!r} in dependencies is not pinned", pin=text))
            continue
        pinned[canonicalize_name(requirement.name)] = (version, requirement)
    for text in settings.requested:
        if _normal(text) in verbatim:
            continue
        wanted = parse(text)
        name = canonicalize_name(wanted.name)
        if name not in pinned:
            found.append(Problem("no-pin", f"requested {text!r} has no pin", requested=text))
            continue
        version, pin = pinned[name]
        if version is not None and not wanted.specifier.contains(version, prereleases=True):
            found.append(Problem("mismatch", f"requested {text!r} does not match the pin {pin}", str(pin), text))
        elif not _extras(wanted) <= _extras(pin):
            found.append(Problem("extras", f"requested {text!r} needs extras the pin {pin} lacks", str(pin), text))
    if settings.hashes:
        hashed = {canonicalize_name(n) for n in settings.hashes}
        found += [Problem("no-hash", f"no hash recorded for {name}", pin=name) for name in sorted(pinned)
                  if name not in hashed]  # fmt: skip
    return found


def stale(meta: Metadata) -> list[Problem]:
    """Why the block is not frozen and current (an empty list: it is); reads only the block."""
    if meta.settings.requested is None or meta.settings.frozen_for is None:
        return [Problem("not-frozen", "the block is not frozen")]
    return problems(meta)


def staleness(meta: Metadata) -> list[str]:
    """`stale`, as the messages `--freeze --check` prints."""
    return [problem.message for problem in stale(meta)]


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
    added = [d for d in meta.dependencies if is_loose(d) and _normal(d) not in known]
    return [*meta.settings.requested, *added]


def _constraints(current: Mapping[str, str], requested: Sequence[str], moving: set[str]) -> list[str]:
    """The current pins that stay: those not asked to move and still meeting `requested`."""
    wanted = [parse(r) for r in requested]
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
        return utc_text(value)
    except ValueError as exc:
        raise UsageError(
            f"--exclude-newer {value!r} is not an RFC 3339 date-time or a date in the calendar ({exc})",
            hint='write it like "2024-06-01" or "2024-06-01T00:00:00Z"',
        ) from None


def dependency_lines(
    resolution: Resolution, comments: tomlrender.ItemComments, frozen: bool
) -> list[tomlrender.Line]:
    """The lines of the frozen `dependencies`, sorted by name, the user's comments carried over."""
    own: dict[str, str] = {}
    for item, comment in comments.by_item:
        part = comments.user_part(comment) if frozen else comment
        if part:
            own[canonical_name(item)] = part
    entries: list[tuple[str, int, tomlrender.Line]] = []
    for pin in resolution.pins:
        via = f"via {', '.join(pin.via)}" if pin.via else None
        text = "; ".join(p for p in (via, own.pop(pin.name, None)) if p) or None
        entries.append((pin.name, 0, tomlrender.Line(pin.requirement, text)))
    for requirement in resolution.kept:
        name = canonical_name(requirement)
        entries.append((name, 1, tomlrender.Line(requirement, own.pop(name, None))))
    header = [tomlrender.Line("", c) for c in comments.standalone]
    header += [tomlrender.Line("", f"{name}: {text}") for name, text in own.items()]
    return header + [line for _, _, line in sorted(entries, key=lambda e: (e[0], e[1]))]


def summary(before: Mapping[str, str], after: Iterable[Pin]) -> tuple[list[str], list[str], list[str], list[str]]:
    """(added, changed, removed, unchanged) as short `name version` lines."""
    now = {p.name: p.version for p in after}
    added = [f"{n} {v}" for n, v in sorted(now.items()) if n not in before]
    changed = [f"{n} {before[n]} -> {v}" for n, v in sorted(now.items()) if n in before and before[n] != v]
    removed = [f"{n} {v}" for n, v in sorted(before.items()) if n not in now]
    unchanged = [f"{n} {v}" for n, v in sorted(now.items()) if before.get(n) == v]
    return added, changed, removed, unchanged



def _single_quoted(marker: str) -> str:
    # packaging writes marker values in double quotes; single ones keep the TOML string plain.
    return marker.replace('"', "'") if "'" not in marker else marker


def _normal(requirement: str) -> str:
    return str(parse(requirement))


def _extras(requirement: Requirement) -> set[str]:
    return {canonicalize_name(e) for e in requirement.extras}

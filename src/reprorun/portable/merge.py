"""Merge per-target resolutions into one list of pins valid on every target (pure).

A package at the same version on every target stays a plain pin. Otherwise each version gets the
marker of the targets that have it (`targets.marker_for`), so uv, pip and pipx install the right
set on each target. A marker the user wrote on their own requirement is kept when it already
says exactly where the package applies. Hashes of one package are the union over the targets
(each target installs its own wheel of the version).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from reprorun.freeze.pins import Pin, Resolution
from reprorun.portable.targets import Target
from reprorun.script.requirements import exact_version


def merge(results: Sequence[tuple[Target, Resolution]]) -> Resolution:
    """One resolution for all targets, in the order `dependency_lines` expects (by name)."""
    every = [target for target, _ in results]
    by_name: dict[str, list[tuple[Target, Pin]]] = {}
    for target, resolution in results:
        for pin in resolution.pins:
            by_name.setdefault(pin.name, []).append((target, pin))
    pins: list[Pin] = []
    for name in sorted(by_name):
        present = by_name[name]
        hashes = tuple(sorted({h for _, pin in present for h in pin.hashes}))
        direct = any(not pin.via for _, pin in present)
        via = () if direct else tuple(sorted({v for _, pin in present for v in pin.via}))
        groups: dict[tuple[str, str | None, tuple[str, ...]], list[tuple[Target, Pin]]] = {}
        for target, pin in present:
            groups.setdefault((pin.version, pin.url, pin.extras), []).append((target, pin))
        for members in sorted(groups.values(), key=lambda m: _version_key(m[0][1].version)):
            first = members[0][1]
            chosen = [target for target, _ in members]
            marker = _marker(first.marker, chosen, every, single=len(groups) == 1)
            pins.append(replace(first, marker=marker, via=via, hashes=hashes))
    kept = [r for r in _common(resolution.kept for _, resolution in results)]
    return Resolution(tuple(pins), tuple(kept))


def _marker(own: str | None, chosen: Sequence[Target], every: Sequence[Target], single: bool) -> str | None:
    """The marker of one pin: none, the user's own, the targets', or both."""
    if len(chosen) == len(every):
        return own
    if own is not None and single and set(chosen) == {t for t in every if Marker(own).evaluate(t.environment())}:
        return own
    theirs = marker_text(chosen, every)
    return str(Marker(f"({own}) and ({theirs})" if own else theirs))


def marker_text(chosen: Sequence[Target], every: Sequence[Target]) -> str:
    """`targets.marker_for`, normalised as packaging writes markers."""
    from reprorun.portable.targets import marker_for

    return str(Marker(marker_for(chosen, every)))


def _common(groups: Iterable[tuple[str, ...]]) -> list[str]:
    lists = list(groups)
    if not lists:
        return []
    return [r for r in lists[0] if all(r in other for other in lists[1:])]


def _version_key(version: str) -> tuple[int, Version | str]:
    try:
        return (0, Version(version))
    except InvalidVersion:  # a direct reference's "version" sorts last
        return (1, version)


def applies(requirement: str, target: Target) -> bool:
    """Whether a requirement of the block applies on the target (its marker, if any, holds)."""
    marker = Requirement(requirement).marker
    return marker is None or marker.evaluate({**target.environment(), "extra": ""})


def pins_for(dependencies: Sequence[str], target: Target) -> dict[str, str]:
    """The block's exact pins that apply on the target: canonical name -> version."""
    pins: dict[str, str] = {}
    for text in dependencies:
        requirement = Requirement(text)
        version = exact_version(requirement)
        if version is not None and applies(text, target):
            pins[canonicalize_name(requirement.name)] = version
    return pins


def constraints_for(dependencies: Sequence[str], kept: Iterable[str], target: Target) -> list[str]:
    """The constraints of one target: its pins whose names the plan keeps (`name==version` items)."""
    names = {canonicalize_name(c.split("==")[0]) for c in kept}
    return [f"{n}=={v}" for n, v in sorted(pins_for(dependencies, target).items()) if n in names]


def versions(results: Sequence[tuple[Target, Resolution]], extra: Mapping[str, str] = {}) -> dict[str, str]:
    """Every version some target chose (name -> version), for naming what a failed target lacked."""
    found = dict(extra)
    for _, resolution in results:
        found.update({p.name: p.version for p in resolution.pins})
    return found

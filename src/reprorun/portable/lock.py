"""The pins an export or a bundle carries: the frozen block's, or a resolution made in memory.

A frozen and current block gives its pins and hashes as they are. Otherwise the block is
resolved first (for its targets, or for the interpreter at hand), nothing is written to the
script, and the caller tells the user that the export holds pins the script does not. `wheels`
then locates, for each target, the wheel file each pin installs there.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from reprorun.errors import NoWheel
from reprorun.freeze import pins, resolve
from reprorun.portable import targets as targets_module
from reprorun.portable.exported import Exported, Wheel
from reprorun.portable.merge import applies
from reprorun.portable.resolve import Resolver, wheel_of
from reprorun.portable.targets import Target
from reprorun.script.requirements import exact_version

if TYPE_CHECKING:
    from reprorun.options import Options
    from reprorun.script.metadata import Metadata

log = logging.getLogger("reprorun")


def resolver_for(path: str, meta: Metadata, options: Options) -> Resolver:
    """The resolver of a script: its interpreter, its sources, the cache's pip."""
    from reprorun.envs import cache, selection
    from reprorun.envs.installers.sources import sources_for

    root = cache.root(options)
    interpreter = selection.choose(meta.requires_python, options.python, root / "interpreters")
    base = os.path.dirname(os.path.abspath(path))
    sources = sources_for(options, meta.settings, base=base)
    return Resolver(interpreter, sources, cache.Cache(root).pip, options.verbosity)


def block_targets(meta: Metadata, resolver: Resolver, names: Sequence[str] = ()) -> list[Target]:
    """The targets given, else those the block was frozen for, else the interpreter's own platform."""
    python = resolver.interpreter.short
    if names:
        return [t.with_python(python) for t in targets_module.parse_all(names)]
    listed = targets_module.from_frozen_for(meta.settings.frozen_for)
    if listed:
        return listed
    own = targets_module.from_tag(meta.settings.frozen_for or "") or targets_module.from_tag(resolver.interpreter.tag)
    if own is None:
        raise NoWheel(f"reprorun does not know the platform of {resolver.interpreter.tag}",
                      hint="name the targets with --for")  # fmt: skip
    return [own]


def exported(path: str, meta: Metadata, resolver: Resolver, options: Options, names: Sequence[str] = (),
             *, hashes: bool = False) -> tuple[Exported, list[str]]:  # fmt: skip
    """The pins to export and why they were resolved here (empty: they are the block's own)."""
    reasons = pins.staleness(meta)
    chosen = block_targets(meta, resolver, names)
    if names and not reasons and [t.platform for t in chosen] != _frozen_platforms(meta, resolver):
        reasons = [f"the block is frozen for {meta.settings.frozen_for}, not {', '.join(names)}"]
    if not reasons:
        return Exported(path, meta.dependencies, dict(meta.settings.hashes), tuple(chosen),
                        meta.settings.frozen_for or "", meta.requires_python, options=options), []  # fmt: skip
    plan = pins.plan(meta, upgrade=True, hashes=hashes)
    if names or meta.settings.targets:
        from reprorun.portable import multi

        resolution, frozen_for = multi.resolve(plan, meta, [t.name for t in chosen], resolver)
    else:
        report = resolve.resolve(plan, resolver.interpreter, resolver.sources, resolver.verbosity, resolver.unpacked)
        resolution, frozen_for = resolve.from_report(report, plan.requested), resolver.interpreter.tag
    requirements = (*(p.requirement for p in resolution.pins), *resolution.kept)
    recorded = {p.name: p.hashes for p in resolution.pins if p.hashes} if hashes else {}
    return Exported(path, requirements, recorded, tuple(chosen), frozen_for, meta.requires_python,
                    options=options), reasons  # fmt: skip


def _frozen_platforms(meta: Metadata, resolver: Resolver) -> list[str]:
    return [t.platform for t in block_targets(meta, resolver)]


def with_wheels(export: Exported, resolver: Resolver) -> Exported:
    """The export with the wheel each pin installs on each target (pip, `--no-deps`, no download)."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    found: dict[str, dict[str, Wheel]] = {}
    for target in export.targets:
        pins: dict[str, str] = {}
        by_name: dict[str, str] = {}
        for requirement in export.requirements:
            parsed = Requirement(requirement)
            version = exact_version(parsed)
            if version is not None and applies(requirement, target):
                pins[canonicalize_name(parsed.name)] = version
                by_name[canonicalize_name(parsed.name)] = requirement
        missing, report = resolver.locate(target, pins)
        if missing:
            lines = "\n".join(f"  {m.describe(target)}" for m in missing)
            raise NoWheel(f"the pins cannot be installed on {target.name} from wheels:\n{lines}",
                          hint=f"check with: reprorun check --for {target.platform} {export.script}")  # fmt: skip
        for item in (report or {}).get("install", []):
            name = canonicalize_name(item["metadata"]["name"])
            filename, url, sha256 = wheel_of(item)
            if sha256 is None:
                raise NoWheel(f"pip gave no sha256 for {filename}", hint="use an index that publishes hashes")
            recorded = export.hashes.get(name)
            if recorded and f"sha256:{sha256}" not in recorded:
                raise NoWheel(f"{filename} (for {target.name}) has sha256:{sha256}, which the block does not "
                              f"record for {name}", hint="the file changed since the freeze, or comes from "
                              "another platform: reprorun --freeze --hashes --for TARGET")  # fmt: skip
            found.setdefault(by_name[name], {})[filename] = Wheel(filename, url, sha256)
    return replace(export, wheels={r: tuple(w.values()) for r, w in found.items()})

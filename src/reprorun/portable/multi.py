"""`--freeze --for TARGET...`: resolve the plan once per target, then merge the pins.

Each target resolves `requested` under the block's current pins that apply there (so unchanged
pins stay); a target that cannot keep them resolves again freely, and a target that wheels cannot
satisfy at all is an error naming the package, the version and the target. pip resolves
(`resolve.Resolver`) unless `--installer uv` asks for uv (`uv.compile_for`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from reprorun.errors import NoWheel
from reprorun.freeze import pins
from reprorun.freeze import resolve as freeze_resolve
from reprorun.portable import merge, targets
from reprorun.portable.resolve import Resolver, failure_lines
from reprorun.portable.targets import Target

if TYPE_CHECKING:
    from pathlib import Path

    from reprorun.envs.installers.sources import Sources
    from reprorun.envs.interpreters import Interpreter
    from reprorun.options import Options
    from reprorun.script.metadata import Metadata

log = logging.getLogger("reprorun")


def target_list(names: Sequence[str], interpreter: Interpreter) -> list[Target]:
    """The targets named, each with a Python (the interpreter's `major.minor` when it names none)."""
    return [t.with_python(interpreter.short) for t in targets.parse_all(names)]


def reason(meta: Metadata, names: Sequence[str]) -> str | None:
    """Why a block must be resolved again for these targets (None: it was frozen for them)."""
    settings = meta.settings
    frozen = targets.from_frozen_for(settings.frozen_for)
    given = targets.parse_all(names)
    if [t.name for t in given] != [t.name for t in targets.parse_all(settings.targets)]:
        return "--for " + " --for ".join(names)
    if frozen is None or [t.platform for t in frozen] != [t.platform for t in given]:
        return f"targets {', '.join(names)} (frozen for {settings.frozen_for or 'nothing'})"
    return None


def resolve(
    plan: pins.Plan, meta: Metadata, names: Sequence[str], resolver: Resolver, uv: str | None = None
) -> tuple[pins.Resolution, str]:
    """The merged resolution for every target, and what `frozen-for` records."""
    chosen = target_list(names, resolver.interpreter)
    results: list[tuple[Target, pins.Resolution]] = []
    failed: list[tuple[Target, str, dict[str, str]]] = []
    for target in chosen:
        constraints = merge.constraints_for(meta.dependencies, plan.constraints, target)
        log.info("resolving for %s%s", target.name, " with uv" if uv else "")
        resolution, output = _one(plan, target, constraints, resolver, uv)
        if resolution is None and constraints:
            log.debug("%s: the current pins do not fit; resolving without them", target.name)
            resolution, output = _one(plan, target, [], resolver, uv)
        if resolution is None:
            failed.append((target, output, merge.pins_for(meta.dependencies, target)))
        else:
            results.append((target, resolution))
    if failed:
        lines = [line for target, output, pins in failed
                 for line in failure_lines(target, output, merge.versions(results, pins), resolver, pins)]  # fmt: skip
        names = ", ".join(target.name for target, _, _ in failed)
        shown = "\n".join(f"  {line}" for line in lines)
        raise NoWheel(f"the block cannot be installed from wheels on {names}:\n{shown}",
                      hint="pin a version with wheels on every target, or leave that target out")  # fmt: skip
    return merge.merge(results), targets.frozen_for(chosen)


def _one(
    plan: pins.Plan, target: Target, constraints: Sequence[str], resolver: Resolver, uv: str | None
) -> tuple[pins.Resolution | None, str]:
    if uv is not None:
        from reprorun.portable import uv as uv_backend

        resolution, output = uv_backend.compile_for(uv, target, plan.requested, constraints, resolver.sources,
                                                    hashes=plan.hashes, verbosity=resolver.verbosity)  # fmt: skip
        if resolution is not None:
            return resolution, output
        # uv's message names no nearest version: pip's answer for the same target does.
        log.debug("uv could not resolve for %s:\n%s", target.name, output)
    report, output = resolver.report(target, plan.requested, constraints)
    if report is None:
        return None, output
    if uv is not None:  # pip succeeded where uv did not: do not hide the disagreement
        raise NoWheel(f"uv could not resolve the block for {target.name}, though pip could",
                      hint="rerun with -v to see uv's output, or use --installer pip")  # fmt: skip
    return freeze_resolve.from_report(report, plan.requested), output


def resolve_for(
    plan: pins.Plan, meta: Metadata, names: Sequence[str], interpreter: Interpreter, sources: Sources,
    options: Options, unpacked: Path | None,
) -> tuple[pins.Resolution, str]:
    """`resolve` with pip, or with uv when `--installer uv` asks for it (it must then be installed)."""
    uv = None
    if options.installer == "uv":
        from reprorun.envs.installers import backend_for

        backend = backend_for("uv")
        uv = getattr(backend, "executable", None)
    return resolve(plan, meta, names, Resolver(interpreter, sources, unpacked, options.verbosity), uv)

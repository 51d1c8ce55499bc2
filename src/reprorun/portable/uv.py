"""Resolve for a target with uv: `uv pip compile --python-platform P --python-version V`.

uv evaluates markers for the platform it is told, so platform-only dependencies come out right
without help. Its output is a requirements file with `# via` annotations (and `--hash` options
with hashes), read back into the same pins pip's report gives.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from reprorun import processes
from reprorun.freeze.pins import Pin, Resolution
from reprorun.portable.targets import Target

if TYPE_CHECKING:
    from reprorun.envs.installers.sources import Sources

_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(?P<version>\S+)")


def compile_for(
    uv: str, target: Target, requested: Sequence[str], constraints: Sequence[str], sources: Sources,
    *, hashes: bool = False, verbosity: int = 0,
) -> tuple[Resolution | None, str]:
    """uv's resolution of `requested` for the target (None when uv fails) and uv's output."""
    with tempfile.TemporaryDirectory(prefix="reprorun-uv-") as folder:
        wanted = os.path.join(folder, "requested.txt")
        Path(wanted).write_text("\n".join(requested) + "\n", "utf-8")
        argv = [uv, "pip", "compile", "--no-config", wanted, "--no-header", "--quiet", *target.uv_args(),
                *sources.uv_args()]  # fmt: skip
        if constraints:
            path = os.path.join(folder, "constraints.txt")
            Path(path).write_text("\n".join(constraints) + "\n", "utf-8")
            argv += ["--constraint", path]
        if hashes:
            argv.append("--generate-hashes")
        result = processes.run(argv, env=processes.environ(UV_PYTHON_DOWNLOADS="never"), stream=verbosity > 1)
    if result.returncode != 0:
        return None, result.output
    return read_compiled(result.stdout, requested, wanted), result.output


def read_compiled(text: str, requested: Sequence[str], source: str = "") -> Resolution:
    """Pins from `uv pip compile` output: `name==version`, `--hash=` lines, `# via` lines."""
    entries: list[tuple[str, str, list[str], list[str]]] = []
    in_via = False
    for raw in text.splitlines():
        line = raw.strip()
        match = _PIN.match(raw)
        if match:
            entries.append((canonicalize_name(match["name"]), match["version"], [], []))
            in_via = False
        elif not entries:
            continue
        if "--hash=" in line:
            entries[-1][2].extend(re.findall(r"--hash=(sha256:[0-9a-f]{64})", line))
        if "# via" in line:  # on a line of its own, or after the pin (--annotation-style line)
            rest = line.split("# via", 1)[1].strip()
            entries[-1][3].extend(_via(rest))
            in_via = not rest
        elif in_via and line.startswith("#"):
            entries[-1][3].extend(_via(line.lstrip("# ")))
    wanted: dict[str, list[Requirement]] = {}
    for item in requested:
        requirement = Requirement(item)
        wanted.setdefault(canonicalize_name(requirement.name), []).append(requirement)
    pins = []
    names = {name for name, *_ in entries}
    for name, version, digests, parents in sorted(entries):
        direct = wanted.get(name, [])
        markers = {str(r.marker) for r in direct if r.marker is not None}
        pins.append(Pin(
            name=name,
            version=version,
            extras=tuple(sorted({canonicalize_name(e) for r in direct for e in r.extras})),
            marker=markers.pop() if len(markers) == 1 and all(r.marker for r in direct) else None,
            via=() if direct else tuple(sorted({canonicalize_name(p) for p in parents if p in names or
                                                canonicalize_name(p) in names})),
            hashes=tuple(digests),
        ))  # fmt: skip
    kept = tuple(r for r in requested if canonicalize_name(Requirement(r).name) not in names)
    return Resolution(tuple(pins), kept)


def _via(text: str) -> list[str]:
    """Parent names of a `# via` annotation (requirement files `-r x` and `-c x` are not parents)."""
    if text.startswith(("-r ", "-c ")):
        return []
    return [re.split(r"[\[=<>! ]", part.strip())[0] for part in text.split(",") if part.strip()]

"""Resolve for other platforms with pip: one `install --dry-run --report` per target, wheels only.

pip runs under the interpreter the script would run with, told the target's wheel tags
(`--platform`, `--python-version`, `--abi`) and, through `_pip_target.py`, its marker values.
The same call with `--no-deps` on exact pins *locates* them: which wheel file each pin installs
on the target, its URL and sha256. When a target cannot be satisfied, the error names the
package, the version wanted and the target, and the nearest version that has a wheel there.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from reprorun import processes
from reprorun.errors import NoWheel
from reprorun.portable.targets import Target

if TYPE_CHECKING:
    from reprorun.envs.installers.sources import Sources
    from reprorun.envs.interpreters import Interpreter

log = logging.getLogger("reprorun")

SHIM = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_pip_target.py")
_NOT_FOUND = re.compile(
    r"Could not find a version that satisfies the requirement (?P<req>.+?) \(from versions: (?P<versions>[^)]*)\)"
)


@dataclass(frozen=True)
class Missing:
    """One package without a wheel on a target: the version wanted, and the versions that have one."""

    name: str
    version: str | None  # None: no particular version was wanted
    available: tuple[str, ...]

    def describe(self, target: Target) -> str:
        """`native 2.0 has no wheel for linux-aarch64 (Python 3.11); nearest with a wheel: 1.0`."""
        what = f"{self.name} {self.version}" if self.version else self.name
        text = f"{what} has no wheel for {target.platform} (Python {target.python})"
        near = nearest(self.version, self.available)
        if near:
            return f"{text}; nearest version with a wheel there: {near}"
        return f"{text}; no version of {self.name} has one"


@dataclass(frozen=True)
class Resolver:
    """What every pip call for a target needs: the interpreter, sources, pip and verbosity."""

    interpreter: Interpreter
    sources: Sources
    unpacked: Path | None = None
    verbosity: int = 0

    def report(
        self, target: Target, requirements: Sequence[str], constraints: Sequence[str] = (), *, no_deps: bool = False,
    ) -> tuple[dict[str, Any] | None, str]:
        """pip's installation report for the target (None when pip fails) and pip's output."""
        from reprorun.envs.installers.pip import pip_argv

        prefix = pip_argv(self.interpreter.executable, self.interpreter.short, self.unpacked)
        argv = [prefix[0], SHIM, os.path.dirname(prefix[1]), json.dumps(target.environment()), "install",
                "--dry-run", "--ignore-installed", "--no-input", "--disable-pip-version-check",
                *target.pip_args()]  # fmt: skip
        argv += self.sources.pip_args()
        if no_deps:
            argv.append("--no-deps")
        if self.verbosity <= 0:
            argv.append("--quiet")
        with tempfile.TemporaryDirectory(prefix="reprorun-target-") as folder:
            report = os.path.join(folder, "report.json")
            argv += ["--report", report]
            if constraints:
                path = os.path.join(folder, "constraints.txt")
                Path(path).write_text("\n".join(constraints) + "\n", "utf-8")
                argv += ["--constraint", path]
            argv += ["--", *requirements]
            env = processes.environ(PYTHONPATH=None, VIRTUAL_ENV=None, PIP_REQUIRE_VIRTUALENV=None,
                                    PIP_USER=None, PYTHONNOUSERSITE="1")  # fmt: skip
            result = processes.run(argv, env=env, stream=self.verbosity > 0)
            if result.returncode != 0:
                return None, result.output
            with open(report, encoding="utf-8") as handle:
                return json.load(handle), result.output

    def locate(self, target: Target, pins: Mapping[str, str]) -> tuple[list[Missing], dict[str, Any] | None]:
        """Which pins (name -> version) have no wheel on the target, and pip's report of the others.

        One pip call with `--no-deps`, and one more per pin that has no wheel (pip stops at the first).
        """
        left = dict(pins)
        found: list[Missing] = []
        while left:
            report, output = self.report(target, [f"{n}=={v}" for n, v in sorted(left.items())], no_deps=True)
            if report is not None:
                return found, report
            miss = parse_missing(output, left)
            if miss is None or miss.name not in left:
                raise NoWheel(f"pip cannot locate the pins for {target.name}:\n{_reasons(output)}",
                              hint="rerun with -v to see pip's full output")  # fmt: skip
            found.append(miss)
            del left[miss.name]
        return found, None

    def download(self, target: Target, lines: Sequence[str], dest: str, *, hashes: bool) -> None:
        """`pip download --no-deps` of requirement lines (`name==version [--hash=...]`) for the target."""
        from reprorun.envs.installers.pip import pip_argv

        argv = [*pip_argv(self.interpreter.executable, self.interpreter.short, self.unpacked), "download",
                "--no-deps", "--no-input", "--disable-pip-version-check", *target.pip_args(), *self.sources.pip_args(),
                "--dest", dest]  # fmt: skip
        if self.verbosity <= 0:
            argv.append("--quiet")
        with tempfile.TemporaryDirectory(prefix="reprorun-download-") as folder:
            path = os.path.join(folder, "requirements.txt")
            Path(path).write_text("\n".join(lines) + "\n", "utf-8")
            argv += ["--require-hashes", "-r", path] if hashes else ["-r", path]
            env = processes.environ(PYTHONPATH=None, VIRTUAL_ENV=None, PIP_REQUIRE_VIRTUALENV=None,
                                    PIP_USER=None, PYTHONNOUSERSITE="1")  # fmt: skip
            result = processes.run(argv, env=env, stream=self.verbosity > 0)
        if result.returncode != 0:
            raise NoWheel(f"could not download the wheels for {target.name}:\n{_reasons(result.output)}",
                          hint="rerun with -v to see pip's full output")  # fmt: skip

    def missing(self, target: Target, pins: Mapping[str, str]) -> list[Missing]:
        """The pins with no wheel on the target."""
        return self.locate(target, pins)[0]


def parse_missing(output: str, wanted: Mapping[str, str]) -> Missing | None:
    """The package pip found no fitting wheel for, from its output; `wanted` gives the version meant."""
    match = _NOT_FOUND.search(output)
    if match is None:
        return None
    try:
        requirement = Requirement(match["req"].split(" (from ")[0])
    except InvalidRequirement:
        return None
    name = canonicalize_name(requirement.name)
    exact = [s.version for s in requirement.specifier if s.operator in ("==", "===")]
    version = exact[0] if exact else wanted.get(name)
    available = tuple(v.strip() for v in match["versions"].split(",") if v.strip() and v.strip() != "none")
    return Missing(name, version, available)


def nearest(version: str | None, available: Sequence[str]) -> str | None:
    """The available version closest to `version` (the highest when none was wanted; ties go lower)."""
    parsed = []
    for text in available:
        try:
            parsed.append(Version(text))
        except InvalidVersion:
            continue
    if not parsed:
        return None
    ordered = sorted(set(parsed))
    if version is None:
        return str(ordered[-1])
    try:
        wanted = Version(version)
    except InvalidVersion:
        return str(ordered[-1])
    below = [v for v in ordered if v < wanted]
    above = [v for v in ordered if v > wanted]
    if not below or not above:
        return str((below or above)[-1 if below else 0])
    return str(below[-1]) if _distance(below[-1], wanted) <= _distance(wanted, above[0]) else str(above[0])


def _distance(low: Version, high: Version) -> int:
    """How far apart two versions are, each release part weighing a million of the next."""

    def number(version: Version) -> int:
        parts = (*version.release[:4], *(0,) * (4 - len(version.release[:4])))
        return sum(part * 10 ** (6 * (3 - i)) for i, part in enumerate(parts))

    return abs(number(high) - number(low))


def wheel_of(item: Mapping[str, Any]) -> tuple[str, str, str | None]:
    """(file name, URL, sha256) of one item of pip's report."""
    info = item.get("download_info") or {}
    url = str(info.get("url", ""))
    sha256 = ((info.get("archive_info") or {}).get("hashes") or {}).get("sha256")
    return url.rsplit("/", 1)[-1].split("#", maxsplit=1)[0], url, sha256


def failure_lines(target: Target, output: str, wanted: Mapping[str, str], resolver: Resolver,
                  constraints: Mapping[str, str]) -> list[str]:  # fmt: skip
    """What a failed target lacks: each package without a wheel there, else pip's own reasons."""
    miss = parse_missing(output, wanted)
    found = [miss] if miss is not None else resolver.missing(target, constraints) if constraints else []
    if found:
        return [m.describe(target) for m in found]
    return [f"{target.name}: pip could not resolve the block:", *_reasons(output).splitlines()]


def _reasons(output: str) -> str:
    reasons = [ln.strip() for ln in output.splitlines() if re.match(r"\s*(ERROR[:(]|error:|\s*cause:)", ln)]
    return "\n".join(f"  {line}" for line in dict.fromkeys(reasons or output.splitlines()[-5:]))

"""What every installer backend shares: the request, the protocol, and how a failure is told."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from reprorun import processes
from reprorun.envs.installers.sources import Sources
from reprorun.envs.interpreters import Interpreter
from reprorun.errors import BuildError
from reprorun.script.requirements import canonical_name


@dataclass(frozen=True)
class InstallRequest:
    """What to install and from where; with hashes, every distribution must match one."""

    requirements: tuple[str, ...]
    sources: Sources
    hashes: Mapping[str, tuple[str, ...]]
    report: Path | None = None
    # Given each line of the installer's output as it comes (progress.py); the installer then
    # runs without --quiet, its output read rather than shown.
    watch: Callable[[str], None] | None = field(default=None, compare=False)

    def run(self, argv: list[str], env: dict[str, str], verbosity: int, quiet_added: bool = False) -> processes.Result:
        """Run an installer command: watched, streamed (-v) or quiet (`quiet_added`: argv says so already)."""
        if self.watch is None and verbosity <= 0 and not quiet_added:
            argv = [*argv, "--quiet"]
        return processes.run(argv, env=env, stream=verbosity > 0 and self.watch is None, on_line=self.watch)


class Backend(Protocol):
    """Creates an environment and installs requirements into it."""

    name: str

    def build(
        self, dest: Path, interpreter: Interpreter, request: InstallRequest | None, app_data: Path, verbosity: int
    ) -> int:
        """Create the env at dest (an empty folder) and install the request into it; return how many
        packages were installed. The env is isolated from user site-packages."""


def requirement_args(dest: Path, request: InstallRequest) -> list[str]:
    """The requirements as installer arguments; with hashes, a `--require-hashes` file in the env."""
    if not request.hashes:
        return list(request.requirements)
    requirement_file = dest / "reprorun-requirements.txt"
    requirement_file.write_text(hashed_requirements(request.requirements, request.hashes), "utf-8")
    return ["--require-hashes", "-r", str(requirement_file)]


def hashed_requirements(requirements: Sequence[str], hashes: Mapping[str, tuple[str, ...]]) -> str:
    """A requirements file in which every pinned requirement carries its `--hash` options."""
    from packaging.utils import canonicalize_name

    by_name = {canonicalize_name(name): values for name, values in hashes.items()}
    lines = []
    for text in requirements:
        name = canonical_name(text)
        options = " ".join(f"--hash={h}" for h in by_name.get(name, ()))
        lines.append(f"{text} {options}".rstrip())
    return "\n".join(lines) + "\n"


def install_error(requirements: Sequence[str], result: processes.Result, no_build: bool = False) -> BuildError:
    """One clear error from a failed install: pip's own reason lines, not its whole output; with
    `no_build`, the packages that had no wheel, by name."""
    if no_build:
        found = re.findall(r"No matching distribution found for ([\w.-]+)|Wheels are required for `([\w.-]+)`"
                           r"|([\w.-]+)==\S+ has no usable wheels", result.output)  # fmt: skip
        names = list(dict.fromkeys(name for match in found for name in match if name))
        if names:
            return BuildError(
                f"--no-build: no wheel of {', '.join(names)} to install, and building from source is refused",
                hint="provide a wheel (the site's wheelhouse, --find-links), or build it: drop --no-build "
                "(config: no-build = false)",
            )
    reasons = []
    lines = result.output.splitlines()
    for index, line in enumerate(lines):
        if re.match(r"\s*ERROR[:(]", line):  # pip: one reason per line
            reasons.append(line.strip())
        elif re.match(r"\s*error:", line):  # uv: the reason, then its indented explanation
            reasons.append(line.strip())
            reasons += [ln.rstrip() for ln in lines[index + 1 : index + 6] if ln.startswith(" ")]
    if not reasons:
        reasons = result.tail(5).splitlines()
    shown = "\n".join(f"  {line}" for line in dict.fromkeys(reasons) if line)
    listed = ", ".join(requirements) if len(requirements) <= 6 else f"{len(requirements)} requirements"
    return BuildError(
        f"could not install {listed}:\n{shown}",
        hint="rerun with -v to see the installer's full output",
    )

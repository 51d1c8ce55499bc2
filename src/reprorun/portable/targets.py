"""Target platforms: `linux-x86_64`, `cp311-macos-arm64`, ... as pip options and marker values.

A target names an operating system and a machine, and optionally a CPython version (`cp311-`);
without one it takes the Python of the interpreter that resolves. A target stands for the wheels
that install there: Linux targets accept manylinux wheels up to glibc 2.28 (what uv assumes for
`x86_64-unknown-linux-gnu`, and what current clusters run), macOS targets wheels up to macOS 12.
The machine reprorun runs on becomes a target with its own glibc or macOS version. Pure: no
subprocess, no file system.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from reprorun.errors import UsageError

# os -> machine -> (sys_platform, platform_system, platform_machine, os_name, uv's platform)
_SYSTEMS: dict[str, dict[str, tuple[str, str, str, str, str]]] = {
    "linux": {
        "x86_64": ("linux", "Linux", "x86_64", "posix", "x86_64-manylinux_{level}"),
        "aarch64": ("linux", "Linux", "aarch64", "posix", "aarch64-manylinux_{level}"),
    },
    "macos": {
        "arm64": ("darwin", "Darwin", "arm64", "posix", "aarch64-apple-darwin"),
        "x86_64": ("darwin", "Darwin", "x86_64", "posix", "x86_64-apple-darwin"),
    },
    "windows": {"x86_64": ("win32", "Windows", "AMD64", "nt", "x86_64-pc-windows-msvc")},
}
_DEFAULT_LEVEL = {"linux": (2, 28), "macos": (12, 0), "windows": (0, 0)}
_NAME = re.compile(r"^(?:cp(?P<major>3)(?P<minor>\d{1,2})-)?(?P<os>[a-z]+)-(?P<machine>[a-z0-9_]+)$")
_TAG = re.compile(r"^(?P<impl>[^-]+)-(?P<version>\d+\.\d+)[^-]*-(?P<platform>.+)$")
_MANYLINUX = re.compile(r"^(?:many|musl)linux_(\d+)_(\d+)_(?P<machine>.+)$")
_MACOSX = re.compile(r"^macosx_(\d+)_(\d+)_(?P<machine>.+)$")


@dataclass(frozen=True)
class Target:
    """One platform to resolve for: OS, machine, CPython `major.minor` (None: the resolver's own)."""

    os: str
    machine: str
    python: str | None = None
    level: tuple[int, int] | None = None  # glibc or macOS version; None: the default

    @property
    def name(self) -> str:
        """`cp311-linux-x86_64`, or `linux-x86_64` without a Python."""
        prefix = f"cp{self.python.replace('.', '')}-" if self.python else ""
        return f"{prefix}{self.os}-{self.machine}"

    @property
    def platform(self) -> str:
        """The target without its Python: `linux-x86_64`."""
        return f"{self.os}-{self.machine}"

    def with_python(self, python: str) -> Target:
        """The target with a Python version (`3.11`), unless it names one already."""
        return self if self.python else replace(self, python=python)

    def platform_tags(self) -> list[str]:
        """The wheel platform tags that install here, most specific first (for pip's --platform)."""
        machine = self.machine
        major, minor = self.level or _DEFAULT_LEVEL[self.os]
        if self.os == "linux":
            tags = [f"manylinux_{major}_{m}_{machine}" for m in range(minor, 16, -1)] if major == 2 else []
            return [*tags, f"manylinux2014_{machine}"] + (
                [f"manylinux2010_{machine}", f"manylinux1_{machine}"] if machine == "x86_64" else []
            )
        if self.os == "macos":
            versions = [(v, 0) for v in range(major, 10, -1)]
            versions += [(10, m) for m in range(16 if major > 10 else minor, 8, -1)]
            arches = ["arm64", "universal2"] if machine == "arm64" else ["x86_64", "intel", "universal2"]
            return [f"macosx_{a}_{b}_{arch}" for a, b in versions for arch in arches]
        return ["win_amd64"]

    def pip_args(self) -> list[str]:
        """pip's options that resolve for this target from wheels alone."""
        assert self.python, "a target resolves with a Python version"
        args = ["--only-binary=:all:", "--implementation", "cp", "--python-version", self.python,
                "--abi", f"cp{self.python.replace('.', '')}"]  # fmt: skip
        for tag in self.platform_tags():
            args += ["--platform", tag]
        return args

    def uv_args(self) -> list[str]:
        """uv's options that say the same (`uv pip compile`)."""
        assert self.python, "a target resolves with a Python version"
        major, minor = self.level or _DEFAULT_LEVEL[self.os]
        platform = _SYSTEMS[self.os][self.machine][4].format(level=f"{major}_{min(max(minor, 17), 40)}")
        return ["--only-binary", ":all:", "--python-platform", platform, "--python-version", self.python]

    def environment(self) -> dict[str, str]:
        """PEP 508 marker values on this target (those a resolution can know)."""
        assert self.python, "a target's markers need its Python version"
        sys_platform, system, machine, os_name, _ = _SYSTEMS[self.os][self.machine]
        return {
            "implementation_name": "cpython", "platform_python_implementation": "CPython",
            "python_version": self.python, "python_full_version": f"{self.python}.0",
            "implementation_version": f"{self.python}.0", "os_name": os_name, "sys_platform": sys_platform,
            "platform_system": system, "platform_machine": machine, "platform_release": "", "platform_version": "",
        }  # fmt: skip


def parse(text: str) -> Target:
    """A target from its name; a name reprorun does not know is a usage error listing those it does."""
    match = _NAME.match(text.strip().lower())
    if not match or match["os"] not in _SYSTEMS or match["machine"] not in _SYSTEMS[match["os"]]:
        known = ", ".join(f"{o}-{m}" for o, machines in _SYSTEMS.items() for m in machines)
        raise UsageError(f"unknown target {text!r}",
                         hint=f"targets are {known}, optionally with a Python: cp311-linux-x86_64")  # fmt: skip
    python = f"{match['major']}.{match['minor']}" if match["major"] else None
    return Target(match["os"], match["machine"], python)


def parse_all(texts: Iterable[str]) -> list[Target]:
    """Parse several targets, dropping repeats (order kept)."""
    return list({t.name: t for t in map(parse, texts)}.values())


def from_tag(tag: str) -> Target | None:
    """The target of an interpreter tag (`cpython-3.11.7-manylinux_2_36_x86_64`), or None if unknown."""
    match = _TAG.match(tag)
    if not match or match["impl"] != "cpython":
        return None
    platform = match["platform"]
    if found := _MANYLINUX.match(platform):
        os, machine, level = "linux", found["machine"], (int(found[1]), int(found[2]))
    elif found := _MACOSX.match(platform):
        os, machine, level = "macos", found["machine"], (int(found[1]), int(found[2]))
    elif platform == "win_amd64":
        os, machine, level = "windows", "x86_64", None
    else:
        return None
    if machine not in _SYSTEMS[os]:
        return None
    return Target(os, machine, match["version"], level)


def frozen_for(targets: Sequence[Target]) -> str:
    """What `frozen-for` records for a multi-platform freeze: the targets, with their Python."""
    return ", ".join(t.name for t in targets)


def from_frozen_for(value: str | None) -> list[Target] | None:
    """The targets of a `frozen-for` written by `frozen_for`; None for an interpreter tag or nothing."""
    if not value or not all(_NAME.match(part.strip()) for part in value.split(",")):
        return None
    try:
        return parse_all(part for part in value.split(","))
    except UsageError:
        return None


def marker_for(chosen: Sequence[Target], every: Sequence[Target]) -> str:
    """A marker true on the `chosen` targets and false on the others of `every`, kept short.

    `sys_platform` always; `platform_machine` where one OS has several machines among the targets;
    `python_version` where the targets differ in Python. A whole OS chosen becomes one term.
    """
    machines = {t.os: {u.machine for u in every if u.os == t.os} for t in every}
    pythons = {t.python for t in every}

    def term(target: Target, whole_os: bool) -> str:
        parts = [f"sys_platform == '{_SYSTEMS[target.os][target.machine][0]}'"]
        if not whole_os and len(machines[target.os]) > 1:
            parts.append(f"platform_machine == '{_SYSTEMS[target.os][target.machine][2]}'")
        if len(pythons) > 1:
            parts.append(f"python_version == '{target.python}'")
        return " and ".join(parts)

    terms: list[str] = []
    for os in dict.fromkeys(t.os for t in chosen):
        mine = [t for t in chosen if t.os == os]
        whole = len(pythons) == 1 and {t.machine for t in mine} == machines[os]
        terms += [term(mine[0], True)] if whole else [term(t, False) for t in mine]
    terms = list(dict.fromkeys(terms))
    if len(terms) == 1:
        return terms[0]
    return " or ".join(f"({t})" if " and " in t else t for t in terms)

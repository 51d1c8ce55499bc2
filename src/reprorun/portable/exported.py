"""What every export format renders from: the pins, their hashes, the targets, and (for pylock) wheels.

`Exported` is built by `reprorun export` from a frozen block, or from a resolution made in
memory when the block is not frozen. The renderers here and in `pylock.py`/`containers.py` are
pure functions from it to the text of a file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from reprorun.portable.targets import Target

if TYPE_CHECKING:
    from reprorun.options import Options


@dataclass(frozen=True)
class Wheel:
    """One wheel file a pin installs on some target: its file name, where it is, and its sha256."""

    filename: str
    url: str
    sha256: str


@dataclass(frozen=True)
class Exported:
    """The input of every export format."""

    script: str  # the script's path, as given
    requirements: tuple[str, ...]  # the pins (with markers), and requirements kept as written
    hashes: Mapping[str, tuple[str, ...]]  # canonical name -> ["sha256:..."]; empty: none recorded
    targets: tuple[Target, ...]  # each with its Python
    frozen_for: str
    requires_python: str | None = None
    wheels: Mapping[str, tuple[Wheel, ...]] = field(default_factory=dict)  # requirement -> its wheels
    options: Options | None = None  # for formats that need reprorun's own options (slurm)
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The script's file name."""
        return re.split(r"[\\/]", self.script)[-1]

    @property
    def stem(self) -> str:
        """The script's name without `.py`."""
        return self.name[:-3] if self.name.endswith(".py") else self.name

    @property
    def python(self) -> str:
        """The `major.minor` of a Linux target (containers run Linux), else of the first target."""
        linux = [t for t in self.targets if t.os == "linux"]
        chosen = (linux or list(self.targets))[0]
        assert chosen.python is not None
        return chosen.python

    def hashes_of(self, requirement: str) -> tuple[str, ...]:
        """The recorded hashes of a requirement's package."""
        return tuple(self.hashes.get(canonicalize_name(Requirement(requirement).name), ()))


def requirement_lines(exported: Exported) -> list[str]:
    """One requirements-file line per requirement, with its `--hash` options when hashes are recorded."""
    lines = []
    for requirement in exported.requirements:
        hashes = exported.hashes_of(requirement) if exported.hashes else ()
        lines.append(" ".join([requirement, *(f"--hash={h}" for h in hashes)]))
    return lines


def requirements(exported: Exported) -> str:
    """requirements.txt: `pip install -r` (with `--require-hashes` implied when hashes are there)."""
    head = f"# Exported by reprorun from {exported.name}, frozen for {exported.frozen_for}.\n"
    body = []
    for requirement in exported.requirements:
        hashes = exported.hashes_of(requirement) if exported.hashes else ()
        body.append(" \\\n    ".join([requirement, *(f"--hash={h}" for h in hashes)]))
    return head + "".join(f"{line}\n" for line in body)


def environment_yml(exported: Exported) -> str:
    """A conda environment: the Python version, pip, and the pins in its pip section."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", exported.stem) or "script"
    pins = "".join(f"      - {json.dumps(line)}\n" for line in requirement_lines(exported))
    return (
        f"# Exported by reprorun from {exported.name}, frozen for {exported.frozen_for}.\n"
        f"# conda env create -f FILE\n"
        f"name: {name}\n"
        "channels:\n  - conda-forge\n"
        "dependencies:\n"
        f"  - python={exported.python}\n"
        "  - pip\n"
        "  - pip:\n" + pins
    )

"""Requirements adopted from another project file, for `reprorun init --from FILE`.

`requirements.txt` (pip's format), `environment.yml` (conda: its `pip:` section, and the conda
packages that have a known PyPI name), `pyproject.toml` (`[project] dependencies`) and
`pylock.toml` (PEP 751: every package pinned). Pure: text in, `Adopted` out; whatever cannot go
into a block is reported, with its line when it has one, never silently dropped.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from reprorun.errors import UsageError
from reprorun.script import conda, importnames


@dataclass(frozen=True)
class Adopted:
    """What a file gives a block: requirements in file order, requires-python, and what was left out."""

    requirements: tuple[str, ...]
    requires_python: str | None = None
    problems: tuple[str, ...] = ()


def kind_of(path: str) -> str:
    """`requirements`, `conda`, `pyproject` or `pylock`, from the file's name."""
    name = os.path.basename(path).lower()
    if name == "pyproject.toml":
        return "pyproject"
    if name == "pylock.toml" or (name.startswith("pylock.") and name.endswith(".toml")):
        return "pylock"
    if name.endswith((".yml", ".yaml")):
        return "conda"
    if name.endswith((".txt", ".in")) or "requirements" in name:
        return "requirements"
    raise UsageError(f"--from {path}: not a file reprorun can adopt",
                     hint="requirements.txt, environment.yml, pyproject.toml or pylock.toml")  # fmt: skip


def adopt(text: str, path: str) -> Adopted:
    """The requirements a file names, by its kind."""
    kind = kind_of(path)
    if kind == "requirements":
        return from_requirements_txt(text)
    if kind == "conda":
        return from_environment_yml(text, path)
    return from_pyproject(text, path) if kind == "pyproject" else from_pylock(text, path)


_OPTION_HINTS = {
    "-i": "set it as index-url under [tool.reprorun]", "--index-url": "set it as index-url under [tool.reprorun]",
    "--extra-index-url": "add it to extra-index-urls under [tool.reprorun]",
    "-f": "add it to find-links under [tool.reprorun]", "--find-links": "add it to find-links under [tool.reprorun]",
    "-r": "adopt that file too: reprorun add", "--requirement": "adopt that file too: reprorun add",
    "-c": "constraints have no place in a block", "--constraint": "constraints have no place in a block",
    "-e": "a block cannot hold an editable install", "--editable": "a block cannot hold an editable install",
}  # fmt: skip


def from_requirements_txt(text: str) -> Adopted:
    """pip's requirements format: one requirement a line, `\\` continuations, `#` comments, options."""
    found: list[str] = []
    problems: list[str] = []
    for number, line in _logical_lines(text):
        if line.startswith("-"):
            option = line.replace("=", " ", 1).partition(" ")[0]
            reason = _OPTION_HINTS.get(option, "option ignored")
            problems.append(f"line {number}: '{line}' not adopted: {reason}")
            continue
        requirement = re.split(r"\s+--?[a-z]", line, maxsplit=1)[0].strip()  # per-line options (--hash=...)
        problem = _check(requirement)
        if problem:
            problems.append(f"line {number}: {problem}")
        else:
            found.append(requirement)
    return Adopted(tuple(found), None, tuple(problems))


def _logical_lines(text: str) -> list[tuple[int, str]]:
    lines: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        line, pending = (pending + line.strip()).strip(), ""
        if line:
            lines.append((start, line))
    return lines


def _check(requirement: str) -> str | None:
    if "://" in requirement and "@" not in requirement.split("://", 1)[0]:
        return f"{requirement!r} is not a named requirement: write it as 'name @ URL'"
    try:
        Requirement(requirement)
    except InvalidRequirement as exc:
        return f"{requirement!r} is not a valid requirement: {str(exc).splitlines()[0]}"
    return None


def from_environment_yml(text: str, path: str) -> Adopted:
    """A conda environment file: its `pip:` entries, and conda packages known on PyPI by name."""
    found: list[str] = []
    problems: list[str] = []
    requires_python = None
    channels = [value for _, section, value in _yaml_items(text, path) if section == "channels"]
    for number, section, value in _yaml_items(text, path):
        if section == "pip":
            problem = _check(value)
            found += [] if problem else [value]
            problems += [f"line {number}: {problem}"] if problem else []
        elif section == "dependencies":
            requirement, problem, python = _conda_package(value)
            requires_python = requires_python or python
            found += [requirement] if requirement else []
            problems += [f"line {number}: {problem}"] if problem else []
    other = [c for c in channels if c.lower() not in ("defaults", "conda-forge")]
    if other:
        problems.append(f"channels {', '.join(other)}: conda channels have no place in a block; their packages "
                        "were adopted only when PyPI has them under the same name")  # fmt: skip
    return Adopted(tuple(found), requires_python, tuple(problems))


def _conda_package(spec: str) -> tuple[str | None, str | None, str | None]:
    """(requirement, problem, requires-python) of one conda dependency (`numpy=1.26`, `python=3.11`)."""
    exact = re.fullmatch(r"([A-Za-z0-9_.\-]+)=([^=<>!~\s]+)=\S+", spec)  # name=version=build
    word = f"{exact.group(1)}=={exact.group(2)}" if exact else spec.replace(" ", "")
    name = re.match(r"[A-Za-z0-9_.\-]+", word.split("::")[-1])
    if name and name.group().lower() == "python":
        version = word.split("::")[-1][len("python") :].lstrip("=")
        return None, None, f">={version.rstrip('.*')}" if version and version[0].isdigit() else None
    converted = conda.conda_spec(word)
    if converted is None or "::" in word:
        return None, f"{spec!r} is a conda package: not adopted", None
    if not importnames.known_distribution(Requirement(converted).name):
        return None, f"{spec!r}: no known PyPI distribution of that name: add it with reprorun add if PyPI has it", None
    problem = _check(converted)
    return (None, problem, None) if problem else (converted, None, None)


def _yaml_items(text: str, path: str) -> list[tuple[int, str, str]]:
    """(line, section, value) of the list items of an environment file: `channels`,
    `dependencies` and the `pip` list nested in `dependencies`. The subset conda writes; read
    without a YAML library, which reprorun does not depend on."""
    items: list[tuple[int, str, str]] = []
    section, pip_indent = "", -1
    for number, raw in enumerate(text.splitlines(), start=1):
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        body = line.strip()
        if indent == 0 and not body.startswith("-"):
            key = body.split(":", 1)[0].strip()
            section, pip_indent = key, -1
            if ":" not in body:
                raise UsageError(f"{path}:{number}: not an environment file line: {body!r}")
            continue
        if not body.startswith("-"):
            continue
        value = body[1:].strip().strip("'\"")
        if section == "dependencies" and re.fullmatch(r"pip\s*:", value):
            pip_indent = indent
            continue
        if pip_indent >= 0 and indent > pip_indent:
            items.append((number, "pip", value))
        else:
            pip_indent = -1
            items.append((number, section, value))
    return items


def from_pyproject(text: str, path: str) -> Adopted:
    """`[project] dependencies` and `requires-python` of a pyproject.toml."""
    project = _toml(text, path).get("project", {})
    problems = []
    if "dependencies" in project.get("dynamic", ()):
        problems.append("[project] dependencies are dynamic (computed by the build backend): none adopted")
    extras = sorted(project.get("optional-dependencies", {}))
    if extras:
        problems.append(f"optional dependencies ({', '.join(extras)}) not adopted: add the ones you need")
    found = [str(r) for r in project.get("dependencies", [])]
    problems += [p for p in map(_check, found) if p]
    return Adopted(tuple(r for r in found if not _check(r)), project.get("requires-python"), tuple(problems))


def from_pylock(text: str, path: str) -> Adopted:
    """Every package of a PEP 751 lock file, pinned to its version (with its marker)."""
    data = _toml(text, path)
    found, problems = [], []
    for package in data.get("packages", []):
        name, version = package.get("name"), package.get("version")
        if not name or not version:
            problems.append(f"package {name or '?'}: no version (a VCS or directory source): not adopted")
            continue
        marker = package.get("marker")
        found.append(f"{name}=={version}" + (f" ; {marker}" if marker else ""))
    return Adopted(tuple(found), data.get("requires-python"), tuple(problems))


def _toml(text: str, path: str) -> dict[str, Any]:
    import sys

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - 3.10
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
    try:
        data: dict[str, Any] = tomllib.loads(text)
        return data
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: invalid TOML: {exc}") from None

"""Infer a script's requirements from its `%pip install` lines, its imports and its PEP 722 comment.

A pure function over text: `infer(text, ...)` returns an `Inference` (what to put in the block, why,
what is unknown, what could not be adopted). The install lines are `installlines`' to parse, the
imports `imports`' to find; the one look at the environment, `importnames.installed_distributions()`,
is the caller's to pass in as `installed`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from reprorun.script import importnames, metadata
from reprorun.script.imports import find_imports
from reprorun.script.installlines import pip_installs


@dataclass(frozen=True)
class Inference:
    """What `reprorun init --infer` proposes: requirements (sorted), why each, and what is unclear.

    `requirements` are PEP 508 strings, one per canonical name (block or PEP 722 entries first,
    then `%pip` lines, then imports); `reasons` maps each requirement's canonical name to why it is
    there; `unknown` holds import names nobody could map; `pip_lines` the 1-based lines of the
    install lines whose requirements were adopted; `problems` everything left out, with its line;
    `guessed` the requirements proposed under the import's own name (for the user to confirm).
    """

    requirements: tuple[str, ...] = ()
    reasons: Mapping[str, str] = field(default_factory=dict)
    unknown: tuple[str, ...] = ()
    pip_lines: tuple[int, ...] = ()
    problems: tuple[str, ...] = ()
    guessed: tuple[str, ...] = ()  # canonical names proposed only because the import has that name


def infer(
    text: str,
    path: str = "<script>",
    *,
    local: Collection[str] = (),
    installed: Mapping[str, list[str]] | None = None,
    where: Callable[[int], str] = "line {}".format,
) -> Inference:
    """Infer the requirements of a script (or of a notebook's code cells joined as text).

    `local` holds top-level names of the script's own modules (`importnames.local_modules`),
    `installed` the current environment's import->distribution map (`importnames.
    installed_distributions()`), or None to consult only reprorun's table. An import neither
    the table, the install lines nor the environment explain is proposed under its own name when
    that is a valid distribution name (`kagglehub`, `pytorch_lightning`), marked "guessed: same
    name"; it is unknown only when several installed distributions provide it.
    `where` names a line in messages (`notebooks.locator(raw)` names a notebook's cell and line).
    Raise `MetadataError` if the script's existing block is invalid.
    """
    chosen: dict[str, tuple[str, str]] = {}  # canonical name -> (requirement, reason)
    problems: list[str] = []
    existing = metadata.parse(text, path)
    for requirement in existing.dependencies:
        kind = "the script block" if existing.source == "pep723" else "the PEP 722 comment"
        chosen[_canonical(requirement)] = (requirement, f"already in {kind}")
    pip_lines = _adopt_pip_lines(text, chosen, problems, where)
    adopted = {name for name, (_, reason) in chosen.items() if not reason.startswith("already")}
    unknown: list[str] = []
    guessed: list[str] = []
    imports = sorted(find_imports(text, problems, where), key=lambda found: found[2])  # optional last
    for module, line, optional in imports:
        top = importnames.top_level(module)
        if importnames.is_stdlib(module) or top in local:
            continue
        if any(p in chosen for p in importnames.providers(module)):
            continue
        if optional:
            problems.append(f"{where(line)}: 'import {module}' is inside try/except ImportError: left out")
            continue
        if importnames.lookup(module) is None and _adopted_provider(module, adopted):
            continue  # `import tensorflow_serving` with `%pip install tensorflow-serving-api`
        found = _distribution(module, installed)
        if found is None:
            problems.extend(_ambiguity(module, where(line), installed))
            unknown.extend([top] if top not in unknown else [])
        elif canonicalize_name(found[0]) not in chosen:
            why = f"import {module} ({where(line)}): {found[1]}"
            if found[1] == GUESSED:
                why = f"{GUESSED}: import {module} ({where(line)}): not in reprorun's table, not installed here"
                guessed.append(canonicalize_name(found[0]))
            chosen[canonicalize_name(found[0])] = (found[0], why)
    ordered = sorted(chosen.items())
    return Inference(
        requirements=tuple(requirement for _, (requirement, _) in ordered),
        reasons={name: reason for name, (_, reason) in ordered},
        unknown=tuple(unknown),
        pip_lines=tuple(pip_lines),
        problems=tuple(dict.fromkeys(problems)),
        guessed=tuple(guessed),
    )


def _adopted_provider(module: str, adopted: Collection[str]) -> bool:
    """Whether an adopted install line names a distribution that, by its name, provides the
    module: `tensorflow-serving-api` for `tensorflow_serving`, `python-foo` or `foo-client` for
    `foo` (only asked for imports reprorun's table does not know)."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        name = canonicalize_name("-".join(parts[:end]))
        if any(a == name or a.startswith(name + "-") or a in (f"python-{name}", f"py{name}") for a in adopted):
            return True
    return False


def _adopt_pip_lines(
    text: str, chosen: dict[str, tuple[str, str]], problems: list[str], where: Callable[[int], str]
) -> list[int]:
    """Add the install lines' requirements to `chosen` (a later line wins); their line numbers."""
    pip_lines = []
    for install in pip_installs(text):
        problems.extend(f"{where(install.line)}: {p}" for p in install.problems)
        if install.requirements:
            pip_lines.append(install.line)
        for requirement in install.requirements:
            name = _canonical(requirement)
            previous = chosen.get(name)
            if previous and previous[1].startswith("already"):
                continue
            if previous and previous[0] != requirement:
                problems.append(f"{where(install.line)}: {requirement!r} replaces {previous[0]!r} of an earlier line")
            chosen[name] = (requirement, f"'{install.command}' ({where(install.line)})")
    return pip_lines


def _ambiguity(module: str, line: str, installed: Mapping[str, list[str]] | None) -> list[str]:
    candidates = sorted(set(installed.get(importnames.top_level(module), ()))) if installed else []
    if len(candidates) < 2:
        return []
    return [f"{line}: '{module}' is provided by several installed distributions ({', '.join(candidates)})"]


GUESSED = "guessed: same name"
_DISTRIBUTION_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")  # PEP 508 names


def _distribution(module: str, installed: Mapping[str, list[str]] | None) -> tuple[str, str] | None:
    top = importnames.top_level(module)
    from_env = sorted(set(installed.get(top, ()))) if installed else []
    found = importnames.lookup(module)
    if found is not None and found[0] == found[1]:
        return found[0], "a known distribution of the same name"
    if found is not None:
        return found[0], f"reprorun's table: import {found[1]} comes from {found[0]}"
    if len(from_env) == 1:
        return from_env[0], "provided by an installed distribution"
    if not from_env and _DISTRIBUTION_NAME.match(top):
        return canonicalize_name(top), GUESSED
    return None


def _canonical(requirement: str) -> str:
    return canonicalize_name(Requirement(requirement).name)

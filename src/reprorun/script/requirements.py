"""PEP 508 requirements, parsed once per text: every module asks here instead of calling `Requirement`.

packaging's parser is the slowest step of reading a block (a tokenizer and about thirty regular
expressions), and one invocation looks at the same strings from several places (validation, the
key, freeze's plan, `check`). Parsed objects are cached by their exact text and treated as
read-only by every caller.

The plainest spellings (a bare name, `name==1.2`, `name>=2`; `requires-python = ">=3.10"`) are
read here without packaging, whose import is a third of a cold build's own work (docs/
performance.md): `plain` and `fits` give packaging's answer for them and ask packaging for
anything else. `InvalidRequirement` and `Requirement` are packaging's, imported when first named.
"""

from __future__ import annotations

import operator
import re
from functools import lru_cache

TYPE_CHECKING = False  # not typing's: a stdlib-only first run may read requirements here without it
if TYPE_CHECKING:
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import NormalizedName

__all__ = ["InvalidRequirement", "Requirement", "canonical_name", "canonicalize", "exact_version", "fits",
           "is_loose", "normalize", "parse", "plain", "plain_specifier"]  # fmt: skip

# What packaging accepts and reads the same way: a PEP 508 name (first and last character a letter
# or digit), then at most one clause whose version is a plain release (no wildcard, no pre-, post-,
# dev- or local part), with no space anywhere; `~=` and `===` are left to packaging.
_RELEASE = r"[0-9]+(?:\.[0-9]+)*"
_PLAIN = re.compile(rf"([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)((?:==|!=|>=|<=|>|<){_RELEASE})?")
_CLAUSE = re.compile(rf"\s*(==|!=|>=|<=|>|<)\s*({_RELEASE})\s*")
_FINAL = re.compile(_RELEASE)


def __getattr__(name: str) -> object:
    """packaging's `InvalidRequirement` and `Requirement`, imported when first named."""
    if name in ("InvalidRequirement", "Requirement"):
        from packaging import requirements

        return getattr(requirements, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@lru_cache(maxsize=4096)
def parse(text: str) -> Requirement:
    """A PEP 508 requirement, parsed once per text and process (read-only: it is shared)."""
    from packaging.requirements import Requirement

    return Requirement(text)


def canonicalize(name: str) -> NormalizedName:
    """A distribution name's canonical form (PEP 503), as packaging's `canonicalize_name` gives it."""
    value = name.lower().replace("_", "-").replace(".", "-")
    while "--" in value:
        value = value.replace("--", "-")
    return value  # type: ignore[return-value]


def canonical_name(text: str) -> NormalizedName:
    """The requirement's canonical distribution name: `Foo_Bar[x]>=1` -> `foo-bar`."""
    found = _PLAIN.fullmatch(text)
    return canonicalize(found.group(1) if found else parse(text).name)


def exact_version(requirement: Requirement) -> str | None:
    """The version of an `==`/`===` pin (without wildcards), else None."""
    specs = list(requirement.specifier)
    if requirement.url or len(specs) != 1 or specs[0].operator not in ("==", "===") or "*" in specs[0].version:
        return None
    return specs[0].version


def is_loose(text: str) -> bool:
    """Neither an exact pin nor a direct reference (`name @ url`)."""
    requirement = parse(text)
    return exact_version(requirement) is None and requirement.url is None


def plain(text: str) -> str | None:
    """`normalize(text)` when the text is valid in its plainest spelling (`name`, `name>=1.2`), read
    without packaging; None when packaging must judge it (which may find it valid or not)."""
    found = _PLAIN.fullmatch(text)
    return canonicalize(found.group(1)) + (found.group(2) or "") if found else None


@lru_cache(maxsize=4096)
def normalize(text: str) -> str:
    """One spelling per meaning: canonical name, sorted extras and specifiers, normalized marker."""
    quick = plain(text)
    if quick is not None:
        return quick
    req = parse(text)
    out: str = canonicalize(req.name)
    if req.extras:
        out += "[" + ",".join(sorted(canonicalize(e) for e in req.extras)) + "]"
    if req.url:
        out += f" @ {req.url}"
    else:
        out += ",".join(sorted(str(s) for s in req.specifier))
    if req.marker is not None:
        out += f" ; {req.marker}"
    return out


def plain_specifier(text: str) -> list[tuple[str, tuple[int, ...]]] | None:
    """A version specifier such as `>=3.10` or `>= 3.9, <3.13` as (operator, release) pairs, the
    release without trailing zeros; None unless every clause is that plain (packaging then judges)."""
    clauses = []
    for part in text.split(","):
        found = _CLAUSE.fullmatch(part)
        if found is None:
            return None
        clauses.append((found.group(1), _release(found.group(2))))
    return clauses


def fits(specifier: str | None, version: str) -> bool:
    """Whether a version (an interpreter's) satisfies a specifier (`requires-python`), pre-releases
    included: packaging's `SpecifierSet(specifier).contains(version, prereleases=True)`."""
    clauses = plain_specifier(specifier) if specifier else []
    if clauses is None or not _FINAL.fullmatch(version):
        from packaging.specifiers import SpecifierSet

        return SpecifierSet(specifier or "").contains(version, prereleases=True)
    mine = _release(version)
    return all(_COMPARE[sign](mine, release) for sign, release in clauses)


def _release(version: str) -> tuple[int, ...]:
    """A plain release as numbers without trailing zeros: 3.10.0 and 3.10 compare equal, as in PEP 440."""
    numbers = [int(part) for part in version.split(".")]
    while numbers and numbers[-1] == 0:
        numbers.pop()
    return tuple(numbers)


# For a final version against a plain release, PEP 440's rules about pre-, post- and local
# versions never apply: each operator is the comparison of the padded releases.
_COMPARE = {"==": operator.eq, "!=": operator.ne, ">=": operator.ge, "<=": operator.le, ">": operator.gt,
            "<": operator.lt}  # fmt: skip

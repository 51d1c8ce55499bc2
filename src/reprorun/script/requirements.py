"""PEP 508 requirements, parsed once per text: every module asks here instead of calling `Requirement`.

packaging's parser is the slowest step of reading a block (a tokenizer and about thirty regular
expressions), and one invocation looks at the same strings from several places (validation, the
key, freeze's plan, `check`). Parsed objects are cached by their exact text and treated as
read-only by every caller.
"""

from __future__ import annotations

from functools import lru_cache

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name

__all__ = ["InvalidRequirement", "Requirement", "canonical_name", "exact_version", "is_loose", "normalize", "parse"]


@lru_cache(maxsize=4096)
def parse(text: str) -> Requirement:
    """A PEP 508 requirement, parsed once per text and process (read-only: it is shared)."""
    return Requirement(text)


def canonical_name(text: str) -> NormalizedName:
    """The requirement's canonical distribution name: `Foo_Bar[x]>=1` -> `foo-bar`."""
    return canonicalize_name(parse(text).name)


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


@lru_cache(maxsize=4096)
def normalize(text: str) -> str:
    """One spelling per meaning: canonical name, sorted extras and specifiers, normalized marker."""
    req = parse(text)
    out: str = canonicalize_name(req.name)
    if req.extras:
        out += "[" + ",".join(sorted(canonicalize_name(e) for e in req.extras)) + "]"
    if req.url:
        out += f" @ {req.url}"
    else:
        out += ",".join(sorted(str(s) for s in req.specifier))
    if req.marker is not None:
        out += f" ; {req.marker}"
    return out

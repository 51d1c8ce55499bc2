"""The simplest blocks, read without a TOML parser or `packaging` (the first run's lean build).

A first run of a script whose block asks for nothing (launch/firstrun.py) must know two things
before it may skip the command line: that the block says nothing beyond `requires-python` and an
empty `dependencies`, and whether the interpreter fits `requires-python`. The TOML reader and
packaging's specifiers cost more to import than the whole lean build. So this module reads that
one narrow form, which is always valid TOML, and the plain specifiers (`>=3.10`, `<3.13`,
`==3.11.*`, `~=3.10`, `!=3.12.1`) that packaging decides the same way for a final release; for
anything else it answers None, and the full path reads the block as it always does (with its
errors and warnings). tests/test_firstrun.py compares both with tomllib and packaging.
"""

from __future__ import annotations

_OPERATORS = ("~=", "==", "!=", "<=", ">=", "<", ">")  # two-character ones first
_BLANKS = " \t"


def requires_python(content: str) -> str | None:
    """The block's `requires-python` ("" when it has none) if the block's TOML `content` is only
    that and an empty `dependencies`, with comments and blank lines; None for anything else."""
    if any((char < " " and char not in "\t\n") or char == "\x7f" for char in content):
        return None  # control characters (CR too): TOML refuses some, tomllib decides
    seen: dict[str, str] = {}
    for raw in content.split("\n"):
        line = raw.strip(_BLANKS)
        if not line or line.startswith("#"):
            continue
        key, equals, value = line.partition("=")
        key, value = key.strip(_BLANKS), value.strip(_BLANKS)
        if not equals or key in seen:
            return None
        if key == "dependencies":
            close = value.find("]")
            if not value.startswith("[") or close < 0 or value[1:close].strip(_BLANKS):
                return None
            rest = value[close + 1 :]
        elif key == "requires-python" and value[:1] in ("'", '"'):
            close = value.find(value[0], 1)
            if close < 0 or "\\" in value[1:close] or value[1:3] == value[0] * 2:
                return None  # an escape, or a multi-line string
            seen[key] = value[1:close]
            rest = value[close + 1 :]
        else:
            return None
        rest = rest.strip(_BLANKS)
        if rest and not rest.startswith("#"):
            return None
        seen.setdefault(key, "")
    found = seen.get("requires-python")
    if found is not None and not found.strip(_BLANKS):
        return None  # an empty specifier: rare; the full path decides
    return found or ""


def fits(specifiers: str, version: str) -> bool | None:
    """Whether a final release `version` (`3.11.7`) satisfies `specifiers` as packaging's
    `SpecifierSet(specifiers).contains(version, prereleases=True)` says; None when unsure."""
    if not specifiers:
        return True
    candidate = _release(version)
    if candidate is None:
        return None
    answer = True
    for written in specifiers.split(","):
        clause = written.strip(_BLANKS)
        operator = next((op for op in _OPERATORS if clause.startswith(op)), None)
        if operator is None or clause.startswith("==="):
            return None
        text = clause[len(operator) :].strip(_BLANKS)
        wildcard = text.endswith(".*")
        if wildcard:
            if operator not in ("==", "!="):
                return None
            text = text[:-2]
        wanted = _release(text)
        if wanted is None or (operator == "~=" and len(wanted) < 2):
            return None
        answer = _matches(operator, candidate, wanted, wildcard) and answer
    return answer


def _matches(operator: str, candidate: tuple[int, ...], wanted: tuple[int, ...], wildcard: bool) -> bool:
    if wildcard:  # a prefix match, the candidate padded with zeros to the prefix's length
        same = _padded(candidate, len(wanted))[: len(wanted)] == wanted
        return same if operator == "==" else not same
    order = _compare(candidate, wanted)
    if operator == "~=":
        prefix = wanted[:-1]
        return order >= 0 and _padded(candidate, len(prefix))[: len(prefix)] == prefix
    return {"==": order == 0, "!=": order != 0, "<=": order <= 0, ">=": order >= 0, "<": order < 0,
            ">": order > 0}[operator]  # fmt: skip


def _release(text: str) -> tuple[int, ...] | None:
    """`3.11.7` as numbers; None for anything else (pre-releases, epochs, local parts, leading zeros)."""
    parts = text.split(".")
    if not all(part.isascii() and part.isdigit() and (part == "0" or part[0] != "0") for part in parts):
        return None
    return tuple(int(part) for part in parts)


def _padded(release: tuple[int, ...], length: int) -> tuple[int, ...]:
    return release + (0,) * (length - len(release))


def _compare(left: tuple[int, ...], right: tuple[int, ...]) -> int:
    """-1, 0 or 1, as packaging orders two releases (trailing zeros do not count)."""
    length = max(len(left), len(right))
    a, b = _padded(left, length), _padded(right, length)
    return (a > b) - (a < b)


def may_have_install_lines(text: str) -> bool:
    """Whether a script without a block may have `%pip install`-like lines, which the full path
    tells the user about (script/installlines.py): a cheap, generous test."""
    if "install" not in text:
        return False
    return any("install" in line and ("%" in line or "!" in line) for line in text.splitlines())

"""TOML as reprorun writes it into a block: strings, arrays one item per line, and the comments
users wrote inside arrays (kept when reprorun rewrites them)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

INDENT = "    "
WIDTH = 100  # the widest single-line `requested` array, counted with its "# " prefix
_VIA = re.compile(r"^via [^;]*(?:;\s*(?P<rest>.*))?$")


@dataclass(frozen=True)
class Line:
    """One item of a rendered `dependencies` array: a requirement and its trailing comment."""

    requirement: str
    comment: str | None = None



def toml_string(value: str) -> str:
    """A TOML string for value: basic when it needs no escapes, else literal, else escaped."""
    if not re.search(r'["\\\x00-\x1f\x7f]', value):
        return f'"{value}"'
    if "'" not in value and not re.search(r"[\x00-\x1f\x7f]", value):
        return f"'{value}'"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\u{ord(m.group()):04x}", escaped)
    return f'"{escaped}"'


def render_array(key: str, lines: Sequence[Line], *, inline_if_fits: bool = False) -> str:
    """`key = [...]`: one item per line (each with its comment), or `[]`, or inline if asked."""
    if not lines:
        return f"{key} = []\n"
    if inline_if_fits and all(line.requirement and not line.comment for line in lines):
        inline = f"{key} = [{', '.join(toml_string(line.requirement) for line in lines)}]"
        if len(inline) + 2 <= WIDTH:
            return inline + "\n"
    body = "".join(
        f"{INDENT}# {line.comment}\n" if not line.requirement else
        f"{INDENT}{toml_string(line.requirement)}," + (f"  # {line.comment}" if line.comment else "") + "\n"
        for line in lines
    )  # fmt: skip
    return f"{key} = [\n{body}]\n"


@dataclass(frozen=True)
class ItemComments:
    """The comments a user wrote inside an array: on an item's line, and on lines of their own."""

    by_item: tuple[tuple[str, str], ...]  # (item, comment) in order
    standalone: tuple[str, ...]

    def user_part(self, comment: str) -> str | None:
        """The part of a comment that is the user's own (reprorun's `via ...` prefix removed)."""
        match = _VIA.match(comment)
        if match is None:
            return comment
        return match.group("rest") or None


def array_comments(content: str, key: str = "dependencies") -> ItemComments:
    """The comments inside a top-level array of the block's TOML (empty when there is none)."""
    import tomlkit

    doc = tomlkit.parse(content)
    if key not in doc:
        return ItemComments((), ())
    return _scan_array(doc[key].as_string())


def _scan_array(text: str) -> ItemComments:
    """Walk an array's TOML text: strings, commas, comments and newlines."""
    import tomlkit

    by_item: list[tuple[str, str]] = []
    standalone: list[str] = []
    last_on_line: str | None = None
    i = 1  # skip "["
    while i < len(text):
        char = text[i]
        if char == "\n":
            last_on_line = None
            i += 1
        elif char in "\"'":
            end = _string_end(text, i)
            last_on_line = str(tomlkit.parse("v = " + text[i:end])["v"])
            i = end
        elif char == "#":
            end = text.find("\n", i)
            end = len(text) if end < 0 else end
            comment = text[i + 1 : end].strip()
            if last_on_line is not None:
                by_item.append((last_on_line, comment))
            elif comment:
                standalone.append(comment)
            i = end
        else:
            i += 1
    return ItemComments(tuple(by_item), tuple(standalone))


def _string_end(text: str, start: int) -> int:
    quote = text[start]
    if text.startswith(quote * 3, start):
        end = text.find(quote * 3, start + 3)
        while text.startswith(quote, end + 3):  # up to two quotes may close the content
            end += 1
        return end + 3
    i = start + 1
    while i < len(text) and text[i] != quote:
        i += 2 if quote == '"' and text[i] == "\\" else 1
    return i + 1

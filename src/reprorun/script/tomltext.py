"""The block's TOML: a nesting guard, parsing with compiler-style errors, and its values' names and JSON form."""

from __future__ import annotations

import datetime as dt
import math
import re
import sys
from typing import Any

from reprorun.errors import MetadataError
from reprorun.script.blocks import Block, split_lines

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

MAX_NESTING = 64  # levels of arrays and tables a block may nest (Python's parsers recurse)
_TOML_POS = re.compile(r"\(at line (\d+), column (\d+)\)")


def nesting(content: str) -> tuple[int, int]:  # noqa: PLR0912 - one pass over hostile text
    """How deep TOML text nests arrays, inline tables and dotted table names, and the line where it
    is deepest; linear, and quotes are skipped (an estimate for hostile input, exact for sane)."""
    depth = deepest = where = 0
    quote = ""
    line = 1
    escaped = False
    for char in content:
        if char == "\n":
            line += 1
            quote = ""  # a one-line string or a comment ends here (the parser judges the rest)
        if quote:
            if escaped:
                escaped = False
            elif char == "\\" and quote == '"':
                escaped = True
            elif char == quote:
                quote = ""
            continue
        if char in "\"'":
            quote = char
        elif char == "#":
            quote = "\n"  # a comment: skipped to the end of its line
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth = max(depth - 1, 0)
        if depth > deepest:
            deepest, where = depth, line
    for number, header in enumerate(content.splitlines(), 1):
        if header.lstrip().startswith("[") and header.count(".") + 1 > deepest:
            deepest, where = header.count(".") + 1, number
    return deepest, where


def load(block: Block, text: str, path: str) -> dict[str, Any]:
    deepest, line = nesting(block.content)
    if deepest > MAX_NESTING:
        file_line = block.content_line(line)
        raise MetadataError(
            f"the script block nests {deepest} levels deep; at most {MAX_NESTING} are allowed",
            path=path, line=file_line, source_line=line_of(text, file_line)[:200],
        )  # fmt: skip
    try:
        data: dict[str, Any] = tomllib.loads(block.content)
    except RecursionError:  # a guard above should make this unreachable; never a crash
        raise MetadataError("the script block nests too deeply", path=path, line=block.start_line) from None
    except tomllib.TOMLDecodeError as exc:
        reason = _TOML_POS.sub("", str(exc)).strip()
        pos = _TOML_POS.search(str(exc))
        last = block.end_line - block.start_line - 1 or 1
        # "(at end of document)" errors (an unclosed array or string) name no line: the last one.
        line, column = (int(pos.group(1)), int(pos.group(2))) if pos else (last, None)
        line = min(max(line, 1), last)
        file_line = block.content_line(line)
        source_line = line_of(text, file_line)
        hint = None
        if source_line.startswith("# ///"):
            # The block closes at the *last* '# ///' of a comment run (PEP 723), so an earlier one
            # meant as the end is read as TOML; a non-comment line after it makes it the end.
            hint = (
                "a '# ///' line is inside the block; "
                "to end the block there, follow it with a blank line"
            )
        raise MetadataError(
            f"invalid TOML in the script block: {reason}",
            path=path,
            line=file_line,
            source_line=source_line,
            column=None if column is None else column + 1,
            hint=hint,
        ) from None
    return data


def line_of(text: str, number: int) -> str:
    lines = split_lines(text)
    return lines[number - 1][1] if 0 < number <= len(lines) else ""


def toml_type(value: object) -> str:
    """The TOML type of a parsed value, with its article ("an integer")."""
    names = {
        bool: "a boolean", int: "an integer", float: "a float", str: "a string", list: "an array",
        dict: "a table", dt.datetime: "a date-time", dt.date: "a date", dt.time: "a time of day",
    }  # fmt: skip
    return names.get(type(value), f"a {type(value).__name__}")


def jsonable(value: object) -> object:
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # TOML's nan and inf have no JSON form: their TOML spelling, as a string
    return value

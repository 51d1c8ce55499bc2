"""Parse and validate a script's inline metadata: a pure function of the script's text.

The `script` block (PEP 723) is TOML with `requires-python`, `dependencies` and `[tool.*]`
tables; reprorun's own settings live in `[tool.reprorun]`. A script with no `script` block may
still carry the rejected PEP 722 `# Script Dependencies:` comment, which is read as a fallback.
Every invalid case raises `MetadataError` naming the file's line; everything doubtful but usable
comes back as a `Notice` for the caller to show.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Literal

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from reprorun.errors import MetadataError
from reprorun.script.blocks import Block, scan, split_lines
from reprorun.script.nearmiss import near_misses, uv_table

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

KNOWN_FIELDS = ("requires-python", "dependencies", "tool")
SETTINGS_KEYS = (
    "requested", "frozen-for", "exclude-newer", "index-url", "extra-index-urls", "find-links",
    "hashes", "record", "targets",
)  # fmt: skip
HASH_RE = re.compile(r"sha256:[0-9a-f]{64}")
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?")
MAX_NESTING = 64  # levels of arrays and tables a block may nest (Python's parsers recurse)
_TOML_POS = re.compile(r"\(at line (\d+), column (\d+)\)")
_PEP722_MARKER = re.compile(r"(?i)^#\s+script\s+dependencies:\s*$")


@dataclass(frozen=True)
class Notice:
    """Something worth telling the user that does not stop the run."""

    line: int
    message: str
    hint: str | None = None


@dataclass(frozen=True)
class Settings:
    """The validated `[tool.reprorun]` table."""

    requested: tuple[str, ...] | None = None
    frozen_for: str | None = None
    exclude_newer: str | None = None
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    hashes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    record: str | None = None  # record every run in this folder (relative: to the script's)
    targets: tuple[str, ...] = ()  # the platforms `--freeze` resolves for (DESIGN §7)


@dataclass(frozen=True)
class Metadata:
    """What a script declares: the block (if any), its validated fields and the raw TOML."""

    path: str
    source: Literal["pep723", "pep722", "none"]
    block: Block | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    requires_python: str | None = None
    dependencies: tuple[str, ...] = ()
    settings: Settings = field(default_factory=Settings)
    notices: tuple[Notice, ...] = ()
    near_misses: tuple[Notice, ...] = ()  # lines meant to open or close a block (also in notices)
    pep722_lines: tuple[int, int] | None = None  # first and last line of the PEP 722 comment read

    def to_json(self) -> dict[str, Any]:
        """The block as a JSON-ready object (dates and times as ISO 8601 strings)."""
        return _jsonable(dict(self.data))  # type: ignore[return-value]


def parse(text: str, path: str = "<script>") -> Metadata:
    """Parse a script's text; raise `MetadataError` for any invalid block."""
    result = scan(text)
    misses = tuple(Notice(*found) for found in near_misses(text, result.blocks)) if "///" in text else ()
    notices = [
        Notice(u.line, f"unclosed '# /// {u.type}' block ignored", "close it with a '# ///' line")
        for u in result.unclosed
        if not any(miss.line >= u.line for miss in misses)  # the near miss at or after it says it better
    ]
    notices += misses
    scripts = result.of_type("script")
    if len(scripts) > 1:
        second = scripts[1]
        raise MetadataError(
            f"a second 'script' block (the first is at line {scripts[0].start_line})",
            path=path,
            line=second.start_line,
            source_line=f"# /// {second.type}",
            hint="PEP 723 allows one 'script' block per file; merge them",
        )
    if not scripts:
        meta = _parse_pep722(text, path, notices)
    else:
        block = scripts[0]
        meta = _validate(_load_toml(block, text, path), block, text, path, notices)
    return replace(meta, near_misses=misses) if misses else meta


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


def _load_toml(block: Block, text: str, path: str) -> dict[str, Any]:
    deepest, line = nesting(block.content)
    if deepest > MAX_NESTING:
        file_line = block.content_line(line)
        raise MetadataError(
            f"the script block nests {deepest} levels deep; at most {MAX_NESTING} are allowed",
            path=path, line=file_line, source_line=_line(text, file_line)[:200],
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
        source_line = _line(text, file_line)
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


def _validate(
    data: dict[str, Any], block: Block, text: str, path: str, notices: list[Notice]
) -> Metadata:
    where = _Locator(block, text, path)
    for key in data:
        if key not in KNOWN_FIELDS:
            notices.append(Notice(where.key_line(key), f"unknown field '{key}' ignored"))
    requires_python = data.get("requires-python")
    if requires_python is not None:
        if not isinstance(requires_python, str):
            raise where.error("requires-python", "'requires-python' must be a string")
        try:
            SpecifierSet(requires_python)
        except InvalidSpecifier:
            raise where.error(
                "requires-python",
                f"'requires-python' is not a valid version specifier: {requires_python!r}",
                hint="write it like \">=3.10\" or \">=3.10,<3.13\"",
            ) from None
    dependencies = _requirements(data, "dependencies", where)
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise where.error("tool", "'tool' must be a table")
    settings = _settings(tool.get("reprorun", {}), where, notices)
    uv_advice = uv_table(tool)
    if uv_advice is not None:
        notices.append(Notice(where.table_line("tool", "uv"), *uv_advice))
    return Metadata(
        path=path,
        source="pep723",
        block=block,
        data=data,
        requires_python=requires_python,
        dependencies=dependencies,
        settings=settings,
        notices=tuple(notices),
    )


def _requirements(table: Mapping[str, Any], key: str, where: _Locator) -> tuple[str, ...]:
    value = table.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise where.error(key, f"'{key}' must be an array of strings")
    for item in value:
        if not isinstance(item, str):
            raise where.error(key, f"'{key}' holds {_toml_type(item)}, not a string: {item!r}")
        try:
            parse_requirement(item)
        except InvalidRequirement as exc:
            reason = str(exc).splitlines()[0].rstrip()
            raise where.error(
                key, f"invalid requirement {item!r}: {reason}", needle=item
            ) from None
    return tuple(value)


def _settings(table: object, where: _Locator, notices: list[Notice]) -> Settings:
    if not isinstance(table, dict):
        raise where.error("reprorun", "'[tool.reprorun]' must be a table")
    for key in table:
        if key not in SETTINGS_KEYS:
            notices.append(
                Notice(
                    where.key_line(key, parent="reprorun"),
                    f"unknown key '{key}' in [tool.reprorun] ignored",
                    "a newer reprorun may know it; this one does not",
                )
            )
    requested = _requirements(table, "requested", where) if "requested" in table else None
    for key in ("frozen-for", "index-url", "record"):
        if key in table and not isinstance(table[key], str):
            raise where.error(key, f"'{key}' must be a string")
    for key in ("extra-index-urls", "find-links", "targets"):
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise where.error(key, f"'{key}' must be an array of strings")
    return Settings(
        requested=requested,
        frozen_for=table.get("frozen-for"),
        exclude_newer=_exclude_newer(table, where),
        index_url=table.get("index-url"),
        extra_index_urls=tuple(table.get("extra-index-urls", ())),
        find_links=tuple(table.get("find-links", ())),
        hashes=_hashes(table, where),
        record=table.get("record"),
        targets=tuple(table.get("targets", ())),
    )


def _exclude_newer(table: Mapping[str, Any], where: _Locator) -> str | None:
    value = table.get("exclude-newer")
    if value is None:
        return None
    if isinstance(value, dt.datetime | dt.date):
        value = value.isoformat()  # a TOML date literal: checked as its text is
    if isinstance(value, str):
        try:
            utc_text(value)
        except ValueError:
            pass
        else:
            return value
    shown = repr(value) if isinstance(value, str) else _toml_type(value)
    raise where.error(
        "exclude-newer",
        f"'exclude-newer' must be an RFC 3339 date-time or a date, not {shown}",
        hint='write it like "2024-06-01" or "2024-06-01T00:00:00Z"',
    )


@lru_cache(maxsize=4096)
def parse_requirement(text: str) -> Requirement:
    """A PEP 508 requirement, parsed once per text and process (script/requirements.py says why)."""
    return Requirement(text)


def utc_text(value: str) -> str:
    """The timestamp in UTC as `YYYY-MM-DDTHH:MM:SSZ`, four-digit year; ValueError if invalid or if
    it leaves the calendar in UTC (`0001-01-01T00:00:00+01:00` is in year 0 there)."""
    try:
        moment = parse_timestamp(value).astimezone(dt.timezone.utc)
    except OverflowError:
        raise ValueError(f"{value!r} is outside the calendar in UTC") from None
    return (f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
            f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}Z")  # fmt: skip


def parse_timestamp(value: str) -> dt.datetime:
    """An RFC 3339 date-time, or a date meaning its midnight UTC; naive times are UTC."""
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        day = dt.date.fromisoformat(text)
        return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)
    if not _RFC3339.fullmatch(text):
        raise ValueError(f"not an RFC 3339 date-time: {value!r}")
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def _hashes(table: Mapping[str, Any], where: _Locator) -> dict[str, tuple[str, ...]]:
    value = table.get("hashes", {})
    if not isinstance(value, dict):
        raise where.error("hashes", "'hashes' must be a table: package name -> array of hashes")
    hashes: dict[str, tuple[str, ...]] = {}
    for name, items in value.items():
        if not isinstance(items, list) or not all(isinstance(h, str) for h in items):
            raise where.error(
                name, f"hashes of '{name}' must be an array of strings", parent="hashes"
            )
        for item in items:
            if not HASH_RE.fullmatch(item):
                raise where.error(
                    name, f"hash of '{name}' is not 'sha256:' and 64 hex digits: {item!r}",
                    needle=item, parent="hashes",
                )  # fmt: skip
        hashes[name] = tuple(items)
    return hashes


def _parse_pep722(text: str, path: str, notices: list[Notice]) -> Metadata:
    """PEP 722's `# Script Dependencies:` comment, the fallback when there is no block."""
    # A cheap filter that spares most scripts the line loop; "pendenc" holds no letter with an
    # unusual case folding (unlike s and i), so it never rejects what the marker would match.
    if "pendenc" not in text.lower():
        return Metadata(path=path, source="none", notices=tuple(notices))
    lines = split_lines(text)
    for number, (_, line) in enumerate(lines, start=1):
        if not _PEP722_MARKER.match(line.lstrip("\ufeff")):
            continue
        dependencies = []
        last = number
        for offset, (_, dep_line) in enumerate(lines[number:], start=number + 1):
            if not dep_line.startswith("#"):
                break
            requirement = dep_line[1:].split(" # ", maxsplit=1)[0].strip()
            if not requirement:
                break
            try:
                parse_requirement(requirement)
            except InvalidRequirement:
                # Real scripts follow the list with prose (`# USAGE: ...`): the list ends here.
                notices.append(Notice(offset, f"the 'Script Dependencies' list ends before this line: "
                                      f"{dep_line.strip()!r} is not a requirement",
                                      "separate the list from other comments with a '#' line"))  # fmt: skip
                break
            dependencies.append(requirement)
            last = offset
        notices.append(
            Notice(
                number,
                "read the PEP 722 'Script Dependencies' comment (a rejected format)",
                f"convert it to a PEP 723 block with: reprorun init --infer {path}",
            )
        )
        notices.sort(key=lambda notice: notice.line)
        return Metadata(path=path, source="pep722", dependencies=tuple(dependencies),
                        data={"dependencies": dependencies}, notices=tuple(notices),
                        pep722_lines=(number, last))  # fmt: skip
    return Metadata(path=path, source="none", notices=tuple(notices))


class _Locator:
    """Maps a key or value of the block back to the line of the file it stands on."""

    def __init__(self, block: Block, text: str, path: str) -> None:
        self.block = block
        self.path = path
        self.lines = block.content.split("\n")[:-1]  # the content lines, without "# "

    def key_line(self, key: str, parent: str | None = None) -> int:
        """The file line where `key` is assigned or its table opens (the opener as a fallback).

        With `parent`, the search starts at the parent's line, and an inline table there (where
        `key` stands on no line of its own) gives the parent's line.
        """
        start = 0
        if parent is not None:
            start = self._find(parent, 0)
            if start < 0:
                return self.block.start_line
        found = self._find(key, start)
        if found < 0:
            found = start if parent is not None else -1
        return self.block.content_line(found + 1) if found >= 0 else self.block.start_line

    def table_line(self, *dotted: str) -> int:
        """The file line of the first header or key that starts with the dotted name (`[tool.uv...`)."""
        name = r"\s*\.\s*".join(rf"[\"']?{re.escape(part)}[\"']?" for part in dotted)
        pattern = re.compile(rf"^\s*(?:\[+\s*)?{name}\s*[\].=]")
        for index, line in enumerate(self.lines):
            if pattern.match(line):
                return self.block.content_line(index + 1)
        return self.key_line(dotted[-1])

    def _find(self, key: str, start: int) -> int:
        # `key = ...`, `a.b.key = ...`, `"key" = ...` or a `[a.key]` / `[[a.key]]` table header;
        # the dotted prefix must be whole keys, so `build-dependencies` is not `dependencies`.
        pattern = re.compile(
            rf"""^\s*(?:\[+\s*)?(?:[\w\-"']+\s*\.\s*)*(["']?){re.escape(key)}\1\s*(?:=|\])"""
        )
        for index in range(start, len(self.lines)):
            if pattern.search(self.lines[index]):
                return index
        return -1

    def error(
        self,
        key: str,
        message: str,
        hint: str | None = None,
        needle: str | None = None,
        parent: str | None = None,
    ) -> MetadataError:
        """A `MetadataError` on the line of `needle` (a value, from `key`'s line on) or of `key`."""
        line = self.key_line(key, parent)
        column = None
        if needle is not None:
            first = max(line - self.block.start_line - 1, 0)
            for index in range(first, len(self.lines)):
                found = self.lines[index].find(needle)
                if found >= 0:
                    line, column = self.block.content_line(index + 1), found + 2
                    break
        inside = line > self.block.start_line
        source = self.lines[line - self.block.start_line - 1] if inside else ""
        return MetadataError(
            message,
            path=self.path,
            line=line,
            source_line=("# " + source) if source else f"# /// {self.block.type}",
            column=column,
            hint=hint,
        )


def _line(text: str, number: int) -> str:
    lines = split_lines(text)
    return lines[number - 1][1] if 0 < number <= len(lines) else ""


def _toml_type(value: object) -> str:
    """The TOML type of a parsed value, with its article ("an integer")."""
    names = {
        bool: "a boolean", int: "an integer", float: "a float", str: "a string", list: "an array",
        dict: "a table", dt.datetime: "a date-time", dt.date: "a date", dt.time: "a time of day",
    }  # fmt: skip
    return names.get(type(value), f"a {type(value).__name__}")


def _jsonable(value: object) -> object:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # TOML's nan and inf have no JSON form: their TOML spelling, as a string
    return value

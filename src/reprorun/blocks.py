"""Find PEP 723 comment blocks in script text: a pure scanner that imports only `re`.

It follows the specification text (packaging.python.org, "Inline script metadata"), which is
stricter and more precise than the example regex beside it:

- a block opens at a line that is exactly `# /// TYPE`, TYPE being ASCII letters, digits and
  hyphens, at the start of the line (an indented line is not top-level and opens nothing);
- every following line that is `#` alone or starts with `# ` may belong to the block, and the
  block closes at the *last* `# ///` line of that run of comment lines, so a `# ///` inside a
  TOML multi-line string does not close it early;
- a block with no closing line is ignored (the caller warns about it).

Line endings follow Python's universal newlines (LF, CRLF or a lone CR, mixed freely), so the
line numbers reported here are those of a traceback. A leading UTF-8 BOM is ignored.

This module is also the warm path's block finder, so it must stay free of heavy imports.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")
_BREAK = re.compile(r"\r\n|\r|\n")
_OPEN = re.compile(r"# /// ([a-zA-Z0-9-]+)(?=[\r\n]|\Z)")
CLOSE = "# ///"


@dataclass(frozen=True)
class Block:
    """One closed comment block: its type, where it sits, and its embedded content."""

    type: str
    start_line: int  # 1-based line of `# /// TYPE`
    end_line: int  # 1-based line of the closing `# ///`
    start: int  # offset of the opening line in the text
    end: int  # offset just past the closing `# ///` (before its line ending)
    content: str  # the embedded TOML, lines joined with "\n"

    def content_line(self, index: int) -> int:
        """The file line of the block content's line `index` (1-based)."""
        return self.start_line + index


@dataclass(frozen=True)
class Unclosed:
    """An opening line with no closing `# ///`: ignored, but worth a warning."""

    type: str
    line: int


@dataclass(frozen=True)
class Scan:
    """Every closed block of a text, in file order, and the openers that never closed."""

    blocks: tuple[Block, ...]
    unclosed: tuple[Unclosed, ...]

    def of_type(self, block_type: str) -> tuple[Block, ...]:
        """The blocks of one type, in file order."""
        return tuple(b for b in self.blocks if b.type == block_type)


def split_lines(text: str) -> list[tuple[int, str]]:
    """The text's lines as (offset, line without its ending), by universal newlines."""
    if "\r" not in text:  # the common case: split in C, offsets by accumulated lengths
        parts = text.split("\n")
        if parts[-1] == "":
            parts.pop()
        offsets = accumulate((len(part) + 1 for part in parts), initial=0)
        return list(zip(offsets, parts, strict=False))
    lines = []
    start = 0
    for match in _BREAK.finditer(text):
        lines.append((start, text[start : match.start()]))
        start = match.end()
    if start < len(text):
        lines.append((start, text[start:]))
    return lines


def _line_at(text: str, offset: int) -> str:
    """The line starting at `offset`, with its line ending."""
    match = _LINE.match(text, offset)
    return match.group() if match else ""


def _is_content(line: str) -> bool:
    return line == "#" or line.startswith("# ")


def _breaks(text: str, start: int, end: int) -> int:
    """How many line breaks (LF, CRLF or lone CR) lie in text[start:end]."""
    count = text.count("\n", start, end)
    if "\r" in text:
        count += text.count("\r", start, end) - text.count("\r\n", start, end)
    return count


def _openers(text: str) -> Iterator[tuple[int, re.Match[str]]]:
    """Every `# /// TYPE` line, found with `str.find` (C speed) rather than line by line."""
    offset = text.find("# /// ")
    while offset >= 0:
        at_line_start = offset == 0 or text[offset - 1] in "\r\n" or (
            offset == 1 and text[0] == "\ufeff"
        )
        opener = _OPEN.match(text, offset) if at_line_start else None
        if opener is not None:
            yield offset, opener
        offset = text.find("# /// ", offset + 1)


def scan(text: str) -> Scan:
    """Find every block of the text; pure, and linear in its length."""
    if "# /// " not in text:  # the common case, and it costs one C-level search
        return Scan((), ())
    blocks: list[Block] = []
    unclosed: list[Unclosed] = []
    resume = 0  # openers before this offset are inside a block found already
    run_end = -1  # openers before this offset sit in a comment run known to have no closer
    counted_to, number = 0, 1  # line numbers are counted incrementally, opener to opener
    for offset, opener in _openers(text):
        if offset < resume:
            continue
        number += _breaks(text, counted_to, offset)
        counted_to = offset
        if offset < run_end:
            unclosed.append(Unclosed(opener.group(1), number))
            continue
        # Walk the run of content lines after the opener, remembering its last `# ///`.
        body: list[str] = []
        close: tuple[int, int, int] | None = None  # (offset, lines of content, end offset)
        pos = offset + len(_line_at(text, offset))
        while pos < len(text):
            raw = _line_at(text, pos)
            line = raw.rstrip("\r\n")
            if not _is_content(line):
                break
            if line == CLOSE:
                close = (pos, len(body), pos + len(line))
            body.append(line[2:])
            pos += len(raw)
        if close is None:
            unclosed.append(Unclosed(opener.group(1), number))
            run_end = pos
            continue
        close_offset, size, end = close
        blocks.append(
            Block(
                type=opener.group(1),
                start_line=number,
                end_line=number + size + 1,
                start=offset,
                end=end,
                # Each content line loses its "# " (or its lone "#") and keeps a newline, as in
                # the specification's reference implementation; one bare "#" line holds "\n".
                content="".join(line + "\n" for line in body[:size]),
            )
        )
        resume = close_offset + 1
    return Scan(tuple(blocks), tuple(unclosed))

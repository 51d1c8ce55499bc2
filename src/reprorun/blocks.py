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
from dataclasses import dataclass

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")
_OPEN = re.compile(r"# /// ([a-zA-Z0-9-]+)")
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
    lines = []
    for match in _LINE.finditer(text):
        raw = match.group()
        if not raw:
            break
        lines.append((match.start(), raw.rstrip("\r\n")))
    return lines


def _is_content(line: str) -> bool:
    return line == "#" or line.startswith("# ")


def scan(text: str) -> Scan:
    """Find every block of the text; pure, and linear in its length."""
    if "# ///" not in text:  # the common case, and it costs one C-level search
        return Scan((), ())
    lines = split_lines(text)
    if lines and lines[0][1].startswith("\ufeff"):
        lines[0] = (lines[0][0] + 1, lines[0][1][1:])
    blocks: list[Block] = []
    unclosed: list[Unclosed] = []
    i = 0
    n = len(lines)
    while i < n:
        offset, line = lines[i]
        opener = _OPEN.fullmatch(line) if line.startswith("# /// ") else None
        if opener is None:
            i += 1
            continue
        close = None
        j = i + 1
        while j < n and _is_content(lines[j][1]):
            if lines[j][1] == CLOSE:
                close = j
            j += 1
        if close is None:
            unclosed.append(Unclosed(opener.group(1), i + 1))
            i += 1
            continue
        # Each content line loses its "# " (or its lone "#") and keeps a newline, as in the
        # specification's reference implementation; a block of one bare "#" holds "\n".
        body = "".join(ln[2:] + "\n" for _, ln in lines[i + 1 : close])
        blocks.append(
            Block(
                type=opener.group(1),
                start_line=i + 1,
                end_line=close + 1,
                start=offset,
                end=lines[close][0] + len(CLOSE),
                content=body,
            )
        )
        i = close + 1
    return Scan(tuple(blocks), tuple(unclosed))

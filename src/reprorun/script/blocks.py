"""Find PEP 723 comment blocks in script text: a pure scanner that imports nothing.

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

This module is also the warm path's block finder, so it must stay free of imports: no `re`
(with `enum` behind it) and no `dataclasses` (with `inspect` behind it), about 10 ms of start-up
together. Its records are small frozen classes written out by hand for that reason.
"""

from __future__ import annotations

from itertools import accumulate

_TYPE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
CLOSE = "# ///"


class _Record:
    """A frozen record with value equality: what `@dataclass(frozen=True)` gives, without its import."""

    __slots__: tuple[str, ...] = ()

    def __init__(self, *args: object, **kwargs: object) -> None:
        values = dict(zip(self.__slots__, args, strict=False), **kwargs)
        if set(values) != set(self.__slots__):
            raise TypeError(f"{type(self).__name__} takes {', '.join(self.__slots__)}")
        for name in self.__slots__:
            object.__setattr__(self, name, values[name])

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen")

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"


class Block(_Record):
    """One closed comment block: its type, where it sits, and its embedded content."""

    __slots__ = ("type", "start_line", "end_line", "start", "end", "content")  # noqa: RUF023 - positional order
    type: str
    start_line: int  # 1-based line of `# /// TYPE`
    end_line: int  # 1-based line of the closing `# ///`
    start: int  # offset of the opening line in the text
    end: int  # offset just past the closing `# ///` (before its line ending)
    content: str  # the embedded TOML: each line without its "# ", ending in "\n"

    def content_line(self, index: int) -> int:
        """The file line of the block content's line `index` (1-based)."""
        return self.start_line + index


class Unclosed(_Record):
    """An opening line with no closing `# ///`: ignored, but worth a warning."""

    __slots__ = ("type", "line")  # noqa: RUF023 - positional order
    type: str
    line: int


class Scan(_Record):
    """Every closed block of a text, in file order, and the openers that never closed."""

    __slots__ = ("blocks", "unclosed")
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
    while start < len(text):
        raw = _line_at(text, start)
        lines.append((start, raw.rstrip("\r\n")))
        start += len(raw)
    return lines


def _line_at(text: str, offset: int) -> str:
    """The line starting at `offset`, with its line ending (LF, CRLF or a lone CR)."""
    lf = text.find("\n", offset)
    cr = text.find("\r", offset, lf if lf >= 0 else len(text))
    if cr >= 0:  # noqa: SIM108 - two plain branches read better than a nested ternary
        end = cr + 2 if text.startswith("\r\n", cr) else cr + 1
    else:
        end = lf + 1 if lf >= 0 else len(text)
    return text[offset:end]


def _is_content(line: str) -> bool:
    return line == "#" or line.startswith("# ")


def _breaks(text: str, start: int, end: int) -> int:
    """How many line breaks (LF, CRLF or lone CR) lie in text[start:end]."""
    count = text.count("\n", start, end)
    if text.find("\r", start, end) >= 0:  # only this span: the whole text each time is quadratic
        count += text.count("\r", start, end) - text.count("\r\n", start, end)
    return count


def _openers(text: str) -> list[tuple[int, str]]:
    """Every `# /// TYPE` line and its TYPE, found with `str.find` (C speed), not line by line."""
    found = []
    offset = text.find("# /// ")
    while offset >= 0:
        at_line_start = offset == 0 or text[offset - 1] in "\r\n" or (
            offset == 1 and text[0] == "\ufeff"
        )
        if at_line_start:
            block_type = _line_at(text, offset)[6:].rstrip("\r\n")
            if block_type and _TYPE_CHARS.issuperset(block_type):
                found.append((offset, block_type))
        offset = text.find("# /// ", offset + 1)
    return found


_last: tuple[str, Scan] | None = None  # one invocation scans one script: the warm path, then the full path


def scan(text: str) -> Scan:
    """Find every block of the text; pure, and linear in its length (the last answer is remembered)."""
    global _last  # noqa: PLW0603 - a one-entry memo; Scan is immutable
    if _last is not None and (_last[0] is text or _last[0] == text):
        return _last[1]
    found = _scan(text)
    _last = (text, found)
    return found


def _scan(text: str) -> Scan:
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
            unclosed.append(Unclosed(opener, number))
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
            unclosed.append(Unclosed(opener, number))
            run_end = pos
            continue
        close_offset, size, end = close
        blocks.append(
            Block(
                type=opener,
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

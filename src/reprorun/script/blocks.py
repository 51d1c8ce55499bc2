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

The scanning itself is `reprorun.warm.scan_blocks` (the warm start runs it before anything else
of reprorun is imported); this module gives its findings their records. It stays free of heavy
imports: no `re` (with `enum` behind it) and no `dataclasses` (with `inspect` behind it). Its
records are small frozen classes written out by hand for that reason.
"""

from __future__ import annotations

from reprorun.warm import CLOSE, line_at, scan_blocks

__all__ = ["CLOSE", "Block", "Scan", "Unclosed", "scan", "split_lines"]


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
        from itertools import accumulate

        parts = text.split("\n")
        if parts[-1] == "":
            parts.pop()
        offsets = accumulate((len(part) + 1 for part in parts), initial=0)
        return list(zip(offsets, parts, strict=False))
    lines = []
    start = 0
    while start < len(text):
        raw = line_at(text, start)
        lines.append((start, raw.rstrip("\r\n")))
        start += len(raw)
    return lines


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
    blocks, unclosed = scan_blocks(text)
    return Scan(tuple(Block(*found) for found in blocks), tuple(Unclosed(*found) for found in unclosed))

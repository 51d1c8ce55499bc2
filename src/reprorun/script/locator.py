"""Where a key or value of the block stands in the file, for errors that name the line."""

from __future__ import annotations

import re

from reprorun.errors import MetadataError
from reprorun.script.blocks import Block


class Locator:
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

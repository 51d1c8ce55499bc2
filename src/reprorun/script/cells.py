"""Split a `# %%` cell script (the percent format of VS Code, Spyder and jupytext) into cells.

A cell starts at a line `# %%` (or `#%%`), optionally followed by a title, a cell type in
brackets (`[markdown]`, `[md]`, `[raw]`) and jupytext's `key="value"` options. Whatever stands
before the first marker (a shebang, a jupytext YAML header, imports) is the preamble, cell 0.
Pure: works on text, touches nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from reprorun.script.blocks import split_lines

_MARKER = re.compile(r"^#\s?%%(?!%)(?P<rest>.*)$")
_KIND = re.compile(r"\[(?P<kind>markdown|md|raw|code)\]")
# jupytext's cell options: key=value, the value JSON (`tags=["a", "b"]`, with spaces) or a word.
_OPTIONS = re.compile(r"""\s+[\w.-]+=(\[[^\]]*\]|\{[^}]*\}|"[^"]*"|'[^']*'|\S+)""")

CellKind = Literal["code", "markdown", "raw"]


@dataclass(frozen=True)
class Cell:
    """One cell: its number (0 is the preamble), title, kind and 1-based inclusive lines."""

    index: int
    title: str
    kind: CellKind
    first_line: int
    last_line: int


def split(text: str) -> tuple[Cell, ...]:
    """The cells of a script; a script without markers is one preamble cell (or none if empty)."""
    lines = split_lines(text)
    cells: list[Cell] = []
    starts: list[tuple[int, str, CellKind]] = []
    for number, (_, line) in enumerate(lines, start=1):
        match = _MARKER.match(line.lstrip("\ufeff") if number == 1 else line)
        if match:
            title, kind = _describe(match.group("rest"))
            starts.append((number, title, kind))
    total = len(lines)
    first_marker = starts[0][0] if starts else total + 1
    if first_marker > 1 and total:
        cells.append(Cell(0, "", "code", 1, first_marker - 1))
    for position, (number, title, kind) in enumerate(starts):
        last = starts[position + 1][0] - 1 if position + 1 < len(starts) else total
        cells.append(Cell(position + 1, title, kind, number, last))
    return tuple(cells)


def is_cell_script(text: str) -> bool:
    """Whether the text has at least one `# %%` marker."""
    return any(_MARKER.match(line) for _, line in split_lines(text.removeprefix("\ufeff")))


def _describe(rest: str) -> tuple[str, CellKind]:
    kind: CellKind = "code"
    match = _KIND.search(rest)
    if match:
        found = match.group("kind")
        kind = "markdown" if found in ("markdown", "md") else "raw" if found == "raw" else "code"
        rest = rest[: match.start()] + rest[match.end() :]
    title = _OPTIONS.sub("", " " + rest).strip()
    return title, kind

"""Resolve a `--cells SPEC` against a script's or notebook's cells: a pure function of both.

A SPEC is a comma-separated list of items, each a cell number (`3`), an inclusive range (`2:4`,
`:5`, `4:`) or a title (`Load data`; exact match first, then case-insensitive; quote a title that
holds a comma or looks like a number: `"Plot a, b"`). The preamble (cell 0, the code before the
first `# %%`) always runs; markdown and raw cells never do. The result is in file order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Protocol

from reprorun.errors import UsageError
from reprorun.script.cells import Cell

_NUMBER = re.compile(r"\d+")
_RANGE = re.compile(r"(\d*)\s*:\s*(\d*)")


class CellLike(Protocol):
    """What selection needs of a cell: `cells.Cell` and `notebooks.NotebookCell` both fit."""

    @property
    def index(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def kind(self) -> str: ...


def select(spec: str, cells: Sequence[CellLike]) -> list[int]:
    """The indices of the code cells SPEC names, in file order, the preamble (if any) first.

    Raise `UsageError` (listing the cells) for an unknown number or title, an empty or reversed
    range, an empty SPEC, or a selection without any code cell.
    """
    by_index = {cell.index: cell for cell in cells}
    numbered = sorted(i for i in by_index if i > 0)
    items = _items(spec)
    if not items:
        raise UsageError("--cells: empty cell selection", hint=_listing(cells))
    chosen: set[int] = set()
    for item in items:
        chosen.update(_resolve(item, by_index, numbered, cells))
    code = sorted(i for i in chosen if by_index[i].kind == "code" and i > 0)
    if not code:
        raise UsageError(
            f"--cells {spec!r} selects no code cell (markdown and raw cells never run)",
            hint=_listing(cells),
        )
    preamble = [0] if 0 in by_index and by_index[0].kind == "code" else []
    return preamble + code


def line_ranges(cells: Iterable[Cell], indices: Iterable[int]) -> list[tuple[int, int]]:
    """The 1-based inclusive line ranges of the chosen cells of a script, adjacent ones merged."""
    wanted = set(indices)
    spans = sorted((c.first_line, c.last_line) for c in cells if c.index in wanted)
    merged: list[tuple[int, int]] = []
    for first, last in spans:
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(last, merged[-1][1]))
        else:
            merged.append((first, last))
    return merged


def format_lines(ranges: Iterable[tuple[int, int]]) -> str:
    """Line ranges as `_runner.py cells --lines` takes them: `1-4,9-12`."""
    return ",".join(f"{first}-{last}" for first, last in ranges)


def _items(spec: str) -> list[str]:
    """Split on commas outside double or single quotes; strip blanks and the quotes."""
    items: list[str] = []
    current: list[str] = []
    quote = ""
    for char in spec:
        if quote:
            if char == quote:
                quote = ""
            current.append(char)
        elif char in "\"'":
            quote = char
            current.append(char)
        elif char == ",":
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    items.append("".join(current))
    return [item.strip() for item in items if item.strip()]


def _resolve(
    item: str, by_index: dict[int, CellLike], numbered: list[int], cells: Sequence[CellLike]
) -> list[int]:
    if len(item) >= 2 and item[0] == item[-1] and item[0] in "\"'":
        return [_by_title(item[1:-1], cells)]
    if _NUMBER.fullmatch(item):
        number = int(item)
        if number not in by_index:
            raise UsageError(f"--cells: there is no cell {number}", hint=_listing(cells))
        return [number]
    match = _RANGE.fullmatch(item)
    if match:
        if not numbered:
            raise UsageError(f"--cells: no numbered cells for {item!r}", hint=_listing(cells))
        start = int(match.group(1)) if match.group(1) else numbered[0]
        stop = int(match.group(2)) if match.group(2) else numbered[-1]
        for bound in (start, stop):
            if bound not in by_index:
                raise UsageError(
                    f"--cells {item!r}: there is no cell {bound}", hint=_listing(cells)
                )
        if start > stop:
            raise UsageError(
                f"--cells {item!r}: the range is reversed", hint=f"write {stop}:{start}"
            )
        return [i for i in by_index if start <= i <= stop]
    return [_by_title(item, cells)]


def _by_title(title: str, cells: Sequence[CellLike]) -> int:
    for matches in (
        [c.index for c in cells if c.title == title],
        [c.index for c in cells if c.title.casefold() == title.casefold()],
    ):
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            numbers = ", ".join(str(m) for m in matches)
            raise UsageError(
                f"--cells: the title {title!r} names several cells ({numbers})",
                hint="choose by number instead",
            )
    raise UsageError(f"--cells: no cell is titled {title!r}", hint=_listing(cells))


def _listing(cells: Sequence[CellLike]) -> str:
    if not cells:
        return "the file has no cells"
    shown = []
    for cell in cells:
        title = cell.title or ("(preamble)" if cell.index == 0 else "(untitled)")
        kind = "" if cell.kind == "code" else f" [{cell.kind}]"
        shown.append(f"{cell.index}: {title}{kind}")
    return "the cells are: " + "; ".join(shown)

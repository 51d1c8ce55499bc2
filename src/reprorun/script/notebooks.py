"""Read `.ipynb` notebooks (nbformat 4, plain JSON) and edit one cell's source, keeping every other byte.

The script block of a notebook sits in its first code cell, as a `# /// script` comment (the layout
juv uses). Cells are numbered from 1 over all cells in file order (code, markdown and raw alike, as
jupytext shows them); there is no preamble cell 0. Edits replace only the JSON text of the edited
cells' `source` values, so key order, cell ids, outputs, metadata, indentation, escaping and the
trailing newline stay exactly as Jupyter wrote them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from reprorun.errors import UsageError

_DECODER = json.JSONDecoder()
_WS = re.compile(r"[ \t\n\r]*")
# Cell magics whose body is not Python: left out of the text that imports are inferred from.
_FOREIGN_CELL_MAGICS = re.compile(
    r"%%(bash|sh|script|html|HTML|javascript|js|latex|markdown|svg|perl|ruby|writefile|file|sql)\b"
)


@dataclass(frozen=True)
class NotebookCell:
    """One cell: number (1-based over all cells), title, kind, source text and nbformat id."""

    index: int
    title: str
    kind: str  # "code", "markdown" or "raw"
    source: str
    id: str | None = None

    @property
    def first_line(self) -> str:
        """The first non-blank line of the source, for listings."""
        return next((ln.strip() for ln in self.source.splitlines() if ln.strip()), "")


def load(raw: str, path: str = "<notebook>") -> dict[str, Any]:
    """The notebook as JSON; raise `UsageError` unless it is an nbformat 4 notebook."""
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise UsageError(f"{path}: not a notebook: invalid JSON ({exc})") from None
    except RecursionError:
        raise UsageError(f"{path}: not a notebook: its JSON nests too deeply") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise UsageError(f"{path}: not a notebook: no 'cells' list")
    for number, cell in enumerate(data["cells"], 1):
        if not isinstance(cell, dict):
            raise UsageError(f"{path}: not a notebook: cell {number} is not a JSON object")
        source = cell.get("source", "")
        if not (isinstance(source, str) or (isinstance(source, list) and all(isinstance(s, str) for s in source))):
            raise UsageError(f"{path}: not a notebook: cell {number}'s source is not text "
                             "(a string or a list of strings)")  # fmt: skip
    if data.get("nbformat", 4) != 4:
        raise UsageError(
            f"{path}: nbformat {data.get('nbformat')} is not supported (only 4)",
            hint="open and save it in a current Jupyter to upgrade it",
        )
    return data


def cells_of_notebook(raw: str, path: str = "<notebook>") -> list[NotebookCell]:
    """Every cell of the notebook, numbered from 1 in file order."""
    found = []
    for number, cell in enumerate(load(raw, path)["cells"], start=1):
        kind = cell.get("cell_type", "code") if isinstance(cell, dict) else "raw"
        source = _source(cell) if isinstance(cell, dict) else ""
        found.append(NotebookCell(number, _title(cell, kind, source), kind, source, _id(cell)))
    return found


def first_code_cell(raw: str, path: str = "<notebook>") -> NotebookCell | None:
    """The first code cell (where the script block lives), or None if there is none."""
    return next((c for c in cells_of_notebook(raw, path) if c.kind == "code"), None)


def first_code_cell_source(raw: str, path: str = "<notebook>") -> str:
    """The first code cell's source text ("" if the notebook has no code cell): parse it for the block."""
    cell = first_code_cell(raw, path)
    return cell.source if cell else ""


def code_text(raw: str, path: str = "<notebook>") -> str:
    """The code cells joined as a `# %%` script, for inferring requirements from imports and `%pip`.

    Cells whose cell magic runs another language (`%%bash`, `%%html`, ...) are commented out.
    """
    return _joined(raw, path)[0]


def locator(raw: str, path: str = "<notebook>") -> Callable[[int], str]:
    """A function naming the cell and line of a line of `code_text(raw)`: `cell 3, line 2`."""
    starts = _joined(raw, path)[1]

    def where(line: int) -> str:
        cell, first = max(((c, f) for c, f in starts if f <= line), default=(0, 1), key=lambda s: s[1])
        return f"cell {cell}, line {line - first + 1}" if cell else f"line {line}"

    return where


def _joined(raw: str, path: str) -> tuple[str, list[tuple[int, int]]]:
    parts = []
    starts = []  # (cell number, line of code_text where its source starts)
    line = 1
    for cell in cells_of_notebook(raw, path):
        if cell.kind != "code":
            continue
        source = cell.source
        if _FOREIGN_CELL_MAGICS.match(source):
            source = "".join("# " + ln for ln in source.splitlines(keepends=True))
        part = f"# %% cell {cell.index}\n{source}\n"
        starts.append((cell.index, line + 1))
        line += part.count("\n")
        parts.append(part)
    return "".join(parts), starts


def replace_first_code_cell_source(raw: str, new_source: str, path: str = "<notebook>") -> str:
    """The notebook text with the first code cell's source replaced; raise `UsageError` if none."""
    cell = first_code_cell(raw, path)
    if cell is None:
        raise UsageError(
            f"{path}: the notebook has no code cell to hold the script block",
            hint="add an empty code cell at the top in Jupyter, then run this again",
        )
    return replace_cell_sources(raw, {cell.index: new_source}, path)


def map_code_cells(raw: str, change: Callable[[str], str], path: str = "<notebook>") -> str:
    """The notebook text with `change` applied to every code cell's source (unchanged ones kept)."""
    new = {}
    for cell in cells_of_notebook(raw, path):
        if cell.kind == "code":
            changed = change(cell.source)
            if changed != cell.source:
                new[cell.index] = changed
    return replace_cell_sources(raw, new, path) if new else raw


def replace_cell_sources(raw: str, sources: Mapping[int, str], path: str = "<notebook>") -> str:
    """The notebook text with the numbered cells' sources replaced and every other byte kept."""
    load(raw, path)  # validates, with a clear error
    spans = _cell_source_spans(raw)
    unit = _indent_unit(raw)
    edits = []
    for number, source in sources.items():
        if not 1 <= number <= len(spans) or spans[number - 1] is None:
            raise UsageError(f"{path}: there is no cell {number} with a source")
        start, end, depth = spans[number - 1]  # type: ignore[misc]
        as_list = raw[start] == "["
        edits.append((start, end, _render(source, as_list, unit, depth)))
    out = raw
    for start, end, text in sorted(edits, reverse=True):
        out = out[:start] + text + out[end:]
    return out


def _render(source: str, as_list: bool, unit: str | None, depth: int) -> str:
    """A source value as nbformat writes it: a list of lines, each but the last ending in \\n."""
    if not as_list:
        return json.dumps(source, ensure_ascii=False)
    lines = [json.dumps(line, ensure_ascii=False) for line in source.splitlines(keepends=True)]
    if not lines:
        return "[]"
    if unit is None:
        return "[" + ", ".join(lines) + "]"
    inner = "\n" + unit * (depth + 1)
    return "[" + inner + ("," + inner).join(lines) + "\n" + unit * depth + "]"


def _indent_unit(raw: str) -> str | None:
    """The file's indentation unit: the whitespace before its first key ("" if written compact)."""
    match = re.match(r"\s*\{\s*?\n([ \t]+)\"", raw)
    return match.group(1) if match else None


def _cell_source_spans(raw: str) -> list[tuple[int, int, int] | None]:
    """For each cell: (start, end, nesting depth) of its `source` value's text, or None."""
    top = _object_members(raw, _skip_ws(raw, 0))
    if "cells" not in top:
        return []
    position = _skip_ws(raw, top["cells"][0] + 1)
    spans: list[tuple[int, int, int] | None] = []
    while raw[position] != "]":
        if raw[position] == "{":
            members = _object_members(raw, position)
            span = members.get("source")
            spans.append((span[0], span[1], 3) if span else None)
        else:
            spans.append(None)
        _, position = _DECODER.raw_decode(raw, position)
        position = _skip_ws(raw, position)
        if raw[position] == ",":
            position = _skip_ws(raw, position + 1)
    return spans


def _object_members(raw: str, position: int) -> dict[str, tuple[int, int]]:
    """The (start, end) text span of each member value of the JSON object at `position`."""
    members: dict[str, tuple[int, int]] = {}
    position = _skip_ws(raw, position + 1)  # past "{"
    while raw[position] != "}":
        key, position = _DECODER.raw_decode(raw, position)
        position = _skip_ws(raw, _skip_ws(raw, position) + 1)  # past ":"
        _, end = _DECODER.raw_decode(raw, position)
        members[key] = (position, end)
        position = _skip_ws(raw, end)
        if raw[position] == ",":
            position = _skip_ws(raw, position + 1)
    return members


def _skip_ws(raw: str, position: int) -> int:
    return _WS.match(raw, position).end()  # type: ignore[union-attr]


def _source(cell: Mapping[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _id(cell: object) -> str | None:
    value = cell.get("id") if isinstance(cell, dict) else None
    return value if isinstance(value, str) else None


def _title(cell: object, kind: str, source: str) -> str:
    """jupytext's cell title (metadata `title`); for markdown, its first heading."""
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    if isinstance(meta, dict) and isinstance(meta.get("title"), str):
        return str(meta["title"])
    if kind == "markdown":
        heading = next((ln for ln in source.splitlines() if ln.lstrip().startswith("#")), "")
        return heading.strip().lstrip("#").strip()
    return ""

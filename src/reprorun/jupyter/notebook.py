"""The notebook a kernel executes: an `.ipynb` as it is, or a `# %%` cell script turned into one.

Pure: text in, nbformat 4 JSON (plain dicts) out. A cell script keeps one notebook cell per
script cell, in order (its preamble, cell 0, included), so `--cells` numbers mean the same
thing; jupytext's `tags=[...]` option on a marker (`# %% tags=["parameters"]`) becomes the
cell's tags, as jupytext itself would read it.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

from reprorun.script import cells, notebooks
from reprorun.script.blocks import split_lines

_TAGS = re.compile(r"""(?:^|\s)tags=(\[[^\]]*\])""")
_MARKDOWN_PREFIX = re.compile(r"^# ?")

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def from_ipynb(text: str, path: str) -> dict[str, Any]:
    """The notebook's JSON (nbformat 4), with every cell's flag to run set to True."""
    return notebooks.load(text, path)


def from_cell_script(text: str, path: str) -> dict[str, Any]:
    """A `# %%` script as an nbformat 4.5 notebook, one cell per script cell."""
    lines = [line for _, line in split_lines(text.removeprefix("\ufeff"))]
    made = []
    for cell in cells.split(text):
        body = lines[cell.first_line - 1 : cell.last_line]
        marker = ""
        if cell.index > 0:
            marker, body = body[0], body[1:]
        source = "\n".join(body).strip("\n")
        if cell.kind == "markdown":
            source = "\n".join(_MARKDOWN_PREFIX.sub("", line) for line in source.split("\n"))
        made.append(_cell(cell.kind, source, f"cell-{cell.index}", tags_of_marker(marker)))
    return {
        "cells": made,
        "metadata": {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def tags_of_marker(marker: str) -> list[str]:
    """The tags a `# %% ... tags=["a", "b"]` marker line gives its cell (jupytext's option)."""
    match = _TAGS.search(marker)
    if not match:
        return []
    try:
        value = json.loads(match.group(1))
    except ValueError:
        try:
            value = ast.literal_eval(match.group(1))
        except (ValueError, SyntaxError):
            return []
    return [str(tag) for tag in value] if isinstance(value, list) else []


def tags(cell: dict[str, Any]) -> list[str]:
    """A cell's metadata tags (none when absent or malformed)."""
    metadata = cell.get("metadata")
    found = metadata.get("tags") if isinstance(metadata, dict) else None
    return [str(tag) for tag in found] if isinstance(found, list) else []


def source(cell: dict[str, Any]) -> str:
    """A cell's source as one string (nbformat allows a string or a list of lines)."""
    value = cell.get("source", "")
    return "".join(value) if isinstance(value, list) else str(value)


def run_flags(nb: dict[str, Any], chosen: set[int] | None, first: int) -> list[bool]:
    """Which cells run: all when `chosen` is None, else those whose number (counted from
    `first`: 1 for notebooks, 0 for a script's preamble) is chosen."""
    return [chosen is None or number in chosen for number, _ in enumerate(nb["cells"], start=first)]


def _cell(kind: str, text: str, cell_id: str, cell_tags: list[str]) -> dict[str, Any]:
    metadata: dict[str, Any] = {"tags": cell_tags} if cell_tags else {}
    cell: dict[str, Any] = {"cell_type": kind, "id": cell_id, "metadata": metadata, "source": text}
    if kind == "code":
        cell["execution_count"] = None
        cell["outputs"] = []
    return cell

"""`reprorun cells SCRIPT`: list the cells of a `# %%` script (index, title, lines, kind)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from reprorun.options import Options
from reprorun.script import cells as cellsplit
from reprorun.script import source


def describe(name: str) -> str:
    """One line for `--help`."""
    return "List the cells of a '# %%' cell script; cell 0 is the code before the first marker."


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    """Arguments of `cells`."""
    parser.add_argument("script", help="the script (a path, or - for standard input)")
    parser.add_argument("--json", action="store_true", help="print a JSON array")


def run(name: str, ns: argparse.Namespace, options: Options) -> int:
    """Print the cells as a table, or as JSON."""
    script = source.read(ns.script)
    if ns.script.endswith(".ipynb"):
        return _notebook(script.text, ns)
    found = cellsplit.split(script.text)
    if ns.json:
        json.dump([asdict(c) for c in found], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    sys.stdout.write(f"{'cell':>4}  {'lines':<11}  {'kind':<8}  title\n")
    for cell in found:
        lines = f"{cell.first_line}-{cell.last_line}"
        title = cell.title or ("(preamble)" if cell.index == 0 else "")
        sys.stdout.write(f"{cell.index:>4}  {lines:<11}  {cell.kind:<8}  {title}".rstrip() + "\n")
    return 0


def _notebook(raw: str, ns: argparse.Namespace) -> int:
    """A notebook's cells, numbered from 1 over all cells as `--cells` counts them."""
    from reprorun.script import notebooks

    found = notebooks.cells_of_notebook(raw, ns.script)
    if ns.json:
        rows = [{"index": c.index, "title": c.title, "kind": c.kind, "first_line": _first_line(c.source)}
                for c in found]  # fmt: skip
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    sys.stdout.write(f"{'cell':>4}  {'kind':<8}  first line\n")
    for cell in found:
        sys.stdout.write(f"{cell.index:>4}  {cell.kind:<8}  {_first_line(cell.source)}".rstrip() + "\n")
    return 0


def _first_line(text: str) -> str:
    line = next((ln for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= 60 else line[:57] + "..."

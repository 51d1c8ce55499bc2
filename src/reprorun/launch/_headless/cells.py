"""Cells of a `# %%` script: run only chosen line ranges, keeping the file's line numbers."""

# Runs on Python 3.8+ under an env interpreter, beside `_runner.py`: standard library only.

from __future__ import annotations

import os
import re
import sys

from .pyexec import RunnerError, compile_user, fresh_main, read_text, run_code, set_path0

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")  # Python's own line breaks, unlike splitlines


def parse_lines(spec: str) -> list[tuple[int, int]]:
    """`1-4,9-12` as [(1, 4), (9, 12)]; a single line `7` is allowed."""
    ranges = []
    for item in spec.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", item)
        if not match:
            raise RunnerError(f"--lines: not a line range: {item!r}", status=2)
        first = int(match.group(1))
        last = int(match.group(2) or first)
        if first < 1 or last < first:
            raise RunnerError(f"--lines: not a line range: {item!r}", status=2)
        ranges.append((first, last))
    return ranges


def select_lines(text: str, ranges: list[tuple[int, int]]) -> str:
    """The text with every line outside the ranges blanked, so line numbers stay the file's."""
    kept = []
    for number, match in enumerate(_LINE.finditer(text), start=1):
        line = match.group()
        if not line:
            break
        inside = any(first <= number <= last for first, last in ranges)
        kept.append(line if inside else "\n")
    return "".join(kept)


def run_cells(ranges: list[tuple[int, int]], script: str, args: list[str]) -> int:
    """Run only these line ranges of SCRIPT as `python SCRIPT ARGS` would run the whole file."""
    path = os.path.abspath(script)
    source = select_lines(read_text(script), ranges)
    sys.argv = [script, *args]
    set_path0(os.path.dirname(path))
    code = compile_user(source, path)
    if code is None:
        return 1
    return run_code(code, fresh_main(path).__dict__)

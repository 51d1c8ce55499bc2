"""IPython's syntax without IPython: magics and `!` lines of a notebook cell translated to Python."""

# Runs on Python 3.8+ under an env interpreter: zip(strict=) does not exist there.
# ruff: noqa: B905

from __future__ import annotations

import re

from .pyexec import RunnerError

_PIP = re.compile(
    r"""^\s*(?:[%!]\s*(?:pip3?|uv\s+pip|conda|mamba|micromamba)\b
        |!\s*(?:\S*/)?python3?(?:\.\d+)?\s+-m\s+pip\b
        |%\s*(?:matplotlib|config|autoreload|load_ext\s+autoreload|reload_ext\s+autoreload)\b)""",
    re.VERBOSE,
)
_TIME_LINE = re.compile(
    r"^(?P<indent>\s*)%(?P<magic>time|timeit)\b(?P<options>(?:\s+-\S+)*)\s*(?P<code>.*)$"
)
_SHELL = re.compile(r"^(?P<indent>\s*)!(?P<command>.*)$")
_SHELL_ASSIGN = re.compile(r"^(?P<indent>\s*)(?P<target>[A-Za-z_][\w.]*)\s*=\s*!(?P<command>.*)$")
_MAGIC = re.compile(r"^\s*(%{1,2}\w+|\?|\w[\w.]*\?\??\s*$)")
_CELL_MAGIC = re.compile(r"^%%(?P<name>\w+)(?P<rest>.*)$")
_TIME_CELL_MAGICS = ("time", "timeit")
SHELL_CELL_MAGICS = ("bash", "sh")


class Magic(RunnerError):
    """A magic that this runner cannot run headless without IPython."""


def _statement_starts(lines: list[str]) -> list[bool]:
    """For each line: does it begin a new statement (not inside brackets, strings, or `\\`)?"""
    starts = []
    depth = 0
    triple = ""
    continued = False
    for line in lines:
        starts.append(depth == 0 and not triple and not continued)
        if starts[-1] and (_MAGIC.match(line) or _SHELL.match(line) or _SHELL_ASSIGN.match(line)):
            continued = False
            continue  # a magic's text is not Python; do not let its quotes confuse the scan
        i = 0
        continued = False
        while i < len(line):
            if triple:
                end = line.find(triple, i)
                if end < 0:
                    break
                if line.count("\\", 0, end) and _escaped(line, end):
                    i = end + 1
                    continue
                i = end + 3
                triple = ""
                continue
            char = line[i]
            if char == "#":
                break
            if char in "\"'":
                if line.startswith(char * 3, i):
                    triple = char * 3
                    i += 3
                    continue
                i = _end_of_string(line, i)
                continue
            if char in "([{":
                depth += 1
            elif char in ")]}":
                depth = max(depth - 1, 0)
            i += 1
        stripped = line.rstrip("\r\n")
        continued = not triple and stripped.endswith("\\") and not stripped.rstrip().startswith("#")
    return starts


def _escaped(line: str, index: int) -> bool:
    count = 0
    while index - count - 1 >= 0 and line[index - count - 1] == "\\":
        count += 1
    return count % 2 == 1


def _end_of_string(line: str, start: int) -> int:
    quote = line[start]
    i = start + 1
    while i < len(line):
        if line[i] == "\\":
            i += 2
            continue
        if line[i] == quote:
            return i + 1
        i += 1
    return i


def translate_cell(source: str, where: str) -> tuple[str, str]:
    """A code cell as (how, text): plain Python line for line, or a shell script; raise `Magic`.

    `how` is "python", "%%time"/"%%timeit" (Python, to be timed as a whole) or "bash"/"sh".
    """
    lines = source.splitlines(keepends=True)
    first = _CELL_MAGIC.match(lines[0]) if lines else None
    if first:
        name = first.group("name")
        if name in SHELL_CELL_MAGICS:
            return name, "".join(lines[1:])
        if name not in _TIME_CELL_MAGICS:
            raise Magic(
                f"{where}, line 1: the cell magic '%%{name}' cannot run without IPython",
                hint="add 'ipython' to the block's dependencies to run every magic",
            )
        lines[0] = "\n"  # keeps the line numbers of the cell
    starts = _statement_starts(lines)
    text = "".join(
        _translate_line(line, where, number) if start else line
        for number, (line, start) in enumerate(zip(lines, starts), start=1)
    )
    return ("%%" + first.group("name") if first else "python"), text


def skip_headless(source: str) -> str:
    """The cell with `%pip`, `!pip`, `%conda`, `%matplotlib`, `%config`, autoreload lines passed."""
    lines = source.splitlines(keepends=True)
    return "".join(
        _skip(line) if start and _PIP.match(line) else line
        for line, start in zip(lines, _statement_starts(lines))
    )


def _skip(line: str) -> str:
    ending = line[len(line.rstrip("\r\n")) :]
    indent = line[: len(line) - len(line.lstrip())]
    return f"{indent}pass  # skipped headless{ending}"


def _translate_line(line: str, where: str, number: int) -> str:
    ending = line[len(line.rstrip("\r\n")) :]
    body = line[: len(line) - len(ending)]
    indent = body[: len(body) - len(body.lstrip())]
    if _PIP.match(body):
        return _skip(line)
    match = _TIME_LINE.match(body)
    if match:
        label = "%" + match.group("magic")
        code = match.group("code") or "pass"
        return f"{indent}with __reprorun_timer__({label!r}): {code}{ending}"
    match = _SHELL_ASSIGN.match(body)
    if match:
        command = match.group("command")
        call = f"__reprorun_shell__({command!r}, locals(), None, True)"
        return f"{indent}{match.group('target')} = {call}{ending}"
    match = _SHELL.match(body)
    if match and not body.lstrip().startswith("!="):
        return f"{indent}__reprorun_shell__({match.group('command')!r}, locals()){ending}"
    if _MAGIC.match(body):
        magic = body.strip()
        return _unsupported(magic, where, number)
    return line


def _unsupported(magic: str, where: str, number: int) -> str:
    raise Magic(
        f"{where}, line {number}: the magic '{magic}' cannot run without IPython",
        hint="add 'ipython' to the block's dependencies to run every magic, or remove the line",
    )

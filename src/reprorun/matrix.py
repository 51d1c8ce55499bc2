"""Rows of a parameter file (CSV with a header, or JSON lines) and `{column}`/`{task}` placeholders.

One row is one task: `reprorun submit --each FILE` makes one Slurm array task per row, and the
notebook runner one execution per row. Pure apart from reading the file; every bad input is a
`UsageError` naming the file and line, raised before anything runs.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping

from reprorun.errors import UsageError

TASK = "task"  # the placeholder of the row's number (0, 1, ...), also the Slurm array task id
JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")


def read_rows(path: str) -> list[dict[str, str]]:
    """The rows of a CSV file (first line: the column names) or a JSON-lines file (one object a line)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory, not a CSV or JSON-lines file") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read it: {exc.strerror}") from None
    rows = _json_rows(text, path) if _is_json(text, path) else _csv_rows(text, path)
    if not rows:
        raise UsageError(f"{path}: no rows", hint="one task per row: a header line, then one line per task")
    return rows


def _is_json(text: str, path: str) -> bool:
    return path.lower().endswith(JSON_SUFFIXES) or text.lstrip().startswith("{")


def _csv_rows(text: str, path: str) -> list[dict[str, str]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    rows: list[dict[str, str]] = []
    try:
        for record in reader:
            if not record or record == [""]:
                continue  # a blank line
            if header is None:
                header = _header(record, path, reader.line_num)
                continue
            if len(record) != len(header):
                raise UsageError(
                    f"{path}:{reader.line_num}: {len(record)} values, but the header has {len(header)} columns",
                    hint="quote values that contain commas: \"a, b\"",
                )
            rows.append(dict(zip(header, record, strict=True)))
    except csv.Error as exc:
        raise UsageError(f"{path}:{reader.line_num}: not valid CSV: {exc}") from None
    return rows


def _header(names: list[str], path: str, line: int) -> list[str]:
    seen: set[str] = set()
    for name in names:
        problem = _bad_column(name)
        if problem is None and name in seen:
            problem = f"column {name!r} appears twice"
        if problem:
            raise UsageError(f"{path}:{line}: {problem}")
        seen.add(name)
    return names


def _bad_column(name: str) -> str | None:
    if not name.strip():
        return "a column without a name"
    if name == TASK:
        return f"a column may not be named {TASK!r}: {{{TASK}}} is the row's number"
    if any(c in name for c in "{}"):
        return f"column {name!r}: braces cannot appear in a column name"
    return None


def _json_rows(text: str, path: str) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    columns: list[str] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as exc:
            raise UsageError(f"{path}:{number}: not valid JSON: {exc}") from None
        if not isinstance(value, dict):
            raise UsageError(f"{path}:{number}: each line must be a JSON object, not {type(value).__name__}")
        row = {name: _scalar(item, path, number, name) for name, item in value.items()}
        for name in row:
            problem = _bad_column(name)
            if problem:
                raise UsageError(f"{path}:{number}: {problem}")
        if columns is None:
            columns = list(row)
        elif set(row) != set(columns):
            raise UsageError(
                f"{path}:{number}: keys {sorted(row)} differ from the first row's {sorted(columns)}",
                hint="every row must have the same keys",
            )
        rows.append(row)
    return rows


def _scalar(value: object, path: str, line: int, name: str) -> str:
    """A JSON value as the text a placeholder takes: strings as they are, numbers as JSON writes them."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, (bool, int, float)):
        return json.dumps(value)
    raise UsageError(f"{path}:{line}: {name!r} is a {type(value).__name__}; values must be strings or numbers")


def placeholders(template: str) -> set[str]:
    """The names between braces in a template (`{{` and `}}` are literal braces)."""
    return {name for kind, name in _parse(template) if kind == "field"}


def fill(template: str, row: Mapping[str, str], task: int) -> str:
    """The template with `{column}` replaced by the row's value and `{task}` by the task number."""
    out: list[str] = []
    for kind, text in _parse(template):
        if kind == "text":
            out.append(text)
        elif text == TASK:
            out.append(str(task))
        elif text in row:
            out.append(row[text])
        else:
            known = ", ".join(f"{{{name}}}" for name in [*row, TASK])
            raise UsageError(f"unknown placeholder {{{text}}} in {template!r}", hint=f"the placeholders are {known}")
    return "".join(out)


def _parse(template: str) -> list[tuple[str, str]]:
    """Split a template into ("text", literal) and ("field", name) parts."""
    parts: list[tuple[str, str]] = []
    literal: list[str] = []
    i = 0
    while i < len(template):
        char = template[i]
        if char in "{}" and template[i + 1 : i + 2] == char:
            literal.append(char)
            i += 2
        elif char == "{":
            end = template.find("}", i + 1)
            name = template[i + 1 : end] if end != -1 else ""
            if end == -1 or "{" in name:
                raise UsageError(f"unclosed '{{' in {template!r}", hint="write {{ for a literal brace")
            if not name:
                raise UsageError(f"empty placeholder {{}} in {template!r}", hint="write {{}} for literal braces")
            parts.append(("text", "".join(literal)))
            literal = []
            parts.append(("field", name))
            i = end + 1
        elif char == "}":
            raise UsageError(f"single '}}' in {template!r}", hint="write }} for a literal brace")
        else:
            literal.append(char)
            i += 1
    parts.append(("text", "".join(literal)))
    return [part for part in parts if part != ("text", "")]

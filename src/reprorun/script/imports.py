"""The imports of a script's text: absolute imports with their lines, optional ones marked."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable

from reprorun.script import importnames, source

_MAGIC_LINE = re.compile(r"^[ \t]*(%%?\w|!|[\w.]+ *= *!|\?|[\w.]+\?\??[ \t]*$)")


def find_imports(
    text: str, problems: list[str] | None = None, where: Callable[[int], str] = "line {}".format
) -> list[tuple[str, int, bool]]:
    """Absolute imports as (module, line, optional); optional: inside `try/except ImportError`.

    Magic and shell lines are blanked first; if the text still does not parse, a line-by-line
    text scan is used instead and a problem is noted.
    """
    source = _without_magics(text)
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        if problems is not None:
            problems.append(f"{where(exc.lineno or 1)}: not valid Python; imports found by a text scan")
        return _scan_imports(source)
    optional_lines = _optional_lines(tree)
    found: list[tuple[str, int, bool]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((a.name, node.lineno, node.lineno in optional_lines) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.extend(
                (module, node.lineno, node.lineno in optional_lines)
                for module in dict.fromkeys(_from_import(node.module, a.name) for a in node.names)
            )
    return sorted(found, key=lambda item: item[1])


def _from_import(module: str, name: str) -> str:
    """`from google.cloud import storage` imports `google.cloud.storage` when the table says so."""
    deeper = importnames.lookup(f"{module}.{name}")
    return f"{module}.{name}" if deeper and deeper[1] == f"{module}.{name}" else module


def _without_magics(text: str) -> str:
    """Magic and shell lines replaced by `pass` at their indentation; line numbers kept."""
    out = []
    for line in source.lines(text):
        body = line.rstrip("\r\n")
        if _MAGIC_LINE.match(body):
            indent = body[: len(body) - len(body.lstrip(" \t"))]
            out.append(f"{indent}pass{line[len(body):]}")
        else:
            out.append(line)
    return "".join(out)


def _optional_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(_catches_import_error(h) for h in node.handlers):
            for statement in node.body:
                for inner in ast.walk(statement):
                    if isinstance(inner, ast.Import | ast.ImportFrom):
                        lines.add(inner.lineno)
    return lines


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    names = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return handler.type is None or any(isinstance(k, ast.Name) and k.id in names for k in kinds)


_IMPORT_RE = re.compile(r"^[ \t]*import[ \t]+([\w.]+(?:[ \t]*,[ \t]*[\w.]+)*)")
_FROM_RE = re.compile(r"^[ \t]*from[ \t]+([\w][\w.]*)[ \t]+import\b")


def _scan_imports(text: str) -> list[tuple[str, int, bool]]:
    found: list[tuple[str, int, bool]] = []
    for number, line in enumerate(source.lines(text), start=1):
        match = _IMPORT_RE.match(line)
        if match:
            found.extend((m.strip(), number, False) for m in match.group(1).split(","))
            continue
        match = _FROM_RE.match(line)
        if match:
            found.append((match.group(1), number, False))
    return found

"""Parameters, papermill's way: values from `-p`, `--params FILE` and `--each` rows, injected as a
cell tagged `injected-parameters` right after the cell tagged `parameters`.

Pure except `read_file`. A `-p` value is a Python literal when it parses as one (`3`, `0.5`,
`[1, 2]`, `'x'`, `True`), else the string as typed, like papermill's `-p`. `--params` files are
JSON, or YAML when PyYAML can be imported where reprorun runs (it is not one of reprorun's
dependencies; `pip install pyyaml` beside reprorun, or write JSON).
"""

from __future__ import annotations

import ast
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reprorun.errors import UsageError
from reprorun.jupyter.notebook import source, tags

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"


@dataclass(frozen=True)
class Injection:
    """The notebook with the parameters cell added, where each of its cells came from (the
    original cell's position, None for the injected one), and what to warn about."""

    notebook: dict[str, Any]
    origin: list[int | None]
    warnings: tuple[str, ...]


def literal(text: str) -> Any:  # noqa: ANN401 - a parameter is any Python literal
    """A `-p` value: the Python literal it spells, else the text itself."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def read_file(path: str) -> dict[str, Any]:
    """The parameters of a JSON or YAML file (a mapping of names to values)."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--params {path}: cannot read it: {getattr(exc, 'strerror', None) or exc}") from None
    if path.endswith((".yaml", ".yml")):
        values = _yaml(text, path)
    else:
        try:
            values = json.loads(text)
        except ValueError as exc:
            raise UsageError(f"--params {path}: invalid JSON: {exc}",
                             hint="--params reads JSON, or YAML from a .yaml/.yml file") from None  # fmt: skip
    if not isinstance(values, dict):
        raise UsageError(f"--params {path}: expected a mapping of parameter names to values")
    return {str(name): value for name, value in values.items()}


def _yaml(text: str, path: str) -> Any:  # noqa: ANN401 - whatever the document holds
    try:
        import yaml
    except ImportError:
        raise UsageError(
            f"--params {path}: reading YAML needs PyYAML where reprorun runs",
            hint="pip install pyyaml next to reprorun, or write the parameters as JSON",
        ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"--params {path}: invalid YAML: {exc}") from None


def check_names(values: Mapping[str, Any]) -> None:
    """Every parameter name must be a Python identifier (it becomes a variable)."""
    for name in values:
        if not name.isidentifier() or name in {"True", "False", "None"}:
            raise UsageError(f"parameter {name!r} is not a valid Python variable name")


def render(values: Mapping[str, Any]) -> str:
    """The injected cell's source: one assignment per parameter, as papermill writes it."""
    return "# Parameters\n" + "".join(f"{name} = {_python(value)}\n" for name, value in values.items())


def _python(value: Any) -> str:  # noqa: ANN401 - any JSON, YAML or literal value
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    return repr(value)


def defined_names(text: str) -> set[str] | None:
    """The names a parameters cell assigns at top level, or None if it does not parse."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    names: set[str] = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, (ast.AnnAssign, ast.AugAssign)) else []  # fmt: skip
        for target in targets:
            names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


def inject(nb: dict[str, Any], values: Mapping[str, Any]) -> Injection:
    """Insert the injected cell after the `parameters` cell (or at the top), replacing an earlier
    injected cell; warn about names the parameters cell does not define, as papermill does."""
    if not values:
        return Injection(nb, list(range(len(nb["cells"]))), ())
    check_names(values)
    kept = [i for i, cell in enumerate(nb["cells"]) if INJECTED_TAG not in tags(cell)]
    cells = [nb["cells"][i] for i in kept]
    origin: list[int | None] = list(kept)
    warnings = []
    found = next((i for i, cell in enumerate(cells) if PARAMETERS_TAG in tags(cell)), None)
    if found is None:
        warnings.append("no cell is tagged 'parameters'; the parameters are injected at the top")
        at = 0
    else:
        at = found + 1
        defined = defined_names(source(cells[found]))
        unknown = [name for name in values if defined is not None and name not in defined]
        if unknown:
            warnings.append(f"the parameters cell does not define: {', '.join(unknown)}")
    cell: dict[str, Any] = {"cell_type": "code", "execution_count": None, "metadata": {"tags": [INJECTED_TAG]},
            "outputs": [], "source": render(values)}  # fmt: skip
    if nb.get("nbformat_minor", 0) >= 5 or any("id" in c for c in cells):
        taken = {c.get("id") for c in cells}
        cell["id"] = next(f"{INJECTED_TAG}-{n}" if n else INJECTED_TAG for n in range(len(cells) + 1)
                          if (f"{INJECTED_TAG}-{n}" if n else INJECTED_TAG) not in taken)  # fmt: skip
    cells.insert(at, cell)
    origin.insert(at, None)
    return Injection({**nb, "cells": cells}, origin, tuple(warnings))

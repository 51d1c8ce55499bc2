"""Architecture: every module imports alone, internal imports follow the layers, no cycles."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import reprorun

PACKAGE = Path(reprorun.__file__).parent

# The pure core and what each module of it may import from reprorun (nothing else). A module
# missing from this map is only held to the rule below: nothing under the command line imports
# `reprorun.cli` or `reprorun.commands`.
ALLOWED: dict[str, set[str]] = {
    "reprorun": set(),
    "reprorun.errors": set(),
    "reprorun.script.blocks": {"reprorun.errors"},
    "reprorun.options": {"reprorun.errors"},
    "reprorun.script.source": {"reprorun.errors"},
    "reprorun.script.cells": {"reprorun.script.blocks", "reprorun.errors"},
    "reprorun.script.metadata": {"reprorun.script.blocks", "reprorun.errors"},
}
TOP = {"reprorun.cli", "reprorun.__main__"}  # the command line itself
COMMANDS = "reprorun.commands"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(name: str) -> set[str]:
    """The reprorun modules that a module imports anywhere (but under `if TYPE_CHECKING:`)."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    skipped = {
        id(child)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and _is_type_checking(node)
        for stmt in node.body
        for child in ast.walk(stmt)
    }
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in MODULES else base)
    return {
        _owning_module(imported) for imported in found if imported.split(".")[0] == "reprorun"
    } - {name}


def _owning_module(dotted: str) -> str:
    while dotted not in MODULES and "." in dotted:
        dotted = dotted.rpartition(".")[0]
    return dotted


GRAPH = {name: _imports(name) for name in MODULES}


def test_modules_were_found() -> None:
    assert {"reprorun.script.blocks", "reprorun.script.metadata", "reprorun.cli"} <= set(MODULES)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_imports_alone(name: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", f"import {name}"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_core_module_imports_only_what_it_may(name: str) -> None:
    if name not in MODULES:
        pytest.skip(f"{name} does not exist")
    assert GRAPH[name] <= ALLOWED[name]


@pytest.mark.parametrize("name", sorted(set(MODULES) - TOP))
def test_nothing_below_the_command_line_imports_it(name: str) -> None:
    forbidden = {m for m in GRAPH[name] if m == "reprorun.cli"}
    if not (name == COMMANDS or name.startswith(COMMANDS + ".")):
        forbidden |= {m for m in GRAPH[name] if m == COMMANDS or m.startswith(COMMANDS + ".")}
    assert not forbidden


def test_no_import_cycles() -> None:
    cycles = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        path.append(name)
        for target in sorted(GRAPH.get(name, ())):
            # A package's __init__ imported by its own submodule is not a cycle of modules.
            if name.startswith(target + "."):
                continue
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target)
        path.pop()
        state[name] = 2

    for name in sorted(GRAPH):
        if name not in state:
            visit(name)
    assert cycles == []


def test_the_graph_reader_resolves_imports() -> None:
    assert GRAPH["reprorun.script.metadata"] == {"reprorun.script.blocks", "reprorun.errors"}
    assert "reprorun.errors" in GRAPH["reprorun.cli"]

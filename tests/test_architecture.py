"""Architecture: every module imports alone, internal imports follow the layers, no cycles."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import reprorun

PACKAGE = Path(reprorun.__file__).parent

# The layer table: every module of the package belongs to the layer of its longest matching
# prefix, and may import only modules of its own layer or of lower ones. A module that matches
# no prefix fails `test_every_module_has_a_layer`: a new package must be placed here on purpose.
LAYERS: dict[str, int] = {
    "reprorun": 0,  # the package itself (its version)
    "reprorun.errors": 0,
    "reprorun.options": 0,
    "reprorun.processes": 0,
    "reprorun.notices": 0,  # warnings about one input, capped
    # The warm start: it runs before anything else of reprorun is imported, so what it shares with
    # the layers above (cache names, the use hold, the block scanner's core, pip's config files, the
    # env activation) is defined in these modules, and envs/, script/ and launch/ import it from them.
    "reprorun.warm": 0,
    "reprorun.cachefiles": 0,
    "reprorun.inprocess": 0,
    "reprorun.script": 1,  # reading and editing scripts: pure, plus reading and rewriting files
    "reprorun.matrix": 1,  # rows of a CSV / JSON-lines file and placeholders (submit, --each)
    "reprorun.envs": 2,  # interpreters, keys, the cache, locks, installers, building, pruning
    "reprorun.config": 3,  # the user's configuration file (its cache-dir, prune age, ...)
    "reprorun.freeze": 3,  # pins (pure), resolution, write-back
    "reprorun.launch": 3,  # activation, exec, the in-process and warm launches
    "reprorun.cluster": 4,  # Slurm: batch scripts, snapshots, sbatch
    "reprorun.portable": 3,  # other platforms, bundles, exports (freeze's write-back resolves with it)
    "reprorun.records": 4,  # run records
    "reprorun.jupyter": 4,  # Jupyter kernels and executed notebooks
    "reprorun.progress": 1,  # the build's status line (imports nothing of reprorun)
    "reprorun.commands": 5,  # one module per command; only they (and the CLI) print
    "reprorun.cli": 6,
    "reprorun.commandline": 6,  # cli.py's parts: argv splitting, the global options, stderr logging
    "reprorun.__main__": 6,
}

# Modules that run before or outside reprorun's own imports: the warm path and the programs run
# by an env's interpreter. They may import only what is listed (and the standard library).
STDLIB_ONLY: dict[str, set[str]] = {
    # The warm start: these three and the package's __init__ are all it loads of reprorun (see
    # test_a_warm_start_loads_only_the_warm_modules below).
    "reprorun.warm": {"reprorun", "reprorun.cachefiles", "reprorun.inprocess"},
    "reprorun.cachefiles": set(),
    "reprorun.inprocess": {"reprorun.cachefiles"},
    "reprorun.envs.layout": {"reprorun.cachefiles"},
    "reprorun.envs.locks": {"reprorun.cachefiles"},
    "reprorun.envs.liveness": {"reprorun.cachefiles"},
    "reprorun.script.blocks": {"reprorun.warm"},
    "reprorun.launch.activate": {"reprorun.cachefiles"},
    # pip's configuration: its path list and fingerprint are the warm start's; errors only when reading.
    "reprorun.envs.pipconfig": {"reprorun.warm", "reprorun.errors"},
    "reprorun.launch._runner": {"reprorun.launch._headless.cells", "reprorun.launch._headless.notebook",
                                "reprorun.launch._headless.pyexec"},
    "reprorun.launch._headless": set(),
    "reprorun.launch._headless.pyexec": set(),
    "reprorun.launch._headless.cells": {"reprorun.launch._headless.pyexec"},
    "reprorun.launch._headless.magics": {"reprorun.launch._headless.pyexec"},
    "reprorun.launch._headless.runtime": set(),
    "reprorun.launch._headless.notebook": {"reprorun.launch._headless.magics", "reprorun.launch._headless.pyexec",
                                           "reprorun.launch._headless.runtime"},
    "reprorun.envs._compile": set(),
    # The lean first run (issue 17): a script without requirements built before the command line is imported.
    "reprorun.launch.firstrun": {
        "reprorun.warm", "reprorun.cachefiles", "reprorun.inprocess", "reprorun.envs.layout", "reprorun.envs.leanbuild",
        "reprorun.envs.leankey", "reprorun.launch.remember", "reprorun.script.blocks", "reprorun.script.leanblock",
    },
    "reprorun.envs.leankey": {"reprorun.envs.layout", "reprorun.envs.pipconfig"},
    "reprorun.envs.leanbuild": {"reprorun", "reprorun.envs.layout", "reprorun.envs.leankey", "reprorun.envs.locks",
                                "reprorun.envs.liveness"},
    "reprorun.script.leanblock": set(),
    "reprorun.launch.remember": {"reprorun.envs.layout", "reprorun.warm"},
}

# The pure core: what each may import from reprorun (nothing else, and no file system).
ALLOWED: dict[str, set[str]] = {
    "reprorun.notices": set(),
    "reprorun": set(),
    "reprorun.errors": set(),
    "reprorun.script.blocks": {"reprorun.errors", "reprorun.warm"},  # the scanner's core (warm.scan_blocks) is pure
    "reprorun.options": {"reprorun.errors"},
    "reprorun.script.source": {"reprorun.errors"},
    "reprorun.script.cells": {"reprorun.script.blocks", "reprorun.errors"},
    "reprorun.script.requirements": set(),
    "reprorun.script.metadata": {"reprorun.script.blocks", "reprorun.script.nearmiss", "reprorun.errors",
                                 "reprorun.script.fields", "reprorun.script.locator", "reprorun.script.requirements",
                                 "reprorun.script.tomltext"},
    "reprorun.script.fields": {"reprorun.script.locator", "reprorun.script.requirements",
                               "reprorun.script.timestamps", "reprorun.script.tomltext"},
    "reprorun.script.locator": {"reprorun.script.blocks", "reprorun.errors"},
    "reprorun.script.tomltext": {"reprorun.script.blocks", "reprorun.errors"},
    "reprorun.script.timestamps": set(),
    "reprorun.script.nearmiss": {"reprorun.script.blocks"},
    "reprorun.envs.keys": {"reprorun.envs.installers.sources", "reprorun.envs.interpreters",
                           "reprorun.script.requirements"},
    "reprorun.envs.installers.sources": {"reprorun.options", "reprorun.script.fields", "reprorun.script.timestamps",
                                         "reprorun.envs.pipconfig", "reprorun.errors"},
    "reprorun.freeze.pins": {"reprorun.errors", "reprorun.script.tomlrender", "reprorun.script.metadata",
                             "reprorun.script.requirements", "reprorun.script.timestamps"},
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


def layer_of(name: str) -> int | None:
    """The layer of a module: that of its longest matching prefix in LAYERS."""
    dotted = name
    while dotted not in LAYERS:
        if "." not in dotted:
            return None
        dotted = dotted.rpartition(".")[0]
    return LAYERS[dotted] if dotted != "reprorun" or name == "reprorun" else None


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_has_a_layer(name: str) -> None:
    assert layer_of(name) is not None, f"{name} is in no layer: add its package to LAYERS"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_imports_only_its_layer_and_below(name: str) -> None:
    own = layer_of(name)
    above = {m: layer_of(m) for m in GRAPH[name] if (layer_of(m) or 0) > (own or 0)}
    assert not above, f"{name} (layer {own}) imports higher layers: {above}"


def package_of(name: str) -> str | None:
    """The LAYERS entry a module belongs to (its longest matching prefix)."""
    dotted = name
    while dotted not in LAYERS:
        if "." not in dotted:
            return None
        dotted = dotted.rpartition(".")[0]
    return dotted


# Within a layer, packages do not use one another ("each package may use only the ones below it"),
# except the features of layer 4, which build on each other (submit records its jobs, a notebook
# is submitted); the cycle test still holds them. `__main__` is the command line's entry point.
SIDEWAYS_LAYERS = {4}
# freeze's write-back resolves for other platforms with portable, which builds on freeze's pins.
# cli.py is made of the commandline/ parts.
# The warm start's three modules are one unit split by concern (the start, the cache files, the launch);
# the package's version is in the warm start's fingerprint.
SIDEWAYS = {("reprorun.__main__", "reprorun.cli"), ("reprorun.cli", "reprorun.commandline"),
            ("reprorun.freeze", "reprorun.portable"), ("reprorun.portable", "reprorun.freeze"),
            ("reprorun.warm", "reprorun.cachefiles"), ("reprorun.warm", "reprorun.inprocess"),
            ("reprorun.inprocess", "reprorun.cachefiles"), ("reprorun.warm", "reprorun")}  # fmt: skip


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_imports_another_package_of_its_layer(name: str) -> None:
    own = layer_of(name)
    if own in SIDEWAYS_LAYERS:
        return
    sideways = {m for m in GRAPH[name] if layer_of(m) == own and package_of(m) != package_of(name)
                and (package_of(name), package_of(m)) not in SIDEWAYS}  # fmt: skip
    assert not sideways, f"{name} (layer {own}) imports another package of its layer: {sideways}"


def test_every_imported_module_has_a_layer() -> None:
    unplaced = {m for imports in GRAPH.values() for m in imports if layer_of(m) is None}
    assert not unplaced


def test_the_layer_table_has_no_unknown_layer() -> None:
    assert set(LAYERS.values()) == set(range(7))
    assert all(name == "reprorun" or name.startswith("reprorun.") for name in LAYERS)


def test_every_existing_package_is_in_the_documented_table() -> None:
    # docs/architecture.md holds the same table for people: same packages, same layers.
    doc = (PACKAGE.parent.parent / "docs" / "architecture.md")
    if not doc.is_file():  # an installed copy without the repository's docs
        pytest.fail(f"{doc} is missing")
    documented: dict[str, int] = {}
    for line in doc.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].isdigit():
            for word in re.findall(r"`([\w.]+/?)`", cells[1]):
                documented["reprorun." + word.removesuffix("/").removesuffix(".py")] = int(cells[0])
    assert documented, "no layer table found in docs/architecture.md"
    for name, layer in documented.items():
        assert LAYERS.get(name) == layer, f"{name}: layer {layer} in the docs, {LAYERS.get(name)} in LAYERS"
    present = {package_of(m) for m in MODULES} - {"reprorun"}
    assert present <= set(documented), f"not in docs/architecture.md: {present - set(documented)}"


@pytest.mark.parametrize("name", sorted(STDLIB_ONLY))
def test_start_up_modules_import_only_what_they_may(name: str) -> None:
    assert GRAPH[name] <= STDLIB_ONLY[name]
    source = MODULES[name].read_text(encoding="utf-8")
    tree = ast.parse(source)
    third_party = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        for alias in (node.names if isinstance(node, ast.Import) else [])
    } | {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and not node.level
    }
    # IPython, traitlets: the runner uses them when the env has them;
    # _headless: the runner's own parts, imported by that name when an env's interpreter runs it by path.
    # _sha2/_sha256: the builtin sha256 of each version (the lean first run's key, envs/leankey.py).
    tolerated = {"reprorun", "__future__", "platformdirs", "IPython", "traitlets", "_headless", "_sha2", "_sha256"}
    assert not third_party - set(sys.stdlib_module_names) - tolerated, third_party


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith(COMMANDS + ".")))
def test_no_command_imports_another(name: str) -> None:
    others = {m for m in GRAPH[name] if m.startswith(COMMANDS + ".")}
    assert not others, f"{name} imports other commands: {others}"


def _reachable(start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(GRAPH.get(name, ()))
    return seen


def test_the_run_path_does_not_import_freeze_or_the_block_editor() -> None:
    reached = _reachable("reprorun.commands.run")
    editor = {"reprorun.script.blockedit", "reprorun.script.tomledit", "reprorun.script.tomlrender"}
    assert not {m for m in reached if m.startswith("reprorun.freeze") or m in editor}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_imports_alone(name: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", f"import {name}"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_core_module_imports_only_what_it_may(name: str) -> None:
    assert name in MODULES, f"{name} is in ALLOWED but does not exist"
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
    expected = {"reprorun.script.blocks", "reprorun.script.nearmiss", "reprorun.errors", "reprorun.script.fields",
                "reprorun.script.locator", "reprorun.script.requirements", "reprorun.script.tomltext"}
    assert GRAPH["reprorun.script.metadata"] == expected
    assert "reprorun.errors" in GRAPH["reprorun.cli"]

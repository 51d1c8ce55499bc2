"""A notebook run headless: its code cells in one `__main__`, through IPython when the env has it."""

# Runs on Python 3.8+ under an env interpreter; the runner is its own little command line.
# ruff: noqa: T201

from __future__ import annotations

import contextlib
import importlib.util
import json
import linecache
import os
import sys
import warnings
from typing import Any

from .magics import SHELL_CELL_MAGICS, skip_headless, translate_cell
from .pyexec import RunnerError, compile_user, die_of_sigint, fresh_main, read_text, run_code, set_path0
from .runtime import shell, timer


def load_notebook(path: str) -> list[dict[str, Any]]:
    """The cells of an nbformat 4 notebook, as JSON objects."""
    try:
        notebook = json.loads(read_text(path))
    except ValueError as exc:
        raise RunnerError(f"{path}: not a notebook (invalid JSON: {exc})", status=2) from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise RunnerError(f"{path}: not an nbformat 4 notebook (no 'cells' list)", status=2)
    return [cell for cell in notebook["cells"] if isinstance(cell, dict)]


def cell_source(cell: dict[str, Any]) -> str:
    """A cell's source text; nbformat stores it as a string or a list of lines."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def run_notebook(numbers: list[int] | None, notebook: str, args: list[str]) -> int:
    """Run the code cells (all, or those numbered; 1-based over every cell) of a notebook."""
    path = os.path.abspath(notebook)
    all_cells = load_notebook(notebook)
    if numbers is not None:
        bad = [n for n in numbers if not 1 <= n <= len(all_cells)]
        if bad:
            raise RunnerError(f"{notebook}: there is no cell {bad[0]} (it has {len(all_cells)})", 2)
    chosen = [
        (number, cell_source(cell))
        for number, cell in enumerate(all_cells, start=1)
        if cell.get("cell_type") == "code" and (numbers is None or number in numbers)
    ]
    os.environ.setdefault("MPLBACKEND", "Agg")
    sys.argv = [notebook, *args]
    set_path0(os.path.dirname(path))
    os.chdir(os.path.dirname(path))  # a Jupyter kernel starts in the notebook's folder
    name = os.path.basename(notebook)
    if os.environ.get("REPRORUN_NO_IPYTHON") or importlib.util.find_spec("IPython") is None:
        return _run_plain(chosen, name)
    return _run_ipython(chosen, name)


def _run_plain(chosen: list[tuple[int, str]], name: str) -> int:
    """Run the cells in one `__main__` namespace, magics translated; stop at the first error."""
    translated = [
        (number, source, *translate_cell(source, f"{name} cell {number}"))
        for number, source in chosen
    ]  # every cell is checked before any runs: no half-run notebook for a bad magic
    namespace = fresh_main(None).__dict__
    namespace["__reprorun_timer__"] = timer
    namespace["__reprorun_shell__"] = shell
    for number, original, how, text in translated:
        if how in SHELL_CELL_MAGICS:
            shell(text, None, how)
            continue
        filename = f"<{name} cell {number}>"
        linecache.cache[filename] = (len(original), None, original.splitlines(True), filename)
        code = compile_user(text, filename)
        if code is None:
            return 1
        with timer(how) if how != "python" else contextlib.nullcontext():
            status = run_code(code, namespace)
        if status:
            return status
    return 0


def _run_ipython(chosen: list[tuple[int, str]], name: str) -> int:
    """Run the cells through IPython's InteractiveShell, so every magic works."""
    from IPython.core.interactiveshell import InteractiveShell  # type: ignore[import-not-found]
    from traitlets.config import Config  # IPython needs it (missing: see the mypy overrides)

    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    if not sys.stderr.isatty():
        config.InteractiveShell.colors = "NoColor"  # IPython 9 also accepts the old spelling
    warnings.filterwarnings("ignore", message="To exit: use 'exit'")
    shell = InteractiveShell.instance(config=config)

    def to_stderr(etype: object, value: object, stb: list[str]) -> None:
        print(shell.InteractiveTB.stb2text(stb), file=sys.stderr)  # stdout is the notebook's output

    shell._showtraceback = to_stderr  # the hook IPython documents for subclasses
    for number, source in chosen:
        shell.execution_count = number
        result = shell.run_cell(skip_headless(source), store_history=False, silent=True)
        error = result.error_before_exec or result.error_in_exec
        if isinstance(error, SystemExit):
            raise error
        if isinstance(error, KeyboardInterrupt):
            die_of_sigint()
        if error is not None:
            print(f"reprorun: error: {name} cell {number} failed", file=sys.stderr)
            return 1
    return 0

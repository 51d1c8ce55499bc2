"""Run selected cells of a script, or a notebook headless, inside a script's environment.

This file is executed by the *environment's* interpreter, which does not have reprorun installed:

    ENVPYTHON _runner.py cells --lines A-B[,C-D...] -- SCRIPT [ARGS...]
    ENVPYTHON _runner.py notebook [--cells N[,M...]] -- NOTEBOOK [ARGS...]

so it imports the standard library only and runs on Python 3.8+. The user's code sees what
`python SCRIPT` would show it: a fresh `__main__`, `sys.argv`, `sys.path[0]` the script's folder,
tracebacks with the real file and line numbers and without this runner's frames, exit status 1
on an uncaught exception, `SystemExit` and `KeyboardInterrupt` as usual. Its own errors print
`reprorun: error: ...` and exit 2 (bad arguments) or 1 (a notebook that cannot run headless).
This file is the command line; its parts live in the `_headless/` folder beside it.
"""

# This file runs on Python 3.8+ under an env interpreter and is its own little command line:
# zip(strict=) does not exist there (B905), and it prints (T201).
# ruff: noqa: B905, T201

from __future__ import annotations

import os
import sys

if __package__:  # imported as reprorun.launch._runner (type checking, the architecture test)
    from ._headless.cells import parse_lines, run_cells
    from ._headless.notebook import run_notebook
    from ._headless.pyexec import RunnerError
else:  # run by path: its parts are the top-level package `_headless` of this file's folder
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # also under -I/-P (no folder added)
    try:
        from _headless.cells import parse_lines, run_cells  # type: ignore[import-not-found,no-redef]
        from _headless.notebook import run_notebook  # type: ignore[import-not-found,no-redef]
        from _headless.pyexec import RunnerError  # type: ignore[import-not-found,no-redef]
    finally:
        del sys.path[0]  # sys.path as python made it; set_path0 replaces this folder with the script's


def main(argv: list[str]) -> int:
    """Parse `MODE [OPTIONS] -- TARGET ARGS...` and run it; return the exit status."""
    if "--" not in argv or not argv or argv[0] not in ("cells", "notebook"):
        raise RunnerError(
            "usage: _runner.py cells --lines A-B[,C-D] -- SCRIPT [ARGS...] | "
            "_runner.py notebook [--cells N,...] -- NOTEBOOK [ARGS...]",
            status=2,
        )
    split = argv.index("--")
    mode, options, rest = argv[0], argv[1:split], argv[split + 1 :]
    if not rest:
        raise RunnerError(f"{mode}: no file after '--'", status=2)
    values = dict(zip(options[::2], options[1::2]))
    allowed = {"cells": {"--lines"}, "notebook": {"--cells"}}[mode]
    if len(options) % 2 or set(values) - allowed:
        raise RunnerError(f"{mode}: unexpected options {options}", status=2)
    if mode == "cells":
        if "--lines" not in values:
            raise RunnerError("cells: --lines is required", status=2)
        return run_cells(parse_lines(values["--lines"]), rest[0], rest[1:])
    numbers = None
    if "--cells" in values:
        try:
            numbers = [int(n) for n in values["--cells"].split(",") if n.strip()]
        except ValueError:
            raise RunnerError(f"--cells: not cell numbers: {values['--cells']!r}", 2) from None
    return run_notebook(numbers, rest[0], rest[1:])


def _entry() -> None:
    try:
        status = main(sys.argv[1:])
    except RunnerError as exc:
        print(f"reprorun: error: {exc}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {exc.hint}", file=sys.stderr)
        status = exc.status
    sys.exit(status)


if __name__ == "__main__":
    _entry()

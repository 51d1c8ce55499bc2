"""Run selected cells of a script, or a notebook headless, inside a script's environment.

This file is executed by the *environment's* interpreter, which does not have reprorun installed:

    ENVPYTHON _runner.py cells --lines A-B[,C-D...] -- SCRIPT [ARGS...]
    ENVPYTHON _runner.py notebook [--cells N[,M...]] -- NOTEBOOK [ARGS...]

so it imports the standard library only and runs on Python 3.8+. The user's code sees what
`python SCRIPT` would show it: a fresh `__main__`, `sys.argv`, `sys.path[0]` the script's folder,
tracebacks with the real file and line numbers and without this runner's frames, exit status 1
on an uncaught exception, `SystemExit` and `KeyboardInterrupt` as usual. Its own errors print
`reprorun: error: ...` and exit 2 (bad arguments) or 1 (a notebook that cannot run headless).
"""

# This file runs on Python 3.8+ under an env interpreter and is its own little command line:
# zip(strict=) and text= do not exist there (B905, UP021), and it prints (T201).
# ruff: noqa: B905, T201, UP021

from __future__ import annotations

import builtins
import contextlib
import importlib.util
import json
import linecache
import os
import re
import signal
import subprocess
import sys
import time
import traceback
import types
import warnings
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

_RUNNER_FILE = os.path.abspath(__file__)
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")  # Python's own line breaks, unlike splitlines


class RunnerError(Exception):
    """A failure of the runner itself, printed as one `reprorun: error:` line."""

    def __init__(self, message: str, status: int = 1, hint: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.hint = hint


# --- running code like `python SCRIPT` does ------------------------------------------------


def _fresh_main(path: str | None) -> types.ModuleType:
    """A new `__main__` module, registered in `sys.modules`, as the interpreter makes one."""
    module = types.ModuleType("__main__")
    module.__dict__.update(
        {"__builtins__": builtins, "__spec__": None, "__package__": None, "__loader__": None}
    )
    if path is not None:
        module.__file__ = path
        module.__cached__ = None  # type: ignore[attr-defined]
    sys.modules["__main__"] = module
    return module


def _set_path0(folder: str) -> None:
    """Put the script's folder where python puts it: in place of this runner's own folder."""
    runner_folder = os.path.dirname(_RUNNER_FILE)
    if sys.path and sys.path[0] and os.path.abspath(sys.path[0]) == runner_folder:
        sys.path[0] = folder  # else -P / PYTHONSAFEPATH: python adds no folder, nor do we


def _user_traceback(tb: types.TracebackType | None) -> types.TracebackType | None:
    """The traceback without the runner's own leading frames."""
    while tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename) == _RUNNER_FILE:
        tb = tb.tb_next
    return tb


def _exit_like_python(exc: BaseException) -> int:
    """Report an exception that escaped the user's code as the interpreter would; the status."""
    if isinstance(exc, SystemExit):
        raise exc  # the interpreter prints its message and exits with its code
    exc = exc.with_traceback(_user_traceback(exc.__traceback__))
    if sys.excepthook is sys.__excepthook__:
        # The C hook reads source lines from disk only; this one also shows notebook cells.
        traceback.print_exception(type(exc), exc, exc.__traceback__)
    else:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    if isinstance(exc, KeyboardInterrupt):
        _die_of_sigint()
    return 1


def _die_of_sigint() -> None:
    """End as `python` does after an uncaught KeyboardInterrupt: killed by SIGINT (POSIX)."""
    sys.stdout.flush()
    sys.stderr.flush()
    if hasattr(signal, "SIGINT") and os.name == "posix":
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    sys.exit(130)


def _run_code(code: types.CodeType, namespace: dict[str, Any]) -> int:
    """Execute compiled user code in a namespace; 0, or the status of its uncaught exception."""
    try:
        exec(code, namespace)  # noqa: S102 - running the user's own code is the point
    except BaseException as exc:  # noqa: BLE001 - every escape is reported like python does
        return _exit_like_python(exc)
    return 0


def _compile(source: str, filename: str) -> types.CodeType | None:
    """Compile user code; print a SyntaxError as python does (no traceback) and return None."""
    try:
        return compile(source, filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        traceback.print_exception(type(exc), exc, None)
        return None


def _read_text(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise RunnerError(f"{path}: cannot read: {exc.strerror}", status=2) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise RunnerError(f"{path}: not UTF-8 text", status=2) from None
    return text[1:] if text.startswith("\ufeff") else text


# --- cells of a `# %%` script -------------------------------------------------------------


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
    source = select_lines(_read_text(script), ranges)
    sys.argv = [script, *args]
    _set_path0(os.path.dirname(path))
    code = _compile(source, path)
    if code is None:
        return 1
    return _run_code(code, _fresh_main(path).__dict__)


# --- notebooks ------------------------------------------------------------------------------

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
_SHELL_CELL_MAGICS = ("bash", "sh")


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
        if name in _SHELL_CELL_MAGICS:
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


@contextlib.contextmanager
def _timer(label: str) -> Iterator[None]:
    """Time a block as `%time` does, reporting on stderr."""
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        cpu_used, wall_used = time.process_time() - cpu, time.perf_counter() - wall
        used = f"CPU time {_seconds(cpu_used)}, wall time {_seconds(wall_used)}"
        print(f"{label}: {used}", file=sys.stderr)


def _seconds(value: float) -> str:
    return f"{value * 1000:.3g} ms" if value < 1 else f"{value:.3g} s"


def _shell(
    command: str, namespace: dict[str, Any] | None = None, shell: str | None = None, capture: bool = False
) -> list[str] | None:
    """Run a `!command` line through the shell, as IPython does; its status never stops the cell."""
    if namespace is not None:
        command = _expand(command, namespace)
    executable = "/bin/" + shell if shell and os.path.exists("/bin/" + shell) else None
    sys.stdout.flush()
    sys.stderr.flush()
    if capture:
        result = subprocess.run(  # noqa: S602 - `!cmd` means "run this through the shell"
            command,
            shell=True,
            executable=executable,
            stdout=subprocess.PIPE,
            universal_newlines=True,
            check=False,
        )
        return result.stdout.splitlines()
    subprocess.run(command, shell=True, executable=executable, check=False)  # noqa: S602
    return None


def _expand(command: str, namespace: dict[str, Any]) -> str:
    """IPython's `{expression}` and `$name` expansion of shell lines, from the namespace."""
    def name(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        key = match.group(1)
        return str(namespace[key]) if key in namespace else match.group(0)

    def expression(match: re.Match[str]) -> str:
        try:
            return str(eval(match.group(1), dict(sys.modules["__main__"].__dict__), namespace))  # noqa: S307
        except Exception:  # noqa: BLE001 - IPython leaves what it cannot evaluate as it is
            return match.group(0)

    command = re.sub(r"(?<!\{)\{([^{}]+)\}(?!\})", expression, command)
    return re.sub(r"\$\$|\$([A-Za-z_]\w*)", name, command)


def load_notebook(path: str) -> list[dict[str, Any]]:
    """The cells of an nbformat 4 notebook, as JSON objects."""
    try:
        notebook = json.loads(_read_text(path))
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
    _set_path0(os.path.dirname(path))
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
    namespace = _fresh_main(None).__dict__
    namespace["__reprorun_timer__"] = _timer
    namespace["__reprorun_shell__"] = _shell
    for number, original, how, text in translated:
        if how in _SHELL_CELL_MAGICS:
            _shell(text, None, how)
            continue
        filename = f"<{name} cell {number}>"
        linecache.cache[filename] = (len(original), None, original.splitlines(True), filename)
        code = _compile(text, filename)
        if code is None:
            return 1
        with _timer(how) if how != "python" else contextlib.nullcontext():
            status = _run_code(code, namespace)
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
            _die_of_sigint()
        if error is not None:
            print(f"reprorun: error: {name} cell {number} failed", file=sys.stderr)
            return 1
    return 0


# --- command line ---------------------------------------------------------------------------


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

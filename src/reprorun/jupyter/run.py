"""Execute a notebook or cell script with a real kernel and save it: once, or once per `--each` row.

The executing program, `_execute.py`, runs in the kernel env (see layer.py) and drives
ipykernel through nbclient; this module prepares its job: the notebook (a cell script turned
into one), the cells to run, the parameters injected, where to save it.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import tempfile
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from reprorun import matrix
from reprorun.envs import build as envs
from reprorun.errors import ReprorunError, UsageError
from reprorun.jupyter import notebook, params
from reprorun.jupyter.outputs import outputs
from reprorun.notices import warn_all
from reprorun.script import cells, cellspec, notebooks
from reprorun.script.source import Source

log = logging.getLogger("reprorun")

EXECUTOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_execute.py")


@dataclass(frozen=True)
class Request:
    """What the command line asked: where to save, parameters, rows, parallelism, limits."""

    output: str
    values: Mapping[str, Any] = field(default_factory=dict)  # from --params, then -p (the later wins)
    overrides: Mapping[str, Any] = field(default_factory=dict)  # -p: wins over a row's value
    each: str | None = None
    jobs: int = 1
    timeout: float | None = None
    cells: str | None = None
    cwd: str | None = None  # the kernel's working directory; None: the notebook's folder


@dataclass(frozen=True)
class Task:
    """One execution: its row (if any), its parameters and the file it saves."""

    number: int
    row: Mapping[str, str] | None
    values: Mapping[str, Any]
    output: str


@dataclass(frozen=True)
class Base:
    """The notebook to execute, which of its cells run, and how each cell is named to the user."""

    notebook: dict[str, Any]
    run: list[bool]
    names: list[str]


def base_notebook(script: Source, path: str, spec: str | None) -> Base:
    """The notebook (a cell script turned into one) and its cells to run (`--cells`; all by default)."""
    if script.is_stdin:
        raise UsageError("--output needs a notebook or script file, not standard input")
    if path.endswith(".ipynb"):
        nb = notebook.from_ipynb(script.text, path)
        chosen = set(cellspec.select(spec, notebooks.cells_of_notebook(script.text, path))) if spec else None
        return Base(nb, notebook.run_flags(nb, chosen, 1), [f"cell {n}" for n in range(1, len(nb["cells"]) + 1)])
    nb = notebook.from_cell_script(script.text, path)
    found = cells.split(script.text)
    chosen = set(cellspec.select(spec, found)) if spec else None
    names = [f"cell {c.index} (line {c.first_line})" for c in found]
    return Base(nb, notebook.run_flags(nb, chosen, found[0].index if found else 0), names)


def tasks(request: Request, path: str) -> list[Task]:
    """One task, or one per `--each` row (its columns parsed as `-p` values), outputs filled in."""
    if request.each is None:
        return [Task(0, None, {**request.values, **request.overrides}, outputs(request.output, None, path)[0])]
    rows = matrix.read_rows(request.each)
    made = []
    for number, (row, output) in enumerate(zip(rows, outputs(request.output, rows, path), strict=True)):
        values = {**request.values, **{k: params.literal(v) for k, v in row.items()}, **request.overrides}
        made.append(Task(number, row, values, output))
    return made


def job(base: Base, task: Task, path: str, timeout: float | None, cwd: str | None = None) -> str:
    """Write the executor's job file (it deletes it once read); return its path."""
    injected = params.inject(base.notebook, task.values)
    run = [True if i is None else base.run[i] for i in injected.origin]
    names = ["the injected parameters cell" if i is None else base.names[i] for i in injected.origin]
    where = f"{path} (row {task.number + 1})" if task.row is not None else path
    warn_all(where, injected.warnings, lambda warning: f"{where}: {warning}")
    try:
        os.makedirs(os.path.dirname(task.output), exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--output {task.output}: cannot create its folder: {exc.strerror}") from None
    content = {"notebook": injected.notebook, "run": run, "names": names, "output": task.output,
               "timeout": timeout, "cwd": cwd or os.path.dirname(os.path.abspath(path)),
               "folder": os.path.dirname(os.path.abspath(path)), "label": where}  # fmt: skip
    handle, name = tempfile.mkstemp(prefix="reprorun-notebook-", suffix=".json")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(content, out)
    return name


def argv(env: envs.Env, job_path: str) -> list[str]:
    """The command that executes a job in the kernel env."""
    return [str(env.python), EXECUTOR, job_path]


def run_each(env: envs.Env, variables: dict[str, str], made: list[Task], base: Base, path: str,
             request: Request) -> None:  # fmt: skip
    """Execute every task, `request.jobs` at a time; raise naming the failed rows, if any."""

    def one(task: Task) -> tuple[Task, int, str]:
        name = job(base, task, path, request.timeout, request.cwd)
        done = subprocess.run(argv(env, name), env=variables, capture_output=True, text=True,
                              errors="replace", stdin=subprocess.DEVNULL, check=False)  # fmt: skip
        status = "ok" if done.returncode == 0 else f"failed (exit {done.returncode})"
        log.info("row %d of %d %s: %s", task.number + 1, len(made), status, os.path.relpath(task.output))
        return task, done.returncode, done.stderr

    with ThreadPoolExecutor(max_workers=max(1, request.jobs)) as pool:
        results = list(pool.map(one, made))
    failed = [(task, stderr) for task, code, stderr in results if code != 0]
    log.info("%d of %d rows ran without error", len(made) - len(failed), len(made))
    if failed:
        lines = [f"  row {task.number + 1} ({_row_text(task.row)}): {_reason(stderr)}" for task, stderr in failed]
        hint = "each failed row's notebook, with its traceback, is saved at its --output"
        raise ReprorunError(f"{len(failed)} of {len(made)} rows failed:\n" + "\n".join(lines), hint=hint)


def _row_text(row: Mapping[str, str] | None) -> str:
    return ", ".join(f"{k}={v}" for k, v in (row or {}).items())


def _reason(stderr: str) -> str:
    """The executor's own error line, without its prefix; else the last line it wrote."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    mine = [line for line in lines if line.startswith("reprorun: error: ")]
    if mine:
        return mine[-1].removeprefix("reprorun: error: ").split(": ", 1)[-1]
    return lines[-1] if lines else "no message"

"""Executed notebooks on Slurm: what `reprorun submit --output OUT.ipynb [--each FILE] NOTEBOOK`
passes to each array task.

A task runs `reprorun --offline ... OPTIONS SNAPSHOT`: the same executed-notebook run as on this
machine, its options before the notebook as always. This module works those options out at
submission, every placeholder filled and every path absolute (a task may start elsewhere), so a
bad row or template is an error before anything is built or submitted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from reprorun import matrix
from reprorun.errors import UsageError


@dataclass(frozen=True)
class NotebookJob:
    """The executed-notebook options of a submission."""

    output: str
    parameters: tuple[tuple[str, str], ...] = ()  # -p NAME VALUE, the same in every task
    params: str | None = None  # --params FILE
    timeout: float | None = None


def fixed_options(job: NotebookJob, params_copy: str | None) -> tuple[str, ...]:
    """The options every task gets (`params_copy`: the snapshot's copy of --params FILE)."""
    options: list[str] = []
    if job.timeout is not None:
        options += ["--timeout", f"{job.timeout:g}"]
    if params_copy:
        options += ["--params", params_copy]
    for name, value in job.parameters:
        options += ["-p", name, value]
    return tuple(options)


def task_options(job: NotebookJob, each: str | None, script: str) -> tuple[tuple[str, ...], ...]:
    """Each task's own options: its `--output`, and with --each its row's columns as `-p` (a
    column that a fixed `-p` also names is left out: `-p` wins over a row, as with --each here)."""
    if each is None:
        return (("--output", _output(job.output, script)),)
    rows = matrix.read_rows(each)
    if len(rows) > 1 and not matrix.placeholders(job.output):
        raise UsageError(f"--output {job.output!r} names one file for {len(rows)} rows",
                         hint="put a {column} or {task} placeholder in it: --output 'out/{name}.ipynb'")  # fmt: skip
    fixed = {name for name, _ in job.parameters}
    made = []
    for task, row in enumerate(rows):
        options = ["--output", _output(matrix.fill(job.output, row, task), script)]
        for name, value in row.items():
            if name not in fixed:
                options += ["-p", name, value]
        made.append(tuple(options))
    outputs = [options[1] for options in made]
    if len(set(outputs)) != len(outputs):
        raise UsageError(f"--output {job.output!r}: several rows would write the same file",
                         hint="use a column whose values differ, or {task}")  # fmt: skip
    return tuple(made)


def _output(path: str, script: str) -> str:
    absolute = os.path.abspath(path)
    if not absolute.endswith(".ipynb"):
        raise UsageError(f"--output {path}: the executed notebook is saved as .ipynb")
    if os.path.exists(absolute) and os.path.exists(script) and os.path.samefile(absolute, script):
        raise UsageError(f"--output {path} is the notebook itself", hint="save the executed copy elsewhere")
    return absolute

"""Executed notebooks on Slurm: what `reprorun submit --output OUT.ipynb [--each FILE] NOTEBOOK`
passes to each array task.

A task runs `reprorun --offline ... OPTIONS SNAPSHOT`: the same executed-notebook run as on this
machine, its options before the notebook as always. This module works those options out at
submission, every placeholder filled and every path absolute (a task may start elsewhere), so a
bad row or template is an error before anything is built or submitted.
"""

from __future__ import annotations

from dataclasses import dataclass

from reprorun import matrix
from reprorun.jupyter.outputs import outputs


@dataclass(frozen=True)
class NotebookJob:
    """The executed-notebook options of a submission."""

    output: str
    parameters: tuple[tuple[str, str], ...] = ()  # -p NAME VALUE, the same in every task
    params: str | None = None  # --params FILE
    timeout: float | None = None
    cwd: str | None = None  # the kernel's working directory (absolute): the notebook's folder at submission


def fixed_options(job: NotebookJob, params_copy: str | None) -> tuple[str, ...]:
    """The options every task gets (`params_copy`: the snapshot's copy of --params FILE)."""
    options: list[str] = []
    if job.timeout is not None:
        options += ["--timeout", f"{job.timeout:g}"]
    if job.cwd:  # not the snapshot's folder: files beside the notebook are read where they are
        options += ["--cwd", job.cwd]
    if params_copy:
        options += ["--params", params_copy]
    for name, value in job.parameters:
        options += ["-p", name, value]
    return tuple(options)


def task_options(job: NotebookJob, each: str | None, script: str) -> tuple[tuple[str, ...], ...]:
    """Each task's own options: its `--output`, and with --each its row's columns as `-p` (a
    column that a fixed `-p` also names is left out: `-p` wins over a row, as with --each here)."""
    if each is None:
        return (("--output", outputs(job.output, None, script)[0]),)
    rows = matrix.read_rows(each)
    fixed = {name for name, _ in job.parameters}
    made = []
    for row, output in zip(rows, outputs(job.output, rows, script), strict=True):
        options = ["--output", output]
        for name, value in row.items():
            if name not in fixed:
                options += ["-p", name, value]
        made.append(tuple(options))
    return tuple(made)

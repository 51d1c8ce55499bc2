"""Where executed notebooks are saved: `--output`, filled in once per `--each` row and checked.

One rule for a run here (run.py) and for the tasks of a submission (submit.py): every output is
an absolute `.ipynb` path, never the notebook itself, and no two rows write the same file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from reprorun import matrix
from reprorun.errors import UsageError


def outputs(template: str, rows: Sequence[dict[str, str]] | None, notebook: str) -> list[str]:
    """The output of each row (one output without rows), placeholders filled, each path absolute."""
    if rows is None:
        return [_checked(template, notebook)]
    if len(rows) > 1 and not matrix.placeholders(template):
        raise UsageError(f"--output {template!r} names one file for {len(rows)} rows",
                         hint="put a {column} or {task} placeholder in it: --output 'out/{name}.ipynb'")  # fmt: skip
    made = [_checked(matrix.fill(template, row, task), notebook) for task, row in enumerate(rows)]
    if len(set(made)) != len(made):
        raise UsageError(f"--output {template!r}: several rows would write the same file",
                         hint="use a column whose values differ, or {task}")  # fmt: skip
    return made


def _checked(output: str, notebook: str) -> str:
    absolute = os.path.abspath(output)
    if not absolute.endswith(".ipynb"):
        raise UsageError(f"--output {output}: the executed notebook is saved as .ipynb")
    if os.path.exists(notebook) and os.path.exists(absolute) and os.path.samefile(absolute, notebook):
        raise UsageError(f"--output {output} is the notebook itself", hint="save the executed copy elsewhere")
    return absolute

"""Execute a notebook with nbclient and a real ipykernel, inside the script's kernel environment.

This file is run by the *kernel environment's* interpreter (the script's env with ipykernel,
nbclient and nbformat layered on it), which does not have reprorun installed:

    KERNELENVPYTHON _execute.py JOB.json

JOB.json (deleted once read) holds the notebook as nbformat JSON, which cells to run, the output
path, the kernel's working directory and the per-cell timeout. The executed notebook is written
(and validated by nbformat) also when a cell fails; then the cell, the exception and where it
was saved go to stderr and the exit status is 1. Its own errors print `reprorun: error: ...`.
"""

# Runs under the env's interpreter (any Python 3.8+, so no zip(strict=), B905) and is its own
# little command line: it prints (T201).
# ruff: noqa: B905, T201

from __future__ import annotations

import json
import os
import re
import sys
import time
from typing import Any

SKIP_TAG = "reprorun-skip"  # marks the cells --cells left out while nbclient runs; removed after
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# `!pip install x` in a kernel runs whatever pip is first on PATH: the user's own environment
# would change, and the script's env would not. The env comes from the block: such lines are
# passed while the kernel runs, told in the cell's output, and kept in the saved notebook.
_INSTALL = re.compile(
    r"""^(?P<indent>[ \t]*)(?:[%!][ \t]*(?:pip3?|uv[ \t]+pip|conda|mamba|micromamba)[ \t]+(?:install|uninstall)\b
        |![ \t]*(?:\S*/)?python3?(?:\.\d+)?[ \t]+-m[ \t]+pip[ \t]+(?:install|uninstall)\b)""",
    re.VERBOSE,
)


def main(argv: list[str]) -> int:
    """Run the job named by argv[0]; 0 when every chosen cell ran, 1 when one failed."""
    with open(argv[0], encoding="utf-8") as handle:
        job = json.load(handle)
    os.unlink(argv[0])
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellControlSignal, CellExecutionError, CellTimeoutError, DeadKernelError
    from traitlets.config import Config

    # reads() as Jupyter opens a file: multi-line sources joined, an older minor format upgraded.
    nb = nbformat.reads(json.dumps(job["notebook"]), as_version=4)
    for cell, run in zip(nb.cells, job["run"]):
        if cell.cell_type == "code" and not run:
            cell.metadata.setdefault("tags", []).append(SKIP_TAG)
    passed = {index: _pass_installs(cell) for index, cell in enumerate(nb.cells) if cell.cell_type == "code"}
    config = Config()
    # Only ipykernel's own spec, started by this interpreter: a user's kernelspec named
    # `python3` (in ~/.local/share/jupyter) must not decide which Python runs the notebook.
    config.KernelSpecManager.kernel_dirs = []
    client = _interrupting(NotebookClient, CellTimeoutError)(
        nb,
        kernel_name="python3",
        config=config,
        timeout=job["timeout"],
        skip_cells_with_tag=SKIP_TAG,
        resources={"metadata": {"path": job["cwd"]}},
        extra_arguments=["--IPKernelApp.log_level=ERROR", *_imports_beside(job)],  # no "TCP without encryption"
    )
    started = [0.0, -1.0]  # when the running cell started, and its index

    def executing(cell_index: int, **_: Any) -> None:  # noqa: ANN401
        started[:] = [time.monotonic(), cell_index]

    client.on_cell_execute = executing
    timed_out = f"ran longer than --timeout {job['timeout'] or 0:g}s and was interrupted"
    failure = ""
    try:
        client.execute()
    except CellTimeoutError:
        failure = timed_out
    except CellExecutionError as exc:  # a timeout interrupts the kernel: the cell ends in KeyboardInterrupt
        late = job["timeout"] is not None and time.monotonic() - started[0] >= job["timeout"]
        failure = timed_out if late and exc.ename == "KeyboardInterrupt" else "failed"
    except DeadKernelError as exc:
        failure = f"the kernel died: {exc}"
    except CellControlSignal:
        failure = "failed"
    except KeyboardInterrupt:  # Ctrl-C: the kernel is shut down by nbclient; keep what ran
        failure = "was interrupted (Ctrl-C)"
    _restore_installs(nb, passed, nbformat)
    for cell in nb.cells:
        tags = cell.metadata.get("tags")
        if tags and SKIP_TAG in tags:
            tags.remove(SKIP_TAG)
            if not tags:
                del cell.metadata["tags"]
    try:
        nbformat.write(nb, job["output"])
    except OSError as exc:
        print(f"reprorun: error: cannot save {job['output']}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    if failure:
        print(f"reprorun: error: {job['label']}: {_where(nb, job['names'], failure, int(started[1]))}", file=sys.stderr)
        print(f"hint: the executed notebook, with the traceback, is saved in {job['output']}", file=sys.stderr)
        return 130 if failure.startswith("was interrupted") else 1
    return 0


def _interrupting(base: Any, timeout_error: Any) -> Any:  # noqa: ANN401 - nbclient's classes
    """NotebookClient that answers a cell's timeout by interrupting the kernel and waiting for the
    cell to end (in KeyboardInterrupt, its traceback saved), and only when the kernel ignores that
    for one more timeout stops it. nbclient's own choices: stop the kernel at once (shut down
    mid-cell, the kernel writes a ZMQ traceback to the terminal), or interrupt forever.
    Should nbclient rename the hook, its default (stop at once) applies."""

    class Client(base):  # type: ignore[misc]
        interrupted = False

        async def _async_handle_timeout(self, timeout: int, cell: Any = None) -> None:  # noqa: ANN401
            if self.interrupted:
                raise timeout_error.error_from_timeout_and_cell("Cell execution timed out", timeout, cell)
            self.interrupted = True
            done = self.km.interrupt_kernel()
            if hasattr(done, "__await__"):
                await done

    return Client


def _imports_beside(job: dict[str, Any]) -> list[str]:
    """A kernel started elsewhere (--cwd; a submitted notebook reads its data where it was) still
    imports the modules beside the notebook first, as `python SCRIPT` does: for a snapshot, its
    `--include`d copies."""
    folder = job.get("folder")
    if not folder or folder == job["cwd"]:
        return []
    return [f"--IPKernelApp.exec_lines=import sys; sys.path.insert(0, {folder!r})"]


def _restore_installs(nb: Any, passed: dict[int, tuple[str, list[str]]], nbformat: Any) -> None:  # noqa: ANN401
    """Put the install lines back into the saved cells, and say in each cell's output they were not run."""
    for index, (source, lines) in passed.items():
        if lines:
            cell = nb.cells[index]
            cell.source = source
            note = "".join(f"reprorun: not run: {line.strip()} (the environment comes from the script's block)\n"
                           for line in lines)  # fmt: skip
            cell.setdefault("outputs", []).insert(0, nbformat.v4.new_output("stream", name="stderr", text=note))


def _pass_installs(cell: Any) -> tuple[str, list[str]]:  # noqa: ANN401 - an nbformat NotebookNode
    """Replace the cell's install lines with `pass`; return its original source and those lines."""
    source = cell.source
    found: list[str] = []

    def passed(line: str) -> str:
        match = _INSTALL.match(line)
        if match is None:
            return line
        found.append(line)
        ending = line[len(line.rstrip("\r\n")) :]
        return f"{match.group('indent')}pass  # reprorun: not run{ending}"

    cell.source = "".join(passed(line) for line in source.splitlines(keepends=True))
    return source, found


def _where(nb: Any, names: list[str], failure: str, running: int) -> str:  # noqa: ANN401 - an nbformat NotebookNode
    """Name the failing cell (as the user numbers it) and its exception, if one is shown; else the
    cell that was running (a kernel stopped mid-cell shows no exception)."""
    for name, cell in zip(names, nb.cells):
        for output in cell.get("outputs", ()):
            if output.get("output_type") == "error":
                if failure != "failed":
                    return f"{name} {failure}"
                value = _ANSI.sub("", str(output.get("evalue", "")))
                return f"{name} failed: {output.get('ename')}: {value}"
    return f"{names[running]} {failure}" if 0 <= running < len(names) else failure


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except ImportError as exc:  # pragma: no cover - the layered env always has them
        print(f"reprorun: error: the kernel environment lacks {exc.name}", file=sys.stderr)
        sys.exit(1)

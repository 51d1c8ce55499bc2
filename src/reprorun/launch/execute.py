"""The one exec seam: a launch plan, and replacing this process with it.

A run command returns a `Plan` (what to run, with which variables); only the command line
executes it (cli.py), so the commands stay testable and a supervisor (run records) can take the
plan instead of exec'ing it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reprorun.envs import layout
from reprorun.launch import activate

# `python -` semantics for a script read from stdin: argv[0] is "-", tracebacks say "<stdin>".
STDIN_BOOTSTRAP = """\
def _reprorun_main():
    import sys
    path = sys.argv.pop(1)
    sys.argv[0] = "-"
    with open(path, "rb") as handle:
        code = compile(handle.read(), "<stdin>", "exec")
    namespace = sys.modules["__main__"].__dict__
    del namespace["_reprorun_main"]
    exec(code, namespace)
_reprorun_main()
"""


@dataclass(frozen=True)
class Plan:
    """What a run becomes: an argv and the variables it runs with, in the activated env."""

    argv: list[str]
    variables: dict[str, str] = field(repr=False)
    env: str  # the env's folder
    script: str  # the script as the user named it ("-" for stdin)
    # Runs the plan as a child instead of exec (a recorded run) and returns the status to exit
    # with, or None when it cannot (then the plan is exec'd after all).
    supervisor: Callable[[Plan], int | None] | None = field(default=None, repr=False)


def plan(env: Path, argv: Sequence[str], script: str) -> Plan:
    """The plan that runs argv (its first item the env's interpreter) in the activated env."""
    return Plan(list(argv), activate.variables(str(env)), str(env), script)


def script_argv(env: Path, script: str, args: Sequence[str], stdin_copy: Path | None = None) -> list[str]:
    """The argv that runs the script as `python SCRIPT ARGS` (or `python - ARGS`) would."""
    python = layout.env_python(str(env))
    if stdin_copy is not None:
        return [python, "-c", STDIN_BOOTSTRAP, str(stdin_copy), *args]
    return [python, script, *args]


def keep_stdin_source(folder: Path, data: bytes) -> Path:
    """Store a script read from stdin in the cache (content-addressed) so the env can run it."""
    import hashlib

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (hashlib.sha256(data).hexdigest()[:32] + ".py")
    if not path.exists():
        layout.write_atomic(str(path), data, durable=False)
    return path


def execute(launch: Plan) -> int:
    """Become the plan (POSIX exec), so signals, stdin, the terminal and the status are the script's;
    or run it under its supervisor (run records), which passes the script's ending through."""
    if launch.supervisor is not None:
        status = launch.supervisor(launch)
        if status is not None:
            return status
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "posix":
        os.execve(launch.argv[0], launch.argv, launch.variables)
    return subprocess.call(launch.argv, env=launch.variables)  # pragma: no cover - no exec on Windows

"""The one exec seam: replace this process with the env's interpreter running the script."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from reprorun.envs.installers import env_python

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


def environment(env: Path) -> dict[str, str]:
    """os.environ as the script should see it: the env activated, nothing that would escape it."""
    variables = dict(os.environ)
    variables["VIRTUAL_ENV"] = str(env)
    variables["PATH"] = str(env_python(env).parent) + os.pathsep + variables.get("PATH", "")
    variables.pop("PYTHONHOME", None)
    variables.pop("__PYVENV_LAUNCHER__", None)
    return variables


def script_argv(env: Path, script: str, args: Sequence[str], stdin_copy: Path | None = None) -> list[str]:
    """The argv that runs the script as `python SCRIPT ARGS` (or `python - ARGS`) would."""
    python = str(env_python(env))
    if stdin_copy is not None:
        return [python, "-c", STDIN_BOOTSTRAP, str(stdin_copy), *args]
    return [python, script, *args]


def keep_stdin_source(folder: Path, data: bytes) -> Path:
    """Store a script read from stdin in the cache (content-addressed) so the env can run it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (hashlib.sha256(data).hexdigest()[:32] + ".py")
    if not path.exists():
        temp = path.with_suffix(f".{os.getpid()}.tmp")
        temp.write_bytes(data)
        os.replace(temp, path)
    return path


def execute(argv: list[str], variables: dict[str, str]) -> int:
    """Become argv (POSIX exec), so signals, stdin, the terminal and the status are the script's."""
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "posix":
        os.execve(argv[0], argv, variables)
    return subprocess.call(argv, env=variables)  # pragma: no cover - no exec on Windows

"""What translated magics call at run time: `%time`'s timer and `!command` shell lines."""

# Runs on Python 3.8+ under an env interpreter: text= does not exist there (UP021), and `%time`
# reports on stderr as IPython does (T201).
# ruff: noqa: T201, UP021

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator


@contextlib.contextmanager
def timer(label: str) -> Iterator[None]:
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


def shell(
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

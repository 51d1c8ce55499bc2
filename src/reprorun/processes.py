"""The one subprocess seam: run an argv, capture its output, and show it only when it fails."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

log = logging.getLogger("reprorun")

# The temporary folder inside the cache while a build or freeze runs (envs/scratch.py): the
# installers get it as TMPDIR, so what they leave when killed stays where `cache prune` looks.
TEMP: str | None = None


@dataclass(frozen=True)
class Result:
    """What a finished command said and how it ended."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """stderr and stdout together, the way a person would read them."""
        return "\n".join(part for part in (self.stdout.strip(), self.stderr.strip()) if part)

    def tail(self, lines: int = 12) -> str:
        """The last lines of the output: usually where the reason is."""
        return "\n".join(self.output.splitlines()[-lines:])


def run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    stream: bool = False,
    input_text: str | None = None,
    on_line: Callable[[str], None] | None = None,
) -> Result:
    """Run argv (never through a shell); with `stream`, let its output through as it comes; with
    `on_line`, hand each line of its output (stdout and stderr merged) over as it comes, and keep it."""
    log.debug("$ %s", " ".join(argv))
    if on_line is not None:
        return _watched(argv, env, cwd, on_line)
    if stream:
        completed = subprocess.run(
            list(argv), env=None if env is None else dict(env), cwd=cwd, check=False,
            stdout=sys.stderr, stderr=sys.stderr, text=True, input=input_text,
            stdin=None if input_text is not None else subprocess.DEVNULL,
        )  # fmt: skip
        return Result(tuple(argv), completed.returncode, "", "")
    completed = subprocess.run(
        list(argv), env=None if env is None else dict(env), cwd=cwd, check=False,
        capture_output=True, text=True, errors="replace", input=input_text,
        stdin=None if input_text is not None else subprocess.DEVNULL,
    )  # fmt: skip
    return Result(tuple(argv), completed.returncode, completed.stdout, completed.stderr)


def _watched(argv: Sequence[str], env: Mapping[str, str] | None, cwd: str | None,
             on_line: Callable[[str], None]) -> Result:  # fmt: skip
    """Run argv with its output read line by line as it is written (a build you can watch)."""
    kept: list[str] = []
    with subprocess.Popen(
        list(argv), env=None if env is None else dict(env), cwd=cwd, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace", bufsize=1,
    ) as process:  # fmt: skip
        assert process.stdout is not None
        for line in process.stdout:
            kept.append(line)
            on_line(line.rstrip("\r\n"))
    return Result(tuple(argv), process.returncode, "".join(kept), "")


def environ(**changes: str | None) -> dict[str, str]:
    """A copy of os.environ with some variables set (str) or removed (None)."""
    env = dict(os.environ)
    if TEMP is not None:
        env.update(TMPDIR=TEMP, TEMP=TEMP, TMP=TEMP)
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env

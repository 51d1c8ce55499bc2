"""Batch scripts: read `#SBATCH` lines as sbatch reads them, and write the script a job runs.

sbatch reads options from the top of a batch script: lines that start with `#SBATCH`, up to the
first line that is neither blank nor a comment. After the magic word it splits words at white
space, honours `'...'`/`"..."` quoting and `\\` escapes, and stops at an unquoted `#` (see
Slurm's `src/sbatch/opt.c`, `_opt_batch_script` and `_get_argument`). Later options override
earlier ones, and command-line options override the script's.

The batch script reprorun writes keeps the script's own `#SBATCH` lines verbatim (sbatch reads
them itself, exactly), after reprorun's defaults and before the command line's `--sbatch`
options, so each overrides what comes before. Pure: no file system.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from reprorun.errors import UsageError

MAGIC = "#SBATCH"
SPACE = " \t\n\v\f\r"  # C's isspace() in sbatch, not Python's wider str.isspace()


@dataclass(frozen=True)
class Directive:
    """One `#SBATCH` line: where it is, its text, and the arguments sbatch reads from it."""

    line: int
    text: str
    args: tuple[str, ...]


def directives(text: str, path: str) -> list[Directive]:
    """The `#SBATCH` lines at the top of a script, as sbatch reads them."""
    found: list[Directive] = []
    for number, line in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        if line.startswith(MAGIC):
            rest = line[len(MAGIC) :]
            if "hetjob" in rest.lower() or "packjob" in rest.lower():
                raise UsageError(f"{path}:{number}: heterogeneous jobs (hetjob) are not supported by reprorun submit")
            found.append(Directive(number, line, tuple(split(rest, path, number))))
        elif line.strip() and not line.lstrip().startswith("#"):
            break  # the first command: sbatch reads no further
    return found


def ignored(text: str) -> list[int]:
    """Lines of `#SBATCH` options below the first command, which sbatch does not read."""
    lines = text.replace("\r\n", "\n").split("\n")
    start = max((d.line for d in directives(text, "-")), default=0)
    commands = (n for n, line in enumerate(lines, start=1) if n > start and line.strip() and line.lstrip()[0] != "#")
    first_command = next(commands, len(lines) + 1)
    return [n for n, line in enumerate(lines, start=1) if n > first_command and line.startswith(MAGIC)]


def split(rest: str, path: str, line: int) -> list[str]:
    """The words of an `#SBATCH` line after the magic word (sbatch's `_get_argument`, repeated)."""
    words: list[str] = []
    i = 0
    while True:
        while i < len(rest) and rest[i] in SPACE:
            i += 1
        if i < len(rest) and rest[i] == ":":
            raise UsageError(f"{path}:{line}: unexpected ':' in an #SBATCH line")
        word, i = _word(rest, i, path, line)
        if not word:
            return words  # sbatch stops reading a line at an empty word: its end, "", or a comment
        words.append(word)


def _word(rest: str, i: int, path: str, line: int) -> tuple[str, int]:
    """One word from position i: quotes removed, escapes applied, up to white space or '#'."""
    word: list[str] = []
    quote = ""
    while i < len(rest) and (quote or rest[i] not in SPACE):
        char = rest[i]
        i += 1
        if char == "\\":
            # sbatch tests for white space before it applies the escape: "a\ b" is two words.
            if i < len(rest) and (quote or rest[i] not in SPACE):
                word.append(rest[i])
                i += 1
        elif quote and char == quote:
            quote = ""
        elif quote:
            word.append(char)
        elif char in "\"'":
            quote = char
        elif char == "#":
            return "".join(word), len(rest)  # an unquoted '#': the rest of the line is a comment
        else:
            word.append(char)
    if quote:
        raise UsageError(f"{path}:{line}: unmatched {quote} in an #SBATCH line")
    return "".join(word), i


def quote(arg: str) -> str:
    """An argument written so that sbatch's reader gives it back unchanged."""
    if not arg or "\n" in arg or "\r" in arg or "\0" in arg:
        raise UsageError(f"an sbatch option must be one non-empty line: {arg!r}")
    if not arg.startswith(":") and not any(c in SPACE or c in "\"'\\#" for c in arg):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def option(args: Sequence[str], long: str, short: str) -> str | None:
    """The value the last `--long=V`, `--long V`, `-sV` or `-s V` among args gives (as getopt would)."""
    value = None
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith(f"--{long}="):
            value = arg.split("=", 1)[1]
        elif arg in (f"--{long}", f"-{short}") and i + 1 < len(args):
            value = args[i + 1]
            i += 1
        elif arg.startswith(f"-{short}") and not arg.startswith("--") and len(arg) > 2:
            value = arg[2:]
        i += 1
    return value


@dataclass(frozen=True)
class Batch:
    """Everything a batch script says: what runs, where its logs go, and which options sbatch gets."""

    source: str  # the user's script, as named on the command line (for the header comment)
    snapshot: str  # the snapshot copy that the tasks run
    folder: str  # the snapshot's folder: logs go to folder/logs
    command: tuple[str, ...]  # the task command up to the script: reprorun --offline --python ...
    cache_root: str
    env_key: str
    script_directives: tuple[Directive, ...] = ()
    options: tuple[str, ...] = ()  # sbatch options from the command line: --array, --sbatch
    args: tuple[str, ...] = ()  # the script's arguments, the same in every task
    task_args: tuple[tuple[str, ...], ...] | None = None  # per array task (--each): task i gets [i]
    options_first: bool = False  # args and task_args are reprorun's options, before the script (--output)
    environment: tuple[tuple[str, str], ...] = ()  # more variables the tasks need as they were here

    def is_array(self) -> bool:
        """Whether the job is an array (the script's own #SBATCH --array counts)."""
        given = [arg for directive in self.script_directives for arg in directive.args]
        return option([*given, *self.options], "array", "a") is not None

    def defaults(self) -> list[str]:
        """reprorun's own options: a job name and log files named by job and task."""
        name = self.source.rsplit("/", 1)[-1].removesuffix(".py") or "reprorun"
        logs = f"{self.folder}/logs/" + ("%A_%a" if self.is_array() else "%j")
        return [f"--job-name={name}", f"--output={logs}.out", f"--error={logs}.err"]


def render(batch: Batch) -> str:
    """The batch script: readable, self-contained, and safe for any argument value."""
    lines = [
        "#!/bin/bash",
        f"# Written by `reprorun submit` for {_comment(batch.source)}.",
        f"# The tasks run the snapshot {_comment(batch.snapshot)}: editing the script after",
        "# submission changes nothing here. They run offline in the environment prepared at",
        f"# submission (key {batch.env_key[:20]}) and never build one.",
        *(f"#SBATCH {quote(arg)}" for arg in batch.defaults()),
    ]
    if batch.script_directives:
        lines.append(f"# from {_comment(batch.source)}:")
        lines.extend(d.text for d in batch.script_directives)
    if batch.options:
        lines.append("# from the command line:")
        lines.extend(f"#SBATCH {quote(arg)}" for arg in batch.options)
    lines += ["", f"export REPRORUN_CACHE_DIR={shlex.quote(batch.cache_root)}"]
    lines += [f"export {name}={shlex.quote(value)}" for name, value in batch.environment]
    command = " ".join(shlex.quote(word) for word in [*batch.command, batch.snapshot])
    if batch.task_args is None:
        fixed = "".join(" " + shlex.quote(arg) for arg in batch.args)
        if batch.options_first:  # an executed notebook: reprorun's options come before the script
            head = " ".join(shlex.quote(word) for word in batch.command)
            lines.append(f"exec {head}{fixed} {shlex.quote(batch.snapshot)}")
        else:
            lines.append(f"exec {command}{fixed}")
        return "\n".join(lines) + "\n"
    lines += ["", "# The arguments of each array task (from --each), quoted: the shell expands nothing in them.",
              'case "${SLURM_ARRAY_TASK_ID:-}" in']  # fmt: skip
    for task, args in enumerate(batch.task_args):
        lines.append(f"  {task}) set --" + "".join(" " + shlex.quote(arg) for arg in args) + " ;;")
    lines += [
        '  *) echo "reprorun: array task ${SLURM_ARRAY_TASK_ID:-(none)} has no row in the --each file" >&2; exit 2 ;;',
        "esac",
        f'exec {" ".join(shlex.quote(word) for word in batch.command)} "$@" {shlex.quote(batch.snapshot)}'
        if batch.options_first
        else f'exec {command} "$@"',
    ]
    return "\n".join(lines) + "\n"


def _comment(text: str) -> str:
    """A path made safe to sit inside a comment line."""
    return text.replace("\n", "?").replace("\r", "?")

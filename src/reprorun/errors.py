"""Every failure reprorun expects, in one hierarchy; the CLI turns each into one `reprorun: error:` line.

    ReprorunError            exit 1: something reprorun could not do
    ├── UsageError           exit 2: bad command line or bad input file
    │   ├── MetadataError    invalid inline metadata, compiler-style `path:line: message`
    │   └── ConfigError      invalid configuration file
    ├── InterpreterError     no interpreter fits, or the one named does not work
    ├── BuildError           an environment could not be created or installed
    ├── OfflineError         not built, and --offline forbids building
    ├── NotBuilt             a command that only reads the cache found no env
    ├── ResolutionError      pip could not resolve a block (nothing was written)
    ├── WriteError           a file could not be rewritten (it is untouched)
    ├── CacheError           the cache cannot be written (read-only, not ours, full): names it
    ├── NotCurrent           `--freeze --check`: the block is not frozen and current
    ├── NoBlock              the script has no block where one is needed (exit 1, unlike invalid)
    ├── ClusterError         Slurm cannot be reached, refused a job, or a job's tasks failed
    ├── NoWheel              a target platform cannot be satisfied from wheels (package, version, target)
    ├── BundleError          a bundle is damaged or not a bundle; nothing was built from it
    └── InternalError        a check of reprorun's own work failed: a bug, reported as one

Anything else that escapes is a bug too; the CLI says so and shows the traceback with -v.
"""

from __future__ import annotations


class ReprorunError(Exception):
    """Root of every failure reprorun expects; `exit_code` is what the CLI exits with."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def excerpt(self) -> str:
        """Lines that show where the error is (the offending line of a file), or ""."""
        return ""

    def render(self) -> str:
        """The error as the user reads it: `reprorun: error: ...`, an excerpt, a `hint:` line."""
        label = "internal error" if isinstance(self, InternalError) else "error"
        lines = [f"reprorun: {label}: {self.message}", self.excerpt()]
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(line for line in lines if line) + "\n"


class UsageError(ReprorunError):
    """Bad command line or bad input file (missing, a directory, not UTF-8)."""

    exit_code = 2


class MetadataError(UsageError):
    """Invalid inline metadata, reported compiler-style as `path:line: message`."""

    def __init__(
        self,
        message: str,
        *,
        path: str,
        line: int,
        source_line: str = "",
        column: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(f"{path}:{line}: {message}", hint)
        self.reason = message
        self.path = path
        self.line = line
        self.source_line = source_line
        self.column = column

    def excerpt(self) -> str:
        """The offending line, with a marker under the column when one is known."""
        if not self.source_line:
            return ""
        marker = " " * (self.column or 0) + ("^" if self.column is not None else "~" * len(self.source_line.rstrip()))
        return f"    {self.source_line.rstrip()}\n    {marker}"


class ConfigError(UsageError):
    """The configuration file is not valid (exit 2, like any bad input)."""


class InterpreterError(ReprorunError):
    """No interpreter satisfies the request, or the one named does not work."""


class BuildError(ReprorunError):
    """An environment could not be created or its requirements not installed."""


class OfflineError(ReprorunError):
    """The environment is not built and `--offline` forbids building it."""


class ClusterError(ReprorunError):
    """Slurm cannot be reached, refused a job, or a job's tasks failed."""


class NotBuilt(ReprorunError):
    """The script's environment is not in the cache (exit 1)."""


class ResolutionError(ReprorunError):
    """pip could not resolve the block's requirements; nothing was written."""


class WriteError(ReprorunError):
    """The file could not be written (read-only, or it changed meanwhile); it is untouched."""


class CacheError(ReprorunError):
    """The cache could not be written (read-only, another user's, or full); what was begun is undone."""


class NotCurrent(ReprorunError):
    """`--freeze --check`: the block is not frozen and current (exit 1)."""


class NoBlock(ReprorunError):
    """The script has no `script` block (exit 1, unlike an invalid one)."""


class NoWheel(ReprorunError):
    """A target platform cannot be satisfied from wheels; the message names package, version, target."""


class BundleError(ReprorunError):
    """A bundle is damaged or not a bundle; nothing was built from it."""


class InternalError(ReprorunError):
    """reprorun caught a mistake of its own (a check of its own output failed): a bug."""

    def __init__(self, message: str) -> None:
        super().__init__(message, hint="this is a bug in reprorun; rerun with -v for the traceback and report it")

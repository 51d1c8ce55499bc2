"""The exceptions reprorun raises; the CLI turns each into one `reprorun: error:` line."""

from __future__ import annotations


class ReprorunError(Exception):
    """Root of every failure reprorun expects; `exit_code` is what the CLI exits with."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(ReprorunError):
    """Bad command line or bad input file (missing, a directory, not UTF-8)."""

    exit_code = 2


class MetadataError(ReprorunError):
    """Invalid inline metadata, reported compiler-style as `path:line: message`."""

    exit_code = 2

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


class InterpreterError(ReprorunError):
    """No interpreter satisfies the request, or the one named does not work."""


class BuildError(ReprorunError):
    """An environment could not be created or its requirements not installed."""


class OfflineError(ReprorunError):
    """The environment is not built and `--offline` forbids building it."""


class ClusterError(ReprorunError):
    """Slurm cannot be reached, refused a job, or a job's tasks failed."""

"""reprorun's own messages: `reprorun: ...` lines on stderr (stdout is the script's)."""

from __future__ import annotations

import logging
import sys


def configure_logging(verbosity: int) -> None:
    """reprorun's own messages go to stderr as `reprorun: ...` lines; stdout is the script's."""
    logger = logging.getLogger("reprorun")
    if logger.handlers:
        logger.setLevel(_level(verbosity))
        return
    handler = _StderrHandler()
    handler.setFormatter(_Formatter())
    logger.addHandler(handler)
    logger.setLevel(_level(verbosity))
    logger.propagate = False


def _level(verbosity: int) -> int:
    return logging.DEBUG if verbosity > 0 else logging.WARNING if verbosity < 0 else logging.INFO


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A handler that writes to whatever `sys.stderr` is when a message comes."""

    # main() may run many times in one process (tests, embedding) while sys.stderr is swapped;
    # a handler holding the first stderr would write to a closed or stale stream.
    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        pass


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        prefix = "reprorun: warning: " if record.levelno >= logging.WARNING else "reprorun: "
        return prefix + record.getMessage()

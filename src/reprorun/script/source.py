"""Read a script's text from a file or standard input, with one clear error for each way it fails."""

from __future__ import annotations

import os
import re
import stat
import sys
from dataclasses import dataclass

from reprorun.errors import UsageError

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")  # Python's own line breaks, unlike splitlines


@dataclass(frozen=True)
class Source:
    """A script as read: the path the user gave (`-` for stdin), its raw bytes and its text."""

    path: str
    data: bytes
    text: str

    @property
    def is_stdin(self) -> bool:
        """Whether the script came from standard input."""
        return self.path == "-"


def read(path: str) -> Source:
    """Read and decode a script; raise `UsageError` if it is missing, a directory or not UTF-8."""
    data = sys.stdin.buffer.read() if path == "-" else read_regular(path)
    return Source(path, data, decode(path, data))


def read_regular(path: str) -> bytes:
    """A regular file's bytes. A FIFO, socket, device or directory is refused at once, unread:
    opened without blocking and checked before the first read (a FIFO would hang every command)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory, not a script") from None
    except PermissionError:
        raise UsageError(f"{path}: permission denied") from None
    except OSError as exc:  # ELOOP (a symlink loop), ENXIO (a socket), ...
        raise UsageError(f"{path}: cannot read: {os.strerror(exc.errno or 0)}") from None
    try:
        kind = os.fstat(fd).st_mode
        if stat.S_ISDIR(kind):
            raise UsageError(f"{path}: is a directory, not a script")
        if not stat.S_ISREG(kind):
            raise UsageError(f"{path}: not a regular file (a FIFO, socket or device); refusing to read it",
                             hint="save the script to a file")  # fmt: skip
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {os.strerror(exc.errno or 0)}") from None
    finally:
        os.close(fd)


def decode(path: str, data: bytes) -> str:
    """UTF-8 text (a BOM is kept in the text, the parser skips it); else a line-precise error."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise UsageError(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            hint="save the script as UTF-8 (PEP 723 requires it)",
        ) from None


def lines(text: str) -> list[str]:
    """The text's lines with their endings, split where Python splits them (not at form feeds)."""
    found = []
    for match in _LINE.finditer(text):
        if not match.group():
            break
        found.append(match.group())
    return found

"""Read a script's text from a file or standard input, with one clear error for each way it fails."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from reprorun.errors import UsageError


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
    if path == "-":
        data = sys.stdin.buffer.read()
    else:
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except FileNotFoundError:
            raise UsageError(f"{path}: no such file") from None
        except IsADirectoryError:
            raise UsageError(f"{path}: is a directory, not a script") from None
        except PermissionError:
            raise UsageError(f"{path}: permission denied") from None
        except OSError as exc:
            raise UsageError(f"{path}: cannot read: {os.strerror(exc.errno or 0)}") from None
    return Source(path, data, decode(path, data))


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

"""A build you can watch: one live status line on stderr, fed by the installer's own output.

On a terminal the line shows the phase (resolving, downloading, compiling, installing), the
current package, how many of how many are done and the time so far; it is redrawn four times a
second and ends as one summary line. Without a terminal only the first and last lines are
written; with -q nothing. A package about to be built from source is named, with the reason,
in every mode: that is where minutes go. Never stdout: it belongs to the script.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

REDRAW = 0.25  # seconds between redraws of the live line
_SDIST = r"(?P<file>[\w.+-]+?)\.(?:tar\.gz|tar\.bz2|tgz|zip)\b"
_PIP = (
    (re.compile(r"^Collecting (?P<pkg>[A-Za-z0-9][\w.-]*)"), "resolving"),
    (re.compile(r"^\s*Downloading (?:\S+/)?(?P<pkg>[A-Za-z0-9][\w.-]*?)-\d"), "downloading"),
    (re.compile(r"^\s*Building wheel for (?P<pkg>\S+)"), "compiling"),
)
_UV = (
    (re.compile(r"^\s*Downloading (?P<pkg>[A-Za-z0-9][\w.-]*)"), "downloading"),
    (re.compile(r"^\s*Building (?P<pkg>[A-Za-z0-9][\w.-]*?)(?:==\S+)?(?: @ .*)?$"), "compiling"),
)
_PIP_SDIST = re.compile(r"^\s*(?:Downloading|Processing|Using cached|File was already downloaded) .*?" + _SDIST)
_UV_BUILD = re.compile(r"^\s*Building (?P<pkg>[A-Za-z0-9][\w.-]*?)(?:==(?P<version>\S+))?(?: @ .*)?$")
_TOTAL = re.compile(r"^(?:Installing collected packages: (?P<names>.*)|Resolved (?P<count>\d+) packages?)")
_DONE = re.compile(r"^(?:Successfully installed (?P<names>.*)|Installed (?P<count>\d+) packages?)")


class Progress:
    """The status of one build, drawn on `stream` (stderr) as its installer reports."""

    def __init__(self, what: str, platform: str, *, verbosity: int = 0, stream: TextIO | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.what = what  # "an environment for s.py: Python 3.11.7, 3 requirements (uv)"
        self.platform = platform  # "Python 3.11 on manylinux_2_36_x86_64", for the source-build reason
        self.stream = stream if stream is not None else sys.stderr
        self.verbosity = verbosity
        self.live = verbosity == 0 and _is_terminal(self.stream)
        self.clock = clock
        self.phase, self.package, self.done, self.total = "creating", "", 0, 0
        self.built_from_source: list[str] = []
        self._start = clock()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Progress:
        """Say that the build starts (live: start redrawing the status line)."""
        if self.live:
            self._thread = threading.Thread(target=self._redraw_loop, name="reprorun-progress", daemon=True)
            self._thread.start()
        elif self.verbosity >= 0:
            self._write(f"reprorun: creating {self.what}\n")
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop redrawing; on failure leave no half line behind (the error follows)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if exc[0] is not None and self.live:
            self._write("\r\x1b[2K")

    def finish(self, summary: str | None) -> None:
        """End with one summary line replacing the live line (None: end silently)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self.live:
            self._write("\r\x1b[2K")
        if summary is not None and self.verbosity >= 0:
            self._write(f"reprorun: {summary}\n")

    def feed(self, line: str) -> None:
        """Read one line of pip's or uv's output: phase, package, counts, source builds."""
        if self.verbosity > 0:
            self._write(line + "\n")  # -v shows the installer's own output, as it comes
        for pattern, phase in (*_PIP, *_UV):
            found = pattern.match(line)
            if found:
                self.phase, self.package = phase, found.group("pkg")
                if phase == "resolving":
                    self.total += 1
                break
        self._source_build(line)
        total = _TOTAL.match(line)
        if total:
            self.total = len(total.group("names").split(", ")) if total.group("names") else int(total.group("count"))
            self.phase = "installing" if total.group("names") else "downloading"
        done = _DONE.match(line)
        if done:
            self.done = len(done.group("names").split()) if done.group("names") else int(done.group("count"))
            self.total = max(self.total, self.done)

    def phase_is(self, phase: str, package: str = "") -> None:
        """Set the phase from outside the installer's output (creating, compiling bytecode)."""
        self.phase, self.package = phase, package

    def status(self) -> str:
        """The live line's text."""
        count = f" ({self.done}/{self.total})" if self.total else ""
        package = f" {self.package}" if self.package else f" {self.what}" if self.phase == "creating" else ""
        return f"reprorun: {self.phase}{package}{count} {int(self.clock() - self._start)}s"

    def _source_build(self, line: str) -> None:
        sdist = _PIP_SDIST.match(line)
        built = _UV_BUILD.match(line) if sdist is None else None
        if sdist is not None:
            name, _, version = sdist.group("file").rpartition("-")
        elif built is not None:
            name, version = built.group("pkg"), built.group("version") or ""
        else:
            return
        if name in self.built_from_source:
            return
        self.built_from_source.append(name)
        self.phase, self.package = "compiling", name
        release = f" {version}" if version else ""
        self._say(f"reprorun: building {name}{release} from source: no wheel of it for {self.platform} "
                  "(this can take minutes; --no-build refuses source builds)")  # fmt: skip

    def _say(self, text: str) -> None:
        """A line of its own, above the live line (which the next redraw puts back)."""
        if self.verbosity >= 0:
            self._write(("\r\x1b[2K" if self.live else "") + text + "\n")

    def _redraw_loop(self) -> None:
        while not self._stop.is_set():
            self._write("\r\x1b[2K" + self.status()[: _width(self.stream) - 1])
            self._stop.wait(REDRAW)

    def _write(self, text: str) -> None:
        with self._lock:
            try:
                self.stream.write(text)
                self.stream.flush()
            except (OSError, ValueError):
                pass  # a closed terminal must not fail the build


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _width(stream: TextIO) -> int:
    import os

    try:
        return os.get_terminal_size(stream.fileno()).columns or 80
    except (OSError, ValueError, AttributeError):
        return 80

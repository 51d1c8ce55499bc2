"""The thin parent of a recorded run: start the script as a child, forward signals, see it end.

An unrecorded run exec's, so signals, stdin, the terminal and the exit status are the script's.
A recorded run must outlive the script to write its end, so it keeps all of that as close to
exec as a parent can:

- the child shares reprorun's process group, stdin and terminal (a `read()` from the terminal
  works; Ctrl-C reaches it straight from the terminal);
- every signal in FORWARDED that is sent to reprorun (`kill`, `timeout`, Slurm's `scancel`) is
  passed on to the child. A signal the kernel sent to the whole foreground process group (Ctrl-C,
  Ctrl-\\, a terminal hang-up: `si_code` SI_KERNEL) is not, since the child got its own copy;
- the signals are blocked in reprorun from before the child starts until the record is written,
  and taken with `sigwaitinfo`, so none is lost or acted on by reprorun itself; the child starts
  with the signal mask reprorun had (posix_spawn's `setsigmask`);
- the child's status is passed through by the caller: its exit code, or, for a child killed by a
  signal, the same signal raised on reprorun itself (`die_like`), so the shell sees 128+N.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import BinaryIO

FORWARDED = frozenset({signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGUSR1,
                       signal.SIGUSR2, signal.SIGALRM})  # fmt: skip
SI_KERNEL = 0x80  # <asm-generic/siginfo.h>: sent by the kernel, here to a whole process group
DRAIN_SECONDS = 5.0  # how long output is still copied after the script ended (a daemon may hold it)


class Child:
    """A running script, started with signals held in reprorun (see the module docstring)."""

    def __init__(
        self, argv: Sequence[str], env: dict[str, str], capture: tuple[BinaryIO, BinaryIO] | None = None
    ) -> None:
        self._waited = FORWARDED | {signal.SIGCHLD}
        self._mask = signal.pthread_sigmask(signal.SIG_BLOCK, self._waited)
        sys.stdout.flush()
        sys.stderr.flush()
        actions: list[tuple[int, ...]] = []
        self._copiers: list[threading.Thread] = []
        pipes = []
        if capture is not None:
            for fd, copy in zip((1, 2), capture, strict=True):
                read, write = os.pipe()
                actions.append((os.POSIX_SPAWN_DUP2, write, fd))
                pipes.append((read, write, fd, copy))
        try:
            self.pid = os.posix_spawn(argv[0], list(argv), env, file_actions=actions, setsigmask=self._mask,
                                      setsigdef=FORWARDED)  # fmt: skip
        finally:
            for _read, write, _fd, _stream in pipes:
                os.close(write)
        for read, _write, fd, copy in pipes:
            thread = threading.Thread(target=_copy, args=(read, fd, copy), daemon=True)
            thread.start()
            self._copiers.append(thread)

    def wait(self) -> int:
        """Forward signals until the child ends; its status as subprocess reports it (-N: signal N)."""
        while True:
            info = signal.sigwaitinfo(self._waited)
            if info.si_signo == signal.SIGCHLD:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
                if pid == self.pid:
                    break
                continue
            if info.si_code != SI_KERNEL:
                with contextlib.suppress(ProcessLookupError):  # it ended meanwhile: SIGCHLD is on its way
                    os.kill(self.pid, info.si_signo)
        for thread in self._copiers:
            thread.join(DRAIN_SECONDS)
        return os.waitstatus_to_exitcode(status)


def die_like(returncode: int) -> int:
    """Pass a child's ending on: a signal death is raised on this process; else the exit code."""
    if returncode >= 0:
        return returncode
    number = -returncode
    sys.stdout.flush()
    sys.stderr.flush()
    if number not in (signal.SIGKILL, signal.SIGSTOP):  # those two cannot be handled nor blocked
        signal.signal(number, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {number})
    os.kill(os.getpid(), number)
    return 128 + number  # only if the signal's default action does not end a process (never here)


def _copy(read: int, fd: int, copy: BinaryIO) -> None:
    """Copy the child's output to reprorun's own stream (live) and to the record's file."""
    with os.fdopen(read, "rb", buffering=0) as source:
        while True:
            try:
                data = source.read(65536)
            except OSError:
                return
            if not data:
                return
            with contextlib.suppress(OSError, ValueError):  # a full disk: the output still goes through
                copy.write(data)
            view = memoryview(data)
            try:
                while view:
                    view = view[os.write(fd, view) :]
            except OSError:
                pass  # our own stream closed (a pager quit): keep recording what the script wrote

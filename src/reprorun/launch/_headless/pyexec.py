"""Running user code as `python SCRIPT` does: a fresh `__main__`, `sys.path[0]`, tracebacks, exits."""

# Runs on Python 3.8+ under an env interpreter, beside `_runner.py`: standard library only.

from __future__ import annotations

import builtins
import os
import signal
import sys
import traceback
import types
from typing import Any

_HERE = os.path.dirname(os.path.abspath(__file__))  # this package's folder
_LAUNCH = os.path.dirname(_HERE)  # the folder of `_runner.py`, python's sys.path[0] when it runs
_RUNNER_FILE = os.path.join(_LAUNCH, "_runner.py")


class RunnerError(Exception):
    """A failure of the runner itself, printed as one `reprorun: error:` line."""

    def __init__(self, message: str, status: int = 1, hint: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.hint = hint


def fresh_main(path: str | None) -> types.ModuleType:
    """A new `__main__` module, registered in `sys.modules`, as the interpreter makes one."""
    module = types.ModuleType("__main__")
    module.__dict__.update(
        {"__builtins__": builtins, "__spec__": None, "__package__": None, "__loader__": None}
    )
    if path is not None:
        module.__file__ = path
        module.__cached__ = None  # type: ignore[attr-defined]
    sys.modules["__main__"] = module
    return module


def set_path0(folder: str) -> None:
    """Put the script's folder where python puts it: in place of this runner's own folder."""
    if sys.path and sys.path[0] and os.path.abspath(sys.path[0]) == _LAUNCH:
        sys.path[0] = folder  # else -P / PYTHONSAFEPATH: python adds no folder, nor do we


def user_traceback(tb: types.TracebackType | None) -> types.TracebackType | None:
    """The traceback without the runner's own leading frames."""
    while tb is not None and _is_ours(os.path.abspath(tb.tb_frame.f_code.co_filename)):
        tb = tb.tb_next
    return tb


def _is_ours(filename: str) -> bool:
    return filename == _RUNNER_FILE or os.path.dirname(filename) == _HERE


def exit_like_python(exc: BaseException) -> int:
    """Report an exception that escaped the user's code as the interpreter would; the status."""
    if isinstance(exc, SystemExit):
        raise exc  # the interpreter prints its message and exits with its code
    exc = exc.with_traceback(user_traceback(exc.__traceback__))
    if sys.excepthook is sys.__excepthook__:
        # The C hook reads source lines from disk only; this one also shows notebook cells.
        traceback.print_exception(type(exc), exc, exc.__traceback__)
    else:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    if isinstance(exc, KeyboardInterrupt):
        die_of_sigint()
    return 1


def die_of_sigint() -> None:
    """End as `python` does after an uncaught KeyboardInterrupt: killed by SIGINT (POSIX)."""
    sys.stdout.flush()
    sys.stderr.flush()
    if hasattr(signal, "SIGINT") and os.name == "posix":
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    sys.exit(130)


def run_code(code: types.CodeType, namespace: dict[str, Any]) -> int:
    """Execute compiled user code in a namespace; 0, or the status of its uncaught exception."""
    try:
        exec(code, namespace)  # noqa: S102 - running the user's own code is the point
    except BaseException as exc:  # noqa: BLE001 - every escape is reported like python does
        return exit_like_python(exc)
    return 0


def compile_user(source: str, filename: str) -> types.CodeType | None:
    """Compile user code; print a SyntaxError as python does (no traceback) and return None."""
    try:
        return compile(source, filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        traceback.print_exception(type(exc), exc, None)
        return None


def read_text(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise RunnerError(f"{path}: cannot read: {exc.strerror}", status=2) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise RunnerError(f"{path}: not UTF-8 text", status=2) from None
    return text[1:] if text.startswith("\ufeff") else text



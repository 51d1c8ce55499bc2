"""Choose the interpreter a script runs with, by the rules of DESIGN section 2, and say which rule chose it."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reprorun.envs.interpreters import Interpreter, discover, inspect
from reprorun.errors import InterpreterError
from reprorun.script import requirements

log = logging.getLogger("reprorun")

_VERSION_REQUEST = re.compile(r"^(?:python|cpython|py)?-?(\d+(?:\.\d+){0,2})$", re.IGNORECASE)


@dataclass(frozen=True)
class Choice:
    """The interpreter a script runs with, and the rule of DESIGN section 2 that chose it."""

    interpreter: Interpreter
    rule: str


def choose(requires_python: str | None, request: str | None, store: Path | None = None) -> Interpreter:
    """The interpreter to run with (see `select`, which also says why)."""
    return select(requires_python, request, store).interpreter


def select(
    requires_python: str | None,
    request: str | None,
    store: Path | None = None,
    *,
    origin: str = "--python",
    frozen_for: str | None = None,
    uv: Callable[[], str | None] | None = None,
) -> Choice:
    """Choose by DESIGN section 2: the request (`--python`, else REPRORUN_PYTHON or the config
    file's `python`, named by `origin`); else the `frozen-for` version when installed; else the
    running interpreter when it fits; else the first fitting `python3` on PATH; else the highest
    fitting one found; else, when `uv` finds a uv, a Python that uv manages (found, or downloaded)."""
    if request and (os.sep in request or os.path.isfile(request)):
        chosen = inspect(request, store)
        _check_fits(chosen, requires_python)
        return Choice(chosen, f"{origin} {request}")
    found = discover(store)
    if request:
        return _requested(found, requires_python, request, origin)
    fitting = [i for i in found if requirements.fits(requires_python, i.version)]
    fits = f" (it fits requires-python {requires_python!r})" if requires_python else ""
    frozen = _frozen_version(frozen_for)
    if frozen:
        same = [i for i in fitting if i.version == frozen] or [i for i in fitting if i.short == _short(frozen)]
        if same:
            return Choice(same[0], f"frozen-for names Python {frozen}, and it is installed")
    running = os.path.realpath(sys.executable)
    for interpreter in fitting:
        if interpreter.executable == running:
            return Choice(interpreter, f"the interpreter running reprorun{fits}")
    by_path = {i.executable: i for i in fitting}
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if folder and "shims" not in Path(folder).parts:
            candidate = by_path.get(os.path.realpath(os.path.join(folder, "python3")))
            if candidate is not None:
                return Choice(candidate, f"the first python3 on PATH{fits}: {os.path.join(folder, 'python3')}")
    if fitting:
        best = max(fitting, key=lambda i: i.version_tuple)
        return Choice(best, f"the highest installed Python that fits requires-python {requires_python!r}")
    uv_executable = uv() if uv is not None else None
    if uv_executable is not None:
        return Choice(_uv_managed(uv_executable, requires_python or "3", store, found), "a Python managed by uv "
                      f"(none installed fits requires-python {requires_python!r})")  # fmt: skip
    raise InterpreterError(
        f"no Python satisfies requires-python {requires_python!r}; found: {_describe(found)}",
        hint="install a fitting Python, or point --python at one",
    )


def _requested(found: list[Interpreter], requires_python: str | None, request: str, origin: str) -> Choice:
    """The interpreter a version request names (`3.12`, `python3.12`), fitting the script."""
    match = _VERSION_REQUEST.match(request.strip())
    if not match:
        raise InterpreterError(
            f"{origin} {request!r} is neither a path nor a version",
            hint="give a path (/usr/bin/python3.12) or a version (3.12, python3.12)",
        )
    wanted = match.group(1)
    pool = [i for i in found if i.version == wanted or i.version.startswith(wanted + ".")]
    if not pool:
        raise InterpreterError(
            f"no Python {wanted} found ({origin}); found: {_describe(found)}",
            hint="install it, or give its path",
        )
    fitting = [i for i in pool if requirements.fits(requires_python, i.version)]
    if not fitting:
        raise InterpreterError(
            f"no Python satisfies requires-python {requires_python!r}; found: {_describe(pool)}",
            hint="install a fitting Python, or point --python at one",
        )
    running = os.path.realpath(sys.executable)
    chosen = max(fitting, key=lambda i: (i.version_tuple, i.executable == running))
    return Choice(chosen, f"{origin} {request}")


def _frozen_version(frozen_for: str | None) -> str | None:
    """The Python version `frozen-for` names (`cpython-3.11.7-manylinux_2_36_x86_64` -> 3.11.7)."""
    match = re.search(r"(?:^|[^\w.])(?:[a-z]+-)?(\d+\.\d+(?:\.\d+)?)(?=-|$|[\s,])", frozen_for or "")
    if match:
        return match.group(1)
    tag = re.search(r"\bcp(\d)(\d+)\b", frozen_for or "")  # a `--for cp311-linux-x86_64` target
    return f"{tag.group(1)}.{tag.group(2)}" if tag else None


def _short(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _uv_managed(uv: str, request: str, store: Path | None, found: list[Interpreter]) -> Interpreter:
    """A Python uv manages for the request: one it has, else one it downloads (its own settings
    say from where: `UV_PYTHON_INSTALL_MIRROR`, `UV_PYTHON_DOWNLOADS_JSON_URL`)."""
    env = {k: v for k, v in os.environ.items() if k not in ("UV_PYTHON", "VIRTUAL_ENV")}  # UV_PYTHON_DOWNLOADS holds
    for step in ("find", "install"):
        if step == "install":
            log.info("no installed Python fits requires-python %r: uv installs one", request)
            done = subprocess.run([uv, "python", "install", "--no-config", "--no-bin", request], env=env,
                                  capture_output=True, text=True, check=False)  # fmt: skip
            if done.returncode != 0:
                reason = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
                raise InterpreterError(
                    f"no Python satisfies requires-python {request!r}; found: {_describe(found)}; "
                    f"and uv could not install one: {reason}",
                    hint="install a fitting Python, or point --python at one",
                )
        answer = subprocess.run([uv, "python", "find", "--no-config", "--managed-python", request], env=env,
                                capture_output=True, text=True, check=False)  # fmt: skip
        if answer.returncode == 0 and answer.stdout.strip():
            return inspect(answer.stdout.strip().splitlines()[-1], store)
    raise InterpreterError(f"uv installed a Python for {request!r} but cannot find it", hint="run: uv python list")


def _check_fits(chosen: Interpreter, requires_python: str | None) -> None:
    if not requirements.fits(requires_python, chosen.version):
        raise InterpreterError(
            f"{chosen.executable} is Python {chosen.version}, "
            f"but the script requires-python {requires_python!r}",
            hint="point --python at a fitting interpreter, or leave --python out",
        )


def _describe(found: list[Interpreter]) -> str:
    if not found:
        return "none"
    ordered = sorted(found, key=lambda i: i.version_tuple, reverse=True)
    return ", ".join(f"{i.version} ({i.executable})" for i in ordered)

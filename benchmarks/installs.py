"""reprorun as users install it, made offline from the benchmark's wheelhouse (issue 17).

    venv-pip-<X.Y>/   the README's install: `python3 -m venv` + `pip install <repo>`; on 3.10 and
                      3.11 `venv` seeds setuptools, whose `distutils-precedence.pth` loads an
                      import hook at every start
    pipx-home/        `pipx install <repo>` (pipx's own venv layout and shared pip)
    uv-tools/         `uv tool install <repo>`

Each install is a `reprorun` command and the interpreter it runs on. A kind whose tool or
interpreter is missing is skipped with a line saying why. Only the 3.10 install needs another
download (reprorun's dependencies for 3.10, once, online).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

from workdir import SetupError, Work, read_text, resolve_python

STAMP = "reprorun-bench-installs-1"


@dataclass(frozen=True)
class Install:
    """One installed `reprorun` command."""

    name: str
    reprorun: str
    python: str  # the interpreter the command runs on (its venv's bin/python)
    version: str  # "3.11"


def prepare(work: Work, copy: str, log: Callable[[str], None]) -> list[Install]:
    """Make every install kind that this machine can; log the ones it cannot."""
    made: list[Install] = []
    for maker in (_venv_pip_here, _venv_pip_310, _pipx, _uv_tool):
        try:
            found = maker(work, copy, log)
        except SetupError as exc:
            log(f"install skipped: {exc}")
            continue
        if found is not None:
            made.append(found)
    return made


def _venv_pip(work: Work, copy: str, python: str, wheelhouses: list[str], name: str) -> Install:
    venv = os.path.join(work.root, f"venv-pip-{_version(python)}")
    shutil.rmtree(venv, ignore_errors=True)
    _run([python, "-m", "venv", venv])  # with pip and (before 3.12) setuptools, as the README does
    links = [arg for folder in wheelhouses for arg in ("--find-links", folder)]
    _run([os.path.join(venv, "bin", "pip"), "install", "--quiet", "--no-index", *links, copy], env=work.environ())
    return Install(name, os.path.join(venv, "bin", "reprorun"), os.path.join(venv, "bin", "python"), _version(python))


def _venv_pip_here(work: Work, copy: str, log: Callable[[str], None]) -> Install:
    return _venv_pip(work, copy, work.python, [work.wheelhouse], f"venv+pip {_version(work.python)}")


def _venv_pip_310(work: Work, copy: str, log: Callable[[str], None]) -> Install | None:
    if _version(work.python) == "3.10":
        return None  # the one above is already 3.10
    python = resolve_python("3.10")
    wheelhouse = os.path.join(work.root, "wheelhouse-deps-310")
    stamp = os.path.join(wheelhouse, ".stamp")
    if read_text(stamp) != STAMP + read_text(os.path.join(copy, "pyproject.toml")):
        log(f"downloading reprorun's dependencies for Python 3.10 once (online): {wheelhouse}")
        tools = os.path.join(work.root, "tools-310")
        if not os.path.exists(os.path.join(tools, "bin", "pip")):
            _run([python, "-m", "venv", tools])
        os.makedirs(wheelhouse, exist_ok=True)
        _run([os.path.join(tools, "bin", "pip"), "download", "--quiet", "--dest", wheelhouse, copy, "setuptools>=69"])
        for name in os.listdir(wheelhouse):
            if name.startswith("reprorun"):
                os.remove(os.path.join(wheelhouse, name))
        with open(stamp, "w", encoding="utf-8") as handle:
            handle.write(STAMP + (read_text(os.path.join(copy, "pyproject.toml")) or ""))
    return _venv_pip(work, copy, python, [wheelhouse, work.wheelhouse], "venv+pip 3.10")


def _pipx(work: Work, copy: str, log: Callable[[str], None]) -> Install | None:
    if work.pipx is None:
        raise SetupError("pipx is not installed")
    env = work.environ()
    shutil.rmtree(os.path.join(env["PIPX_HOME"], "venvs", "reprorun"), ignore_errors=True)
    _run([work.pipx, "install", "--force", "--python", work.python, copy], env=env)
    venv = os.path.join(env["PIPX_HOME"], "venvs", "reprorun")
    command = os.path.join(env["PIPX_BIN_DIR"], "reprorun")
    if not os.path.exists(command):
        raise SetupError("pipx installed no reprorun command")
    return Install("pipx", command, os.path.join(venv, "bin", "python"), _version(work.python))


def _uv_tool(work: Work, copy: str, log: Callable[[str], None]) -> Install | None:
    if work.uv is None:
        raise SetupError("uv is not installed")
    tools = os.path.join(work.root, "uv-tools")
    env = work.environ(UV_TOOL_DIR=tools, UV_TOOL_BIN_DIR=os.path.join(tools, "bin"))
    shutil.rmtree(tools, ignore_errors=True)
    _run([work.uv, "tool", "install", "--python", work.python, copy], env=env)
    command = os.path.join(tools, "bin", "reprorun")
    if not os.path.exists(command):
        raise SetupError("uv tool install made no reprorun command")
    return Install("uv tool install", command, os.path.join(tools, "reprorun", "bin", "python"),
                   _version(work.python))  # fmt: skip


def _version(python: str) -> str:
    return _run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]).stdout.strip()


def _run(argv: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-12:])
        raise SetupError(f"failed ({result.returncode}): {' '.join(argv)}\n{tail}")
    return result

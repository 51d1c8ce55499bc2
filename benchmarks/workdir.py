"""The benchmark's private work dir: a wheelhouse made once, fresh venvs, an offline environment.

Layout under benchmarks/.work/ (gitignored):

    wheelhouse-<tag>/   `pip download` of everything, once per interpreter tag (online)
    tools/              a venv with pip: downloads, and installs into the pip-less venvs below
    src/                a copy of the repo's pyproject.toml, src/ and scripts/ (the tree stays clean)
    venv-reprorun/      `python -m venv --without-pip` + reprorun[uv] from the copy (non-editable)
    venv-pipx/          the same, with pipx
    scripts/            the benchmark scripts
    cache-warm/ ...     REPRORUN_CACHE_DIR, UV_CACHE_DIR, PIPX_HOME, PIP_CACHE_DIR, XDG_CACHE_HOME
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(REPO, "benchmarks", ".work")
# Everything the runs need, for the benchmark interpreter; `pip` and `setuptools` let pipx's
# shared venv and reprorun's build work offline.
PACKAGES = ("numpy", "pandas", "matplotlib", "requests", "six", "uv", "pipx", "pip", "setuptools>=69", "wheel")
STAMP = "reprorun-bench-wheelhouse-1"
# Inherited variables that would change what any tool does (the machine sets several of these,
# e.g. PYTHONDONTWRITEBYTECODE, which would make every warm import compile from source).
_DROP = re.compile(r"^(PIP_|UV_|PIPX_|REPRORUN_|VIRTUALENV_|PYTHON|CONDA_|VIRTUAL_ENV$|__PYVENV)")


class SetupError(Exception):
    """The work dir could not be prepared."""


@dataclass(frozen=True)
class Work:
    """Paths of one prepared work dir."""

    python: str  # real path of the interpreter everything uses
    root: str
    wheelhouse: str
    reprorun_venv: str
    pipx_venv: str | None
    scripts: str

    def bin(self, venv: str, name: str) -> str:
        """An executable of a venv."""
        return os.path.join(venv, "bin", name)

    @property
    def reprorun(self) -> str:
        """The installed `reprorun` command."""
        return self.bin(self.reprorun_venv, "reprorun")

    @property
    def uv(self) -> str | None:
        """The uv that reprorun[uv] installed (also the `uv run` peer), else one on PATH."""
        mine = self.bin(self.reprorun_venv, "uv")
        return mine if os.path.exists(mine) else shutil.which("uv")

    @property
    def pipx(self) -> str | None:
        """The pipx peer, when it could be installed."""
        return self.bin(self.pipx_venv, "pipx") if self.pipx_venv else None

    def environ(self, **extra: str) -> dict[str, str]:
        """An offline environment: pip, uv and pipx see only the wheelhouse; caches stay in WORK."""
        variables = {k: v for k, v in os.environ.items() if not _DROP.match(k)}
        at = self.root
        variables.update(
            PIP_CONFIG_FILE=os.devnull,
            PIP_NO_INDEX="1",
            PIP_FIND_LINKS=self.wheelhouse,
            PIP_DISABLE_PIP_VERSION_CHECK="1",
            PIP_NO_INPUT="1",
            PIP_CACHE_DIR=os.path.join(at, "pip-cache"),
            UV_OFFLINE="1",
            UV_NO_INDEX="1",
            UV_FIND_LINKS=self.wheelhouse,
            UV_NO_CONFIG="1",
            UV_PYTHON_DOWNLOADS="never",
            UV_PYTHON=self.python,
            UV_NO_PROGRESS="1",
            UV_CACHE_DIR=os.path.join(at, "uv-cache"),
            PIPX_HOME=os.path.join(at, "pipx-home"),
            PIPX_BIN_DIR=os.path.join(at, "pipx-home", "bin"),
            PIPX_MAN_DIR=os.path.join(at, "pipx-home", "man"),
            PIPX_DEFAULT_PYTHON=self.python,
            PIPX_DEFAULT_BACKEND="pip",  # pipx is the pip-based peer (newer pipx prefer uv if found)
            XDG_CACHE_HOME=os.path.join(at, "xdg-cache"),
            MPLCONFIGDIR=os.path.join(at, "matplotlib"),  # its font cache, made once (first warm-up)
            REPRORUN_CACHE_DIR=os.path.join(at, "cache-warm"),
        )
        variables.update(extra)
        return variables


def resolve_python(request: str | None) -> str:
    """The real executable of the requested interpreter (default: the base of the running one)."""
    if request is None:
        return os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)
    found = request if os.sep in request else shutil.which(request)
    if not found:
        pyenv = os.path.expanduser("~/.pyenv/versions")
        if re.fullmatch(r"\d+\.\d+", request) and os.path.isdir(pyenv):
            for name in sorted(os.listdir(pyenv), reverse=True):
                if name.startswith(request + "."):
                    found = os.path.join(pyenv, name, "bin", "python" + request)
                    break
    if not found or not os.path.exists(found):
        raise SetupError(f"interpreter not found: {request}")
    return os.path.realpath(found)


def prepare(python: str, *, log: Callable[[str], None]) -> Work:
    """Make (or reuse) the wheelhouse, then fresh venvs with reprorun and pipx, and the scripts."""
    os.makedirs(WORK, exist_ok=True)
    tag = _run([python, "-c", "import sys,sysconfig;print(sys.implementation.cache_tag, "
                "sysconfig.get_platform())"]).stdout.strip().replace(" ", "-")  # fmt: skip
    tools = os.path.join(WORK, f"tools-{tag}")
    if not os.path.exists(os.path.join(tools, "bin", "python")):
        log(f"creating the tools venv {tools}")
        _run([python, "-m", "venv", tools])
    tools_pip = [os.path.join(tools, "bin", "python"), "-m", "pip"]
    wheelhouse = os.path.join(WORK, f"wheelhouse-{tag}")
    copy = _copy_repo()
    stamp = os.path.join(wheelhouse, ".stamp")
    wanted = f"{STAMP}\n" + "\n".join(PACKAGES) + "\n"
    if read_text(stamp) != wanted:
        log(f"downloading the wheelhouse once (online): {wheelhouse}")
        os.makedirs(wheelhouse, exist_ok=True)
        _run([*tools_pip, "download", "--dest", wheelhouse, "--only-binary", ":all:", *PACKAGES])
        _download_repo_deps(tools_pip, wheelhouse, copy)
        with open(stamp, "w", encoding="utf-8") as handle:
            handle.write(wanted)
    offline = Work(python, WORK, wheelhouse, "", None, "").environ()
    venv = os.path.join(WORK, "venv-reprorun")
    log("installing reprorun (non-editable, offline) into a fresh venv")
    _fresh_venv(python, venv)
    install = [*tools_pip, "--python", os.path.join(venv, "bin", "python"), "install", "--quiet"]
    if _run([*install, f"{copy}[uv]"], env=offline, check=False).returncode != 0:
        log("reprorun's dependencies changed: adding them to the wheelhouse (online)")
        _download_repo_deps(tools_pip, wheelhouse, copy)
        _run([*install, f"{copy}[uv]"], env=offline)
    pipx_venv: str | None = os.path.join(WORK, "venv-pipx")
    _fresh_venv(python, pipx_venv)
    pip_for = [*tools_pip, "--python", os.path.join(pipx_venv, "bin", "python"), "install", "--quiet", "pipx"]
    if _run(pip_for, env=offline, check=False).returncode != 0:
        log("pipx could not be installed: its rows are skipped")
        pipx_venv = None
    scripts = os.path.join(WORK, "scripts")
    return Work(python, WORK, wheelhouse, venv, pipx_venv, scripts)


def _copy_repo() -> str:
    """Build from a copy, so setuptools writes no build/ or egg-info into the shared tree."""
    copy = os.path.join(WORK, "src")
    shutil.rmtree(copy, ignore_errors=True)
    os.makedirs(copy)
    for name in os.listdir(REPO):
        if name == "pyproject.toml" or name.startswith(("README", "LICENSE")):
            shutil.copy2(os.path.join(REPO, name), copy)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    shutil.copytree(os.path.join(REPO, "src"), os.path.join(copy, "src"), ignore=ignore)
    shutil.copytree(os.path.join(REPO, "scripts"), os.path.join(copy, "scripts"))  # the command
    return copy


def _download_repo_deps(tools_pip: list[str], wheelhouse: str, copy: str) -> None:
    _run([*tools_pip, "download", "--dest", wheelhouse, f"{copy}[uv]"])
    for name in os.listdir(wheelhouse):
        if name.startswith("reprorun"):
            os.remove(os.path.join(wheelhouse, name))  # the repo is installed from the copy


def _fresh_venv(python: str, path: str) -> None:
    # No pip and no setuptools in it: setuptools' distutils-precedence.pth would load a foreign
    # import hook at every start of reprorun (and disqualify an in-process launch).
    shutil.rmtree(path, ignore_errors=True)
    _run([python, "-m", "venv", "--without-pip", path])


def read_text(path: str) -> str | None:
    """A file's text, or None if it cannot be read."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return None


def _run(argv: list[str], env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-15:])
        raise SetupError(f"failed ({result.returncode}): {' '.join(argv)}\n{tail}")
    return result


def probe_launch(argv: list[str], env: dict[str, str]) -> dict[str, object]:
    """Run a probe script through reprorun: what it printed (JSON), how it was launched, its stderr."""
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
    info: dict[str, object] = json.loads(done.stdout)
    cmdline = info["cmdline"]
    assert isinstance(cmdline, list)
    # After an exec the process is `ENV/bin/python SCRIPT`; in-process it is still `... reprorun ...`.
    info["launch"] = "in-process" if any(os.path.basename(c) == "reprorun" for c in cmdline) else "exec"
    info["stderr"] = done.stderr
    return info

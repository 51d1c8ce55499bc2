"""The uv backend: uv creates the env and installs into it; same inputs and result as pip, faster."""

from __future__ import annotations

import logging
import os
import re
import shutil
import sys
from pathlib import Path

from reprorun import processes
from reprorun.envs.installers.base import InstallRequest, install_error, requirement_args
from reprorun.envs.installers.venv import dist_infos, env_python
from reprorun.envs.interpreters import Interpreter
from reprorun.errors import BuildError

log = logging.getLogger("reprorun")


class UvBackend:
    """uv creates the env and installs into it: same inputs, same result, faster."""

    name = "uv"

    def __init__(self, executable: str) -> None:
        self.executable = executable

    def build(
        self, dest: Path, interpreter: Interpreter, request: InstallRequest | None, app_data: Path, verbosity: int
    ) -> int:
        """One `uv sync --script` where it can, else `uv venv`, then `uv pip install`."""
        syncable = request is not None and not request.hashes and request.sources.uv_can_sync
        if request is not None and syncable and self.sync(dest, interpreter, request, verbosity):
            return len(dist_infos(dest))
        self.create(dest, interpreter, app_data, verbosity)
        return 0 if request is None else self.install(dest, interpreter, request, verbosity)

    def sync(self, dest: Path, interpreter: Interpreter, request: InstallRequest, verbosity: int) -> bool:
        """Create and install in one uv process; False if this uv is too old to (nothing is made).

        `uv pip install --python ENV` first asks the new env's interpreter about itself, because
        uv has never seen its path: about 50 ms, four times the rest of a small install. `uv sync
        --script` creates the env itself (at `VIRTUAL_ENV`, with `--active`) and knows it already.
        The script it syncs is a throwaway one holding only the requirement list, so the result is
        what `uv pip install` makes of the same list for the same interpreter, with the same
        sources; its name, `reprorun`, becomes the prompt of the env's activation scripts. It
        takes no `--require-hashes`: hashed requirements go the two-step way.
        """
        import json
        import tempfile

        lines = "".join(f"#     {json.dumps(text)},\n" for text in request.requirements)
        try:
            temp = tempfile.TemporaryDirectory(prefix="reprorun-uv-")
        except OSError as exc:  # no usable temporary folder: the two steps need none
            log.debug("no temporary folder for uv sync: %s", exc)
            return False
        with temp as folder:
            script = os.path.join(folder, "reprorun")
            with open(script, "w", encoding="utf-8") as handle:
                handle.write(f"# /// script\n# dependencies = [\n{lines}# ]\n# ///\n")
            argv = [self.executable, "sync", "--no-config", "--script", script, "--active",
                    "--python", interpreter.executable, *request.sources.uv_args(sync=True)]  # fmt: skip
            env = processes.environ(VIRTUAL_ENV=str(dest), UV_PYTHON_DOWNLOADS="never", UV_FROZEN=None,
                                    UV_LOCKED=None, UV_NO_SYNC=None, **request.sources.uv_environ())  # fmt: skip
            result = request.run(argv, env, verbosity)
        if result.returncode == 2 and re.search(r"unexpected argument|unrecognized subcommand", result.output):
            log.debug("this uv cannot sync a script into an env; creating and installing in two steps")
            shutil.rmtree(dest, ignore_errors=True)
            dest.mkdir()
            return False
        if result.returncode != 0:
            raise install_error(request.requirements, result, no_build=request.sources.no_build)
        return True

    def create(self, dest: Path, interpreter: Interpreter, app_data: Path, verbosity: int) -> None:
        """`uv venv` with the chosen interpreter."""
        argv = [self.executable, "venv", "--no-config", "--quiet", "--python", interpreter.executable, str(dest)]
        result = processes.run(argv, env=processes.environ(UV_PYTHON_DOWNLOADS="never"))
        if result.returncode != 0:
            raise BuildError(f"could not create the environment with uv:\n{result.tail(6)}")

    def install(self, dest: Path, interpreter: Interpreter, request: InstallRequest, verbosity: int) -> int:
        """`uv pip install --python ENV`, with the same sources and hashes."""
        argv = [self.executable, "pip", "install", "--no-config", "--python", str(env_python(dest))]
        argv += request.sources.uv_args()
        argv += requirement_args(dest, request)
        env = processes.environ(UV_PYTHON_DOWNLOADS="never", **request.sources.uv_environ())
        result = request.run(argv, env, verbosity)
        if result.returncode != 0:
            raise install_error(request.requirements, result, no_build=request.sources.no_build)
        return len(dist_infos(dest))


def find_uv() -> str | None:
    """The uv executable: the one the `uv` package ships, else one on PATH."""
    import importlib.util

    try:
        installed = importlib.util.find_spec("uv") is not None
    except ValueError:  # a module without a spec: the import below judges it
        installed = False
    beside = _beside_this_python() if installed else None
    if beside is not None:
        return beside
    try:
        from uv import find_uv_bin  # the PyPI package's own locator

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


def _beside_this_python() -> str | None:
    """The first place `find_uv_bin()` looks, found without its cost: in a venv on POSIX the running
    Python's scripts folder (sysconfig's `scripts` path, whose configuration takes 10 million
    instructions to load, 3 % of a cold run) is the venv's `bin`, where `pip install 'reprorun[uv]'`,
    pipx and `uv tool install` put uv."""
    if os.name != "posix" or sys.prefix == sys.base_prefix:
        return None
    path = os.path.join(sys.prefix, "bin", "uv")
    return path if os.path.isfile(path) else None

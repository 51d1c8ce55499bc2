"""The pip backend: virtualenv creates the env without pip; virtualenv's embedded pip installs into it.

pip is virtualenv's embedded wheel, unpacked once into the cache and run by the target interpreter
itself, so an env needs no pip of its own and every interpreter gets a modern pip. `pip_command`
is the one place that says how pip is run: builds and freeze's resolution both use it.

pip installs without bytecode (`--no-compile`), and a build writes none (issue 17): the content
store links the env's files (store.py), then each package folder's `__pycache__` becomes a folder
of the store named by its sources (pycache.py), as for uv. The first run compiles what it imports
into it, and a later env of the same packages starts with that; compiling every module at build
cost a first env more CPU than its first run compiles and filled the cache with bytecode nothing
imports. `compile_env` compiles an env whole (_compile.py, on every core): Slurm's `submit` runs
it once, before an array's tasks start, so that they write nothing.
"""

from __future__ import annotations

import glob
import importlib.util
import logging
import os
import re
from pathlib import Path

from reprorun import processes
from reprorun.envs.installers.base import InstallRequest, install_error, requirement_args
from reprorun.envs.installers.sources import Sources
from reprorun.envs.installers.venv import env_python, site_packages
from reprorun.envs.interpreters import Interpreter
from reprorun.envs.scratch import fill_once
from reprorun.errors import BuildError

log = logging.getLogger("reprorun")
BYTECODE_MARKER = "reprorun-bytecode"  # in an env whose modules are all compiled (compile_once)


COMPILE_HELPER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "_compile.py")


def pip_wheel(python_short: str) -> str:
    """virtualenv's embedded pip wheel for that Python version, found without importing virtualenv."""
    spec = importlib.util.find_spec("virtualenv")
    if spec is None or not spec.submodule_search_locations:
        raise BuildError("virtualenv is not installed", hint="reinstall reprorun")
    embed = Path(next(iter(spec.submodule_search_locations))) / "seed" / "wheels" / "embed"
    try:
        from virtualenv.seed.wheels.embed import get_embed_wheel

        wheel = get_embed_wheel("pip", python_short)
        if wheel is not None:
            return str(wheel.path)
    except (ImportError, AttributeError, OSError, ValueError):  # an older or newer virtualenv's API
        log.debug("virtualenv's embed lookup failed; using the newest pip wheel")
    wheels = sorted(glob.glob(str(embed / "pip-*.whl")), key=_wheel_version)
    if not wheels:
        raise BuildError("virtualenv ships no pip wheel", hint="reinstall virtualenv")
    return wheels[-1]


def _wheel_version(path: str) -> tuple[int, ...]:
    match = re.search(r"pip-([\d.]+)-", os.path.basename(path))
    return tuple(int(p) for p in match.group(1).split(".") if p) if match else ()


def pip_argv(python_executable: str, python_short: str, unpacked: Path | None = None) -> list[str]:
    """The argv prefix that runs a modern pip under the given interpreter.

    With `unpacked` (a folder of the cache), pip runs from the wheel unpacked there: pip's modules
    get cached bytecode, which a zip cannot hold, and an install takes about a third of the time.
    """
    wheel = pip_wheel(python_short)
    if unpacked is not None:
        try:
            return [python_executable, str(unpack_wheel(wheel, unpacked) / "pip")]
        except OSError as exc:  # a read-only or full cache: the zip still works, only slower
            log.debug("could not unpack %s into %s: %s", wheel, unpacked, exc)
    return [python_executable, os.path.join(wheel, "pip")]


def unpack_wheel(wheel: str, folder: Path) -> Path:
    """`folder/<wheel file name>/`, the wheel unpacked there once; concurrent callers are safe.

    The wheel is unpacked into a temporary folder beside it and renamed into place: the rename is
    atomic, so the folder either does not exist or is whole. A loser of the race drops its copy.
    """
    import zipfile

    def extract(temp: Path) -> None:
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(temp)

    return fill_once(folder / os.path.basename(wheel), extract)


def pip_command(
    python: str, python_short: str, unpacked: Path | None, subcommand: str, sources: Sources, verbosity: int,
    watched: bool = False,
) -> list[str]:
    """The argv of one pip subcommand run by `python`, with the sources and reprorun's usual flags
    (`watched`: its output is read as it comes, so it is not made quiet)."""
    argv = [*pip_argv(python, python_short, unpacked), subcommand, "--no-input", "--disable-pip-version-check"]
    argv += sources.pip_args()
    if verbosity <= 0 and not watched:
        argv.append("--quiet")
    return argv


def pip_environment(sources: Sources | None = None) -> dict[str, str]:
    """The environment pip runs in: nothing that would make it install or resolve elsewhere, and
    (with `sources`) exactly the configuration reprorun read, not pip's own reading of its files."""
    # An env's pip must not see a surrounding virtualenv or PYTHONPATH, or it installs elsewhere.
    # PYTHONDONTWRITEBYTECODE would leave the unpacked pip without bytecode: every build would
    # compile pip's modules again (it changes nothing else: pip compiles what it installs itself).
    changes = sources.pip_environ() if sources is not None else {}
    changes.update(PYTHONPATH=None, VIRTUAL_ENV=None, PIP_REQUIRE_VIRTUALENV=None, PIP_USER=None,
                   PYTHONNOUSERSITE="1", PYTHONDONTWRITEBYTECODE=None)
    return processes.environ(**changes)


class PipBackend:
    """virtualenv creates the env without seeding pip; the embedded pip installs from outside."""

    name = "pip"

    def __init__(self, unpacked: Path | None = None, store: Path | None = None) -> None:
        self.unpacked = unpacked  # where pip's wheel is unpacked (see `pip_argv`)
        self.store = store  # the content store (store.py), if files are to be shared

    def build(
        self, dest: Path, interpreter: Interpreter, request: InstallRequest | None, app_data: Path, verbosity: int
    ) -> int:
        """virtualenv, pip without compiling, then the store: the env's files, and its package
        folders' `__pycache__`, which the first run fills (pycache.py)."""
        self.create(dest, interpreter, app_data, verbosity)
        if request is None:
            return 0
        installed = self.install(dest, interpreter, request, verbosity)
        if self.store is not None:
            from reprorun.envs import pycache, store

            # The files first: a folder's shared bytecode is named by its sources' mtimes, the store's.
            store.share(self.store, dest / "lib")
            pycache.share(self.store, dest)
        return installed

    def create(self, dest: Path, interpreter: Interpreter, app_data: Path, verbosity: int) -> None:
        """Create the env with virtualenv (imported here: only a build pays for it)."""
        from virtualenv import cli_run

        args = [str(dest), "--python", interpreter.executable, "--no-seed", "--no-periodic-update",
                "--app-data", str(app_data), "--no-vcs-ignore", "--quiet"]  # fmt: skip
        try:
            cli_run(args, setup_logging=False)
        except (OSError, RuntimeError) as exc:  # no interpreter, a failed probe, a full disk
            raise BuildError(f"could not create the environment with virtualenv: {exc}") from None

    def install(self, dest: Path, interpreter: Interpreter, request: InstallRequest, verbosity: int) -> int:
        """Install with pip run by the env's own interpreter; return the number installed.

        Without bytecode: the first run writes what it imports (see the module's docstring).
        """
        argv = pip_command(str(env_python(dest)), interpreter.short, self.unpacked, "install", request.sources,
                           verbosity, watched=request.watch is not None)  # fmt: skip
        argv += ["--no-compile", "--no-warn-script-location"]
        if request.report is not None:
            argv += ["--report", str(request.report)]
        argv += requirement_args(dest, request)
        result = request.run(argv, pip_environment(request.sources), verbosity, quiet_added=True)
        if result.returncode != 0:
            raise install_error(request.requirements, result, no_build=request.sources.no_build)
        return _count_report(request.report)


def compile_env(dest: Path) -> None:
    """Bytecode for every module of the env that has none yet, as pip would write it, on every
    core (see _compile.py); into the store's shared folders where the env's `__pycache__` links there."""
    # The folders are given: with -S (a faster start) a Python before 3.11 would not even know
    # that it runs in a venv, which its `site` module finds out.
    folders = [str(path) for path in site_packages(dest)]
    if not folders:
        return
    result = processes.run([str(env_python(dest)), "-S", COMPILE_HELPER, *folders], env=pip_environment())
    if result.returncode != 0 or result.stderr:
        log.debug("compiling the env's modules: exit %d\n%s", result.returncode, result.tail(6))
    _check_space(dest)


def compile_once(env: Path) -> None:
    """Bytecode for every module of a published env, once (`sync`, `submit`): builds write none
    (envs/pycache.py), and the tasks or users who then start it at once would each compile their
    imports, or, reading a cache they may not write, compile them in memory at every start. What
    it compiles goes into the folders the env shares through the store, for later envs too."""
    done = env / BYTECODE_MARKER
    if done.exists() or not (env / "reprorun-complete").is_file():
        return
    compile_env(env)
    try:
        done.touch()
    except OSError as exc:  # a cache this user reads only: compiled as far as it could be
        log.debug("bytecode of %s: %s", env, exc)


def _check_space(dest: Path) -> None:
    """Fail when the bytecode took the last space: a module compiles only where it fits, silently,
    so an env on a full disk would be marked compiled with part of its bytecode."""
    try:
        free = os.statvfs(dest).f_bavail
    except (OSError, AttributeError):
        return
    if free == 0:
        import errno

        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dest))


def _count_report(report: Path | None) -> int:
    if report is None:
        return 0
    import json

    try:
        return len(json.loads(report.read_text("utf-8")).get("install", []))
    except (OSError, ValueError):
        return 0

"""Installers: who creates an environment and installs into it (pip via virtualenv, or uv).

Both backends take the same requirement list, package sources and hashes, and leave the same
environment; only speed differs. pip is virtualenv's embedded wheel, unpacked once into
the cache and run by the target interpreter itself, so an env needs no pip of its own and every
interpreter gets a modern pip.
"""

from __future__ import annotations

import glob
import importlib.util
import logging
import os
import re
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from reprorun import processes
from reprorun.envs.interpreters import Interpreter
from reprorun.errors import BuildError
from reprorun.options import Options
from reprorun.script.metadata import Settings, parse_timestamp

log = logging.getLogger("reprorun")

COMPILE_HELPER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "_compile.py")


@dataclass(frozen=True)
class Sources:
    """Where packages come from: reprorun's options first, then the block's `[tool.reprorun]`."""

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    offline: bool = False
    exclude_newer: str | None = None

    def pip_args(self) -> list[str]:
        """The pip options that say the same."""
        args: list[str] = []
        if self.index_url:
            args += ["--index-url", self.index_url]
        for url in self.extra_index_urls:
            args += ["--extra-index-url", url]
        for link in self.find_links:
            args += ["--find-links", link]
        if self.no_index or self.offline:
            args.append("--no-index")
        if self.exclude_newer:
            args += ["--uploaded-prior-to", self.exclude_newer]
        return args

    def uv_args(self) -> list[str]:
        """The uv options that say the same."""
        args: list[str] = []
        if self.index_url:
            args += ["--default-index", self.index_url]
        for url in self.extra_index_urls:
            args += ["--index", url]
        for link in self.find_links:
            args += ["--find-links", link]
        if self.no_index:
            args.append("--no-index")
        if self.offline:
            args.append("--offline")
        if self.exclude_newer:
            args += ["--exclude-newer", self.exclude_newer]
        return args


def sources_for(
    options: Options, settings: Settings, exclude_newer: str | None = None, base: str | None = None
) -> Sources:
    """Merge command-line and block settings; relative local paths become absolute (from `base`)."""
    return Sources(
        index_url=options.index_url or settings.index_url,
        extra_index_urls=(*options.extra_index_urls, *settings.extra_index_urls),
        find_links=(
            *(_absolute(p, None) for p in options.find_links),
            *(_absolute(p, base) for p in settings.find_links),
        ),
        no_index=options.no_index,
        offline=options.offline,
        exclude_newer=utc_timestamp(exclude_newer or settings.exclude_newer),
    )


def utc_timestamp(value: str | None) -> str | None:
    """An RFC 3339 value as UTC `YYYY-MM-DDTHH:MM:SSZ`: pip and uv read a bare date in local time."""
    if value is None:
        return None
    from datetime import timezone

    return parse_timestamp(value).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _absolute(link: str, base: str | None) -> str:
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]+://", link):
        return link
    return os.path.abspath(os.path.join(base, link) if base else link)


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
    except Exception:  # noqa: BLE001 - fall back to the newest wheel on disk
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
    dest = folder / os.path.basename(wheel)
    if dest.is_dir():
        return dest
    import tempfile
    import zipfile

    folder.mkdir(parents=True, exist_ok=True)
    temp = tempfile.mkdtemp(prefix=f".{dest.name}.", dir=folder)
    try:
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(temp)
        try:
            os.rename(temp, dest)
        except OSError:
            if not dest.is_dir():
                raise
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return dest


def env_python(env_dir: Path) -> Path:
    """The interpreter inside an environment."""
    return env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


class Backend(Protocol):
    """Creates an environment and installs requirements into it."""

    name: str

    def build(
        self, dest: Path, interpreter: Interpreter, request: InstallRequest | None, app_data: Path, verbosity: int
    ) -> int:
        """Create the env at dest (an empty folder) and install the request into it; return how many
        packages were installed. The env is isolated from user site-packages."""


@dataclass(frozen=True)
class InstallRequest:
    """What to install and from where; with hashes, every distribution must match one."""

    requirements: tuple[str, ...]
    sources: Sources
    hashes: Mapping[str, tuple[str, ...]]
    report: Path | None = None


class PipBackend:
    """virtualenv creates the env without seeding pip; the embedded pip installs from outside."""

    name = "pip"

    def __init__(self, unpacked: Path | None = None, store: Path | None = None) -> None:
        self.unpacked = unpacked  # where pip's wheel is unpacked (see `pip_argv`)
        self.store = store  # the content store (store.py), if files are to be shared

    def build(
        self, dest: Path, interpreter: Interpreter, request: InstallRequest | None, app_data: Path, verbosity: int
    ) -> int:
        """virtualenv, then pip without compiling, then the store, then the bytecode (_compile.py)."""
        self.create(dest, interpreter, app_data, verbosity)
        if request is None:
            return 0
        installed = self.install(dest, interpreter, request, verbosity)
        if self.store is not None:
            from reprorun.envs import store

            store.share(self.store, dest / "lib")
        compile_env(dest)
        return installed

    def create(self, dest: Path, interpreter: Interpreter, app_data: Path, verbosity: int) -> None:
        """Create the env with virtualenv (imported here: only a build pays for it)."""
        from virtualenv import cli_run

        args = [str(dest), "--python", interpreter.executable, "--no-seed", "--no-periodic-update",
                "--app-data", str(app_data), "--no-vcs-ignore", "--quiet"]  # fmt: skip
        try:
            cli_run(args, setup_logging=False)
        except Exception as exc:  # noqa: BLE001 - virtualenv raises many kinds; all mean "no env"
            raise BuildError(f"could not create the environment with virtualenv: {exc}") from None

    def install(self, dest: Path, interpreter: Interpreter, request: InstallRequest, verbosity: int) -> int:
        """Install with pip run by the env's own interpreter; return the number installed.

        Without bytecode: `compile_env` writes it afterwards, on every core (see _compile.py).
        """
        argv = [*pip_argv(str(env_python(dest)), interpreter.short, self.unpacked), "install", "--no-compile",
                "--no-input", "--disable-pip-version-check", "--no-warn-script-location"]  # fmt: skip
        argv += request.sources.pip_args()
        if request.report is not None:
            argv += ["--report", str(request.report)]
        argv += requirement_args(dest, request)
        if verbosity <= 0:
            argv.append("--quiet")
        result = processes.run(argv, env=_pip_env(), stream=verbosity > 0)
        if result.returncode != 0:
            raise install_error(request.requirements, result)
        return _count_report(request.report)


class UvBackend:
    """uv creates the env and installs into it: same inputs, same result, faster."""

    name = "uv"

    def __init__(self, executable: str) -> None:
        self.executable = executable

    def build(
        self, dest: Path, interpreter: Interpreter, request: InstallRequest | None, app_data: Path, verbosity: int
    ) -> int:
        """One `uv sync --script` where it can, else `uv venv`, then `uv pip install`."""
        if request is not None and not request.hashes and self.sync(dest, interpreter, request, verbosity):
            return _count_installed(dest)
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
                    "--python", interpreter.executable, *request.sources.uv_args()]  # fmt: skip
            if verbosity <= 0:
                argv.append("--quiet")
            env = processes.environ(VIRTUAL_ENV=str(dest), UV_PYTHON_DOWNLOADS="never", UV_FROZEN=None,
                                    UV_LOCKED=None, UV_NO_SYNC=None)  # fmt: skip
            result = processes.run(argv, env=env, stream=verbosity > 0)
        if result.returncode == 2 and re.search(r"unexpected argument|unrecognized subcommand", result.output):
            log.debug("this uv cannot sync a script into an env; creating and installing in two steps")
            shutil.rmtree(dest, ignore_errors=True)
            dest.mkdir()
            return False
        if result.returncode != 0:
            raise install_error(request.requirements, result)
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
        if verbosity <= 0:
            argv.append("--quiet")
        result = processes.run(argv, env=processes.environ(UV_PYTHON_DOWNLOADS="never"), stream=verbosity > 0)
        if result.returncode != 0:
            raise install_error(request.requirements, result)
        return _count_installed(dest)


def compile_env(dest: Path) -> None:
    """Compile the env's modules to bytecode as pip would, in parallel (see _compile.py)."""
    # The folders are given: with -S (a faster start) a Python before 3.11 would not even know
    # that it runs in a venv, which its `site` module finds out.
    folders = sorted({str(path.resolve()) for path in dest.glob("lib*/*/site-packages")})
    if not folders:
        return
    result = processes.run([str(env_python(dest)), "-S", COMPILE_HELPER, *folders], env=_pip_env())
    if result.returncode != 0 or result.stderr:
        log.debug("compiling the env's modules: exit %d\n%s", result.returncode, result.tail(6))


def backend_for(choice: str, unpacked: Path | None = None, store: Path | None = None) -> Backend:
    """`pip`, `uv`, or `auto` (uv when it can be found, else pip, run from `unpacked`, sharing
    its files through the content store `store`)."""
    if choice in ("uv", "auto"):
        found = find_uv()
        if found:
            return UvBackend(found)
        if choice == "uv":
            raise BuildError("--installer uv: no 'uv' executable found",
                             hint="pip install 'reprorun[uv]', or put uv on PATH")  # fmt: skip
    return PipBackend(unpacked, store)


def find_uv() -> str | None:
    """The uv executable: the one the `uv` package ships, else one on PATH."""
    try:
        from uv import find_uv_bin  # the PyPI package's own locator

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


def requirement_args(dest: Path, request: InstallRequest) -> list[str]:
    """The requirements as installer arguments; with hashes, a `--require-hashes` file in the env."""
    if not request.hashes:
        return list(request.requirements)
    requirement_file = dest / "reprorun-requirements.txt"
    requirement_file.write_text(hashed_requirements(request.requirements, request.hashes), "utf-8")
    return ["--require-hashes", "-r", str(requirement_file)]


def hashed_requirements(requirements: Sequence[str], hashes: Mapping[str, tuple[str, ...]]) -> str:
    """A requirements file in which every pinned requirement carries its `--hash` options."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    by_name = {canonicalize_name(name): values for name, values in hashes.items()}
    lines = []
    for text in requirements:
        name = canonicalize_name(Requirement(text).name)
        options = " ".join(f"--hash={h}" for h in by_name.get(name, ()))
        lines.append(f"{text} {options}".rstrip())
    return "\n".join(lines) + "\n"


def install_error(requirements: Sequence[str], result: processes.Result) -> BuildError:
    """One clear error from a failed install: pip's own reason lines, not its whole output."""
    reasons = []
    lines = result.output.splitlines()
    for index, line in enumerate(lines):
        if re.match(r"\s*ERROR[:(]", line):  # pip: one reason per line
            reasons.append(line.strip())
        elif re.match(r"\s*error:", line):  # uv: the reason, then its indented explanation
            reasons.append(line.strip())
            reasons += [ln.rstrip() for ln in lines[index + 1 : index + 6] if ln.startswith(" ")]
    if not reasons:
        reasons = result.tail(5).splitlines()
    shown = "\n".join(f"  {line}" for line in dict.fromkeys(reasons) if line)
    listed = ", ".join(requirements) if len(requirements) <= 6 else f"{len(requirements)} requirements"
    return BuildError(
        f"could not install {listed}:\n{shown}",
        hint="rerun with -v to see the installer's full output",
    )


def _pip_env() -> dict[str, str]:
    # An env's pip must not see a surrounding virtualenv or PYTHONPATH, or it installs elsewhere.
    # PYTHONDONTWRITEBYTECODE would leave the unpacked pip without bytecode: every build would
    # compile pip's modules again (it changes nothing else: pip compiles what it installs itself).
    return processes.environ(PYTHONPATH=None, VIRTUAL_ENV=None, PIP_REQUIRE_VIRTUALENV=None,
                             PIP_USER=None, PYTHONNOUSERSITE="1", PYTHONDONTWRITEBYTECODE=None)  # fmt: skip


def _count_report(report: Path | None) -> int:
    if report is None:
        return 0
    import json

    try:
        return len(json.loads(report.read_text("utf-8")).get("install", []))
    except (OSError, ValueError):
        return 0


def _count_installed(dest: Path) -> int:
    # lib64 is often a symlink to lib: count each metadata directory once.
    found = {p.resolve() for pattern in ("lib*/python*/site-packages/*.dist-info", "Lib/site-packages/*.dist-info")
             for p in dest.glob(pattern)}  # fmt: skip
    return len(found)


def elapsed(start: float) -> str:
    """Seconds since start, for progress lines."""
    return f"{time.monotonic() - start:.1f}s"

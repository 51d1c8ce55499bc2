"""Find Python interpreters, learn what each one is, and choose the one a script runs with.

An interpreter is identified by what decides the packages it can use: implementation, full
version, ABI, platform and the real path of its executable. Learning that costs a subprocess,
so each answer is remembered in the cache, keyed by the executable's path, size and mtime.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from reprorun.envs import layout
from reprorun.errors import InterpreterError

log = logging.getLogger("reprorun")

# Runs inside the candidate interpreter: stdlib only, and it must not crash on old ones.
PROBE = r"""
import json, os, platform, sys, sysconfig
machine = platform.machine().lower()
plat = sysconfig.get_platform()
if sys.platform.startswith("linux"):
    libc = os.confstr("CS_GNU_LIBC_VERSION") if hasattr(os, "confstr") else None
    if libc and libc.startswith("glibc "):
        major, minor = libc.split()[1].split(".")[:2]
        tag = "manylinux_%s_%s_%s" % (major, minor, machine)
    else:
        tag = "linux_" + machine
elif sys.platform == "darwin":
    release = platform.mac_ver()[0].split(".")
    tag = "macosx_%s_%s_%s" % (release[0], release[1] if len(release) > 1 else "0", machine)
else:
    tag = plat.replace("-", "_").replace(".", "_")
impl = sys.implementation.name
ver = sys.version_info
abi = "%s%d%d" % ("cp" if impl == "cpython" else impl, ver[0], ver[1])
pre = {"final": "", "alpha": "a%d", "beta": "b%d", "candidate": "rc%d"}[ver[3]]
print(json.dumps({
    "executable": os.path.realpath(sys.executable),
    "implementation": impl,
    "version": "%d.%d.%d" % ver[:3] + (pre % ver[4] if pre else ""),
    "abi": abi + getattr(sys, "abiflags", ""),
    "platform": plat,
    "platform_tag": tag,
}))
"""

_VERSION_REQUEST = re.compile(r"^(?:python|cpython|py)?-?(\d+(?:\.\d+){0,2})$", re.IGNORECASE)
_PATH_NAME = re.compile(r"^python(?:3(?:\.\d+)?)?$")


@dataclass(frozen=True)
class Interpreter:
    """One Python interpreter, as it describes itself."""

    executable: str  # real path of the binary
    implementation: str  # "cpython"
    version: str  # "3.11.7"
    abi: str  # "cp311", "cp313t"
    platform: str  # sysconfig.get_platform(), e.g. "linux-x86_64"
    platform_tag: str  # the most specific wheel platform tag, e.g. "manylinux_2_36_x86_64"

    @property
    def tag(self) -> str:
        """What `frozen-for` records: implementation, version and platform."""
        return f"{self.implementation}-{self.version}-{self.platform_tag}"

    @property
    def version_tuple(self) -> tuple[int, ...]:
        """The numeric release part of the version, for ordering."""
        return tuple(int(p) for p in re.findall(r"\d+", self.version)[:3])

    @property
    def short(self) -> str:
        """`3.11` for messages and the embedded pip lookup."""
        return ".".join(self.version.split(".")[:2])


def inspect(executable: str, store: Path | None = None) -> Interpreter:
    """Describe one interpreter, from the store when its file has not changed since."""
    path = os.path.abspath(executable)
    if not os.path.exists(path):
        raise InterpreterError(f"interpreter not found: {executable}")
    record = _record(store, path)
    remembered = _recall(record)
    if remembered is not None:
        return remembered
    described = _probe([path]).get(path)
    if described is None:
        raise InterpreterError(f"{executable} does not run as a Python 3 interpreter")
    if record is not None:
        _remember(record, described)
    return described


def candidates() -> list[str]:
    """Interpreter executables to consider: the running one, PATH, then pyenv's versions."""
    found: list[str] = [sys.executable]
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if not folder or "shims" in Path(folder).parts:
            continue  # pyenv/asdf shims fail for versions not selected; their targets come below
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        found.extend(os.path.join(folder, n) for n in names if _PATH_NAME.match(n))
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    if pyenv.is_dir():
        found.extend(str(p / "bin" / "python3") for p in sorted(pyenv.iterdir()))
    unique: dict[str, str] = {}
    for candidate in found:
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            unique.setdefault(os.path.realpath(candidate), candidate)
    return list(unique.values())


def discover(store: Path | None = None) -> list[Interpreter]:
    """Every working Python 3 interpreter found, probed in parallel, remembered in the store."""
    paths = candidates()
    known: dict[str, Interpreter] = {}
    unknown: list[str] = []
    for path in paths:
        remembered = _recall(_record(store, path))
        if remembered is None:
            unknown.append(path)
        else:
            known[path] = remembered
    for path, described in _probe(unknown).items():
        known[path] = described
        record = _record(store, path)
        if record is not None:
            _remember(record, described)
    unique: dict[str, Interpreter] = {}
    for path in paths:
        if path in known:
            unique.setdefault(known[path].executable, known[path])
    return list(unique.values())


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
    from packaging.specifiers import SpecifierSet

    spec = SpecifierSet(requires_python or "")
    if request and (os.sep in request or os.path.isfile(request)):
        chosen = inspect(request, store)
        _check_fits(chosen, spec, requires_python)
        return Choice(chosen, f"{origin} {request}")
    found = discover(store)
    if request:
        return _requested(found, spec, requires_python, request, origin)
    fitting = [i for i in found if spec.contains(i.version, prereleases=True)]
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


def _requested(found: list[Interpreter], spec: object, requires_python: str | None, request: str,
               origin: str) -> Choice:  # fmt: skip
    """The interpreter a version request names (`3.12`, `python3.12`), fitting the script."""
    from packaging.specifiers import SpecifierSet

    assert isinstance(spec, SpecifierSet)
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
    fitting = [i for i in pool if spec.contains(i.version, prereleases=True)]
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


def _check_fits(chosen: Interpreter, spec: object, requires_python: str | None) -> None:
    from packaging.specifiers import SpecifierSet

    assert isinstance(spec, SpecifierSet)
    if not spec.contains(chosen.version, prereleases=True):
        raise InterpreterError(
            f"{chosen.executable} is Python {chosen.version}, "
            f"but the script requires-python {requires_python!r}",
            hint="point --python at a fitting interpreter, or leave --python out",
        )


def _probe(paths: Iterable[str]) -> dict[str, Interpreter]:
    """Ask each interpreter about itself, all at once (a cold start should not pay N times)."""
    running: dict[str, subprocess.Popen[str]] = {}
    for path in paths:
        try:
            running[path] = subprocess.Popen(
                [path, "-I", "-S", "-c", PROBE],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            )  # fmt: skip
        except OSError:
            continue
    described: dict[str, Interpreter] = {}
    for path, process in running.items():
        try:
            out, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            continue
        if process.returncode == 0:
            try:
                described[path] = Interpreter(**json.loads(out))
            except (ValueError, TypeError):
                log.debug("unreadable answer from %s: %r", path, out[:200])
    return described


def _record(store: Path | None, path: str) -> Path | None:
    """Where the description of this interpreter file, as it is now, is remembered."""
    if store is None:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return store / f"{_digest(path, stat.st_size, stat.st_mtime_ns)}.json"


def _recall(record: Path | None) -> Interpreter | None:
    """The remembered description, if there is a readable one."""
    if record is None:
        return None
    try:
        return Interpreter(**json.loads(record.read_text("utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def _remember(record: Path, described: Interpreter) -> None:
    try:
        record.parent.mkdir(parents=True, exist_ok=True)
        layout.write_atomic(str(record), json.dumps(asdict(described)), durable=False)
    except OSError:
        pass  # a read-only cache only costs a probe next time


def _digest(path: str, size: int, mtime_ns: int) -> str:
    return hashlib.sha256(f"{path}\0{size}\0{mtime_ns}".encode()).hexdigest()[:32]


def _describe(found: list[Interpreter]) -> str:
    if not found:
        return "none"
    ordered = sorted(found, key=lambda i: i.version_tuple, reverse=True)
    return ", ".join(f"{i.version} ({i.executable})" for i in ordered)


_TAG = re.compile(r"^(?P<impl>[^-]+)-(?P<version>[^-]+)-(?P<platform>.+)$")
_TARGETS = re.compile(r"^cp3\d+-[a-z]+-[a-z0-9_]+(?:\s*,\s*cp3\d+-[a-z]+-[a-z0-9_]+)*$")


def frozen_for_mismatch(frozen_for: str | None, tag: str) -> str | None:
    """A warning when pins frozen for one interpreter/platform are used on another, else None.

    Implementation, `major.minor` and the platform's OS and machine must agree; a different patch
    release or glibc/macOS version does not change which wheels a pin names, so it is not worth a
    warning.
    """
    if not frozen_for or frozen_for == tag:
        return None
    if _TARGETS.match(frozen_for):  # a list of targets (`--freeze --for`, docs/portability.md)
        return _targets_mismatch(frozen_for, tag)
    frozen, running = _TAG.match(frozen_for), _TAG.match(tag)
    if frozen and running and (
        frozen["impl"] == running["impl"]
        and frozen["version"].split(".")[:2] == running["version"].split(".")[:2]
        and _platform_family(frozen["platform"]) == _platform_family(running["platform"])
    ):
        return None
    return (
        f"the pins were frozen for {frozen_for}, but this is {tag}; they may not install "
        "here, or may miss packages this platform needs (reprorun --freeze --upgrade re-resolves)"
    )


def _targets_mismatch(frozen_for: str, tag: str) -> str | None:
    """A warning when this interpreter is none of the targets `frozen-for` lists ('cp311-linux-x86_64, ...')."""
    running = _TAG.match(tag)
    if running:
        family = _platform_family(running["platform"]).replace("amd64", "x86_64").replace("win_", "windows_")
        system, _, machine = family.replace("macosx_", "macos_").partition("_")
        here = f"cp{''.join(running['version'].split('.')[:2])}-{system}-{machine}"
        if running["impl"] == "cpython" and here in [t.strip() for t in frozen_for.split(",")]:
            return None
    return (f"the pins were frozen for {frozen_for}, but this is {tag}; they may not install here "
            "(reprorun --freeze --for TARGET adds this platform)")  # fmt: skip


def _platform_family(platform: str) -> str:
    """`manylinux_2_36_x86_64` -> `linux_x86_64`, `macosx_14_0_arm64` -> `macosx_arm64`."""
    family = re.sub(r"^(many|musl)linux_\d+_\d+_", "linux_", platform)
    return re.sub(r"^macosx_\d+_\d+_", "macosx_", family)

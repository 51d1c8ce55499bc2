"""Find Python interpreters and learn what each one is (selection.py chooses among them).

An interpreter is identified by what decides the packages it can use: implementation, full
version, ABI, platform and the real path of its executable. Learning that costs a subprocess,
so each answer is remembered in the cache, keyed by the executable's path, size and mtime.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from reprorun.envs import layout
from reprorun.errors import InterpreterError

log = logging.getLogger("reprorun")

try:  # the builtin sha256 costs far less to import than hashlib's OpenSSL binding
    from _sha2 import sha256  # type: ignore[import-not-found]  # Python >= 3.12
except ImportError:  # pragma: no cover - depends on the Python version
    try:
        from _sha256 import sha256  # type: ignore[import-not-found,no-redef,unused-ignore]
    except ImportError:
        from hashlib import sha256  # type: ignore[assignment,unused-ignore]

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
    with contextlib.suppress(OSError):  # another user's pyenv (PYENV_ROOT kept by sudo, say) may be unreadable
        found.extend(str(pyenv / name / "bin" / "python3") for name in sorted(os.listdir(pyenv)))
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
    return sha256_hex(f"{path}\0{size}\0{mtime_ns}".encode())[:32]


def sha256_hex(data: bytes) -> str:
    """The sha256 of data in hex, from the builtin module (keys.py's digest uses it too)."""
    digest: str = sha256(data).hexdigest()
    return digest

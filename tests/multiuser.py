"""A second, unprivileged user for tests of shared caches, and a tmpfs for tests of full disks.

The tests run as root (CI does too). A cache shared on a cluster belongs to one user and is read
by others; here it belongs to root and `rr-reader` (created with `useradd` if missing) reads it.
That user cannot enter pytest's temporary folders or root's home (where the interpreters of the
test venv live), so `Shared` makes a world-readable folder under /tmp holding a copy of reprorun
and its runtime dependencies, run by the system's /usr/bin/python3, which every user may run.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest

READER = "rr-reader"
SYSTEM_PYTHON = "/usr/bin/python3"
RUNTIME = ("reprorun", "packaging", "platformdirs", "filelock", "virtualenv", "distlib", "tomlkit",
           "python_discovery")
LAUNCHER = (
    "import sys; sys.path.insert(0, sys.argv.pop(1)); sys.argv[0] = 'reprorun'\n"
    "from reprorun.__main__ import main; main()"
)


def require_root() -> None:
    """These tests need root (to become another user, to mount): CI runs as root; fail, never skip."""
    if os.geteuid() != 0:
        pytest.fail("this test needs root (CI runs as root): it creates a user and mounts a tmpfs")


def reader_ids() -> tuple[int, int]:
    """The uid and gid of the unprivileged test user, created if missing."""
    require_root()
    try:
        entry = pwd.getpwnam(READER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", READER],
                       check=True, capture_output=True)  # fmt: skip
        entry = pwd.getpwnam(READER)
    return entry.pw_uid, entry.pw_gid


class Shared:
    """A world-readable folder with a runnable copy of reprorun, its scripts and a shared cache."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.code = root / "code"
        self.cache = root / "cache"
        self.home = root / "home"
        self.python = SYSTEM_PYTHON
        if not os.access(self.python, os.X_OK):
            pytest.fail(f"{self.python} is needed: the second user cannot run the interpreters under /root")
        self.code.mkdir()
        for name in RUNTIME:
            spec = importlib.util.find_spec(name)
            if spec is None or spec.origin is None:  # a dependency of some versions only
                assert name != "reprorun"
                continue
            source = Path(spec.origin).parent
            shutil.copytree(source, self.code / name, ignore=shutil.ignore_patterns("__pycache__"))
            _copy_metadata(name, self.code)  # virtualenv finds its plugins through entry points
        self.bin = root / "bin"
        self.bin.mkdir()
        uv = Path(sys.executable).parent / "uv"
        if uv.is_file():  # the uv of the test extra, where the other user may run it
            shutil.copy2(uv, self.bin / "uv")
        self.home.mkdir(mode=0o777)
        self.home.chmod(0o777)
        self.extra: dict[str, str] = {}  # the offline package sources of offer_wheels()

    def offer_wheels(self, wheelhouse: Path) -> None:
        """A copy of the wheelhouse and a uv cache both users may use, named in `extra`."""
        wheels = self.root / "wheels"
        shutil.copytree(wheelhouse, wheels)
        os.chmod(wheels, 0o755)
        uv_cache = self.root / "uv-cache"
        uv_cache.mkdir(mode=0o777)
        uv_cache.chmod(0o777)
        self.extra = {"PIP_FIND_LINKS": str(wheels), "UV_FIND_LINKS": str(wheels), "UV_CACHE_DIR": str(uv_cache)}

    def argv(self, *args: str | os.PathLike[str]) -> list[str]:
        """The command line of `reprorun ARGS` from the shared copy."""
        return [self.python, "-c", LAUNCHER, str(self.code), *map(str, args)]

    def environ(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The test's environment, with this folder's cache and a home either user may write."""
        env = dict(os.environ)
        env.update(REPRORUN_CACHE_DIR=str(self.cache), HOME=str(self.home), PYTHONDONTWRITEBYTECODE="1",
                   PATH=f"{self.bin}{os.pathsep}{env.get('PATH', '')}")
        for kind in ("CACHE", "CONFIG", "DATA"):
            env[f"XDG_{kind}_HOME"] = str(self.home / kind.lower())
        env.update(extra or {})
        return env

    def run(self, *args: str | os.PathLike[str], user: bool, env: Mapping[str, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:  # fmt: skip
        """Run reprorun as root (`user=False`) or as the unprivileged reader."""
        return subprocess.run(self.popen_argv(*args, user=user), env=self.environ(env), capture_output=True,
                              text=True, timeout=timeout, check=False, cwd=self.root)  # fmt: skip

    def popen_argv(self, *args: str | os.PathLike[str], user: bool) -> list[str]:
        """The argv, wrapped in setpriv to drop to the reader when `user`."""
        argv = self.argv(*args)
        if user:
            uid, gid = reader_ids()
            argv = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", *argv]
        return argv

    def script(self, name: str, text: str) -> Path:
        """A script every user may read."""
        path = self.root / name
        path.write_text(text, "utf-8")
        path.chmod(0o644)
        return path


def _copy_metadata(module: str, dest: Path) -> None:
    import importlib.metadata

    try:
        found = importlib.metadata.distribution(module.replace("_", "-"))
    except importlib.metadata.PackageNotFoundError:
        return
    folder = getattr(found, "_path", None)
    if isinstance(folder, Path) and folder.is_dir() and folder.name.endswith(".dist-info"):
        shutil.copytree(folder, dest / folder.name, dirs_exist_ok=True)


@contextmanager
def shared_folder() -> Iterator[Shared]:
    """A `Shared` under /tmp (pytest's folders are private to root), removed afterwards."""
    reader_ids()
    root = Path(tempfile.mkdtemp(prefix="reprorun-shared-", dir="/tmp"))
    root.chmod(0o755)
    try:
        yield Shared(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def tmpfs(size: str) -> Iterator[Path]:
    """A small tmpfs mounted on a fresh folder, unmounted afterwards."""
    require_root()
    where = Path(tempfile.mkdtemp(prefix="reprorun-tmpfs-", dir="/tmp"))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)],
                             capture_output=True, text=True, check=False)  # fmt: skip
    if mounted.returncode != 0:
        where.rmdir()
        pytest.fail(f"cannot mount a tmpfs (CI runs as root and can): {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False, capture_output=True)
        where.rmdir()


def fill(folder: Path, leave: int) -> Path:
    """A ballast file that leaves about `leave` bytes free on folder's file system."""
    ballast = folder / "ballast"
    info = os.statvfs(folder)
    size = max(info.f_bavail * info.f_frsize - leave, 0)
    with open(ballast, "ab") as handle:
        os.posix_fallocate(handle.fileno(), 0, max(size, 1))
    return ballast


def remount(folder: Path, options: str) -> None:
    """Remount a tmpfs with other options (`ro`, `rw`)."""
    subprocess.run(["mount", "-o", f"remount,{options}", str(folder)], check=True, capture_output=True)

"""Shared fixtures: an offline wheelhouse, an isolated environment per test, and a CLI runner."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from wheelhouse import build_wheelhouse

# The real Slurm test cluster and its fixtures (`slurm_cluster`, `slurm`): tests/slurm.py; the
# real-kernel fixtures (`jupyter_wheels`, `nb_run`): tests/jupyter_support.py.
pytest_plugins = ("slurm", "jupyter_support")

# Variables that would let the developer's own setup leak into a test.
_CLEARED_PREFIXES = ("PIP_", "UV_", "VIRTUALENV_", "REPRORUN_")
_CLEARED_NAMES = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONSTARTUP", "PYTHONHOME", "CONDA_PREFIX")

RunReprorun = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of tiny wheels (see tests/wheelhouse.py), built once per session."""
    path = tmp_path_factory.mktemp("wheelhouse")
    build_wheelhouse(path)
    return path


@pytest.fixture(scope="session")
def _uv_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # One uv cache for the session: uv's cache is safe to share and keeps the suite fast.
    return tmp_path_factory.mktemp("uv-cache")


@pytest.fixture
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This test's own reprorun cache root (also exported as REPRORUN_CACHE_DIR)."""
    return tmp_path_factory.mktemp("reprorun-cache")


@pytest.fixture(autouse=True)
def _isolated_environment(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
    wheelhouse: Path,
    _uv_cache: Path,
    cache_dir: Path,
) -> Iterator[None]:
    """Offline, configuration-free pip/uv pointed at the wheelhouse; a private cache per test."""
    for name in list(os.environ):
        if name.startswith(_CLEARED_PREFIXES) or name in _CLEARED_NAMES:
            monkeypatch.delenv(name)
    # PIP_CONFIG_FILE=os.devnull makes pip skip every config file (global, user, site).
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheelhouse))
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    monkeypatch.setenv("UV_NO_CONFIG", "1")
    monkeypatch.setenv("UV_OFFLINE", "1")
    # No UV_FIND_LINKS/UV_NO_INDEX: uv reads no PIP_* variable itself, and reprorun hands it pip's
    # settings (pipconfig.py), so every uv-built env in the suite proves that it does.
    monkeypatch.setenv("UV_CACHE_DIR", str(_uv_cache))
    monkeypatch.setenv("REPRORUN_CACHE_DIR", str(cache_dir))
    xdg = tmp_path_factory.mktemp("xdg")
    for kind in ("CACHE", "CONFIG", "DATA"):
        path = xdg / kind.lower()
        path.mkdir()
        monkeypatch.setenv(f"XDG_{kind}_HOME", str(path))
    yield


@pytest.fixture(scope="session")
def reprorun_exe() -> Path:
    """The installed `reprorun` console script of the interpreter running the tests."""
    beside = Path(sys.executable).parent / "reprorun"
    if beside.is_file():
        return beside
    found = shutil.which("reprorun")
    if found is None:
        pytest.fail("the 'reprorun' command is not installed (pip install -e '.[test]')")
    return Path(found)


@pytest.fixture
def run_reprorun(reprorun_exe: Path) -> RunReprorun:
    """Run the `reprorun` command in a subprocess with the test's isolated environment."""

    def run(
        *args: str | os.PathLike[str],
        cwd: str | os.PathLike[str] | None = None,
        input: str | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = 300,
    ) -> subprocess.CompletedProcess[str]:
        environ = dict(os.environ)
        if env is not None:
            environ.update(env)
        return subprocess.run(
            [str(reprorun_exe), *map(str, args)],
            cwd=cwd,
            input=input,
            env=environ,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run

"""When no installed Python fits, uv provides one (issue 12) — tested offline, never the internet.

uv reads a list of downloads from `UV_PYTHON_DOWNLOADS_JSON_URL`; the test writes one naming a
`file://` archive it makes from an installed CPython (pyenv's 3.10, in the install-only layout
of python-build-standalone). The machine offered to reprorun has no 3.10 of its own.
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
from pathlib import Path

import pytest

from reprorun.envs.installers.uv import find_uv

SOURCE = Path("/root/.pyenv/versions/3.10.13")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(find_uv() is None, reason="uv is not installed"),
    pytest.mark.skipif(not (SOURCE / "bin" / "python3.10").exists(), reason="needs pyenv's CPython 3.10.13"),
]
SCRIPT = (
    '# /// script\n# requires-python = "==3.10.*"\n# dependencies = ["alpha"]\n# ///\n'
    "import sys, alpha\nprint(sys.version.split()[0], alpha.__version__)\n"
)
_SKIPPED = {"test", "site-packages", "__pycache__", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3"}


@pytest.fixture(scope="session")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A downloads list naming one CPython 3.10.13 archive, both on the local disk."""
    folder = tmp_path_factory.mktemp("python-mirror")
    archive = folder / "cpython-3.10.13-linux-x86_64-gnu.tar.gz"

    def keep(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        return None if _SKIPPED & set(info.name.split("/")) else info

    with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
        for part in ("bin", "lib", "include"):
            tar.add(SOURCE / part, arcname=f"python/{part}", filter=keep)
    listing = folder / "downloads.json"
    listing.write_text(json.dumps({
        "cpython-3.10.13-linux-x86_64-gnu": {
            "name": "cpython", "arch": {"family": "x86_64", "variant": None}, "os": "linux", "libc": "gnu",
            "major": 3, "minor": 10, "patch": 13, "prerelease": "", "url": archive.as_uri(),
            "sha256": hashlib.sha256(archive.read_bytes()).hexdigest(), "variant": None, "build": "20240101",
        }
    }))  # fmt: skip
    return listing


@pytest.fixture
def no_fitting_python(tmp_path, monkeypatch, downloads):
    """A machine whose only Python is the one running reprorun (3.11), with uv's downloads local."""
    for name in ("bin", "pyenv", "home", "uv-python", "uv-bin"):
        (tmp_path / name).mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", str(tmp_path / "uv-python"))
    monkeypatch.setenv("UV_PYTHON_BIN_DIR", str(tmp_path / "uv-bin"))
    monkeypatch.setenv("UV_PYTHON_DOWNLOADS_JSON_URL", str(downloads))
    path = tmp_path / "s.py"
    path.write_text(SCRIPT)
    return path


def test_uv_installs_a_fitting_python_from_the_local_list(run_reprorun, no_fitting_python, tmp_path):
    first = run_reprorun(no_fitting_python)
    assert (first.returncode, first.stdout) == (0, "3.10.13 2.0\n"), first.stderr
    assert "no installed Python fits requires-python '==3.10.*': uv installs one" in first.stderr
    assert list((tmp_path / "uv-python").glob("cpython-3.10*"))
    assert not list((tmp_path / "uv-bin").iterdir())  # nothing put on the user's PATH
    # Found again, not installed again; and recorded like any other interpreter.
    shown = run_reprorun("env", no_fitting_python)
    assert "chosen as:    a Python managed by uv (none installed fits requires-python '==3.10.*')" in shown.stdout
    data = json.loads(run_reprorun("env", "--json", no_fitting_python).stdout)
    assert data["interpreter"]["executable"].startswith(str(tmp_path / "uv-python"))
    again = run_reprorun("--refresh", no_fitting_python)
    assert again.stdout == "3.10.13 2.0\n"
    assert "uv installs one" not in again.stderr


def test_offline_uv_is_not_asked_and_the_error_lists_what_was_found(run_reprorun, no_fitting_python, tmp_path):
    result = run_reprorun("--offline", no_fitting_python)
    assert result.returncode == 1
    assert result.stderr.startswith("reprorun: error: no Python satisfies requires-python '==3.10.*'; found: 3.11")
    assert not list((tmp_path / "uv-python").glob("cpython-*"))


def test_when_uv_cannot_install_the_error_says_why(run_reprorun, no_fitting_python, tmp_path):
    result = run_reprorun(no_fitting_python, env={"UV_PYTHON_DOWNLOADS": "never"})
    assert result.returncode == 1
    assert "no Python satisfies requires-python '==3.10.*'; found: 3.11" in result.stderr
    assert "and uv could not install one: " in result.stderr
    assert not list((tmp_path / "uv-python").glob("cpython-*"))


def test_the_list_names_an_archive_on_this_disk(downloads):
    entry = next(iter(json.loads(downloads.read_text()).values()))
    assert entry["url"].startswith("file://")
    assert os.path.exists(entry["url"][len("file://") :])

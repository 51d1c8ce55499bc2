"""The test wheelhouse itself: real pip installs what it should, refuses the broken wheel, and
sees nothing but the wheelhouse."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway virtual environment made by the standard library's venv."""
    path = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    return path


def _pip(venv: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", *args],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        check=False,
    )


def _installed(venv: Path) -> dict[str, str]:
    listed = _pip(venv, "list", "--format=freeze")
    assert listed.returncode == 0, listed.stderr
    return dict(line.split("==") for line in listed.stdout.split())


def test_every_record_digest_matches(wheelhouse: Path) -> None:
    for wheel in wheelhouse.glob("*.whl"):
        with zipfile.ZipFile(wheel) as archive:
            record = next(n for n in archive.namelist() if n.endswith(".dist-info/RECORD"))
            rows = [r.split(",") for r in archive.read(record).decode().splitlines()]
            assert sorted(r[0] for r in rows) == sorted(archive.namelist())
            for path, digest, size in rows:
                if path == record:
                    continue
                data = archive.read(path)
                actual = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
                matches = digest == f"sha256={actual.decode()}" and int(size) == len(data)
                assert matches != wheel.name.startswith("broken-"), (wheel.name, path)


def test_pip_sees_only_the_wheelhouse(venv: Path, wheelhouse: Path) -> None:
    result = _pip(venv, "install", "--dry-run", "-v", "alpha")
    assert result.returncode == 0, result.stderr
    assert f"Looking in links: {wheelhouse}" in result.stdout
    assert "Would install alpha-2.0" in result.stdout
    assert "/opt" not in result.stdout + result.stderr
    assert "Looking in indexes" not in result.stdout


def test_gamma_pulls_its_dependencies_by_marker(venv: Path, wheelhouse: Path) -> None:
    result = _pip(venv, "install", "--no-index", "--find-links", str(wheelhouse), "gamma")
    assert result.returncode == 0, result.stderr
    installed = _installed(venv)
    assert installed["gamma"] == "1.0"
    assert installed["beta"] == "1.0"
    assert installed["alpha"] == "2.0"
    assert installed["epsilon"] == "1.0"
    assert "delta" not in installed


def test_broken_wheel_is_refused(venv: Path, wheelhouse: Path) -> None:
    result = _pip(venv, "install", "--no-index", "--find-links", str(wheelhouse), "broken")
    assert result.returncode != 0
    assert "broken" not in _installed(venv)

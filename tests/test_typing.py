"""The code and its tests type-check: `mypy` (the package, `strict = true`) and `mypy tests`
(the tests, against the package's annotations; pyproject.toml says what is relaxed for them)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def _mypy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mypy", *args], cwd=ROOT, capture_output=True, text=True,
                          check=False, timeout=900)  # fmt: skip


def test_the_package_is_marked_typed() -> None:
    assert (ROOT / "src" / "reprorun" / "py.typed").is_file()


def test_the_package_configuration_stays_strict() -> None:
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert conf["strict"] is True
    assert conf["files"] == ["src/reprorun"]
    (package,) = [o for o in conf.get("overrides", []) if "reprorun.*" in o["module"]]
    relaxed = {key for key, value in conf.items() if value is False}
    # Whatever the tests may leave out, the package must not.
    assert relaxed <= {key for key, value in package.items() if value is True}


def test_mypy_on_the_package() -> None:
    done = _mypy()
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_on_the_tests() -> None:
    done = _mypy("tests")
    assert done.returncode == 0, done.stdout + done.stderr

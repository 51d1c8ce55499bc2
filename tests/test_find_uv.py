"""find_uv(): the uv that the `uv` package's own locator names, found without its cost in a venv.

`uv.find_uv_bin()` looks first in the running Python's scripts folder, which sysconfig computes
from its whole configuration (10 million instructions, 3 % of a cold run). In a venv on POSIX that
folder is the venv's `bin`: find_uv() looks there first, and asks the locator otherwise.
"""

from __future__ import annotations

import glob
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reprorun.envs.installers import uv as uv_backend


def test_the_answer_is_the_locators() -> None:
    from uv import find_uv_bin

    assert uv_backend.find_uv() == str(find_uv_bin())


def test_in_this_venv_the_locator_is_not_even_imported() -> None:
    code = (
        "import sys\n"
        "from reprorun.envs.installers.uv import find_uv\n"
        "found = find_uv()\n"
        "print(found, 'uv' in sys.modules, any(m.startswith('_sysconfigdata') for m in sys.modules))\n"
    )
    if sys.prefix == sys.base_prefix:  # the README's and CI's test runs are in a venv
        pytest.skip("the tests do not run in a venv")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{os.path.join(sys.prefix, 'bin', 'uv')} False False\n"


def interpreters() -> list[str]:
    """The running interpreter's base and every pyenv Python 3 of this machine."""
    found = {os.path.realpath(getattr(sys, "_base_executable", sys.executable))}
    found.update(os.path.realpath(p) for p in glob.glob(os.path.expanduser("~/.pyenv/versions/3.*/bin/python3")))
    return sorted(found)


@pytest.mark.parametrize("python", interpreters())
def test_a_venvs_scripts_folder_is_its_bin(tmp_path: Path, python: str) -> None:
    """The premise, on each Python at hand: sysconfig's `scripts` path of a venv's interpreter."""
    venv = tmp_path / "venv"
    subprocess.run([python, "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True)
    code = "import os, sys, sysconfig; print(sysconfig.get_path('scripts') == os.path.join(sys.prefix, 'bin'))"
    done = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "True\n"


def test_beside_this_python_only_in_a_venv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    monkeypatch.setattr(sys, "base_prefix", str(tmp_path / "base"))
    assert uv_backend._beside_this_python() is None  # no uv there
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "uv").write_text("", encoding="utf-8")
    assert uv_backend._beside_this_python() == str(tmp_path / "bin" / "uv")
    monkeypatch.setattr(sys, "base_prefix", str(tmp_path))  # not a venv: the locator decides
    assert uv_backend._beside_this_python() is None


def test_a_venv_without_its_uv_asks_the_locator(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from uv import find_uv_bin

    monkeypatch.setattr(sys, "prefix", str(tmp_path))  # a venv whose bin has no uv
    assert uv_backend.find_uv() == str(find_uv_bin())

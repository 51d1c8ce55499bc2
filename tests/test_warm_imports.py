"""What a warm start loads beyond a bare start of the same interpreter (issue 17).

Each module a warm start imports costs about a third of a million instructions before its first
line runs, plus its bytecode (docs/performance.md), so the warm start is three modules of
reprorun (`warm`, `cachefiles`, and `inprocess` when it runs the script in its own process) and
`fcntl` for the use lock: no `__future__`, no `itertools`, no sha256 extension, nothing of
`envs/`, `script/` or `launch/`. These tests run the real `reprorun` command (scripts/reprorun)
with Python's import-time report from a venv like a user's: a plain one (pipx's and `uv tool install`'s
layout) and the README's `python -m venv` with pip, whose setuptools `.pth` hook runs at every start.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import reprorun

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the in-process launch is POSIX; /proc")

COMMAND = Path(__file__).resolve().parent.parent / "scripts" / "reprorun"
SCRIPT = """# /// script
# dependencies = ['alpha']
# ///
import alpha, os
command = open('/proc/self/cmdline').read().split(chr(0))  # the process reprorun started, or the exec'd one
print('ran', alpha.__name__, 'in-process' if any(os.path.basename(p) == 'reprorun' for p in command) else 'exec')
"""
WARM = {"reprorun", "reprorun.warm", "reprorun.cachefiles"}


@pytest.fixture(scope="module", params=["plain", "venv+pip"])
def launcher(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv of the suite's base interpreter that sees reprorun and its dependencies through a `.pth`."""
    venv = tmp_path_factory.mktemp("launcher") / "venv"
    with_pip = ["--without-pip"] if request.param == "plain" else []
    subprocess.run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", *with_pip, str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  check=True, capture_output=True, text=True).stdout.strip())  # fmt: skip
    if request.param == "venv+pip" and sys.version_info < (3, 12):
        assert "_distutils_hack" in (purelib / "distutils-precedence.pth").read_text()  # the premise
    source = Path(reprorun.__file__).resolve().parent.parent
    (purelib / "reprorun-test.pth").write_text(f"{source}\n{sysconfig.get_paths()['purelib']}\n")
    return python


def _loaded(argv: list[str], env: dict[str, str]) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    """The modules a process imported, and how it ended (`PYTHONPROFILEIMPORTTIME`, which an exec'd
    interpreter inherits; `-X importtime` would be an option the env's interpreter does not get)."""
    env = {**env, "PYTHONPROFILEIMPORTTIME": "1"}
    result = subprocess.run(argv, capture_output=True, text=True, check=False, env=env, timeout=300)
    names = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    return names - {"imported package"}, result


def _warm_start(launcher: Path, tmp_path: Path, mode: str) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    """What a warm start of a script loads beyond `python SCRIPT` of the same interpreter."""
    script = tmp_path / "s.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "REPRORUN_LAUNCH": mode}
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    command = [str(launcher), str(COMMAND), "--python", str(launcher), str(script)]
    first = subprocess.run(command, capture_output=True, text=True, check=False, env=env, timeout=600)
    assert first.returncode == 0, first.stderr  # builds the env, writes the index entry and the kept code
    bare, _ = _loaded([str(launcher), "-c", "pass"], env)
    loaded, result = _loaded(command, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"ran alpha {'exec' if mode == 'exec' else 'in-process'}\n"
    return loaded - bare - {"alpha"}, result


@pytest.mark.usefixtures("cache_dir")
@pytest.mark.parametrize("mode", ["auto", "exec"])
def test_a_warm_start_loads_three_modules_and_fcntl(launcher: Path, tmp_path: Path, mode: str) -> None:
    # exec too: whether the launch can be in-process is inprocess.possible's to say
    extra, _ = _warm_start(launcher, tmp_path, mode)
    assert extra == WARM | {"reprorun.inprocess", "fcntl"}


@pytest.mark.usefixtures("cache_dir")
def test_without_a_use_lock_a_start_loads_no_fcntl(launcher: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    # mkdir mode (file systems without working locks) writes a use marker instead of an flock
    monkeypatch.setenv("REPRORUN_LOCK", "mkdir")
    extra, _ = _warm_start(launcher, tmp_path, "auto")
    assert extra == WARM | {"reprorun.inprocess"}


def test_the_warm_modules_import_nothing_at_start_up_that_a_bare_start_has_not() -> None:
    # In this very interpreter: importing the three loads fcntl only when the use lock is taken.
    code = ("import sys; before = set(sys.modules); import reprorun.warm, reprorun.inprocess; "
            "print(sorted(set(sys.modules) - before))")  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPROFILEIMPORTTIME"}
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env,
                           cwd=Path(reprorun.__file__).resolve().parent.parent)  # fmt: skip
    assert found.stdout.strip() == str(sorted(WARM | {"reprorun.inprocess"}))

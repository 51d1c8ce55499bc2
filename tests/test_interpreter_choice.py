"""Which Python a script runs with, on a machine with several (DESIGN section 2, issue 12).

The machine is made of the Pythons pyenv holds here: PYENV_ROOT points at a folder of chosen
versions, PATH at a folder whose `python3` is one of them, and the interpreter running reprorun
(the test suite's, 3.11) is a third. The newest is never chosen for being newest.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from reprorun.envs import selection
from reprorun.errors import InterpreterError

PYENV = Path("/root/.pyenv/versions")
HAVE = {v: PYENV / v / "bin" / "python3" for v in ("3.10.13", "3.12.1", "3.13.0")}
RUNNING = ".".join(map(str, sys.version_info[:3]))
pytestmark = pytest.mark.skipif(
    not all(p.exists() for p in HAVE.values()) or RUNNING in HAVE,
    reason="needs pyenv's 3.10.13, 3.12.1 and 3.13.0, and tests run by another version",
)


@pytest.fixture
def machine(tmp_path, monkeypatch):
    """pyenv with 3.10, 3.12 and 3.13; PATH's python3 is set by the test (none by default)."""
    root = tmp_path / "pyenv"
    (root / "versions").mkdir(parents=True)
    for version in HAVE:
        (root / "versions" / version).symlink_to(PYENV / version)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PYENV_ROOT", str(root))
    monkeypatch.setenv("PATH", str(bin_dir))

    def on_path(version: str) -> None:
        (bin_dir / "python3").symlink_to(HAVE[version])

    return on_path


def select(tmp_path, requires=None, request=None, **kwargs):
    return selection.select(requires, request, tmp_path / "store", **kwargs)


def test_the_running_interpreter_wins_over_newer_ones(machine, tmp_path):
    machine("3.13.0")
    chosen = select(tmp_path, ">=3.9")
    assert chosen.interpreter.version == RUNNING
    assert chosen.rule == "the interpreter running reprorun (it fits requires-python '>=3.9')"


def test_without_requires_python_too(machine, tmp_path):
    chosen = select(tmp_path)
    assert chosen.interpreter.version == RUNNING
    assert chosen.rule == "the interpreter running reprorun"


def test_then_the_first_fitting_python3_on_path(machine, tmp_path):
    machine("3.12.1")
    chosen = select(tmp_path, ">=3.12")
    assert chosen.interpreter.version == "3.12.1"  # not 3.13, the highest
    assert chosen.rule.startswith("the first python3 on PATH (it fits requires-python '>=3.12'): ")


def test_a_path_python3_that_does_not_fit_is_passed_over(machine, tmp_path):
    machine("3.10.13")
    chosen = select(tmp_path, ">=3.12")
    assert chosen.interpreter.version == "3.13.0"
    assert chosen.rule == "the highest installed Python that fits requires-python '>=3.12'"


def test_frozen_for_names_the_version_the_pins_need(machine, tmp_path):
    chosen = select(tmp_path, ">=3.9", frozen_for="cpython-3.10.13-manylinux_2_36_x86_64")
    assert chosen.interpreter.version == "3.10.13"
    assert chosen.rule == "frozen-for names Python 3.10.13, and it is installed"


def test_frozen_for_matches_the_minor_version_when_the_patch_differs(machine, tmp_path):
    chosen = select(tmp_path, None, frozen_for="cpython-3.12.9-manylinux_2_17_x86_64")
    assert chosen.interpreter.version == "3.12.1"


def test_frozen_for_a_version_not_installed_falls_through(machine, tmp_path):
    chosen = select(tmp_path, ">=3.9", frozen_for="cpython-3.9.99-manylinux_2_17_x86_64")
    assert chosen.interpreter.version == RUNNING


def test_frozen_for_outside_requires_python_is_not_taken(machine, tmp_path):
    chosen = select(tmp_path, ">=3.12", frozen_for="cpython-3.10.13-manylinux_2_36_x86_64")
    assert chosen.interpreter.version == "3.13.0"


def test_a_request_beats_every_rule(machine, tmp_path):
    machine("3.12.1")
    chosen = select(tmp_path, ">=3.9", "3.13", frozen_for="cpython-3.10.13-x")
    assert (chosen.interpreter.version, chosen.rule) == ("3.13.0", "--python 3.13")
    by_env = select(tmp_path, ">=3.9", "3.10", origin="REPRORUN_PYTHON")
    assert (by_env.interpreter.version, by_env.rule) == ("3.10.13", "REPRORUN_PYTHON 3.10")
    by_path = select(tmp_path, None, str(HAVE["3.12.1"]))
    assert by_path.interpreter.version == "3.12.1"


def test_nothing_fitting_lists_what_was_required_and_found(machine, tmp_path):
    with pytest.raises(InterpreterError) as caught:
        select(tmp_path, ">=3.99")
    message = caught.value.message
    assert message.startswith("no Python satisfies requires-python '>=3.99'; found: ")
    assert all(version in message for version in (*HAVE, RUNNING))


def test_nothing_fitting_asks_uv_only_then(machine, tmp_path):
    asked: list[int] = []

    def ask() -> None:
        asked.append(1)

    select(tmp_path, ">=3.9", uv=ask)
    assert asked == []
    with pytest.raises(InterpreterError):
        select(tmp_path, ">=3.99", uv=ask)
    assert asked == [1]


def test_shims_are_not_probed(machine, tmp_path, monkeypatch):
    shims = tmp_path / "pyenv" / "shims"
    shims.mkdir()
    (shims / "python3").write_text("#!/bin/sh\nexit 1\n")
    (shims / "python3").chmod(0o755)
    monkeypatch.setenv("PATH", f"{shims}{os.pathsep}{os.environ['PATH']}")
    assert select(tmp_path, ">=3.12").interpreter.version == "3.13.0"


# --- through the command line ---------------------------------------------------------------

SCRIPT = (
    '# /// script\n# requires-python = ">=3.9"\n# dependencies = []\n# ///\n'
    "import sys\nprint(sys.version.split()[0])\n"
)


def _script(tmp_path: Path, text: str = SCRIPT) -> Path:
    path = tmp_path / "s.py"
    path.write_text(text)
    return path


def test_run_uses_the_running_interpreter_and_v_says_why(machine, run_reprorun, tmp_path):
    machine("3.13.0")
    result = run_reprorun("-v", _script(tmp_path))
    assert (result.returncode, result.stdout) == (0, f"{RUNNING}\n"), result.stderr
    assert f"interpreter: Python {RUNNING} (" in result.stderr
    assert "chosen as the interpreter running reprorun (it fits requires-python '>=3.9')" in result.stderr


def test_env_command_says_which_rule_chose(machine, run_reprorun, tmp_path):
    shown = run_reprorun("env", _script(tmp_path))
    assert "chosen as:    the interpreter running reprorun (it fits requires-python '>=3.9')" in shown.stdout
    data = json.loads(run_reprorun("env", "--json", _script(tmp_path)).stdout)
    assert data["interpreter"]["chosen-as"].startswith("the interpreter running reprorun")


def test_reprorun_python_and_the_config_file(machine, run_reprorun, tmp_path):
    path = _script(tmp_path)
    assert run_reprorun(path).stdout == f"{RUNNING}\n"
    # A warm run was recorded; the variable must still change the interpreter.
    assert run_reprorun(path, env={"REPRORUN_PYTHON": "3.12"}).stdout == "3.12.1\n"
    config = tmp_path / "config.toml"
    config.write_text('python = "3.10"\n')
    by_config = run_reprorun("env", path, env={"REPRORUN_CONFIG": str(config)})
    assert f"chosen as:    python in {config} 3.10" in by_config.stdout
    assert run_reprorun(path, env={"REPRORUN_CONFIG": str(config)}).stdout == "3.10.13\n"
    both = run_reprorun(path, env={"REPRORUN_CONFIG": str(config), "REPRORUN_PYTHON": "3.13"})
    assert both.stdout == "3.13.0\n"
    assert run_reprorun("--python", "3.12", path, env={"REPRORUN_PYTHON": "3.13"}).stdout == "3.12.1\n"


def test_a_frozen_block_runs_on_its_version(machine, run_reprorun, tmp_path):
    text = SCRIPT.replace("# ///\n", '#\n# [tool.reprorun]\n# requested = []\n'
                          '# frozen-for = "cpython-3.10.13-manylinux_2_36_x86_64"\n# ///\n', 1)  # fmt: skip
    path = _script(tmp_path, text)
    result = run_reprorun(path)
    assert (result.returncode, result.stdout) == (0, "3.10.13\n"), result.stderr

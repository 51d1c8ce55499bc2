"""One activation for every launch (issue 11): the first run (full path, exec), the next runs (the
warm path) and a script read from stdin all see the same activated env, without the variables that
would point its interpreter elsewhere."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from conftest import RunReprorun

pytestmark = pytest.mark.slow

SCRIPT = """\
# /// script
# dependencies = ["alpha"]
# ///
import json, os, sys
import alpha
print(json.dumps({
    "argv0": sys.argv[0], "args": sys.argv[1:],
    "venv": os.environ.get("VIRTUAL_ENV"), "prefix": sys.prefix,
    "path0": os.environ["PATH"].split(os.pathsep)[0],
    "launcher": os.environ.get("__PYVENV_LAUNCHER__"),
    "alpha": os.path.dirname(alpha.__file__),
}))
"""


def _seen(stdout: str) -> dict[str, object]:
    seen: dict[str, object] = json.loads(stdout.strip().splitlines()[-1])
    return seen


def _check(seen: dict[str, object], env: str) -> None:
    assert seen["venv"] == env
    assert Path(str(seen["prefix"])).resolve() == Path(env).resolve()
    assert seen["path0"] == str(Path(env) / "bin")
    assert seen["launcher"] is None
    assert str(seen["alpha"]).startswith(env)


def test_every_launch_activates_the_same_way(run_reprorun: RunReprorun, tmp_path: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text(SCRIPT, encoding="utf-8")
    # Set to reprorun's own interpreter, so reprorun itself still starts: the script must not see it.
    variables = {"__PYVENV_LAUNCHER__": sys.executable}
    before = run_reprorun("env", "--json", script)
    assert json.loads(before.stdout)["exists"] is False
    first = run_reprorun(script, "one", env=variables)
    assert first.returncode == 0, first.stderr
    built = run_reprorun("env", "--json", script)
    assert built.returncode == 0, built.stderr
    env = json.loads(built.stdout)["path"]
    _check(_seen(first.stdout), env)
    assert _seen(first.stdout)["args"] == ["one"]
    second = run_reprorun(script, "two", env=variables)
    assert second.returncode == 0, second.stderr
    _check(_seen(second.stdout), env)
    assert _seen(second.stdout)["args"] == ["two"]
    assert _seen(second.stdout)["argv0"] == str(script)


def test_a_script_from_stdin_runs_as_python_dash(run_reprorun: RunReprorun, tmp_path: Path, cache_dir: Path) -> None:
    done = run_reprorun("-", "x", input=SCRIPT, env={"__PYVENV_LAUNCHER__": sys.executable})
    assert done.returncode == 0, done.stderr
    seen = _seen(done.stdout)
    assert seen["argv0"] == "-"
    assert seen["args"] == ["x"]
    assert seen["launcher"] is None
    kept = list((cache_dir / "stdin").glob("*.py"))
    assert [p.read_text(encoding="utf-8") for p in kept] == [SCRIPT]
    again = run_reprorun("-", "y", input=SCRIPT)
    assert again.returncode == 0, again.stderr
    assert list((cache_dir / "stdin").glob("*.py")) == kept  # content-addressed: the same copy
    assert _seen(again.stdout)["venv"] == seen["venv"]

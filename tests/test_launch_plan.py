"""launch/activate.py (the one activation) and launch/execute.py (the launch plan and the exec seam)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reprorun.launch import activate, execute

# --- activate.variables ----------------------------------------------------------------------------


def test_variables_set_virtual_env_and_put_its_bin_first() -> None:
    result = activate.variables("/c/envs/b", {"PATH": "/usr/bin:/bin", "HOME": "/home/me"})
    assert result["VIRTUAL_ENV"] == "/c/envs/b"
    assert result["PATH"].split(os.pathsep) == ["/c/envs/b/bin", "/usr/bin", "/bin"]
    assert result["HOME"] == "/home/me"


def test_variables_drop_pythonhome_and_the_macos_launcher() -> None:
    base = {"PATH": "/bin", "PYTHONHOME": "/opt/py", "__PYVENV_LAUNCHER__": "/usr/bin/python3", "KEEP": "1"}
    result = activate.variables("/e", base)
    assert "PYTHONHOME" not in result
    assert "__PYVENV_LAUNCHER__" not in result
    assert result["KEEP"] == "1"


def test_dropped_names_are_exactly_the_two() -> None:
    assert set(activate.DROPPED) == {"PYTHONHOME", "__PYVENV_LAUNCHER__"}


def test_variables_do_not_change_the_base() -> None:
    base = {"PATH": "/bin", "PYTHONHOME": "/opt/py"}
    activate.variables("/e", base)
    assert base == {"PATH": "/bin", "PYTHONHOME": "/opt/py"}


def test_variables_without_a_path() -> None:
    result = activate.variables("/e", {})
    assert result["PATH"].split(os.pathsep)[0] == "/e/bin"
    assert result == {"VIRTUAL_ENV": "/e", "PATH": "/e/bin" + os.pathsep}


def test_variables_replace_another_virtual_env() -> None:
    result = activate.variables("/new", {"VIRTUAL_ENV": "/old", "PATH": "/old/bin:/bin"})
    assert result["VIRTUAL_ENV"] == "/new"
    assert result["PATH"].startswith("/new/bin" + os.pathsep)


def test_variables_default_to_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPRORUN_TEST_MARK", "here")
    monkeypatch.setenv("PYTHONHOME", "/nowhere")
    result = activate.variables("/e")
    assert result["REPRORUN_TEST_MARK"] == "here"
    assert "PYTHONHOME" not in result
    assert os.environ["PYTHONHOME"] == "/nowhere"  # only the copy is activated


def test_activate_here_changes_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/usr/bin")
    monkeypatch.setenv("PYTHONHOME", "/opt/py")
    monkeypatch.setenv("__PYVENV_LAUNCHER__", "/usr/bin/python3")
    monkeypatch.setenv("OTHER", "kept")
    activate.activate_here("/c/envs/b")
    assert os.environ["VIRTUAL_ENV"] == "/c/envs/b"
    assert os.environ["PATH"] == "/c/envs/b/bin" + os.pathsep + "/usr/bin"
    assert "PYTHONHOME" not in os.environ
    assert "__PYVENV_LAUNCHER__" not in os.environ
    assert os.environ["OTHER"] == "kept"


def test_activate_here_agrees_with_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/a:/b")
    monkeypatch.setenv("PYTHONHOME", "/x")
    expected = activate.variables("/env")
    activate.activate_here("/env")
    assert dict(os.environ) == expected


# --- execute.Plan and its argv ---------------------------------------------------------------------


def test_plan_activates_the_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONHOME", "/x")
    plan = execute.plan(Path("/c/envs/b"), ["/c/envs/b/bin/python", "s.py"], "s.py")
    assert plan.argv == ["/c/envs/b/bin/python", "s.py"]
    assert plan.env == "/c/envs/b"
    assert plan.script == "s.py"
    assert plan.supervisor is None
    assert plan.variables["VIRTUAL_ENV"] == "/c/envs/b"
    assert "PYTHONHOME" not in plan.variables


def test_plan_copies_argv() -> None:
    argv = ["/e/bin/python", "s.py"]
    plan = execute.plan(Path("/e"), argv, "s.py")
    argv.append("more")
    assert plan.argv == ["/e/bin/python", "s.py"]


def test_plan_is_frozen_and_its_repr_hides_the_variables() -> None:
    plan = execute.plan(Path("/e"), ["/e/bin/python"], "-")
    with pytest.raises(AttributeError):
        plan.env = "/other"  # type: ignore[misc]
    assert "VIRTUAL_ENV" not in repr(plan)
    assert "/e/bin/python" in repr(plan)


def test_script_argv_of_a_file() -> None:
    argv = execute.script_argv(Path("/e"), "dir/s.py", ["-x", "--", "y"])
    assert argv == ["/e/bin/python", "dir/s.py", "-x", "--", "y"]


def test_script_argv_of_stdin_runs_the_bootstrap() -> None:
    argv = execute.script_argv(Path("/e"), "-", ["a"], stdin_copy=Path("/c/stdin/abc.py"))
    assert argv == ["/e/bin/python", "-c", execute.STDIN_BOOTSTRAP, "/c/stdin/abc.py", "a"]


def test_the_stdin_bootstrap_behaves_like_python_dash(tmp_path: Path) -> None:
    script = tmp_path / "copy.py"
    script.write_text(textwrap.dedent("""\
        import json, sys
        print(json.dumps({"argv": sys.argv, "main": __name__, "leaked": "_reprorun_main" in globals()}))
        raise ValueError("boom")
    """), encoding="utf-8")  # fmt: skip
    result = subprocess.run([sys.executable, "-c", execute.STDIN_BOOTSTRAP, str(script), "one", "two"],
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert result.returncode == 1
    assert json.loads(result.stdout) == {"argv": ["-", "one", "two"], "main": "__main__", "leaked": False}
    assert 'File "<stdin>", line 3' in result.stderr
    assert "ValueError: boom" in result.stderr


def test_keep_stdin_source_is_content_addressed(tmp_path: Path) -> None:
    data = b"print('hi')\n"
    path = execute.keep_stdin_source(tmp_path / "stdin", data)
    assert path == tmp_path / "stdin" / (hashlib.sha256(data).hexdigest()[:32] + ".py")
    assert path.read_bytes() == data


def test_keep_stdin_source_is_idempotent(tmp_path: Path) -> None:
    first = execute.keep_stdin_source(tmp_path, b"x = 1\n")
    mtime = first.stat().st_mtime_ns
    second = execute.keep_stdin_source(tmp_path, b"x = 1\n")
    assert second == first
    assert second.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in tmp_path.iterdir()) == [first.name]


def test_keep_stdin_source_different_bytes_different_files(tmp_path: Path) -> None:
    a = execute.keep_stdin_source(tmp_path, b"a\n")
    b = execute.keep_stdin_source(tmp_path, b"b\n")
    assert a != b
    assert (a.read_bytes(), b.read_bytes()) == (b"a\n", b"b\n")


def test_keep_stdin_source_creates_the_folder(tmp_path: Path) -> None:
    path = execute.keep_stdin_source(tmp_path / "a" / "b", b"")
    assert path.parent == tmp_path / "a" / "b"
    assert path.read_bytes() == b""


# --- execute ---------------------------------------------------------------------------------------


def test_a_supervisor_status_is_returned_without_exec(tmp_path: Path) -> None:
    seen: list[execute.Plan] = []

    def supervise(plan: execute.Plan) -> int | None:
        seen.append(plan)
        return 3

    plan = execute.Plan(["/definitely/not/a/program"], {}, str(tmp_path), "s.py", supervisor=supervise)
    assert execute.execute(plan) == 3  # had it exec'd, this process would be gone or an OSError raised
    assert seen == [plan]


def test_a_supervisor_status_of_zero_is_a_status(tmp_path: Path) -> None:
    plan = execute.Plan(["/definitely/not/a/program"], {}, str(tmp_path), "s.py", supervisor=lambda p: 0)
    assert execute.execute(plan) == 0


def _fake_env(folder: Path) -> Path:
    """An env folder whose interpreter is this one (enough to exec a standard-library script)."""
    (folder / "bin").mkdir(parents=True)
    (folder / "bin" / "python").symlink_to(os.path.realpath(sys.executable))
    return folder


CHILD = """\
import os, sys
from pathlib import Path
from reprorun.launch import execute
env = Path(sys.argv[1])
def supervise(plan):
    print("supervisor saw", plan.script, flush=True)
    return None if sys.argv[2] == "none" else int(sys.argv[2])
plan = execute.plan(env, execute.script_argv(env, sys.argv[3], ["arg one"]), sys.argv[3])
if sys.argv[2] != "plain":
    import dataclasses
    plan = dataclasses.replace(plan, supervisor=supervise)
print("before", flush=True)
status = execute.execute(plan)
print("returned", status, flush=True)
sys.exit(status)
"""

SCRIPT = """\
import json, os, sys
print(json.dumps({"argv": sys.argv[1:], "venv": os.environ.get("VIRTUAL_ENV"),
                  "path0": os.environ["PATH"].split(os.pathsep)[0],
                  "home": os.environ.get("PYTHONHOME"), "launcher": os.environ.get("__PYVENV_LAUNCHER__")}))
sys.exit(7)
"""


def _run_child(tmp_path: Path, mode: str) -> subprocess.CompletedProcess[str]:
    env_dir = _fake_env(tmp_path / "env")
    script = tmp_path / "s.py"
    script.write_text(SCRIPT, encoding="utf-8")
    # Set to this interpreter itself (Python honours the variable on Linux too): the child must drop it.
    environ = dict(os.environ, __PYVENV_LAUNCHER__=sys.executable)
    return subprocess.run([sys.executable, "-c", CHILD, str(env_dir), mode, str(script)],
                          capture_output=True, text=True, env=environ, check=False, timeout=60)  # fmt: skip


@pytest.mark.parametrize("mode", ["plain", "none"])
def test_execute_becomes_the_script(tmp_path: Path, mode: str) -> None:
    result = _run_child(tmp_path, mode)
    lines = result.stdout.splitlines()
    assert result.returncode == 7, result.stderr
    assert "returned" not in result.stdout  # exec'd: the caller never got control back
    assert lines[-1].startswith("{")
    seen = json.loads(lines[-1])
    assert seen == {"argv": ["arg one"], "venv": str(tmp_path / "env"), "path0": str(tmp_path / "env" / "bin"),
                    "home": None, "launcher": None}  # fmt: skip
    assert ("supervisor saw " + str(tmp_path / "s.py") in lines) == (mode == "none")


def test_execute_with_a_supervisor_status_does_not_exec(tmp_path: Path) -> None:
    result = _run_child(tmp_path, "5")
    assert result.returncode == 5, result.stderr
    assert result.stdout.splitlines() == ["before", f"supervisor saw {tmp_path / 's.py'}", "returned 5"]

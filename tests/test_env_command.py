"""`reprorun env SCRIPT`: which env, built or not, interpreter, platform and packages (issue 6)."""

from __future__ import annotations

import json
import sys

import pytest

pytestmark = pytest.mark.slow

PIP = {"REPRORUN_INSTALLER": "pip"}


def test_env_before_and_after_build(run_reprorun, tmp_path, cache_dir):
    path = tmp_path / "s.py"
    path.write_text('# /// script\n# dependencies = ["gamma"]\n# ///\n')
    before = json.loads(run_reprorun("env", "--json", path).stdout)
    assert before["exists"] is False and before["path"] is None and before["packages"] == []
    missing = run_reprorun("env", "--path", path)
    assert missing.returncode == 1 and "reprorun sync" in missing.stderr
    assert run_reprorun("sync", path, env=PIP).returncode == 0
    after = json.loads(run_reprorun("env", "--json", path).stdout)
    assert after["key"] == before["key"]
    assert after["exists"] is True
    assert after["path"].startswith(str(cache_dir / "envs"))
    assert [(p["name"], p["version"]) for p in after["packages"]] == [
        ("alpha", "2.0"), ("beta", "1.0"), ("epsilon", "1.0"), ("gamma", "1.0")]  # fmt: skip
    assert after["platform"] and after["interpreter"]["version"].count(".") == 2
    only = run_reprorun("env", "--path", path)
    assert only.stdout == after["python"] + "\n"
    text = run_reprorun("env", path).stdout
    assert "gamma 1.0" in text and after["key"] in text


def test_env_path_runs_the_envs_python(run_reprorun, tmp_path):
    path = tmp_path / "s.py"
    path.write_text('# /// script\n# dependencies = ["alpha==1.0"]\n# ///\n')
    assert run_reprorun("sync", path, env=PIP).returncode == 0
    python = run_reprorun("env", "--path", path).stdout.strip()
    import subprocess

    out = subprocess.run([python, "-c", "import alpha, sys; print(alpha.__version__, sys.prefix != sys.base_prefix)"],
                         capture_output=True, text=True, check=True)  # fmt: skip
    assert out.stdout == "1.0 True\n"
    assert python != sys.executable

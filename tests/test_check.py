"""`reprorun check SCRIPT`: valid block, built env, exactly the packages asked, pins vs requested."""

from __future__ import annotations

import json
import shutil

import pytest

pytestmark = pytest.mark.slow

PIP = {"REPRORUN_INSTALLER": "pip"}


def _script(folder, deps, extra=""):
    path = folder / "s.py"
    path.write_text(f"# /// script\n# dependencies = {json.dumps(deps)}\n{extra}# ///\n")
    return path


def _findings(run_reprorun, path):
    result = run_reprorun("check", "--json", path)
    return result.returncode, {c["name"]: c for c in json.loads(result.stdout)["checks"]}


def test_check_passes_for_a_built_exact_env(run_reprorun, tmp_path):
    path = _script(tmp_path, ["gamma", "withextra[fancy]"])
    assert run_reprorun("sync", path, env=PIP).returncode == 0
    code, found = _findings(run_reprorun, path)
    assert code == 0, found
    assert set(found) == {"block", "env", "packages", "record"}
    text = run_reprorun("check", path)
    assert text.returncode == 0 and text.stdout.startswith("ok")


def test_check_fails_when_not_built(run_reprorun, tmp_path):
    code, found = _findings(run_reprorun, _script(tmp_path, ["alpha"]))
    assert code == 1
    assert not found["env"]["ok"] and "reprorun sync" in found["env"]["detail"]


def test_check_finds_extra_and_missing_packages(run_reprorun, tmp_path):
    path = _script(tmp_path, ["beta"])
    assert run_reprorun("sync", path, env=PIP).returncode == 0
    env = json.loads(run_reprorun("env", "--json", path).stdout)["path"]
    (site,) = list(__import__("pathlib").Path(env).glob("lib/python*/site-packages"))
    shutil.copytree(site / "alpha-2.0.dist-info", site / "delta-1.0.dist-info")
    meta = site / "delta-1.0.dist-info" / "METADATA"
    meta.write_text(meta.read_text().replace("Name: alpha", "Name: delta").replace("Version: 2.0", "Version: 1.0"))
    code, found = _findings(run_reprorun, path)
    assert code == 1
    assert "not asked for: delta" in found["packages"]["detail"]
    assert not found["record"]["ok"]
    shutil.rmtree(site / "alpha-2.0.dist-info")
    code, found = _findings(run_reprorun, path)
    assert code == 1 and "missing alpha>=1" in found["packages"]["detail"]


def test_check_frozen_pins_against_requested(run_reprorun, tmp_path):
    frozen = '#\n# [tool.reprorun]\n# requested = ["alpha>=2"]\n'
    path = _script(tmp_path, ["alpha==1.0"], frozen)
    assert run_reprorun("sync", path, env=PIP).returncode == 0
    code, found = _findings(run_reprorun, path)
    assert code == 1
    assert "alpha==1.0 does not satisfy requested 'alpha>=2'" in found["frozen"]["detail"]
    assert found["packages"]["ok"]
    good = _script(tmp_path, ["alpha==2.0"], frozen)
    assert run_reprorun("sync", good, env=PIP).returncode == 0
    assert _findings(run_reprorun, good)[0] == 0


def test_check_invalid_block_exits_2(run_reprorun, tmp_path):
    result = run_reprorun("check", _script(tmp_path, ["not a requirement!"]))
    assert result.returncode == 2
    assert "s.py:2:" in result.stderr

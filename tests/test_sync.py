"""`reprorun sync`: build without running, print each path; `--offline` runs then need no network."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PIP = {"REPRORUN_INSTALLER": "pip"}


def _script(folder, name, dep):
    path = folder / name
    path.write_text(f'# /// script\n# dependencies = ["{dep}"]\n# ///\nimport {dep}\nprint("{name} ran")\n')
    return path


def test_sync_builds_without_running_then_offline_runs(run_reprorun, tmp_path, cache_dir):
    one, two = _script(tmp_path, "one.py", "alpha"), _script(tmp_path, "two.py", "gamma")
    synced = run_reprorun("sync", one, two, env=PIP)
    assert synced.returncode == 0, synced.stderr
    paths = synced.stdout.splitlines()
    assert len(paths) == 2
    assert all(p.startswith(str(cache_dir / "envs")) for p in paths)
    assert "ran" not in synced.stdout
    # pip refuses to start with this setting, which is not part of the key: any install would fail.
    cut_off = {**PIP, "PIP_DEFAULT_TIMEOUT": "never", "REPRORUN_WARM": "0"}
    for path in (one, two):
        ran = run_reprorun("--offline", path, env=cut_off)
        assert (ran.returncode, ran.stdout, ran.stderr) == (0, f"{path.name} ran\n", "")
    again = run_reprorun("sync", one, env=PIP)
    assert again.stdout.splitlines() == paths[:1]  # already built: same env, nothing rebuilt
    assert "creating" not in again.stderr


def test_offline_without_sync_fails_with_a_hint(run_reprorun, tmp_path):
    result = run_reprorun("--offline", _script(tmp_path, "s.py", "alpha"), env=PIP)
    assert result.returncode == 1
    assert "reprorun sync" in result.stderr


def test_sync_goes_on_after_a_failure(run_reprorun, tmp_path):
    good, bad = _script(tmp_path, "good.py", "alpha"), _script(tmp_path, "bad.py", "broken")
    result = run_reprorun("sync", bad, good, env=PIP)
    assert result.returncode == 1
    assert len(result.stdout.splitlines()) == 1
    assert "bad.py" in result.stderr


def _files(root):
    return {path for path in root.rglob("*") if path.is_file()}


def test_a_synced_env_has_every_module_compiled_and_its_runs_write_no_bytecode(run_reprorun, tmp_path, cache_dir):
    """Builds leave bytecode to the first run (envs/pycache.py); `sync` prepares an env whole, so
    the jobs that start it at once, and readers of a cache they may not write, compile nothing."""
    script = _script(tmp_path, "one.py", "alpha")
    synced = run_reprorun("sync", script, env=PIP)
    assert synced.returncode == 0, synced.stderr
    env = Path(synced.stdout.strip())
    assert (env / "reprorun-bytecode").is_file()
    sources = [path for path in env.rglob("*.py") if "site-packages" in path.parts]
    assert any(path.name.startswith("alpha") or path.parent.name == "alpha" for path in sources)
    tag = f"cpython-{sys.version_info.major}{sys.version_info.minor}"
    for source in sources:
        assert (source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc").is_file(), source
    before = _files(cache_dir)
    ran = run_reprorun(script, env={**PIP, "PYTHONDONTWRITEBYTECODE": ""})
    assert (ran.returncode, ran.stdout) == (0, "one.py ran\n"), ran.stderr
    written = {path for path in _files(cache_dir) - before if ".code-" not in path.name}
    assert not [path for path in written if path.suffix == ".pyc"], written
    again = run_reprorun("sync", script, env=PIP)
    assert again.returncode == 0 and again.stdout == synced.stdout  # compiled once: nothing to do

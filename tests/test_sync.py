"""`reprorun sync`: build without running, print each path; `--offline` runs then need no network."""

from __future__ import annotations

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

"""`reprorun cache dir|list|prune|clear`, and a damaged cache repaired by the next run (issue 6)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from reprorun.envs import exclusive, inventory

pytestmark = pytest.mark.slow


@pytest.fixture
def rr(run_reprorun):
    """run_reprorun (uv gets the wheelhouse from pip's PIP_FIND_LINKS through reprorun)."""
    return run_reprorun


def _script(folder: Path, name: str, dep: str) -> Path:
    path = folder / name
    path.write_text(f'# /// script\n# dependencies = ["{dep}"]\n# ///\nprint("ok")\n', encoding="utf-8")
    return path


def _rows(rr) -> list[dict[str, Any]]:
    listing = rr("cache", "list", "--json")
    assert listing.returncode == 0, listing.stderr
    rows: list[dict[str, Any]] = json.loads(listing.stdout)
    return rows


def _builds(cache_dir: Path) -> list[str]:
    return sorted(p.name for p in (cache_dir / "envs").iterdir() if not p.name.startswith("."))


def _key(rr, path: Path) -> str:
    key: str = json.loads(rr("env", "--json", path).stdout)["key"]
    return key


def test_parse_duration_and_size():
    assert inventory.parse_duration("30d") == 30 * 86400
    assert inventory.parse_duration("12h") == 12 * 3600
    assert inventory.parse_duration("0d") == 0
    assert inventory.parse_duration("7") == 7 * 86400
    assert inventory.parse_size("20G") == 20 << 30
    assert inventory.parse_size("1.5M") == int(1.5 * (1 << 20))
    assert inventory.parse_size("500MiB") == 500 << 20
    for bad in ("soon", "-1d", "3x"):
        with pytest.raises(ValueError, match="not a duration"):
            inventory.parse_duration(bad)


def test_cache_dir_prints_the_root(rr, cache_dir, tmp_path):
    assert rr("cache", "dir").stdout == f"{cache_dir}\n"
    assert rr("--cache-dir", tmp_path / "other", "cache", "dir").stdout == f"{tmp_path / 'other'}\n"


def test_list_shows_one_row_per_env(rr, tmp_path, cache_dir):
    assert _rows(rr) == []
    path = _script(tmp_path, "s.py", "beta")
    assert rr(path).stdout == "ok\n"
    (row,) = _rows(rr)
    assert row["state"] == "ready"
    assert row["packages"] == 2
    assert row["size"] > 0
    assert row["scripts"] == [str(path)]
    assert row["key"] == _key(rr, path)
    table = rr("cache", "list").stdout.splitlines()
    assert table[0].split()[:3] == ["key", "python", "pkgs"]
    assert row["key"][:12] in table[1]


def test_prune_removes_superseded_and_old_envs_not_current_ones(rr, tmp_path, cache_dir):
    path = _script(tmp_path, "s.py", "alpha")
    assert rr(path).returncode == 0
    assert rr("--refresh", path).returncode == 0
    assert len(_builds(cache_dir)) == 2
    dry = rr("cache", "prune", "--dry-run")
    assert "would remove" in dry.stderr and "superseded" in dry.stderr
    assert len(_builds(cache_dir)) == 2
    assert rr("cache", "prune").returncode == 0  # default: 30 days
    (kept,) = _builds(cache_dir)
    assert (cache_dir / "keys" / kept[:20]).read_text().strip() == kept
    assert rr("cache", "prune", "--older-than", "0d").returncode == 0
    assert _builds(cache_dir) == []
    assert list((cache_dir / "keys").iterdir()) == []
    assert [p.name for p in (cache_dir / "used").iterdir()] == []
    assert rr(path).stdout == "ok\n"  # and the next run simply builds again


def test_prune_by_size_removes_least_recently_used_first(rr, tmp_path, cache_dir):
    old, new = _script(tmp_path, "old.py", "alpha"), _script(tmp_path, "new.py", "beta")
    assert rr(old).returncode == rr(new).returncode == 0
    rows = {Path(r["scripts"][0]).stem: r for r in _rows(rr)}
    past = rows["new"]["size"]  # make "old" clearly older
    os.utime(cache_dir / "used" / rows["old"]["build"], (1_000_000_000, 1_000_000_000))
    assert rr("cache", "prune", "--max-size", str(past + rows["old"]["size"] - 1)).returncode == 0
    assert _builds(cache_dir) == [rows["new"]["build"]]


def test_prune_keeps_an_env_in_use(rr, tmp_path, cache_dir):
    path = _script(tmp_path, "s.py", "alpha")
    assert rr(path).returncode == 0
    (build,) = _builds(cache_dir)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from reprorun.envs.locks import hold_for_run; hold_for_run(*sys.argv[1:]);"
         "print('held', flush=True); sys.stdin.read()", str(cache_dir), build],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None
    assert holder.stdout.readline() == "held\n"
    try:
        kept = rr("cache", "prune", "--older-than", "0d")
        assert "kept" in kept.stderr and "in use" in kept.stderr
        assert _builds(cache_dir) == [build]
    finally:
        holder.communicate()
    assert rr("cache", "prune", "--older-than", "0d").returncode == 0
    assert _builds(cache_dir) == []


def test_prune_removes_interrupted_builds_unless_one_is_running(rr, tmp_path, cache_dir):
    assert rr(_script(tmp_path, "s.py", "alpha")).returncode == 0
    dead = cache_dir / "envs" / ("a" * 20 + "-deadbeef")
    (dead / "lib").mkdir(parents=True)
    running = cache_dir / "envs" / ("b" * 20 + "-cafecafe")
    running.mkdir()
    fd = exclusive.flock_exclusive(str(cache_dir / "locks" / ("b" * 20 + ".lock")), blocking=True)
    try:
        assert rr("cache", "prune").returncode == 0
        assert not dead.exists()
        assert running.exists()  # its builder holds the key's build lock
    finally:
        assert fd is not None
        os.close(fd)
    assert rr("cache", "prune").returncode == 0
    assert not running.exists()
    assert not (cache_dir / "locks" / ("b" * 20 + ".lock")).exists()  # a stale lock file goes too


def test_prune_sweeps_stale_files(rr, tmp_path, cache_dir):
    path = _script(tmp_path, "s.py", "alpha")
    assert rr(path).returncode == 0
    (build,) = _builds(cache_dir)
    index = list((cache_dir / "index").iterdir())
    assert len(index) == 1
    (cache_dir / "keys" / ("c" * 20)).write_text("c" * 20 + "-gone\n")  # names a missing env
    (cache_dir / "locks" / ("d" * 20 + "-0000.use")).touch()  # use lock of a removed env
    (cache_dir / "used" / ("d" * 20 + "-0000")).touch()
    stale_dir = cache_dir / "locks" / ("e" * 20 + ".lock.d")
    stale_dir.mkdir()
    (stale_dir / "owner").write_text("another-host\n1\n\n")
    os.utime(stale_dir / "owner", (1_000_000_000, 1_000_000_000))
    assert rr("cache", "prune").returncode == 0
    assert sorted(p.name for p in (cache_dir / "keys").iterdir()) == [build[:20]]
    assert {p.name for p in (cache_dir / "locks").iterdir()} <= {f"{build[:20]}.lock", f"{build}.use"}
    kept = sorted(p.name for p in (cache_dir / "used").iterdir() if not p.name.startswith(f"{build}.code-"))
    assert kept == [build, f"{build}.scripts"]  # the stale marker went; the env's own files stay (its kept code too)
    assert list((cache_dir / "index").iterdir()) == index  # still valid
    import shutil

    shutil.rmtree(cache_dir / "envs" / build)  # deleted by hand
    assert rr("cache", "prune").returncode == 0
    assert list((cache_dir / "index").iterdir()) == []
    assert list((cache_dir / "keys").iterdir()) == []


def test_clear_asks_and_refuses_without_a_terminal(rr, tmp_path, cache_dir):
    assert rr(_script(tmp_path, "s.py", "alpha")).returncode == 0
    refused = rr("cache", "clear", input="y\n")
    assert refused.returncode == 2
    assert "--yes" in refused.stderr
    assert len(_builds(cache_dir)) == 1
    cleared = rr("cache", "clear", "--yes")
    assert cleared.returncode == 0, cleared.stderr
    assert _builds(cache_dir) == []
    assert list((cache_dir / "index").iterdir()) == []


# --- repairs: each damage is detected and repaired by the next run ----------------------------


@pytest.mark.parametrize("damage", ["pointer", "marker"])
def test_truncated_manifest_is_repaired_by_the_next_run(rr, tmp_path, cache_dir, damage):
    path = _script(tmp_path, "s.py", "alpha")
    assert rr(path).returncode == 0
    (build,) = _builds(cache_dir)
    env = cache_dir / "envs" / build
    target = cache_dir / "keys" / build[:20] if damage == "pointer" else env / "reprorun-complete"
    target.write_text("")
    again = rr(path, env={"REPRORUN_WARM": "0"})
    assert (again.returncode, again.stdout) == (0, "ok\n"), again.stderr
    assert "creating an environment" in again.stderr
    assert rr("cache", "prune").returncode == 0
    (fresh,) = _builds(cache_dir)
    assert fresh != build
    assert rr("check", path).returncode == 0


def test_build_killed_holding_its_lock_is_repaired(rr, tmp_path, cache_dir):
    path = _script(tmp_path, "s.py", "alpha")
    key = _key(rr, path)
    # A builder that dies half way, through the very code path a run builds with.
    code = (
        "import os, signal, sys\nfrom pathlib import Path\nfrom reprorun.envs.cache import Cache\n"
        "cache = Cache(Path(sys.argv[1])); cache.prepare()\n"
        "with cache.build_lock(sys.argv[2]):\n"
        "    (cache.new_build(sys.argv[2]) / 'half').touch()\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    for mode in ("flock", "mkdir"):
        died = subprocess.run([sys.executable, "-c", code, str(cache_dir), key], check=False,
                              env={**os.environ, "REPRORUN_LOCK": mode})  # fmt: skip
        assert died.returncode == -signal.SIGKILL
        again = rr(path, env={"REPRORUN_LOCK": mode})
        assert (again.returncode, again.stdout) == (0, "ok\n"), again.stderr
        assert [b for b in _builds(cache_dir) if not (cache_dir / "envs" / b / "reprorun-complete").exists()] == []
        assert rr("cache", "clear", "--yes").returncode == 0


def test_run_killed_while_holding_its_env_leaves_it_prunable(rr, tmp_path, cache_dir):
    path = tmp_path / "s.py"
    path.write_text('# /// script\n# dependencies = ["alpha"]\n# ///\nimport sys\nprint("up", flush=True)\n'
                    "sys.stdin.read()\n", encoding="utf-8")  # fmt: skip
    assert rr("sync", path).returncode == 0
    (build,) = _builds(cache_dir)

    # The run holds the env as the run path does (hold, then exec); then it is killed.
    runner = subprocess.Popen(
        [sys.executable, "-c", "import os, sys; from reprorun.envs.locks import hold_and_verify\n"
         "assert hold_and_verify(sys.argv[1], sys.argv[2])\n"
         "os.execv(sys.argv[3], [sys.argv[3], sys.argv[4]])", str(cache_dir), build,
         str(cache_dir / "envs" / build / "bin" / "python"), str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert runner.stdout is not None
    assert runner.stdout.readline() == "up\n"
    assert exclusive.flock_exclusive(str(cache_dir / "locks" / f"{build}.use"), blocking=False) is None
    runner.kill()
    runner.communicate()
    assert rr("cache", "prune", "--older-than", "0d").returncode == 0
    assert _builds(cache_dir) == []
    assert rr(path, input="").stdout == "up\n"

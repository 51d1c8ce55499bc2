"""What `cache prune` sweeps from the cache's temporary places, and what it must leave.

A build or freeze works in `tmp/<host>.<pid>.<start>.<random>/`; a wheel or bundle unpacked once
goes through `.<name>.*` beside its final name. A process killed at any moment leaves one of them;
prune removes it when its owner is dead (this host) or it is old (no owner recorded, or another
host), and never while its owner runs. docs/cache.md, "Temporary files".
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from reprorun.envs import layout, liveness, prune, sweep
from reprorun.envs.cache import Cache

HOUR = 3600.0


def _cache(root: Path) -> Cache:
    cache = Cache(root)
    (root / layout.TMP).mkdir(parents=True, exist_ok=True)
    return cache


def _folder_of(root: Path, pid: int, start: str, host: str | None = None) -> Path:
    folder = root / layout.TMP / f"{host or liveness.host()}.{pid}.{start or 0}.abc123"
    (folder / "reprorun-freeze-x").mkdir(parents=True)
    (folder / "reprorun-freeze-x" / "report.json").write_text("{")
    return folder


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_folder_of_a_running_process_stays_and_of_an_ended_one_goes(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE, text=True)
    folder = _folder_of(tmp_path, child.pid, liveness.process_start(child.pid))
    assert prune.prune(cache, None, None).swept == 0
    assert folder.is_dir()  # its owner runs: a build or freeze in progress
    child.communicate()
    assert prune.prune(cache, None, None).swept == 1
    assert not folder.exists()


def test_a_folder_of_a_killed_process_goes_before_its_parent_reaps_it(tmp_path: Path) -> None:
    # A zombie answers kill(0) and keeps its /proc entry and start time, but it writes nothing:
    # its folder goes at once, as a dead process's does.
    cache = _cache(tmp_path)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    folder = _folder_of(tmp_path, child.pid, liveness.process_start(child.pid))
    os.kill(child.pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while Path(f"/proc/{child.pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    try:
        assert sweep.temporary(cache) == 1
        assert not folder.exists()
    finally:
        child.wait()


def test_a_reused_pid_does_not_keep_a_dead_owners_folder(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    # This process runs, but it did not start at tick 1 since boot: the folder's owner is gone.
    folder = _folder_of(tmp_path, os.getpid(), "1")
    assert sweep.temporary(cache) == 1
    assert not folder.exists()


def test_a_folder_of_another_host_goes_only_after_the_use_ttl(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("REPRORUN_USE_TTL", "2h")
    cache = _cache(tmp_path)
    folder = _folder_of(tmp_path, 4242, "123", host="another-node")
    _age(folder, HOUR)
    assert sweep.temporary(cache) == 0 and folder.is_dir()  # that node's build may still run
    _age(folder, 3 * HOUR)
    assert sweep.temporary(cache) == 1 and not folder.exists()


def test_prune_sweeps_tmp_also_in_a_cache_with_no_env(tmp_path: Path) -> None:
    # Only freezes ran in this cache: envs/ does not exist, and a killed freeze's folder must go.
    cache = _cache(tmp_path)
    assert not cache.envs.exists()
    folder = _folder_of(tmp_path, 2**22 + 1, "5")  # above any pid_max: no such process
    assert prune.prune(cache, None, None).swept == 1
    assert not folder.exists()
    _folder_of(tmp_path, 2**22 + 1, "5")
    assert prune.prune(cache, None, None, dry_run=True).swept == 0  # a dry run removes nothing


def test_half_unpacked_wheels_and_bundles_go_once_an_hour_old(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    made = []
    for folder in (cache.pip, tmp_path / layout.BUNDLES):
        whole = folder / "pip-25.0-py3-none-any.whl"
        half_old, half_new = folder / ".pip-25.0-py3-none-any.whl.k1ll3d", folder / ".pip-25.0-py3-none-any.whl.n0w"
        for path in (whole, half_old, half_new):
            (path / "pip").mkdir(parents=True)
        _age(half_old, 2 * HOUR)
        made.append((whole, half_old, half_new))
    assert sweep.temporary(cache) == 2
    for whole, half_old, half_new in made:
        assert whole.is_dir() and half_new.is_dir()  # in use, or being unpacked right now
        assert not half_old.exists()


def test_names_not_of_reprorun_go_only_when_old(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    odd = tmp_path / layout.TMP / "not-a-scratch-name"
    odd.mkdir()
    assert sweep.temporary(cache) == 0 and odd.is_dir()
    _age(odd, 2 * HOUR)
    assert sweep.temporary(cache) == 1 and not odd.exists()

"""Locks: a run's shared hold survives exec, pruners and builders exclude each other, stale ones go."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reprorun.envs import layout, locks

# Takes the use lock the way the run path does, then execs a Python that waits for stdin to close.
HOLDER = """\
import os, sys
from reprorun.envs.locks import hold_for_run
hold_for_run(sys.argv[1], sys.argv[2])
os.execv(sys.executable, [sys.executable, "-c", "import sys; print('held', flush=True); sys.stdin.read()"])
"""

COUNTER = """\
import sys
from pathlib import Path
from reprorun.envs.locks import Lock
lock, counter = sys.argv[1], Path(sys.argv[2])
for _ in range(25):
    held = Lock(lock)
    held.acquire()
    value = int(counter.read_text())  # a lost update shows as a short count at the end
    counter.write_text(str(value + 1))
    held.release()
"""


def _env_dir(root: Path, build: str = "k" * 20 + "-0001") -> str:
    env = root / "envs" / build
    env.mkdir(parents=True)
    (env / layout.COMPLETE).write_text("{}")
    (root / "locks").mkdir(exist_ok=True)
    (root / "used").mkdir(exist_ok=True)
    return build


def _holder(root: Path, build: str, mode: str = "flock") -> subprocess.Popen[str]:
    env = {**os.environ, "REPRORUN_LOCK": mode}
    process = subprocess.Popen([sys.executable, "-c", HOLDER, str(root), build], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True, env=env)  # fmt: skip
    assert process.stdout is not None
    assert process.stdout.readline() == "held\n"  # the lock is taken before the exec that prints
    return process


def _end(process: subprocess.Popen[str]) -> None:
    process.communicate()


def test_shared_hold_survives_exec_and_blocks_an_exclusive_lock(tmp_path):
    build = _env_dir(tmp_path)
    process = _holder(tmp_path, build)
    use = str(tmp_path / "locks" / f"{build}.use")
    assert locks.flock_exclusive(use, blocking=False) is None
    _end(process)
    fd = locks.flock_exclusive(use, blocking=False)
    assert fd is not None
    os.close(fd)


def test_two_runs_share_an_env(tmp_path):
    build = _env_dir(tmp_path)
    first, second = _holder(tmp_path, build), _holder(tmp_path, build)
    _end(first)
    assert locks.flock_exclusive(str(tmp_path / "locks" / f"{build}.use"), blocking=False) is None
    _end(second)


def test_hold_and_verify_is_false_for_a_removed_env(tmp_path):
    build = _env_dir(tmp_path)
    assert locks.hold_and_verify(str(tmp_path), build)
    assert not locks.hold_and_verify(str(tmp_path), "z" * 20 + "-gone")


def test_exclusive_lock_follows_a_file_unlinked_by_a_sweep(tmp_path):
    path = str(tmp_path / "x.lock")
    fd = locks.flock_exclusive(path, blocking=False)
    assert fd is not None
    os.unlink(path)  # what a stale-lock sweep does while holding it
    os.close(fd)
    again = locks.flock_exclusive(path, blocking=False)
    assert again is not None
    assert os.fstat(again).st_ino == os.stat(path).st_ino
    os.close(again)


@pytest.mark.parametrize("mode", ["flock", "mkdir"])
def test_many_processes_exclude_each_other(tmp_path, mode):
    counter = tmp_path / "counter"
    counter.write_text("0")
    env = {**os.environ, "REPRORUN_LOCK": mode}
    procs = [subprocess.Popen([sys.executable, "-c", COUNTER, str(tmp_path / "k.lock"), str(counter)], env=env)
             for _ in range(8)]  # fmt: skip
    assert [p.wait() for p in procs] == [0] * 8
    assert counter.read_text() == str(8 * 25)


def test_mkdir_lock_is_exclusive_and_released(tmp_path, monkeypatch):
    monkeypatch.setenv("REPRORUN_LOCK", "mkdir")
    first, second = locks.Lock(str(tmp_path / "k.lock")), locks.Lock(str(tmp_path / "k.lock"))
    assert first.acquire(blocking=False)
    assert (tmp_path / "k.lock.d" / "owner").read_text().splitlines()[:2] == [locks.host(), str(os.getpid())]
    assert not second.acquire(blocking=False)
    first.release()
    assert second.acquire(blocking=False)
    second.release()
    assert not (tmp_path / "k.lock.d").exists()


def test_mkdir_lock_of_a_dead_process_is_broken(tmp_path, monkeypatch):
    monkeypatch.setenv("REPRORUN_LOCK", "mkdir")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)  # fmt: skip
    folder = tmp_path / "k.lock.d"
    folder.mkdir()
    (folder / "owner").write_text(f"{locks.host()}\n{dead.stdout.strip()}\n\n")
    lock = locks.Lock(str(tmp_path / "k.lock"))
    assert lock.acquire(blocking=False)
    lock.release()


def test_mkdir_lock_of_another_host_is_broken_only_when_silent(tmp_path, monkeypatch):
    monkeypatch.setenv("REPRORUN_LOCK", "mkdir")
    monkeypatch.setenv("REPRORUN_LOCK_STALE", "30")
    folder = tmp_path / "k.lock.d"
    folder.mkdir()
    owner = folder / "owner"
    owner.write_text("some-other-node\n4242\n123\n")
    assert not locks.Lock(str(tmp_path / "k.lock")).acquire(blocking=False)  # fresh heartbeat
    old = os.stat(owner).st_mtime - 600
    os.utime(owner, (old, old))
    lock = locks.Lock(str(tmp_path / "k.lock"))
    assert lock.acquire(blocking=False)
    lock.release()


def test_mkdir_heartbeat_refreshes_the_owner_file(tmp_path, monkeypatch):
    monkeypatch.setenv("REPRORUN_LOCK", "mkdir")
    monkeypatch.setenv("REPRORUN_LOCK_STALE", "1")  # beats every quarter second
    lock = locks.Lock(str(tmp_path / "k.lock"))
    assert lock.acquire()
    owner = tmp_path / "k.lock.d" / "owner"
    old = os.stat(owner).st_mtime - 600
    os.utime(owner, (old, old))
    import time

    while os.stat(owner).st_mtime == old:  # ends when the heartbeat thread touches it
        time.sleep(0.05)
    lock.release()


def test_mkdir_use_marker_names_host_and_pid(tmp_path, monkeypatch):
    build = _env_dir(tmp_path)
    process = _holder(tmp_path, build, mode="mkdir")
    marker = tmp_path / "used" / f"{build}.{locks.host()}.{process.pid}"
    assert marker.is_file()
    from reprorun.envs.cache import Cache
    from reprorun.envs.prune import in_use_elsewhere

    monkeypatch.setenv("REPRORUN_LOCK", "mkdir")
    assert in_use_elsewhere(Cache(tmp_path), build)
    _end(process)
    assert not in_use_elsewhere(Cache(tmp_path), build)  # its process ended: the marker is dropped
    assert not marker.exists()


def test_locks_module_imports_only_os_and_fcntl():
    code = textwrap.dedent("""\
        import sys
        before = set(sys.modules)
        import reprorun.envs.locks
        print(sorted(m for m in set(sys.modules) - before if not m.startswith("reprorun")))
    """)
    out = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ}, cwd=os.path.dirname(locks.__file__) + "/../..")  # fmt: skip
    assert set(eval(out.stdout)) <= {"fcntl", "__future__"}  # os is always loaded; warm.py loads __future__ too

"""Locks: a run's shared hold survives exec, pruners and builders exclude each other, stale ones go."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from reprorun.envs import exclusive, layout, liveness, locks

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
from reprorun.envs.exclusive import Lock
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
    assert exclusive.flock_exclusive(use, blocking=False) is None
    _end(process)
    fd = exclusive.flock_exclusive(use, blocking=False)
    assert fd is not None
    os.close(fd)


def test_two_runs_share_an_env(tmp_path):
    build = _env_dir(tmp_path)
    first, second = _holder(tmp_path, build), _holder(tmp_path, build)
    _end(first)
    assert exclusive.flock_exclusive(str(tmp_path / "locks" / f"{build}.use"), blocking=False) is None
    _end(second)


def test_hold_and_verify_is_false_for_a_removed_env(tmp_path):
    build = _env_dir(tmp_path)
    assert locks.hold_and_verify(str(tmp_path), build)
    assert not locks.hold_and_verify(str(tmp_path), "z" * 20 + "-gone")


def test_exclusive_lock_follows_a_file_unlinked_by_a_sweep(tmp_path):
    path = str(tmp_path / "x.lock")
    fd = exclusive.flock_exclusive(path, blocking=False)
    assert fd is not None
    os.unlink(path)  # what a stale-lock sweep does while holding it
    os.close(fd)
    again = exclusive.flock_exclusive(path, blocking=False)
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
    first, second = exclusive.Lock(str(tmp_path / "k.lock")), exclusive.Lock(str(tmp_path / "k.lock"))
    assert first.acquire(blocking=False)
    assert (tmp_path / "k.lock.d" / "owner").read_text().splitlines()[:2] == [liveness.host(), str(os.getpid())]
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
    (folder / "owner").write_text(f"{liveness.host()}\n{dead.stdout.strip()}\n\n")
    lock = exclusive.Lock(str(tmp_path / "k.lock"))
    assert lock.acquire(blocking=False)
    lock.release()


def test_mkdir_lock_of_another_host_is_broken_only_when_silent(tmp_path, monkeypatch):
    monkeypatch.setenv("REPRORUN_LOCK", "mkdir")
    monkeypatch.setenv("REPRORUN_LOCK_STALE", "30")
    folder = tmp_path / "k.lock.d"
    folder.mkdir()
    owner = folder / "owner"
    owner.write_text("some-other-node\n4242\n123\n")
    assert not exclusive.Lock(str(tmp_path / "k.lock")).acquire(blocking=False)  # fresh heartbeat
    old = os.stat(owner).st_mtime - 600
    os.utime(owner, (old, old))
    lock = exclusive.Lock(str(tmp_path / "k.lock"))
    assert lock.acquire(blocking=False)
    lock.release()


def test_mkdir_heartbeat_refreshes_the_owner_file(tmp_path, monkeypatch):
    monkeypatch.setenv("REPRORUN_LOCK", "mkdir")
    monkeypatch.setenv("REPRORUN_LOCK_STALE", "1")  # beats every quarter second
    lock = exclusive.Lock(str(tmp_path / "k.lock"))
    assert lock.acquire()
    owner = tmp_path / "k.lock.d" / "owner"
    old = os.stat(owner).st_mtime - 600
    os.utime(owner, (old, old))
    while os.stat(owner).st_mtime == old:  # ends when the heartbeat thread touches it
        time.sleep(0.05)
    lock.release()


def test_mkdir_use_marker_names_host_and_pid(tmp_path, monkeypatch):
    build = _env_dir(tmp_path)
    process = _holder(tmp_path, build, mode="mkdir")
    marker = tmp_path / "used" / f"{build}.{liveness.host()}.{process.pid}"
    assert marker.is_file()
    from reprorun.envs.cache import Cache
    from reprorun.envs.markers import in_use_elsewhere

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


def test_a_running_process_is_alive_only_with_its_own_start_time():
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE, text=True)
    try:
        start = liveness.process_start(child.pid)
        assert start.isdigit()
        assert liveness.alive(child.pid, start)
        assert liveness.alive(child.pid, "")  # no start recorded: the pid alone decides
        assert not liveness.alive(child.pid, str(int(start) + 1))  # the pid was reused by another process
    finally:
        _end(child)
    assert not liveness.alive(child.pid, start)  # ended and reaped


def test_a_killed_process_not_yet_reaped_is_dead():
    # A zombie still answers kill(0) and keeps its /proc entry and start time; it holds nothing,
    # so a temporary folder, an mkdir lock or a use marker it left must not count as in use.
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    start = liveness.process_start(child.pid)
    os.kill(child.pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while Path(f"/proc/{child.pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    os.kill(child.pid, 0)  # it still "exists"
    assert not liveness.alive(child.pid, start)
    child.wait()


def test_a_process_whose_main_thread_ended_before_its_others_is_alive():
    # pthread_exit in the main thread leaves the leader a zombie while the process runs on.
    code = textwrap.dedent("""\
        import ctypes, sys, threading, time
        threading.Thread(target=lambda: (print("up", flush=True), time.sleep(60))).start()
        time.sleep(0.2)
        ctypes.CDLL(None).pthread_exit(None)
    """)
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline() == "up\n"
        start = liveness.process_start(child.pid)
        deadline = time.monotonic() + 30
        while Path(f"/proc/{child.pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert liveness.alive(child.pid, start)
    finally:
        child.kill()
        child.communicate()


def test_a_run_holds_its_env_on_a_read_only_mount(tmp_path):
    # A cache exported read-only (to compute nodes, say): the lock file cannot be opened for
    # writing (EROFS), but a shared flock on a read-only descriptor holds the env all the same.
    from multiuser import remount, tmpfs

    with tmpfs("4m") as disk:
        build = _env_dir(disk)
        (disk / "locks" / f"{build}.use").touch()
        remount(disk, "ro")
        try:
            process = _holder(disk, build)
            try:
                assert exclusive.flock_exclusive(str(disk / "locks" / f"{build}.use"), blocking=False) is None
            finally:
                _end(process)
            fd = exclusive.flock_exclusive(str(disk / "locks" / f"{build}.use"), blocking=False)
            assert fd is not None  # the holder ended: free again
            os.close(fd)
        finally:
            remount(disk, "rw")

"""A cache shared by several users: a reader who cannot write it is protected from prune, and counts.

Root owns the cache (as a project account would on a cluster); `rr-reader` may only read it. Its
jobs run while root's `cache prune --older-than 0s` loops, in both lock modes: not one may lose
its env. And its use counts toward the env's last use, so the owner's default prune keeps an env
that only readers use (docs/cache.md, "Sharing a cache between users").
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from multiuser import Shared, reader_ids, shared_folder

pytestmark = pytest.mark.slow

JOB = """# /// script
# dependencies = ["beta"]
# ///
import os, sys, time
time.sleep(1.0)
import beta  # imported mid-run: the env must still be there
marker = os.path.join(sys.prefix, "reprorun-complete")
print("ok" if os.path.isfile(marker) else "env gone")
"""
JOBS = 8


@pytest.fixture
def shared(wheelhouse: Path):
    with shared_folder() as folder:
        folder.offer_wheels(wheelhouse)
        yield folder


def _build(shared: Shared, env: dict[str, str]) -> tuple[Path, str]:
    script = shared.script("job.py", JOB)
    built = shared.run("--python", shared.python, "sync", script, user=False, env=env)
    assert built.returncode == 0, built.stderr
    return script, Path(built.stdout.strip()).name


@pytest.mark.parametrize("lock_mode", ["flock", "mkdir"])
def test_readers_jobs_survive_the_owners_prune_loop(shared: Shared, lock_mode: str) -> None:
    # Every job has started (and holds the env) before the loop begins, and the loop runs until the
    # last job has ended: a job that started after a prune had removed the unused env would fail
    # rightly (a reader cannot build), so the test leaves no such gap to chance.
    env = {**shared.extra, "REPRORUN_LOCK": lock_mode}
    script = shared.script("waiting.py", WAITING_JOB)
    built = shared.run("--python", shared.python, "sync", script, user=False, env=env)
    assert built.returncode == 0, built.stderr
    build = Path(built.stdout.strip()).name
    jobs = _waiting_jobs(shared, script, env, JOBS)
    stop = threading.Event()
    prunes: list[subprocess.CompletedProcess[str]] = []

    def prune_loop() -> None:
        while not stop.is_set():
            prunes.append(shared.run("cache", "prune", "--older-than", "0s", user=False, env=env, timeout=120))

    pruner = threading.Thread(target=prune_loop)
    try:
        _wait_until_started(shared, jobs)
        pruner.start()
        while len(prunes) < 3:  # the owner prunes everything unused while the jobs wait ...
            time.sleep(0.1)
    finally:
        (shared.home / "go").touch()  # ... and while they import their package and end
        outcomes = [job.communicate(timeout=240) for job in jobs]
        stop.set()
        if pruner.is_alive():
            pruner.join()
    for job, (out, err) in zip(jobs, outcomes, strict=True):
        assert job.returncode == 0 and out == "ok\n", (job.returncode, out, err)
        assert "error" not in err, err
    assert all(p.returncode == 0 for p in prunes), [p.stderr for p in prunes if p.returncode]
    # Once the jobs are over, the env is free: a prune removes it (so the loop above could have).
    final = shared.run("cache", "prune", "--older-than", "0s", user=False, env=env)
    assert final.returncode == 0, final.stderr
    assert not (shared.cache / "envs" / build).exists()
    assert not [name for name in os.listdir(shared.cache / "readers") if name.startswith(build)]


@pytest.mark.parametrize("lock_mode", ["flock", "mkdir"])
def test_a_readers_use_counts_toward_last_use(shared: Shared, lock_mode: str) -> None:
    env = {**shared.extra, "REPRORUN_LOCK": lock_mode}
    script, build = _build(shared, env)
    forty_days_ago = time.time() - 40 * 86400
    os.utime(shared.cache / "used" / build, (forty_days_ago, forty_days_ago))
    ran = shared.run("--python", shared.python, script, user=True, env=env)
    assert ran.returncode == 0 and ran.stdout == "ok\n", ran.stderr
    uid, _gid = reader_ids()
    record = shared.cache / "readers" / f"{build}.uid{uid}"
    assert record.is_file() and record.stat().st_uid == uid
    assert time.time() - record.stat().st_mtime < 600
    # The owner's default prune (30 days) keeps it: a reader used it today.
    pruned = shared.run("cache", "prune", user=False, env=env)
    assert pruned.returncode == 0, pruned.stderr
    assert (shared.cache / "envs" / build).is_dir(), pruned.stderr
    listed = shared.run("cache", "list", "--json", user=False, env=env)
    assert '"last_used"' in listed.stdout
    # Without the reader's record, the same prune removes it: the record is what kept it.
    record.unlink()
    pruned = shared.run("cache", "prune", user=False, env=env)
    assert not (shared.cache / "envs" / build).exists(), pruned.stderr


def test_readers_folder_is_sticky_and_hostile_files_there_are_harmless(shared: Shared) -> None:
    env = {**shared.extra, "REPRORUN_LOCK": "mkdir"}
    _script, build = _build(shared, env)
    readers = shared.cache / "readers"
    assert readers.stat().st_mode & 0o7777 == 0o1777
    # Another user plants a FIFO and a symlink named like use markers of this env.
    uid, gid = reader_ids()
    fifo, link = readers / f"{build}.{os.uname().nodename}.1", readers / f"{build}.{os.uname().nodename}.2"
    os.mkfifo(fifo)
    os.symlink("/etc/passwd", link)
    os.lchown(fifo, uid, gid)  # pid 1 runs, but not as this user: not a use of the env
    os.lchown(link, uid, gid)
    started = time.monotonic()
    pruned = shared.run("cache", "prune", "--older-than", "0s", user=False, env=env, timeout=60)
    assert pruned.returncode == 0, pruned.stderr
    assert time.monotonic() - started < 30
    assert "Traceback" not in pruned.stderr
    assert not (shared.cache / "envs" / build).exists(), pruned.stderr  # not kept alive by planted files
    assert Path("/etc/passwd").exists()


# Starts, says so, and waits until the test has let the owner prune several times: only then does
# it import its package, so a prune that removed the env under it shows as a failure, every time.
WAITING_JOB = """# /// script
# dependencies = ["beta"]
# ///
import os, sys, time
home = os.environ["HOME"]
open(os.path.join(home, f"started.{os.getpid()}"), "w").close()
deadline = time.monotonic() + 240
while not os.path.exists(os.path.join(home, "go")) and time.monotonic() < deadline:
    time.sleep(0.05)
import beta
print("ok" if os.path.isfile(os.path.join(sys.prefix, "reprorun-complete")) else "env gone")
"""


def _waiting_jobs(shared: Shared, script: Path, env: dict[str, str], count: int) -> list[subprocess.Popen[str]]:
    """`count` runs of WAITING_JOB as the reader: each says it started, then waits for `go`."""
    return [subprocess.Popen(shared.popen_argv("--python", shared.python, script, user=True),
                             env=shared.environ(env), cwd=shared.root, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(count)]  # fmt: skip


def _wait_until_started(shared: Shared, jobs: list[subprocess.Popen[str]]) -> None:
    """Until every job holds its env and waits (each has written its `started.PID`)."""
    deadline = time.monotonic() + 180
    while len(list(shared.home.glob("started.*"))) < len(jobs):
        assert time.monotonic() < deadline, [job.poll() for job in jobs]
        assert all(job.poll() is None for job in jobs), [job.communicate() for job in jobs]
        time.sleep(0.1)


@pytest.mark.parametrize("lock_file", ["missing", "owner-only"])
@pytest.mark.parametrize("lock_mode", ["flock", "mkdir"])
def test_a_reader_is_protected_also_without_a_lock_file_it_can_open(shared: Shared, lock_mode: str,
                                                                    lock_file: str) -> None:  # fmt: skip
    # The owner's build leaves locks/<build>.use (mode 0644) for readers' shared flocks. A cache
    # copied without locks/, an owner's umask of 077, or a sweep by hand leave none a reader can
    # open: its run then leaves a use marker in readers/, which prune honours in both lock modes.
    env = {**shared.extra, "REPRORUN_LOCK": lock_mode}
    script = shared.script("waiting.py", WAITING_JOB)
    built = shared.run("--python", shared.python, "sync", script, user=False, env=env)
    assert built.returncode == 0, built.stderr
    build = Path(built.stdout.strip()).name
    lock = shared.cache / "locks" / f"{build}.use"
    if lock_file == "missing":
        lock.unlink(missing_ok=True)
    else:
        lock.touch()
        lock.chmod(0o600)
    jobs = _waiting_jobs(shared, script, env, 3)
    try:
        _wait_until_started(shared, jobs)
        for _ in range(3):  # the owner prunes everything unused, while the readers' jobs wait
            pruned = shared.run("cache", "prune", "--older-than", "0s", user=False, env=env, timeout=120)
            assert pruned.returncode == 0, pruned.stderr
            assert (shared.cache / "envs" / build).is_dir(), f"removed under a reader's job: {pruned.stderr}"
    finally:
        (shared.home / "go").touch()
        outcomes = [job.communicate(timeout=240) for job in jobs]
    for job, (out, err) in zip(jobs, outcomes, strict=True):
        assert job.returncode == 0 and out == "ok\n", (job.returncode, out, err)
    # The jobs are over: the next prune removes the env, and their markers with it.
    final = shared.run("cache", "prune", "--older-than", "0s", user=False, env=env)
    assert final.returncode == 0, final.stderr
    assert not (shared.cache / "envs" / build).exists(), final.stderr
    assert not [name for name in os.listdir(shared.cache / "readers") if name.startswith(build)]


def test_another_users_unreadable_pyenv_is_passed_over(shared: Shared, tmp_path: Path) -> None:
    # `sudo -u` or a shared login keeps PYENV_ROOT pointing at the first user's private pyenv.
    private = Path(tempfile.mkdtemp(dir="/tmp", prefix="reprorun-private-pyenv-"))
    try:
        (private / "versions" / "3.99.0" / "bin").mkdir(parents=True)
        private.chmod(0o700)
        script = shared.script("plain.py", "# /// script\n# dependencies = []\n# ///\nprint('ok')\n")
        own = {**shared.extra, "PYENV_ROOT": str(private), "REPRORUN_CACHE_DIR": str(shared.home / "own")}
        done = shared.run(script, user=True, env=own)
        assert (done.returncode, done.stdout) == (0, "ok\n"), done.stderr
    finally:
        shutil.rmtree(private)

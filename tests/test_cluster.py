"""cluster/slurm.py's readers of Slurm's output, and the env reservation `submit` leaves for prune."""

from __future__ import annotations

import os
import time
from pathlib import Path

from reprorun.cluster import slurm
from reprorun.envs import inventory, prune
from reprorun.envs.cache import Cache

SCONTROL = (
    "JobId=12 ArrayJobId=11 ArrayTaskId=1 JobName=analysis UserId=me(1000) JobState=COMPLETED Reason=None "
    "ExitCode=0:0 AllocNode:Sid=login:1 Command=/p/batch-1.sh WorkDir=/home/me/with space "
    "StdErr=/p/logs/11_1.err StdIn=/dev/null StdOut=/p/logs/11_1.out Power=\n"
    "JobId=13 ArrayJobId=11 ArrayTaskId=2 JobName=analysis JobState=FAILED Reason=NonZeroExitCode "
    "ExitCode=3:0 StdErr=/p/logs/11_2.err StdOut=/p/logs/11_2.out\n"
    "JobId=11 ArrayJobId=11 ArrayTaskId=3-31%4 JobName=analysis JobState=PENDING Reason=JobArrayTaskLimit "
    "ExitCode=0:0\n"
    "JobId=14 ArrayJobId=11 ArrayTaskId=0 JobState=CANCELLED ExitCode=0:15\n"
)


def test_parse_scontrol_reads_each_record() -> None:
    tasks = slurm.parse_scontrol(SCONTROL)
    assert [(t.task, t.state, t.exit_code, t.signal) for t in tasks] == [
        ("1", "COMPLETED", 0, 0), ("2", "FAILED", 3, 0), ("3-31%4", "PENDING", 0, 0), ("0", "CANCELLED", 0, 15)
    ]  # fmt: skip
    assert tasks[0].stdout == "/p/logs/11_1.out" and tasks[0].stderr == "/p/logs/11_1.err"
    assert [t.succeeded for t in tasks] == [True, False, False, False]
    assert [t.done for t in tasks] == [True, True, False, True]


def test_parse_scontrol_of_a_job_that_is_no_array() -> None:
    (task,) = slurm.parse_scontrol("JobId=7 JobName=a JobState=TIMEOUT ExitCode=0:1 StdErr=/l/7.err\n")
    assert (task.task, task.state, task.done, task.succeeded) == ("", "TIMEOUT", True, False)


def test_parse_sacct() -> None:
    text = "11_0|COMPLETED|0:0\n11_1|FAILED|2:0\n11_2|CANCELLED by 1000|0:15\n110_1|COMPLETED|0:0\n\n"
    tasks = slurm.parse_sacct(text, "11")
    assert [(t.task, t.state, t.exit_code, t.signal) for t in tasks] == [
        ("0", "COMPLETED", 0, 0), ("1", "FAILED", 2, 0), ("2", "CANCELLED", 0, 15)
    ]  # fmt: skip
    assert slurm.parse_sacct("7|COMPLETED|0:0\n", "7")[0].task == ""


def _cache_with_env(tmp_path: Path) -> tuple[Cache, str]:
    cache = Cache(tmp_path / "cache")
    cache.prepare()
    build = "0123456789abcdef0123-00000000"
    (cache.envs / build).mkdir()
    return cache, build


def test_reserve_sets_a_future_mtime_and_only_extends_it(tmp_path: Path) -> None:
    cache, build = _cache_with_env(tmp_path)
    assert inventory.reserved_until(cache, build) == 0.0
    inventory.reserve(cache, build, 3600)
    first = inventory.reserved_until(cache, build)
    assert time.time() + 3500 < first <= time.time() + 3600
    inventory.reserve(cache, build, 60)  # a shorter job does not shorten the reservation
    assert inventory.reserved_until(cache, build) == first


def test_reserve_defaults_to_the_use_ttl(tmp_path: Path, monkeypatch) -> None:
    cache, build = _cache_with_env(tmp_path)
    monkeypatch.setenv("REPRORUN_USE_TTL", "2h")
    inventory.reserve(cache, build)
    assert abs(inventory.reserved_until(cache, build) - (time.time() + 7200)) < 60


def test_a_reserved_env_survives_prune_by_age_and_size_until_it_expires(tmp_path: Path, run_reprorun) -> None:
    script = tmp_path / "s.py"
    script.write_text('# /// script\n# dependencies = ["alpha"]\n# ///\nprint("ok")\n')
    assert run_reprorun("sync", script).returncode == 0
    cache = Cache(Path(os.environ["REPRORUN_CACHE_DIR"]))
    (env,) = cache.envs.iterdir()
    inventory.reserve(cache, env.name, 3600)
    report = prune.prune(cache, older_than=0.0, max_size=0)
    assert report.removed == [] and report.skipped == [str(env)]
    marker = cache.used / f"{env.name}.reserved"
    os.utime(marker, (time.time() - 1, time.time() - 1))  # the reservation ran out
    report = prune.prune(cache, older_than=0.0, max_size=0)
    assert [path for path, _, _ in report.removed] == [str(env)]
    assert not marker.exists()  # swept with its env

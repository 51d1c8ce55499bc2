"""Builds and freezes killed at any moment leave nothing outside the cache, and nothing prune keeps.

Each process is killed with SIGKILL, its whole process group (pip, uv and their children too), at
delays spread over a whole build. TMPDIR points at an empty folder of the test: it must stay
empty, because every temporary folder of a build or freeze lives in the cache's `tmp/`, which the
next build and `cache prune` clear.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

KILLS = 20
BATCH = 4
SCRIPT = '# /// script\n# dependencies = ["gamma", "withextra[fancy]"]\n# ///\nprint("whole")\n'


def _killed(argvs: list[list[str]], env: dict[str, str], delays: list[float]) -> None:
    """Start the commands together, and kill each (its whole group) after its own delay."""
    start = time.monotonic()
    processes = [subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  start_new_session=True) for argv in argvs]  # fmt: skip
    for process, delay in sorted(zip(processes, delays, strict=True), key=lambda pair: pair[1]):
        time.sleep(max(0.0, start + delay - time.monotonic()))
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    for process in processes:
        process.wait(timeout=60)


def _environ(tmp_path: Path, cache: Path) -> tuple[dict[str, str], Path]:
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    env = dict(os.environ, TMPDIR=str(system_tmp), REPRORUN_CACHE_DIR=str(cache))
    return env, system_tmp


def _timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.monotonic()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    return time.monotonic() - start


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_killed_builds_leave_nothing_outside_the_cache(tmp_path: Path, reprorun_exe: Path, cache_dir: Path,
                                                        installer: str) -> None:  # fmt: skip
    script = tmp_path / "many.py"
    script.write_text(SCRIPT)
    env, system_tmp = _environ(tmp_path, cache_dir)
    sync = [str(reprorun_exe), "--installer", installer, "--refresh", "sync", str(script)]
    whole = _timed(sync, env)  # one build to time, and to warm pip's unpacked wheel
    for batch in range(0, KILLS, BATCH):  # a few at once: the machine's cores, and a busier disk
        delays = [whole * (i + 0.5) / KILLS for i in range(batch, batch + BATCH)]
        _killed([sync] * BATCH, env, delays)
        assert list(system_tmp.iterdir()) == [], f"kills {batch}+: {list(system_tmp.iterdir())}"
    leftovers = os.listdir(cache_dir / "tmp")
    # The next build clears what killed ones left in the cache's tmp/ (their processes are dead).
    ran = subprocess.run([str(reprorun_exe), "--installer", installer, "--refresh", str(script)], env=env,
                         capture_output=True, text=True, check=False, timeout=300)  # fmt: skip
    assert ran.returncode == 0 and ran.stdout == "whole\n", ran.stderr
    assert os.listdir(cache_dir / "tmp") == [], leftovers
    assert list(system_tmp.iterdir()) == []
    # And prune removes every env the kills left half built, and every superseded one.
    pruned = subprocess.run([str(reprorun_exe), "cache", "prune"], env=env, capture_output=True, text=True,
                            check=False, timeout=300)  # fmt: skip
    assert pruned.returncode == 0, pruned.stderr
    assert len(os.listdir(cache_dir / "envs")) == 1
    assert os.listdir(cache_dir / "tmp") == []


def test_killed_freezes_leave_the_file_whole_and_nothing_outside_the_cache(
    tmp_path: Path, reprorun_exe: Path, cache_dir: Path
) -> None:
    env, system_tmp = _environ(tmp_path, cache_dir)
    scripts = [tmp_path / f"frozen{n}.py" for n in range(BATCH)]
    for script in scripts:
        script.write_text(SCRIPT)
    whole = _timed([str(reprorun_exe), "--freeze", str(scripts[0])], env)
    frozen = scripts[0].read_text()
    assert frozen != SCRIPT and "==" in frozen
    for batch in range(0, KILLS, BATCH):
        for script in scripts:
            script.write_text(SCRIPT)
        delays = [whole * (i + 0.5) / KILLS for i in range(batch, batch + BATCH)]
        _killed([[str(reprorun_exe), "--freeze", str(script)] for script in scripts], env, delays)
        for script in scripts:
            assert script.read_text() in (SCRIPT, frozen), f"kills {batch}+: a partial file"
        assert list(system_tmp.iterdir()) == [], f"kills {batch}+: {list(system_tmp.iterdir())}"
    pruned = subprocess.run([str(reprorun_exe), "cache", "prune"], env=env, capture_output=True, text=True,
                            check=False, timeout=300)  # fmt: skip
    assert pruned.returncode == 0, pruned.stderr
    assert os.listdir(cache_dir / "tmp") == []

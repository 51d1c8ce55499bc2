"""Many runs of never-seen scripts at once while `cache prune` loops: nothing in use goes (issue 6)."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
import threading
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _runs_hold_their_env() -> bool:
    # The run path (commands/run.py, warm.py) takes the use lock; until it does, this cannot pass.
    import inspect

    from reprorun.commands import run

    return "hold_and_verify" in inspect.getsource(run) or "hold_for_run" in inspect.getsource(run)

SCRIPTS = {"one": "alpha==1.0", "two": "beta", "three": "delta", "four": "withextra"}

BODY = """\
import os, sys, time
from pathlib import Path
marker = Path(sys.prefix, "reprorun-complete")
Path(os.environ["STARTED"], "{name}-%d" % os.getpid()).touch()
release = Path(os.environ["RELEASE"])
while not release.exists():  # hold the env until the test has pruned around us
    if not marker.is_file() or not Path(sys.executable).exists():
        sys.exit("my environment was removed while I was running")
    time.sleep(0.02)
import {module}
print("ok {name}", marker.is_file())
"""


def _script(folder: Path, name: str, requirement: str) -> Path:
    module = requirement.split("=", maxsplit=1)[0]
    path = folder / f"{name}.py"
    block = f'# /// script\n# dependencies = ["{requirement}"]\n# ///\n'
    path.write_text(block + textwrap.dedent(BODY.format(name=name, module=module)), encoding="utf-8")
    return path


@pytest.mark.skipif(not _runs_hold_their_env(), reason="commands/run.py does not hold its env yet (issue 6)")
@pytest.mark.parametrize("lock_mode", ["flock", "mkdir"])
def test_sixteen_runs_while_prune_loops(reprorun_exe, run_reprorun, tmp_path, cache_dir, wheelhouse, lock_mode):
    started, release = tmp_path / "started", tmp_path / "release"
    started.mkdir()
    env = {**os.environ, "STARTED": str(started), "RELEASE": str(release),
           "REPRORUN_LOCK": lock_mode}  # fmt: skip
    paths = {name: _script(tmp_path, name, req) for name, req in SCRIPTS.items()}
    stop = threading.Event()
    prunes: list[subprocess.CompletedProcess[str]] = []

    def prune_loop() -> None:
        while not stop.is_set():
            prunes.append(subprocess.run([str(reprorun_exe), "cache", "prune", "--older-than", "0d"], env=env,
                                         capture_output=True, text=True, check=False, timeout=120))  # fmt: skip

    pruner = threading.Thread(target=prune_loop)
    pruner.start()
    try:
        runs = [
            (name, subprocess.Popen([str(reprorun_exe), str(paths[name])], env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True))
            for _ in range(4)
            for name in SCRIPTS
        ]
        # Wait (no deadline: the suite's own timeout bounds it) until all 16 scripts run, or one ended.
        while len(list(started.iterdir())) < 16 and all(p.poll() is None for _, p in runs):
            stop.wait(0.05)
    finally:
        stop.set()
        pruner.join()
    # One more prune while all 16 still hold their envs: it must keep every one of them.
    last = run_reprorun("cache", "prune", "--older-than", "0d", env={"REPRORUN_LOCK": lock_mode})
    listing = run_reprorun("cache", "list", "--json", env={"REPRORUN_LOCK": lock_mode})
    release.touch()
    for name, process in runs:
        out, err = process.communicate(timeout=300)
        assert (process.returncode, out) == (0, f"ok {name} True\n"), err
    assert prunes and all(p.returncode == 0 for p in prunes), [p.stderr for p in prunes if p.returncode]
    assert last.returncode == 0, last.stderr
    rows = json.loads(listing.stdout)
    assert len(rows) == 4, rows
    assert {r["state"] for r in rows} == {"ready"}
    assert sorted(Path(s).stem for r in rows for s in r["scripts"]) == sorted(SCRIPTS)
    leftovers = [p.name for p in (cache_dir / "envs").iterdir() if p.name not in {r["build"] for r in rows}]
    assert leftovers == []

"""The cyclic garbage collector on a cold run: off while the command line imports and builds,
on again before any work that may run long (a command, a freeze, a recorded run's parent).

`reprorun.__main__` turns it off before importing the command line (the collector's passes over
the objects imports make were 4 % of a cold run's own instructions); cli.py turns it back on.
Each case runs the real entry point in a fresh interpreter, with the function that would do the
work replaced by one that reports `gc.isenabled()` and exits.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

from reprorun import cli

PROBE = """
import gc, os, sys
{patch}
sys.argv = ["reprorun", *{argv!r}]
from reprorun.__main__ import main
main(warm_tried=True)
"""


def probe(patch: str, argv: list[str], **extra: str) -> subprocess.CompletedProcess[str]:
    code = PROBE.format(patch=patch, argv=argv)
    env = {**os.environ, **extra}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False,
                          timeout=300)  # fmt: skip


def script(tmp_path: Path) -> Path:
    path = tmp_path / "s.py"
    path.write_text("# /// script\n# dependencies = []\n# ///\nprint('ran')\n", encoding="utf-8")
    return path


EXEC_REPORTS = """
def report(path, argv, env):
    print("collector on at exec:", gc.isenabled(), flush=True)
    os._exit(0)
os.execve = report
"""


def test_a_run_builds_and_execs_with_the_collector_off(tmp_path: Path) -> None:
    done = probe(EXEC_REPORTS, [str(script(tmp_path))])
    assert done.returncode == 0, done.stderr
    assert done.stdout == "collector on at exec: False\n"
    assert "creating an environment" in done.stderr  # it was a cold run: it built


def test_a_run_of_a_built_env_through_the_command_line_also(tmp_path: Path) -> None:
    path = script(tmp_path)
    assert probe(EXEC_REPORTS, [str(path)]).returncode == 0
    done = probe(EXEC_REPORTS, [str(path)], REPRORUN_WARM="0")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "collector on at exec: False\n"
    assert done.stderr == ""


def test_a_recorded_run_supervises_with_the_collector_on(tmp_path: Path) -> None:
    patch = """
import reprorun.launch.execute as execute
def report(plan):
    print("supervised:", plan.supervisor is not None, "collector on:", gc.isenabled(), flush=True)
    return 0
execute.execute = report
"""
    done = probe(patch, ["--record", str(tmp_path / "records"), str(script(tmp_path))])
    assert done.returncode == 0, done.stderr
    assert done.stdout == "supervised: True collector on: True\n"


def test_a_command_works_with_the_collector_on(tmp_path: Path) -> None:
    patch = """
import reprorun.commands.cache as cache
def report(name, ns, options):
    print("collector on:", gc.isenabled(), flush=True)
    return 0
cache.run = report
"""
    done = probe(patch, ["cache", "dir"])
    assert done.returncode == 0, done.stderr
    assert done.stdout == "collector on: True\n"


def test_a_freeze_works_with_the_collector_on(tmp_path: Path) -> None:
    patch = """
import reprorun.commands.freeze as freeze
def report(path, args, ns, options):
    print("collector on:", gc.isenabled(), flush=True)
    return 0
freeze.run_script = report
"""
    done = probe(patch, ["--freeze", str(script(tmp_path))])
    assert done.returncode == 0, done.stderr
    assert done.stdout == "collector on: True\n"


def test_main_called_in_process_leaves_the_collector_on(capsys: object) -> None:
    assert gc.isenabled()
    assert cli.main(["cache", "dir"]) == 0
    assert gc.isenabled()

"""Runs under `reprorun submit --record` record each task, on the session's real Slurm (tests/slurm.py)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from crates import check_crate, records_in
from slurm import Cluster

pytestmark = pytest.mark.slow

SCRIPT = """\
# /// script
# dependencies = ["alpha"]
# ///
import os, sys, time
import alpha
task = os.environ.get("SLURM_ARRAY_TASK_ID", "job")
print("task", task, "alpha", alpha.__version__, sys.argv[1:], flush=True)
with open(os.path.join(sys.argv[1], task + ".txt"), "w") as handle:
    handle.write(task)
if os.environ.get("SLEEP"):
    open(os.path.join(sys.argv[1], "started"), "w").close()
    time.sleep(float(os.environ["SLEEP"]))
"""


def test_dry_run_shows_the_record_options_given_to_every_task(run_reprorun, tmp_path) -> None:
    script = tmp_path / "analysis.py"
    script.write_text(SCRIPT)
    shown = run_reprorun("submit", "--dry-run", "--record", "runs", "--record-output", "--outputs", "out",
                         script, "out", cwd=tmp_path)  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert f"--record={tmp_path / 'runs'} --record-output --outputs={tmp_path / 'out'}" in shown.stdout
    plain = run_reprorun("submit", "--dry-run", script, "out", cwd=tmp_path)
    assert "--record" not in plain.stdout
    bad = run_reprorun("submit", "--dry-run", "--outputs", "out", script, cwd=tmp_path)
    assert bad.returncode == 2 and "belong to a recorded run" in bad.stderr


def test_every_array_task_writes_its_record(slurm: Cluster, run_reprorun, tmp_path) -> None:
    script = tmp_path / "analysis.py"
    script.write_text(SCRIPT)
    out = tmp_path / "out"
    out.mkdir()
    runs = tmp_path / "runs"
    proc = run_reprorun("submit", "--record", runs, "--record-output", "--outputs", out, "--array", "0-2", "--wait",
                        script, out, cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    job = proc.stdout.strip()
    made = [check_crate(record) for record in records_in(runs)]
    assert len(made) == 3
    by_task = {facts["slurm"]["array-task"]: (record, facts) for record, facts in zip(records_in(runs), made,
                                                                                      strict=True)}  # fmt: skip
    assert sorted(by_task) == ["0", "1", "2"]
    for task, (record, facts) in by_task.items():
        assert facts["slurm"]["array-job"] == job
        assert facts["exit"]["code"] == 0
        assert facts["run"]["argv"] == [str(out)]
        assert "/snapshots/" in facts["script"]["path"]  # the snapshot the task ran, not the edited script
        assert (record / "stdout.txt").read_text() == f"task {task} alpha 2.0 ['{out}']\n"
        # its own file; the tasks run at once, so another's may have appeared during its run too
        assert str(out / f"{task}.txt") in [o["path"] for o in facts["outputs"]]
        assert facts["variables"]["SLURM_ARRAY_TASK_ID"] == task


def test_a_cancelled_task_records_its_sigterm(slurm: Cluster, run_reprorun, tmp_path) -> None:
    """scancel (as a time limit does) sends SIGTERM: the record says so, written in Slurm's grace time."""
    script = tmp_path / "analysis.py"
    script.write_text(SCRIPT)
    out = tmp_path / "out"
    out.mkdir()
    runs = tmp_path / "runs"
    proc = run_reprorun("submit", "--record", runs, script, out, cwd=tmp_path, env={"SLEEP": "300"})
    assert proc.returncode == 0, proc.stderr
    job = proc.stdout.strip()
    deadline = time.monotonic() + 120
    while not (out / "started").exists():
        assert time.monotonic() < deadline, slurm.logs()
        time.sleep(0.2)
    slurm.command("scancel", job)
    slurm.wait(job)
    deadline = time.monotonic() + 60
    while not records_in(runs) if runs.is_dir() else True:
        assert time.monotonic() < deadline, slurm.logs()
        time.sleep(0.2)
    (record,) = records_in(runs)
    facts = check_crate(record)
    assert facts["exit"]["signal"] == "SIGTERM", json.dumps(facts["exit"])
    assert facts["slurm"]["job"] == job
    assert Path(facts["script"]["path"]).name == "analysis.py"

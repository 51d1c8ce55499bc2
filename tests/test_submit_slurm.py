"""`reprorun submit` and `sbatch script.py` on the session's real one-node Slurm (tests/slurm.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from slurm import Cluster

pytestmark = pytest.mark.slow

# Writes what it saw to OUT/<task>.json; fails with status 3 in the task named by FAIL_TASK.
SCRIPT = """\
#!/usr/bin/env reprorun
# /// script
# dependencies = ["alpha"]
# ///
#SBATCH --time=5
import json, os, sys
import alpha
task = os.environ.get("SLURM_ARRAY_TASK_ID", "job")
out = os.path.join(sys.argv[1], task + ".json")
with open(out, "w") as handle:
    json.dump({"argv": sys.argv[2:], "alpha": alpha.__version__, "file": __file__, "version": "{VERSION}"}, handle)
if os.environ.get("FAIL_TASK") == task:
    sys.exit(3)
"""


def write_script(path: Path, version: str = "submitted", text: str = SCRIPT) -> Path:
    path.write_text(text.replace("{VERSION}", version))
    return path


def results(folder: Path) -> dict[str, dict[str, object]]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


def envs_built(cache_dir: Path) -> list[str]:
    return sorted(p.name for p in (cache_dir / "envs").iterdir() if not p.name.startswith("."))


def job_id(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_array_of_32_tasks_of_a_never_built_script(slurm: Cluster, run_reprorun, tmp_path, cache_dir) -> None:
    script = write_script(tmp_path / "analysis.py")
    out = tmp_path / "out"
    out.mkdir()
    start = time.monotonic()
    proc = run_reprorun("submit", "--array", "0-31", "--wait", script, out, cwd=tmp_path)
    elapsed = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().isdigit()  # the job id, alone on stdout
    assert "32 tasks succeeded" in proc.stderr
    found = results(out)
    assert sorted(found, key=int) == [str(i) for i in range(32)]
    assert {r["alpha"] for r in found.values()} == {"2.0"}
    assert {r["version"] for r in found.values()} == {"submitted"}
    assert all(str(r["file"]).startswith(str(cache_dir / "snapshots")) for r in found.values())
    assert len(envs_built(cache_dir)) == 1
    print(f"32-task array: submit to last task done (with the env build) in {elapsed:.1f}s")


def test_each_row_reaches_its_task_intact(slurm: Cluster, run_reprorun, tmp_path) -> None:
    script = write_script(tmp_path / "analysis.py")
    out = tmp_path / "out"
    out.mkdir()
    nasty = "it's \"quoted\" $HOME `id` $(id) ; *"
    rows = [{"name": f"row {i}", "value": nasty if i == 5 else str(i * i)} for i in range(8)]
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    proc = run_reprorun("submit", "--wait", "--each", "rows.jsonl", script, out, "--name={name}", "{value}", "{task}",
                        cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    found = results(out)
    assert len(found) == 8
    for task, row in enumerate(rows):
        assert found[str(task)]["argv"] == [f"--name={row['name']}", row["value"], str(task)]


def test_edits_after_submission_do_not_reach_queued_tasks(slurm: Cluster, run_reprorun, tmp_path, cache_dir) -> None:
    script = write_script(tmp_path / "analysis.py")
    out = tmp_path / "out"
    out.mkdir()
    job = job_id(run_reprorun("submit", "--array", "0-3", "--sbatch", "hold", script, out, cwd=tmp_path))
    edited = SCRIPT.replace('["alpha"]', '["alpha<2"]')  # another block: another env, if anyone built it
    write_script(script, "edited", edited)
    slurm.command("scontrol", "release", job)
    slurm.wait(job)
    found = results(out)
    assert len(found) == 4
    assert {r["version"] for r in found.values()} == {"submitted"}
    assert {r["alpha"] for r in found.values()} == {"2.0"}
    assert len(envs_built(cache_dir)) == 1


def test_wait_names_the_failed_task_and_keeps_the_others(slurm: Cluster, run_reprorun, tmp_path) -> None:
    script = write_script(tmp_path / "analysis.py")
    out = tmp_path / "out"
    out.mkdir()
    proc = run_reprorun("submit", "--array", "0-3", "--wait", script, out, cwd=tmp_path, env={"FAIL_TASK": "2"})
    assert proc.returncode == 1
    job = proc.stdout.strip()
    assert f"reprorun: job {job}: task 2 FAILED (exit code 3); log: " in proc.stderr
    log = proc.stderr.split("log: ", 1)[1].split()[0]
    assert log.endswith(f"/logs/{job}_2.err") and Path(log).is_file()
    assert proc.stderr.rstrip().splitlines()[-2] == f"reprorun: error: job {job}: 1 of 4 tasks failed"
    assert sorted(results(out)) == ["0", "1", "2", "3"]  # the others ran and wrote their results


def test_sbatch_lines_are_honoured_and_overridden(slurm: Cluster, run_reprorun, tmp_path) -> None:
    text = SCRIPT.replace("#SBATCH --time=5\n", '#SBATCH --time=5 -J "two words" --comment=from-script\n')
    script = write_script(tmp_path / "analysis.py", text=text)
    job = job_id(run_reprorun("submit", "--sbatch=--hold", "--sbatch", "comment=from-cli", script, tmp_path,
                              cwd=tmp_path))  # fmt: skip
    shown = slurm.command("scontrol", "show", "job", "-o", job).stdout
    slurm.command("scancel", job)
    assert "JobName=two words " in shown
    assert "Comment=from-cli " in shown
    assert "TimeLimit=00:05:00 " in shown


def test_sbatch_reads_what_we_read(slurm: Cluster, run_reprorun, tmp_path) -> None:
    from reprorun.cluster import batch

    lines = r"""#SBATCH --comment='it''s \"so\"' #a comment
#SBATCH --job-name=a\#b#c -t 7
"""
    script = write_script(tmp_path / "analysis.py", text=SCRIPT.replace("#SBATCH --time=5\n", lines))
    ours = [arg for d in batch.directives(script.read_text(), "analysis.py") for arg in d.args]
    assert ours == ['--comment=its "so"', "--job-name=a#b"]
    job = job_id(run_reprorun("submit", "--sbatch=--hold", script, tmp_path, cwd=tmp_path))
    shown = slurm.command("scontrol", "show", "job", "-o", job).stdout
    slurm.command("scancel", job)
    assert 'Comment=its "so" ' in shown and "JobName=a#b " in shown
    assert "TimeLimit=UNLIMITED " in shown  # "-t 7" came after an unquoted '#': a comment to sbatch too


def test_a_refused_submission_shows_slurms_message(slurm: Cluster, run_reprorun, tmp_path) -> None:
    script = write_script(tmp_path / "analysis.py")
    proc = run_reprorun("submit", "--sbatch=--partition=nosuchpartition", script, tmp_path, cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert "reprorun: error: sbatch refused the job: " in proc.stderr
    assert "invalid partition" in proc.stderr.lower()


def test_tasks_never_build_they_fail_offline_instead(slurm: Cluster, run_reprorun, tmp_path, cache_dir) -> None:
    script = write_script(tmp_path / "analysis.py")
    job = job_id(run_reprorun("submit", "--sbatch=--hold", script, tmp_path, cwd=tmp_path))
    for env in (cache_dir / "envs").iterdir():
        shutil.rmtree(env)  # as if it had never been built on the login node
    slurm.command("scontrol", "release", job)
    slurm.wait(job)
    assert slurm.states(job) == {job: "FAILED 1:0"}
    log = next((cache_dir / "snapshots").glob(f"*/logs/{job}.err")).read_text()
    assert "--offline forbids building it" in log
    assert not list((cache_dir / "envs").iterdir())


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under root (but Slurm's task logs) with its size and mtime."""
    found = {}
    for folder, dirs, files in os.walk(root):
        if os.path.basename(folder) == "logs":
            dirs[:] = []  # Slurm writes the task logs; the tasks' own writes are what counts
            continue
        for name in (*dirs, *files):
            path = os.path.join(folder, name)
            info = os.lstat(path)
            if name != "logs":
                found[os.path.relpath(path, root)] = (info.st_size, info.st_mtime_ns)
    return found


def test_a_warm_task_writes_at_most_one_small_file(slurm: Cluster, run_reprorun, tmp_path, cache_dir) -> None:
    script = write_script(tmp_path / "analysis.py")
    job = job_id(run_reprorun("submit", "--array", "0-7", "--sbatch=--hold", script, tmp_path, cwd=tmp_path))
    time.sleep(0.05)  # a later mtime is visible even on coarse clocks
    before = _tree(cache_dir)
    slurm.command("scontrol", "release", job)
    slurm.wait(job)
    assert len(results(tmp_path)) == 8
    after = _tree(cache_dir)
    changed = sorted(path for path in set(before) | set(after) if before.get(path) != after.get(path))
    # Eight tasks touched (mtime only) the env's one `used/<build>` marker, and wrote nothing else.
    assert len(changed) <= 1, changed
    assert all(path.startswith("used/") and after[path][0] == 0 for path in changed), changed


def test_tasks_run_with_a_read_only_cache(slurm: Cluster, run_reprorun, tmp_path, cache_dir) -> None:
    script = write_script(tmp_path / "analysis.py")
    out = tmp_path / "out"
    out.mkdir()
    job = job_id(run_reprorun("submit", "--array", "0-1", "--sbatch=--hold", script, out, cwd=tmp_path))
    batch_file = next((cache_dir / "snapshots").glob("*/batch-*.sh"))
    slurm.command("scancel", job)
    # The batch script itself, as a task would run it, in a mount namespace where the cache is read-only.
    ro = f"mount --bind {cache_dir} {cache_dir} && mount -o remount,ro,bind {cache_dir} && "
    probe = subprocess.run(["unshare", "-m", "sh", "-c", ro + f"touch {cache_dir}/probe"], capture_output=True,
                           text=True, check=False)  # fmt: skip
    if "Read-only file system" not in probe.stderr:
        pytest.skip(f"cannot mount the cache read-only here: {probe.stderr.strip()}")
    task = subprocess.run(["unshare", "-m", "sh", "-c", ro + f"bash {batch_file}"], capture_output=True, text=True,
                          env={**os.environ, "SLURM_ARRAY_TASK_ID": "1"}, cwd=tmp_path, check=False)  # fmt: skip
    assert task.returncode == 0, task.stderr
    assert results(out)["1"]["alpha"] == "2.0"


def test_cache_prune_looping_during_the_job_breaks_no_task(slurm: Cluster, run_reprorun, tmp_path, cache_dir) -> None:
    text = SCRIPT.replace("import alpha\n", "import alpha, time\ntime.sleep(0.5)\n")
    script = write_script(tmp_path / "analysis.py", text=text)
    out = tmp_path / "out"
    out.mkdir()
    stop = threading.Event()
    prunes: list[int] = []

    def prune_loop() -> None:
        while not stop.is_set():
            prunes.append(run_reprorun("cache", "prune", "--older-than", "0s", "--max-size", "0").returncode)

    job = job_id(run_reprorun("submit", "--array", "0-11%4", script, out, cwd=tmp_path))  # 4 at a time: some wait
    looper = threading.Thread(target=prune_loop)
    looper.start()
    try:
        slurm.wait(job)
    finally:
        stop.set()
        looper.join()
    assert prunes and set(prunes) == {0}
    assert slurm.states(job) == {str(i): "COMPLETED 0:0" for i in range(12)}
    assert len(results(out)) == 12
    assert len(envs_built(cache_dir)) == 1


def test_sbatch_runs_a_script_with_the_shebang_with_one_build(slurm: Cluster, reprorun_exe, tmp_path, cache_dir) -> None:  # noqa: E501
    text = SCRIPT.replace("#SBATCH --time=5\n", f"#SBATCH --time=5 --output={tmp_path}/%A_%a.log\n")
    script = write_script(tmp_path / "analysis.py", text=text)
    script.chmod(0o755)
    env = {**os.environ, "PATH": f"{reprorun_exe.parent}{os.pathsep}{os.environ['PATH']}"}
    sub = subprocess.run(["sbatch", "--parsable", "--array=0-5", str(script), str(tmp_path)], env=env,
                         capture_output=True, text=True, check=True, cwd=tmp_path)  # fmt: skip
    job = sub.stdout.strip().split(";")[0]
    slurm.wait(job)
    logs = "".join(p.read_text() for p in tmp_path.glob("*.log"))
    assert slurm.states(job) == {str(i): "COMPLETED 0:0" for i in range(6)}, logs
    assert len(results(tmp_path)) == 6
    assert len(envs_built(cache_dir)) == 1  # the tasks waited for one build under the cache's build lock
    assert "building it inside Slurm job" in logs
    assert "reprorun submit" in logs  # the advice for clusters whose compute nodes have no network


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-s"]))

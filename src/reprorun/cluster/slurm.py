"""The one seam to Slurm: `sbatch` to submit, `scontrol` (or `sacct`) to follow a job to its end.

Every call goes through the project's subprocess seam (`reprorun.processes`). A finished job's
tasks stay visible to `scontrol` for `MinJobAge` seconds (300 by default); `wait` polls far more
often and keeps what it has seen, and asks `sacct` only when `scontrol` no longer knows the job.
"""

from __future__ import annotations

import logging
import re
import shutil
import time
from dataclasses import dataclass

from reprorun import processes
from reprorun.errors import ClusterError

log = logging.getLogger("reprorun")

# States after which a task never runs again (Slurm's job_state_string values).
FINAL = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED",
         "BOOT_FAIL", "DEADLINE", "REVOKED", "SPECIAL_EXIT"}  # fmt: skip
_FIELD = re.compile(r"(?:^|\s)([A-Za-z][\w:/]*)=")


@dataclass(frozen=True)
class Task:
    """One task of a job (an array task, or the job itself) as Slurm last reported it."""

    task: str  # the array task id ("3"), a pending range ("4-31"), or "" for a job that is no array
    state: str  # COMPLETED, FAILED, RUNNING, ...
    exit_code: int
    signal: int
    stdout: str = ""
    stderr: str = ""

    @property
    def done(self) -> bool:
        """Whether it has ended for good."""
        return self.state in FINAL

    @property
    def succeeded(self) -> bool:
        """Whether it ended with status 0."""
        return self.state == "COMPLETED" and self.exit_code == 0 and self.signal == 0


def sbatch() -> str:
    """The `sbatch` command, or a clear error when there is none."""
    found = shutil.which("sbatch")
    if found is None:
        raise ClusterError(
            "sbatch is not on PATH: this machine cannot submit to Slurm",
            hint="run reprorun submit on the cluster's login node (or --dry-run to see the batch script)",
        )
    return found


def submit(batch_file: str) -> str:
    """Submit a batch script with `sbatch --parsable`; return the job id."""
    result = processes.run([sbatch(), "--parsable", batch_file])
    if result.returncode != 0:
        raise ClusterError(f"sbatch refused the job: {result.tail() or f'exit status {result.returncode}'}")
    job = result.stdout.strip().split(";")[0]
    if not job.isdigit():
        raise ClusterError(f"sbatch did not print a job id: {result.output!r}")
    return job


def parse_scontrol(text: str) -> list[Task]:
    """The tasks in `scontrol show job -o` output (one record per line)."""
    tasks = []
    for line in text.splitlines():
        starts = list(_FIELD.finditer(line))
        fields = {
            m.group(1): line[m.end() : starts[i + 1].start() if i + 1 < len(starts) else len(line)].strip()
            for i, m in enumerate(starts)
        }
        if "JobState" not in fields:
            continue
        code, _, sig = fields.get("ExitCode", "0:0").partition(":")
        tasks.append(Task(fields.get("ArrayTaskId", ""), fields["JobState"], _int(code), _int(sig),
                          fields.get("StdOut", ""), fields.get("StdErr", "")))  # fmt: skip
    return tasks


def parse_sacct(text: str, job: str) -> list[Task]:
    """The tasks in `sacct -X -n -P -o JobID,State,ExitCode` output."""
    tasks = []
    for line in text.splitlines():
        parts = line.strip().split("|")
        if len(parts) < 3 or not (parts[0] == job or parts[0].startswith(job + "_")):
            continue
        task = parts[0][len(job) + 1 :]
        code, _, sig = parts[2].partition(":")
        tasks.append(Task(task, parts[1].split()[0] if parts[1] else "", _int(code), _int(sig)))
    return tasks


def _int(text: str) -> int:
    return int(text) if text.strip().isdigit() else 0


def query(job: str) -> list[Task] | None:
    """The job's tasks from `scontrol`; None when Slurm no longer knows the job."""
    result = processes.run(["scontrol", "show", "job", "-o", job])
    if result.returncode != 0:
        if "invalid job id" in result.output.lower():
            return None
        raise ClusterError(f"scontrol show job {job} failed: {result.tail()}")
    return parse_scontrol(result.stdout)


def accounting(job: str) -> list[Task] | None:
    """The job's tasks from Slurm's accounting (`sacct`), or None where accounting is off."""
    if shutil.which("sacct") is None:
        return None
    result = processes.run(["sacct", "-j", job, "-X", "-n", "-P", "-o", "JobID,State,ExitCode"])
    return parse_sacct(result.stdout, job) if result.returncode == 0 else None


def wait(job: str, poll: float = 0.25) -> list[Task]:
    """Wait until every task of the job has ended; return each task's last state."""
    seen: dict[str, Task] = {}
    delay = poll
    while True:
        current = query(job)
        if current is None:  # purged from slurmctld's memory before we saw the end
            from_accounting = accounting(job)
            if from_accounting is None:
                if seen and all(task.done for task in seen.values()):
                    break
                raise ClusterError(f"job {job} is no longer known to Slurm, and its accounting cannot be read")
            seen.update({task.task: task for task in from_accounting})
            break
        # A pending range ("4-31") is replaced by its tasks as they start; ended tasks are kept.
        seen = {key: task for key, task in seen.items() if key in {t.task for t in current} or task.done}
        seen.update({task.task: task for task in current})
        if current and all(task.done for task in current):
            break
        time.sleep(delay)
        delay = min(delay * 1.5, 5.0)
    return sorted(seen.values(), key=lambda t: (len(t.task), t.task))

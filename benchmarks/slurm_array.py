"""A 32-task array of a never-built script on a real one-node Slurm: how long, how many envs.

    python benchmarks/slurm_array.py [--tasks 32] [--runs 3]

Starts a private test cluster (tests/slurm.py: needs root and Debian's slurm-wlm and munge),
writes a script that depends on a tiny wheel from a local wheelhouse (tests/wheelhouse.py), and
times `reprorun submit --array 0-N --wait` in a fresh cache, run after run. It reports the tasks
run, the failures, the envs built, and three times: the whole command (env build included), from
submission (the job id on stdout) to the last task done (the newest task output file), and the
command's own exit after that (the --wait polling latency).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import slurm  # noqa: E402
from wheelhouse import build_wheelhouse  # noqa: E402

SCRIPT = """\
# /// script
# dependencies = ["alpha"]
# ///
import os, sys
import alpha
with open(os.path.join(sys.argv[1], os.environ["SLURM_ARRAY_TASK_ID"]), "w") as handle:
    handle.write(alpha.__version__)
"""


def one_run(work: Path, wheels: Path, tasks: int, cluster: slurm.Cluster) -> dict[str, object]:
    """One submission in a fresh cache; the figures of its job."""
    work.mkdir()
    (work / "out").mkdir()
    (work / "analysis.py").write_text(SCRIPT)
    env = {**os.environ, **cluster.env, "REPRORUN_CACHE_DIR": str(work / "cache"), "PIP_NO_INDEX": "1",
           "PIP_FIND_LINKS": str(wheels), "UV_OFFLINE": "1", "UV_NO_INDEX": "1", "UV_FIND_LINKS": str(wheels),
           "UV_CACHE_DIR": str(work / "uv-cache"), "PIP_CONFIG_FILE": os.devnull, "UV_NO_CONFIG": "1"}  # fmt: skip
    reprorun = Path(sys.executable).parent / "reprorun"
    argv = [str(reprorun), "submit", "--array", f"0-{tasks - 1}", "--wait", "analysis.py", "out"]
    start = time.time()
    process = subprocess.Popen(argv, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    job = process.stdout.readline().strip()
    submitted = time.time()
    _, err = process.communicate()
    finished = time.time()
    outputs = list((work / "out").iterdir())
    last_done = max((p.stat().st_mtime for p in outputs), default=submitted)
    return {
        "job": job,
        "status": process.returncode,
        "tasks_run": len(outputs),
        "failures": tasks - sum(p.read_text() == "2.0" for p in outputs),
        "envs_built": len([p for p in (work / "cache" / "envs").iterdir() if not p.name.startswith(".")]),
        "whole_command_s": round(finished - start, 2),
        "submit_to_last_task_done_s": round(last_done - submitted, 2),
        "wait_exit_after_last_task_s": round(finished - last_done, 2),
        "stderr_tail": err.strip().splitlines()[-1:] if process.returncode else [],
    }


def main() -> int:
    """Run the benchmark; print one JSON object per run and a summary line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=32)
    parser.add_argument("--runs", type=int, default=3)
    ns = parser.parse_args()
    reason = slurm.missing()
    if reason:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 1
    cluster = slurm.start()
    try:
        with tempfile.TemporaryDirectory(prefix="rr-bench-slurm-") as temp:
            wheels = Path(temp) / "wheels"
            wheels.mkdir()
            build_wheelhouse(wheels)
            figures = [one_run(Path(temp) / f"run{i}", wheels, ns.tasks, cluster) for i in range(ns.runs)]
    finally:
        cluster.stop()
    for figure in figures:
        print(json.dumps(figure))
    spans = sorted(float(f["submit_to_last_task_done_s"]) for f in figures)  # type: ignore[arg-type]
    print(f"{ns.tasks} tasks x {ns.runs} runs: submit -> last task done: median {spans[len(spans) // 2]:.2f}s "
          f"(min {spans[0]:.2f}s, max {spans[-1]:.2f}s)")  # fmt: skip
    return 0 if all(f["status"] == 0 and f["failures"] == 0 and f["envs_built"] == 1 for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())

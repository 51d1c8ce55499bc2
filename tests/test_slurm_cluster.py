"""The test cluster itself: a real sbatch job array runs on it, its files land where asked."""

from __future__ import annotations

from pathlib import Path

from slurm import Cluster, slurm_conf


def test_config_names_the_host_and_private_paths(tmp_path: Path) -> None:
    text = slurm_conf(tmp_path, "node1", 7001, 7002)
    assert "SlurmctldHost=node1(127.0.0.1)" in text
    assert "NodeName=node1 NodeAddr=127.0.0.1 CPUs=64" in text
    assert f"AuthInfo=socket={tmp_path}/munge/socket" in text
    assert "SlurmctldPort=7001" in text and "SlurmdPort=7002" in text


def test_a_job_array_runs(slurm: Cluster, tmp_path: Path) -> None:
    script = tmp_path / "job.sh"
    script.write_text('#!/bin/bash\necho "task $SLURM_ARRAY_TASK_ID"\n')
    out = slurm.command("sbatch", "--parsable", "--array=0-3", f"--output={tmp_path}/%A_%a.out", str(script))
    job = out.stdout.strip().split(";")[0]
    slurm.wait(job)
    assert slurm.states(job) == {str(i): "COMPLETED 0:0" for i in range(4)}
    for task in range(4):
        assert (tmp_path / f"{job}_{task}.out").read_text() == f"task {task}\n"

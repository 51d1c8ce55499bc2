"""A real one-node Slurm cluster for the test session (a pytest plugin, see conftest.py).

The session starts its own private cluster: a munge key and `munged` on its own socket, a
generated `slurm.conf` naming this machine (`hostname -s`) with ports free at start, private
state, spool and log folders, then `slurmctld` and `slurmd`. The node declares 64 CPUs
(`SlurmdParameters=config_overrides`), so two real cores run many one-CPU tasks at once. Several
test sessions on one machine each get their own cluster; nothing is shared but the binaries.
Tests reach it through `SLURM_CONF`, which the `slurm` fixture sets.

Slurm comes from Debian's `slurm-wlm` and `munge` packages (`.ci/run` installs them). Without
them, or without root (slurmd must start jobs as their user), the tests skip with the reason;
under CI (`CI` set) that is a failure instead: a test that skips in CI proves nothing.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import pytest

BINARIES = ("munged", "mungekey", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "sinfo", "scancel")
START_TIMEOUT = 60.0


def which(name: str) -> str | None:
    """A Slurm or munge program, also where root's daemons live when PATH lacks them."""
    return shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"]))


def missing() -> str | None:
    """Why this machine cannot run a test cluster, or None."""
    absent = [name for name in BINARIES if which(name) is None]
    if absent:
        return f"Slurm is not installed (no {', '.join(absent)}): apt-get install -y slurm-wlm munge"
    if os.geteuid() != 0:
        return "a test Slurm cluster needs root (slurmd starts jobs as their user)"
    return None


@dataclass
class Cluster:
    """A running private cluster: its folder, its config, its daemons."""

    root: Path
    host: str
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def conf(self) -> Path:
        """The slurm.conf that clients must be pointed at (SLURM_CONF)."""
        return self.root / "slurm.conf"

    @property
    def env(self) -> dict[str, str]:
        """The variables that make sbatch, squeue and scontrol talk to this cluster."""
        return {"SLURM_CONF": str(self.conf)}

    def command(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a Slurm client command against this cluster."""
        return subprocess.run(
            list(argv), env={**os.environ, **self.env}, capture_output=True, text=True, check=check, timeout=60
        )

    def wait(self, job: str, timeout: float = 180.0) -> None:
        """Wait until no task of the job is pending or running."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.command("squeue", "-h", "-j", job, "-o", "%i", check=False).stdout.strip():
                return
            time.sleep(0.2)
        raise AssertionError(f"job {job} still queued or running after {timeout}s:\n{self.logs()}")

    def states(self, job: str) -> dict[str, str]:
        """Task id (or job id) -> state and exit code, as `scontrol show job` reports them."""
        out = self.command("scontrol", "show", "job", "-o", job).stdout
        found = {}
        for line in out.splitlines():
            fields = dict(part.split("=", 1) for part in line.split() if "=" in part)
            task = fields.get("ArrayTaskId", fields.get("JobId", "?"))
            found[task] = f"{fields.get('JobState')} {fields.get('ExitCode')}"
        return found

    def logs(self) -> str:
        """The tail of the daemons' logs, for a failure message."""
        parts = []
        for name in ("slurmctld.log", "slurmd.log", "munged.log"):
            path = self.root / "log" / name
            if path.exists():
                parts.append(f"--- {name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-15:]))
        return "\n".join(parts)

    def stop(self) -> None:
        """Cancel every job, stop the daemons and remove the cluster's folder."""
        self.command("scancel", "--quiet", f"--user={os.geteuid()}", check=False)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and self.command("squeue", "-h", check=False).stdout.strip():
            time.sleep(0.2)
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        for process in reversed(self.processes):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def free_ports(count: int) -> list[int]:
    """Ports nobody listens on now (bound once by the kernel's choice, then released)."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def slurm_conf(root: Path, host: str, ctld_port: int, slurmd_port: int) -> str:
    """A one-node cluster's configuration, every path inside root."""
    return f"""\
# Generated for one reprorun test session (tests/slurm.py).
ClusterName=reprorun{os.getpid()}
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={root}/munge/socket
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/log/slurmctld.log
SlurmdLogFile={root}/log/slurmd.log
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SlurmdParameters=config_overrides
ReturnToService=2
MinJobAge=600
KillWait=5
InactiveLimit=0
MaxArraySize=4001
NodeName={host} NodeAddr=127.0.0.1 CPUs=64 State=UNKNOWN
PartitionName=test Nodes={host} Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
"""


def _die_with_parent() -> None:
    # A daemon must not outlive a killed test session: Linux sends it SIGTERM when we die.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def start() -> Cluster:
    """Start munged, slurmctld and slurmd in a private folder; wait until the node is idle."""
    host = socket.gethostname().split(".")[0]
    # Short paths: munge's and slurmstepd's Unix sockets live here (sun_path holds 108 bytes).
    root = Path(tempfile.mkdtemp(prefix="rrslurm-", dir="/tmp"))
    cluster = Cluster(root, host)
    try:
        for folder in ("munge", "state", "spool", "log"):
            (root / folder).mkdir(mode=0o700)
        root.chmod(0o755)  # munged refuses a socket folder others cannot reach
        (root / "munge").chmod(0o755)
        key = root / "munge" / "munge.key"
        subprocess.run([str(which("mungekey")), "--create", f"--keyfile={key}"], check=True, capture_output=True)
        cluster.conf.write_text(slurm_conf(root, host, *free_ports(2)))
        env = {**os.environ, "SLURM_CONF": str(cluster.conf)}
        daemons = (
            ["munged", "--foreground", "--force", f"--socket={root}/munge/socket", f"--key-file={key}",
             f"--pid-file={root}/munge/munged.pid", f"--seed-file={root}/munge/seed",
             f"--log-file={root}/log/munged.log"],
            ["slurmctld", "-D", "-i", "-f", str(cluster.conf)],
            ["slurmd", "-D", "-f", str(cluster.conf)],
        )  # fmt: skip
        for name, *args in daemons:
            argv = [str(which(name)), *args]
            with open(root / "log" / f"{name}.out", "wb") as out:
                # preexec_fn is safe here: the session starts its cluster before any thread.
                process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)  # noqa: PLW1509
                cluster.processes.append(process)
            if name == "munged":
                _wait_for((root / "munge" / "socket").exists, "munged's socket", cluster)
        _wait_for(lambda: _node_state(cluster) == "idle", "the node to come up idle", cluster)
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _node_state(cluster: Cluster) -> str:
    return cluster.command("sinfo", "-h", "-N", "-o", "%T", check=False).stdout.strip()


def _wait_for(ready: object, what: str, cluster: Cluster) -> None:
    assert callable(ready)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if ready():
            return
        dead = [cast("list[str]", p.args)[0] for p in cluster.processes if p.poll() is not None]
        if dead:
            raise RuntimeError(f"{dead[0]} exited while waiting for {what}:\n{_outputs(cluster)}")
        time.sleep(0.1)
    raise RuntimeError(f"timed out waiting for {what}:\n{_outputs(cluster)}")


def _outputs(cluster: Cluster) -> str:
    texts = [cluster.logs()]
    for path in sorted((cluster.root / "log").glob("*.out")):
        texts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-2000:]}")
    return "\n".join(texts)


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[Cluster]:
    """The session's private Slurm cluster (skipped where Slurm cannot run; failed under CI)."""
    reason = missing()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Slurm tests, but {reason}")
        pytest.skip(reason)
    try:
        cluster = start()
    except RuntimeError:  # e.g. a port taken between our choice and slurmctld's bind: once more
        cluster = start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def slurm(slurm_cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> Cluster:
    """The cluster, with SLURM_CONF set for this test and every command it runs."""
    for name, value in slurm_cluster.env.items():
        monkeypatch.setenv(name, value)
    return slurm_cluster

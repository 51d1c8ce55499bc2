"""The surroundings of a run: machine, GPUs, Slurm, git, and the variables that change results.

Each function returns plain JSON-ready data and never raises for a missing tool or file: a fact
that cannot be read is left out (or said to be unknown), it never fails the run it describes.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from typing import Any

# A recorded warm start (records/fast.py) loads this module: `re` and `subprocess` are imported
# only where a repository or nvidia-smi is found.

# Variables that change what a script computes (threads, devices, seeds, locale, determinism
# switches). Names, then prefixes; a secret-looking name is dropped even when it matches.
VARIABLES = (
    "PYTHONHASHSEED", "PYTHONPATH", "PYTHONWARNINGS", "PYTHONUTF8", "PYTHONIOENCODING", "PYTHONOPTIMIZE",
    "PYTHONUNBUFFERED", "PYTHONSAFEPATH", "CUDA_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES",
    "NVIDIA_VISIBLE_DEVICES", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "LC_NUMERIC", "LC_COLLATE", "LC_TIME",
    "TZ", "SOURCE_DATE_EPOCH", "MPLBACKEND", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS",
    "NUMEXPR_MAX_THREADS", "RAYON_NUM_THREADS", "POLARS_MAX_THREADS",
    # TensorFlow's by name: `TF_` is also Terraform's prefix (TF_VAR_*, TF_CLI_CONFIG_FILE, ...)
    "TF_DETERMINISTIC_OPS", "TF_CUDNN_DETERMINISTIC", "TF_ENABLE_ONEDNN_OPTS", "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS", "TF_XLA_FLAGS", "TF_GPU_ALLOCATOR", "TF_FORCE_GPU_ALLOW_GROWTH",
    "TF_ENABLE_AUTO_MIXED_PRECISION", "TF_USE_LEGACY_KERAS",
)  # fmt: skip
PREFIXES = (
    "OMP_", "MKL_", "KMP_", "OPENBLAS_", "GOTO_", "BLIS_", "CUDA_", "CUBLAS_", "CUDNN_", "NCCL_",
    "TORCH_", "PYTORCH_", "XLA_", "JAX_", "NUMBA_", "SLURM_",
)  # fmt: skip
SECRET = ("TOKEN", "SECRET", "PASS", "KEY", "CREDENTIAL", "AUTH", "COOKIE", "SESSION", "PRIVATE", "SIGNATURE",
          "CERT")  # fmt: skip
SLURM = {
    "job": "SLURM_JOB_ID", "array-job": "SLURM_ARRAY_JOB_ID", "array-task": "SLURM_ARRAY_TASK_ID",
    "step": "SLURM_STEP_ID", "procid": "SLURM_PROCID", "job-name": "SLURM_JOB_NAME",
    "cluster": "SLURM_CLUSTER_NAME", "partition": "SLURM_JOB_PARTITION", "nodelist": "SLURM_JOB_NODELIST",
}  # fmt: skip


def variables(environ: Mapping[str, str]) -> dict[str, str]:
    """The result-changing variables set for the script, secrets excluded (by name)."""
    return {
        name: value
        for name, value in sorted(environ.items())
        if (name in VARIABLES or name.startswith(PREFIXES)) and not any(word in name.upper() for word in SECRET)
    }


def machine() -> dict[str, Any]:
    """Host name, OS, kernel, libc, CPU model and count, memory."""
    uname = os.uname()
    facts: dict[str, Any] = {
        "hostname": uname.nodename,
        "os": _os_name() or uname.sysname,
        "system": uname.sysname,
        "kernel": f"{uname.release} {uname.version}",
        "machine": uname.machine,
        "libc": _libc(),
        "cpu-model": _cpu_model() or "unknown",
        "cpu-count": os.cpu_count() or 0,
    }
    if hasattr(os, "sched_getaffinity"):
        facts["cpu-usable"] = len(os.sched_getaffinity(0))
    try:
        facts["memory-bytes"] = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        facts["memory-bytes"] = "unknown"
    return facts


def slurm(environ: Mapping[str, str]) -> dict[str, str]:
    """The Slurm job, array and task ids of this run, when it runs under Slurm."""
    return {name: environ[variable] for name, variable in SLURM.items() if environ.get(variable)}


def gpus(timeout: float = 10) -> list[dict[str, str]] | None:
    """The GPUs `nvidia-smi` lists (name, driver, CUDA version, memory, uuid); None without it."""
    tool = which("nvidia-smi")
    if tool is None:
        return None
    import re
    import subprocess

    fields = ("name", "driver_version", "memory.total", "uuid")
    try:
        listed = _output([tool, f"--query-gpu={','.join(fields)}", "--format=csv,noheader"], timeout)
        banner = _output([tool], timeout)
    except (OSError, subprocess.SubprocessError) as exc:
        return [{"error": f"nvidia-smi failed: {exc}"}]
    cuda = re.search(r"CUDA Version:\s*([\w.]+)", banner)
    found = []
    for line in listed.splitlines():
        values = [v.strip() for v in line.split(",")]
        if len(values) == len(fields):
            gpu = dict(zip(("name", "driver", "memory", "uuid"), values, strict=True))
            gpu["cuda"] = cuda.group(1) if cuda else "unknown"
            found.append(gpu)
    return found


def git(path: str, timeout: float = 10) -> dict[str, Any] | None:
    """Commit, branch and dirty state of the repository holding `path`; None outside one."""
    folder = os.path.dirname(os.path.abspath(path))
    root = folder
    while not os.path.exists(os.path.join(root, ".git")):
        parent = os.path.dirname(root)
        if parent == root:
            return None  # no repository: no git process at all
        root = parent
    tool = which("git")
    import subprocess

    if tool is None:
        return {"repository": root, "commit": "unknown", "error": "git is not installed"}
    argv = [tool, "-C", folder, "status", "--porcelain=v2", "--branch", "--untracked-files=no"]
    try:
        status = _output(argv, timeout, env={**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"})
    except (OSError, subprocess.SubprocessError) as exc:
        return {"repository": root, "commit": "unknown", "error": f"git status failed: {exc}"}
    facts: dict[str, Any] = {"repository": root, "commit": "unknown", "branch": None}
    changed = []
    for line in status.splitlines():
        if line.startswith("# branch.oid "):
            facts["commit"] = line.split()[2] if line.split()[2] != "(initial)" else "none"
        elif line.startswith("# branch.head "):
            head = line.split(maxsplit=2)[2]
            facts["branch"] = None if head == "(detached)" else head
        elif line and not line.startswith("#"):
            changed.append(line.rsplit(" ", 1)[-1].split("\t")[0])
    facts["dirty"] = bool(changed)
    facts["changed"] = changed[:50]
    facts["path"] = os.path.relpath(os.path.abspath(path), root)
    remote = _remote(root)
    if remote:
        facts["remote"] = remote
    return facts


def python_build(executable: str, folder: str) -> str:
    """The interpreter's own `sys.version` (build date and compiler), asked once per interpreter file
    and remembered in the records folder (`.python-builds.json`)."""
    if os.path.realpath(executable) == os.path.realpath(sys.executable):
        return sys.version
    try:
        info = os.stat(executable)
    except OSError:
        return "unknown"
    memo = os.path.join(folder, ".python-builds.json")
    key = f"{os.path.realpath(executable)}:{info.st_size}:{info.st_mtime_ns}"
    try:
        with open(memo, encoding="utf-8") as handle:
            known = json.load(handle)
    except (OSError, ValueError):
        known = {}
    if isinstance(known, dict) and isinstance(known.get(key), str):
        return str(known[key])
    import subprocess

    try:
        done = subprocess.run([executable, "-I", "-S", "-c", "import sys; print(sys.version)"], capture_output=True,
                              text=True, timeout=30, check=True, stdin=subprocess.DEVNULL)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    build = done.stdout.strip() or "unknown"
    known = {**(known if isinstance(known, dict) else {}), key: build}
    try:
        with open(f"{memo}.{os.getpid()}.tmp", "w", encoding="utf-8") as handle:
            handle.write(json.dumps(known, indent=1))
        os.replace(f"{memo}.{os.getpid()}.tmp", memo)
    except OSError:
        pass  # only the next record's speed depends on it
    return build


def installer(env: str) -> str:
    """The installer that built the env (pip or uv), as its completion marker says."""
    try:
        with open(os.path.join(env, "reprorun-complete"), encoding="utf-8") as handle:
            info = json.load(handle)
    except (OSError, ValueError):
        return "unknown"
    return str(info.get("installer", "unknown")) if isinstance(info, dict) else "unknown"


def user() -> str:
    """The user running reprorun (USER, LOGNAME, else the password database)."""
    name = os.environ.get("USER") or os.environ.get("LOGNAME")
    if name:
        return name
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):
        return "unknown"


def which(name: str) -> str | None:
    """The executable `name` on PATH (shutil.which without loading shutil)."""
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        path = os.path.join(folder or ".", name)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def _remote(root: str) -> str | None:
    """`remote.origin.url` from .git/config, without user names or tokens in it."""
    import re

    try:
        with open(os.path.join(root, ".git", "config"), encoding="utf-8") as handle:
            text = handle.read()
    except OSError:
        return None
    match = re.search(r'\[remote "origin"\][^\[]*?^\s*url\s*=\s*(\S+)', text, re.MULTILINE)
    return re.sub(r"(://)[^/@]+@", r"\1", match.group(1)) if match else None


def _output(argv: list[str], timeout: float, env: Mapping[str, str] | None = None) -> str:
    import subprocess

    completed = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=True,
                               stdin=subprocess.DEVNULL, env=None if env is None else dict(env))  # fmt: skip
    return completed.stdout


def _os_name() -> str | None:
    try:
        with open("/etc/os-release", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("PRETTY_NAME="):
                    return line.partition("=")[2].strip().strip("\"'")
    except OSError:
        pass
    return None


def _libc() -> str:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") or "unknown"
    except (ValueError, OSError, AttributeError):  # musl and non-Linux systems have no such name
        return "unknown"


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                name, _, value = line.partition(":")
                if name.strip() in ("model name", "Model", "cpu model", "Hardware"):
                    return value.strip()
    except OSError:
        pass
    return None

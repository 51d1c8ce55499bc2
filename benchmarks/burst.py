"""Many warm starts of one script launched at once, as a Slurm array lands on a node (issue 17).

Each start is timed from just before its spawn to the moment the script's first line runs (the
script prints `time.time()`), so the figure is the start, not the script. All processes are
spawned first and reaped afterwards. Reported: failures, p50, p95, max, and how many files each
start writes in the cache. That count comes from one start traced with strace (every call that
creates, writes, renames, removes or re-times a file under the cache root); a snapshot of the
cache before and after the whole batch says which files changed at all. The same batch with
`uv run --script` is reported beside it.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import time

from workdir import Work

SCRIPT_BODY = "import time\nprint(repr(time.time()))\n"
_WRITING = re.compile(
    r"^(?:\[pid\s+\d+\]\s+|\d+\s+)?(?P<call>openat|open|creat|rename|renameat2?|unlink|unlinkat|mkdir|mkdirat|utimensat|"
    r"utime|utimes|link|linkat|symlink|symlinkat|truncate|chmod|fchmodat)\((?P<args>.*)$"
)


def batch(argv: list[str], env: dict[str, str], count: int) -> dict[str, object]:
    """Spawn `count` copies of argv at once; the start of each (seconds) and the failures."""
    spawned = []
    for _ in range(count):
        start = time.time()
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        spawned.append((start, proc))
    starts, failures = [], []
    for start, proc in spawned:
        out, err = proc.communicate()
        try:
            starts.append(float(out.decode().strip().splitlines()[0]) - start)
        except (ValueError, IndexError):
            failures.append(f"exit {proc.returncode}: {err.decode(errors='replace')[-300:]}")
            continue
        if proc.returncode != 0:
            failures.append(f"exit {proc.returncode}: {err.decode(errors='replace')[-300:]}")
    return _summary(starts, failures, count)


def _summary(starts: list[float], failures: list[str], count: int) -> dict[str, object]:
    ordered = sorted(starts)

    def pick(q: float) -> float | None:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1) if ordered else None

    p50, p95 = pick(0.5), pick(0.95)
    return {
        "starts": count, "succeeded": len(starts), "failures": failures[:5], "failed": len(failures),
        "p50_ms": p50, "p95_ms": p95, "max_ms": pick(1.0),
        "mean_ms": round(statistics.mean(starts) * 1000, 1) if starts else None,
        "p95_over_p50": round(p95 / p50, 2) if p50 and p95 else None,
    }  # fmt: skip


def snapshot(root: str) -> dict[str, tuple[int, int, int]]:
    """Every file under root: (inode, size, mtime_ns)."""
    found = {}
    for folder, _dirs, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            try:
                info = os.lstat(path)
            except OSError:
                continue
            found[path] = (info.st_ino, info.st_size, info.st_mtime_ns)
    return found


def changed(before: dict[str, tuple[int, int, int]], after: dict[str, tuple[int, int, int]]) -> list[str]:
    """Files that are new, gone or changed between two snapshots."""
    return sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))


def traced_writes(argv: list[str], env: dict[str, str], root: str) -> list[str] | None:
    """The files under root that one run writes (strace), or None without strace.

    Written: created, truncated, opened for writing without O_CREAT on a file that exists,
    renamed, removed, linked, re-timed. An `open(O_RDWR|O_CREAT)` of a file that already exists
    (a lock file) writes nothing and is not counted.
    """
    strace = shutil.which("strace")
    if strace is None:
        return None
    existing = set(snapshot(root))
    log = os.path.join(os.path.dirname(root.rstrip(os.sep)), "strace.log")
    subprocess.run([strace, "-f", "-qq", "-o", log, "-e", "trace=file", *argv], env=env, capture_output=True,
                   check=False)  # fmt: skip
    written = []
    with open(log, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            match = _WRITING.match(line.strip())
            if not match or " = -1 " in line:
                continue
            call, args = match.group("call"), match.group("args")
            paths = [p for p in re.findall(r'"([^"]*)"', args) if p.startswith(root)]
            if not paths:
                continue
            if call in ("openat", "open"):
                if not re.search(r"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC", args):
                    continue
                if paths[0] in existing and "O_TRUNC" not in args and "O_WRONLY" not in args:
                    continue  # a lock file opened read-write: nothing written
            written += [f"{call} {os.path.relpath(p, root)}" for p in paths]
    os.remove(log)
    return sorted(set(written))


def section(work: Work, script: str, count: int) -> dict[str, object]:
    """reprorun's and uv's batch of `count` warm starts, one after the other, and the write counts."""
    env = work.environ()
    root = env["REPRORUN_CACHE_DIR"]
    reprorun = [work.reprorun, "--python", work.python, script]
    subprocess.run(reprorun, env=env, capture_output=True, check=True)  # build (untimed)
    subprocess.run(reprorun, env=env, capture_output=True, check=True)  # warm once
    writes = traced_writes(reprorun, env, root)
    before = snapshot(root)
    report: dict[str, object] = {"reprorun": batch(reprorun, env, count)}
    files = changed(before, snapshot(root))
    report["reprorun"]["files_changed_by_batch"] = [os.path.relpath(p, root) for p in files][:20]  # type: ignore[index]
    report["reprorun"]["writing_calls_per_start"] = writes  # type: ignore[index]
    if work.uv:
        uv = [work.uv, "run", "--script", script]
        subprocess.run(uv, env=env, capture_output=True, check=True)
        uv_root = env["UV_CACHE_DIR"]
        before = snapshot(uv_root)
        report["uv run --script"] = batch(uv, env, count)
        changes = len(changed(before, snapshot(uv_root)))
        report["uv run --script"]["files_changed_by_batch"] = changes  # type: ignore[index]
        report["uv run --script"]["writing_calls_per_start"] = traced_writes(uv, env, uv_root)  # type: ignore[index]
    return report


def lines(report: dict[str, object], count: int) -> list[str]:
    """The section as text."""
    out = [f"{count} warm starts launched at once (start = spawn to the script's first line)"]
    for name, row in report.items():
        assert isinstance(row, dict)
        writes = row.get("writing_calls_per_start")
        written = "?" if writes is None else f"{len({w.split(' ', 1)[1] for w in writes})} ({', '.join(writes)})"
        times = f"p50 {row['p50_ms']}ms  p95 {row['p95_ms']}ms  max {row['max_ms']}ms  p95/p50 {row['p95_over_p50']}"
        out.append(f"  {name:24} ok {row['succeeded']}/{row['starts']}  {times}  files written per start {written}")
    return out

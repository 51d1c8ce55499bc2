"""What recording costs: a warm run of a trivial script, unrecorded and with `--record` (issue 15).

An unrecorded warm run takes the warm path (one hash, a few stats, then the script in the same
process); a recorded one takes the full command line, starts the script as a child, gathers the
machine's facts while it runs and writes the crate. The target: at most 100 ms more.

    python benchmarks/record_overhead.py [--runs N] [--reprorun PATH] [--json PATH]

Offline: the script has an empty block, so its env holds no package. Rows run round-robin, so
drift on a shared machine hits them alike; each run's stdout is checked. Besides the wall clock,
the CPU time (user + system) of each run's whole process tree is shown: on a loaded machine the
wall clock of every row grows several times over, the CPU time far less.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from timing import Case, Result, table

TARGET_MS = 100.0
_DROP = re.compile(r"^(PIP_|UV_|REPRORUN_|VIRTUALENV_|PYTHON|VIRTUAL_ENV$|__PYVENV)")


def main(argv: list[str] | None = None) -> int:
    """Build the env once, time the rows, print the table and the verdict."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--reprorun", default=shutil.which("reprorun") or os.path.join(
        os.path.dirname(sys.executable), "reprorun"))  # fmt: skip
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    ns = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="reprorun-record-bench-") as work:
        env = {k: v for k, v in os.environ.items() if not _DROP.match(k)}
        env["REPRORUN_CACHE_DIR"] = os.path.join(work, "cache")
        env["XDG_CONFIG_HOME"] = os.path.join(work, "config")  # no user config file
        script = os.path.join(work, "trivial.py")
        with open(script, "w", encoding="utf-8") as handle:
            handle.write("# /// script\n# dependencies = []\n# ///\nprint('hi')\n")
        runs = os.path.join(work, "runs")
        subprocess.run([ns.reprorun, script], env=env, check=True, capture_output=True)  # build, fill the index
        cases = [
            Case("unrecorded (warm path)", [ns.reprorun, script], env, quiet=True),
            Case("recorded (--record DIR)", [ns.reprorun, "--record", runs, script], env),
            Case("unrecorded, full path (REPRORUN_WARM=0)", [ns.reprorun, script], {**env, "REPRORUN_WARM": "0"},
                 quiet=True),
        ]
        results, cpu = _measure(cases, ns.runs, warmups=2)
        records = len([n for n in os.listdir(runs) if not n.startswith(".")])
    plain, recorded, _full = results
    extra = (recorded.median - plain.median) * 1000
    extra_cpu = (statistics.median(cpu[1]) - statistics.median(cpu[0])) * 1000
    print(table([("trivial script, warm env (wall clock)", results)]))
    print("\nCPU time (user + system, process tree), median:")
    for case, times in zip(cases, cpu, strict=True):
        print(f"  {case.name:42} {statistics.median(times) * 1000:7.1f}ms")
    print(f"\nrecorded - unrecorded, wall clock (medians): {extra:.1f} ms (target: at most {TARGET_MS:.0f} ms)"
          f"  -> {'met' if extra <= TARGET_MS else 'NOT met'}")  # fmt: skip
    print(f"recorded - unrecorded, CPU time (medians):   {extra_cpu:.1f} ms")
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"records written: {records} (expected {ns.runs + 2})")
    if ns.json:
        with open(ns.json, "w", encoding="utf-8") as handle:
            json.dump({"rows": [r.as_json() for r in results], "extra_ms": round(extra, 1), "target_ms": TARGET_MS,
                       "extra_cpu_ms": round(extra_cpu, 1), "records": records}, handle, indent=2)  # fmt: skip
    failed = any(r.error for r in results) or records != ns.runs + 2
    return 1 if failed else 0


def _measure(cases: list[Case], runs: int, warmups: int) -> tuple[list[Result], list[list[float]]]:
    """Round-robin like timing.measure, also taking each run's CPU time (its waited-for children)."""
    results = [Result(case.name) for case in cases]
    cpu: list[list[float]] = [[] for _ in cases]
    for round_ in range(warmups + runs):
        for index in [*range(round_ % len(cases), len(cases)), *range(round_ % len(cases))]:
            case = cases[index]
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            done = subprocess.run(case.argv, env=case.env, capture_output=True, text=True, check=False)
            elapsed = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if done.returncode != 0 or done.stdout != case.expect:
                results[index].error = f"exit {done.returncode}: {(done.stdout + done.stderr)[-300:]}"
            elif round_ >= warmups:
                results[index].samples.append(elapsed)
                cpu[index].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return results, cpu


if __name__ == "__main__":
    sys.exit(main())

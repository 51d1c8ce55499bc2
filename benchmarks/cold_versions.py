"""Two installs of reprorun side by side on cold builds: is the new code slower than the old?

    python benchmarks/cold_versions.py OLD_VENV NEW_VENV SCRIPT... [--installer pip] [--runs 15]

Each venv has reprorun installed (for example the code before a change, from `git archive`, and
after it). Every run removes the envs of that install's own cache (under /tmp) and runs
`reprorun --refresh --installer I --python <this interpreter's base> SCRIPT`, offline from the
benchmark's wheelhouse (run benchmarks/run.py once first); the rows run interleaved, one warm-up
each. Printed: the median wall-clock and CPU time (process tree) of each, and new/old ratios.
"""

from __future__ import annotations

import argparse
import glob
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from workdir import WORK, Work, resolve_python


def main(argv: list[str] | None = None) -> int:
    """Time the cold builds of both installs, interleaved; print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("scripts", nargs="+")
    parser.add_argument("--installer", default="pip", choices=("pip", "uv"))
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)
    python = resolve_python(None)
    wheelhouse = glob.glob(os.path.join(WORK, "wheelhouse-cpython-*"))[0]
    work = Work(python, WORK, wheelhouse, os.path.join(WORK, "venv-reprorun"), None, os.path.join(WORK, "scripts"))
    caches = {name: tempfile.mkdtemp(prefix=f"reprorun-cold-{name}-") for name in ("old", "new")}
    rows = {(s, name): ([], []) for s in args.scripts for name in ("old", "new")}  # (wall, cpu) seconds

    def run(script: str, name: str, record: bool) -> None:
        cache = caches[name]
        for env in glob.glob(os.path.join(cache, "envs", "*")):
            shutil.rmtree(env, ignore_errors=True)
        command = [os.path.join(getattr(args, name), "bin", "reprorun"), "--refresh", "--installer", args.installer,
                   "--python", python, script]  # fmt: skip
        before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
        done = subprocess.run(command, env=work.environ(REPRORUN_CACHE_DIR=cache), capture_output=True, text=True,
                              check=False)  # fmt: skip
        wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            raise SystemExit(f"{name}: {' '.join(command)} failed:\n{done.stderr[-2000:]}")
        if record:
            rows[(script, name)][0].append(wall)
            rows[(script, name)][1].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)

    for script, name in rows:
        run(script, name, record=False)  # fills the wheel and interpreter caches
    for _ in range(args.runs):
        for script, name in rows:
            run(script, name, record=True)
    print(f"cold builds, --installer {args.installer}, median of {args.runs}, load average {os.getloadavg()[:3]}")
    for script in args.scripts:
        old, new = (rows[(script, name)] for name in ("old", "new"))
        medians = [statistics.median(x) * 1000 for x in (*old, *new)]
        print(f"  {os.path.basename(script):22} old {medians[0]:8.1f} ms (cpu {medians[1]:7.1f})  "
              f"new {medians[2]:8.1f} ms (cpu {medians[3]:7.1f})  new/old {medians[2] / medians[0]:.2f}x "
              f"(cpu {medians[3] / medians[1]:.2f}x)")  # fmt: skip
    for cache in caches.values():
        shutil.rmtree(cache, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

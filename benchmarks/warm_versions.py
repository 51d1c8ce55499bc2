"""Two installs of reprorun side by side on warm starts: is the new code slower than the old?

    python benchmarks/warm_versions.py OLD_VENV NEW_VENV [--runs 30]

Each venv has reprorun installed the README's way (for example the code before a change, from
`git archive`, and after it). A trivial script with an empty block is built once by each, in a
cache of its own, then started again and again: the rows (bare `python` of the env, the old
install, the new one) run interleaved, after two untimed starts each, so a change in the
machine's load hits them alike. Printed: median wall-clock and CPU time (process tree) of each
row, and the ratios new/old and each/python. Offline: nothing is installed into the envs.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

SCRIPT = "# /// script\n# dependencies = []\n# ///\nprint('hi')\n"


def main(argv: list[str] | None = None) -> int:
    """Build once per install, time the warm starts interleaved, print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(argv)
    work = tempfile.mkdtemp(prefix="reprorun-warm-versions-")
    try:
        script = os.path.join(work, "trivial.py")
        with open(script, "w", encoding="utf-8") as handle:
            handle.write(SCRIPT)
        base = {k: v for k, v in os.environ.items() if not k.startswith(("REPRORUN_", "PIP_", "UV_", "PYTHON"))}
        rows: dict[str, tuple[list[str], dict[str, str]]] = {}
        for name in ("old", "new"):
            environ = {**base, "REPRORUN_CACHE_DIR": os.path.join(work, name), "XDG_CONFIG_HOME": work}
            command = [os.path.join(getattr(args, name), "bin", "reprorun"), script]
            built = subprocess.run(command, env=environ, capture_output=True, text=True, check=False)
            if built.returncode != 0 or built.stdout != "hi\n":
                raise SystemExit(f"{name}: {' '.join(command)} failed:\n{built.stderr[-2000:]}")
            rows[name] = (command, environ)
        env_python = _env_python(os.path.join(work, "new"))
        rows = {"python": ([env_python, script], base), **rows}
        samples: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in rows}
        for round_ in range(args.runs + 2):
            for name, (command, environ) in rows.items():
                wall, cpu = _time(command, environ)
                if round_ >= 2:
                    samples[name][0].append(wall)
                    samples[name][1].append(cpu)
        medians = {name: (statistics.median(w) * 1000, statistics.median(c) * 1000) for name, (w, c) in samples.items()}
        print(f"warm starts, trivial script, median of {args.runs}, load average {os.getloadavg()[:3]}")
        python_wall, python_cpu = medians["python"]
        for name, (wall, cpu) in medians.items():
            ratios = f"{wall / python_wall:.2f}x python (cpu {cpu / python_cpu:.2f}x)"
            print(f"  {name:7} {wall:7.1f} ms (cpu {cpu:6.1f})  {ratios}")
        old, new = medians["old"], medians["new"]
        print(f"  new/old {new[0] / old[0]:.2f}x (cpu {new[1] / old[1]:.2f}x)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _env_python(cache: str) -> str:
    """The interpreter of the one env in this cache."""
    (env,) = os.listdir(os.path.join(cache, "envs"))
    return os.path.join(cache, "envs", env, "bin", "python")


def _time(command: list[str], environ: dict[str, str]) -> tuple[float, float]:
    before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    done = subprocess.run(command, env=environ, capture_output=True, text=True, check=False)
    wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0 or done.stdout != "hi\n":
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


if __name__ == "__main__":
    sys.exit(main())

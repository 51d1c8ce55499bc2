"""Instructions executed by a warm start, counted by valgrind: a figure the machine's load cannot move.

    python benchmarks/instructions.py [--json out.json]

Run it after `benchmarks/run.py` (it uses the installs and caches that run.py made in
benchmarks/.work/). For each install of reprorun it counts, under `valgrind --tool=callgrind
--trace-children=yes`, the instructions of the six script started by the bare `python` of its
env and by `reprorun --python PATH`, and prints their ratio. An install whose launch execs (pipx)
is left out: an exec keeps the process, and valgrind then reports only the new program.
Counts are the same from one run to the next (within 0.1 %), so one run of each is enough. They
are not time: a system call or a page fault costs more than an instruction. The targets are
judged on wall-clock time (run.py); this is the check that does not depend on the load.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from workdir import WORK, Work, resolve_python

INSTALLS = {  # name -> (its reprorun command, the interpreter it runs on), as installs.py makes them
    "venv+pip 3.11": ("venv-pip-3.11/bin/reprorun", "venv-pip-3.11/bin/python"),
    "venv+pip 3.10": ("venv-pip-3.10/bin/reprorun", "venv-pip-3.10/bin/python"),
    "pipx": ("pipx-home/bin/reprorun", "pipx-home/venvs/reprorun/bin/python"),
    "uv tool install": ("uv-tools/bin/reprorun", "uv-tools/reprorun/bin/python"),
}


def count(argv: list[str], env: dict[str, str]) -> int:
    """Instructions executed by argv and every process it execs or starts."""
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "cg.%p")
        subprocess.run(["valgrind", "--tool=callgrind", "--trace-children=yes", f"--callgrind-out-file={out}", *argv],
                       env=env, capture_output=True, check=True)  # fmt: skip
        total = 0
        for path in glob.glob(os.path.join(folder, "cg.*")):
            with open(path, encoding="utf-8") as handle:
                total += next(int(line.split()[1]) for line in handle if line.startswith(("summary:", "totals:")))
        return total


def measure(work: Work, script: str) -> dict[str, dict[str, float]]:
    """Per install: the bare start's and reprorun's instruction counts (millions) and their ratio."""
    found: dict[str, dict[str, float]] = {}
    for name, (relative_command, relative_python) in INSTALLS.items():
        command, python = os.path.join(WORK, relative_command), os.path.join(WORK, relative_python)
        if not os.path.exists(command):
            continue
        env = work.environ(UV_PYTHON=python)
        reprorun = [command, "--python", python, script]
        subprocess.run(reprorun, env=env, capture_output=True, check=True)  # the env and the kept code exist
        subprocess.run(reprorun, env=env, capture_output=True, check=True)
        where = [*reprorun[:-1], script.replace(".py", "_probe.py")]
        seen = json.loads(subprocess.run(where, env=env, capture_output=True, text=True, check=True).stdout)
        if not any(os.path.basename(part) == "reprorun" for part in seen["cmdline"]):
            # An exec keeps the pid and valgrind then counts only the new image: not comparable.
            found[name] = {"python_M": None, "reprorun_M": None, "ratio": None, "launch": "exec"}  # type: ignore[dict-item]
            continue
        bare = count([str(seen["executable"]), script], env)
        mine = count(reprorun, env)
        found[name] = {"python_M": round(bare / 1e6, 2), "reprorun_M": round(mine / 1e6, 2),
                       "ratio": round(mine / bare, 3), "launch": "in-process"}  # type: ignore[dict-item]  # fmt: skip
    return found


def main(argv: list[str] | None = None) -> int:
    """Count, print the table, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="PATH", help="results file")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 1
    python = resolve_python(None)
    tag = os.path.basename(glob.glob(os.path.join(WORK, "wheelhouse-cpython-*"))[0])
    work = Work(python, WORK, os.path.join(WORK, tag), os.path.join(WORK, "venv-reprorun"), None,
                os.path.join(WORK, "scripts"))  # fmt: skip
    script = os.path.join(work.scripts, "uses_six.py")
    if not os.path.exists(script):
        print("run benchmarks/run.py first (its installs and scripts are used here)", file=sys.stderr)
        return 1
    found = measure(work, script)
    print("instructions of a warm start of the six script (valgrind callgrind, millions)")
    for name, row in found.items():
        if row["ratio"] is None:
            print(f"  {name:18} exec: not counted (valgrind loses the instructions before an exec)")
            continue
        print(f"  {name:18} python {row['python_M']:7.2f}M  reprorun --python PATH {row['reprorun_M']:7.2f}M"
              f"  {row['ratio']:.2f}x")  # fmt: skip
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(found, handle, indent=2)
            handle.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

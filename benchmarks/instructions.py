"""Instructions executed by a warm start, counted by valgrind: a figure the machine's load cannot move.

    python benchmarks/instructions.py [--json out.json]

Run it after `benchmarks/run.py --only installs --quick` (it uses the installs and caches that
run.py made in benchmarks/.work/). For each install of reprorun it counts, under `valgrind
--tool=callgrind --trace-children=yes`, the instructions of the six script started by the bare
`python` of its env, by `reprorun --python PATH` and by `uv run --script`, and prints the ratios.
A launch that execs (pipx's) is counted whole: `--dump-before=execve` saves the first program's
count before the exec replaces it. The command's `#!` line is run as the kernel would run it
(`INTERPRETER [ARG] COMMAND ...`): valgrind would otherwise show the script as /proc/self/exe.
Counts are the same from one run to the next (within 0.1 %), so one run of each is enough. They
are not time: a system call or a page fault costs more than an instruction, and uv's threads run
side by side. The targets are judged on wall-clock time (run.py); this is the check that does not
depend on the load.
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
        process = subprocess.Popen(["valgrind", "--tool=callgrind", "--trace-children=yes", "--dump-before=execve",
                                    f"--callgrind-out-file={out}", *argv], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        if process.wait() != 0:
            raise subprocess.CalledProcessError(process.returncode, argv)
        total = 0
        for path in glob.glob(os.path.join(folder, "cg.*")):
            pid, _, part = os.path.basename(path)[3:].partition(".")
            if part and pid != str(process.pid):
                continue  # a forked child's count before its exec starts with its parent's: counted there
            with open(path, encoding="utf-8") as handle:
                total += next(int(line.split()[1]) for line in handle if line.startswith(("summary:", "totals:")))
        return total


def as_the_kernel_runs(command: str) -> list[str]:
    """A `#!` script as the kernel starts it: its interpreter (and the one argument), then the script."""
    with open(command, "rb") as handle:
        first = handle.readline().decode().strip()
    if not first.startswith("#!"):
        return [command]
    interpreter, _, argument = first[2:].strip().partition(" ")
    return [interpreter, *([argument.strip()] if argument.strip() else []), command]


def measure(work: Work, script: str) -> dict[str, dict[str, float]]:
    """Per install: the bare start's, reprorun's and uv run's instruction counts (millions) and the ratios."""
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
        launch = "in-process" if any(os.path.basename(part) == "reprorun" for part in seen["cmdline"]) else "exec"
        bare = count([str(seen["executable"]), script], env)
        mine = count([*as_the_kernel_runs(command), *reprorun[1:]], env)
        row = {"python_M": round(bare / 1e6, 2), "reprorun_M": round(mine / 1e6, 2), "ratio": round(mine / bare, 3),
               "launch": launch}  # fmt: skip
        if work.uv:
            subprocess.run([work.uv, "run", "--script", script], env=env, capture_output=True, check=True)
            uv = count([work.uv, "run", "--script", script], env)
            row.update(uv_M=round(uv / 1e6, 2), ratio_uv=round(mine / uv, 3))
        found[name] = row  # type: ignore[assignment]
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
        versus_uv = f"; uv run {row['uv_M']:7.2f}M, {row['ratio_uv']:.2f}x uv" if "uv_M" in row else ""
        print(f"  {name:16} python {row['python_M']:6.2f}M  reprorun --python PATH ({row['launch']}) "
              f"{row['reprorun_M']:6.2f}M  {row['ratio']:.2f}x python{versus_uv}")  # fmt: skip
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(found, handle, indent=2)
            handle.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

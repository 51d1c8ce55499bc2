"""Where a cold pip build goes: each step of reprorun's pip backend, timed on its own.

    python benchmarks/cold_phases.py --wheelhouse DIR [--python X] [--runs 5] [REQUIREMENT ...]

Run it with a Python that has reprorun installed (a venv made by `benchmarks/run.py` works:
`benchmarks/.work/venv-reprorun/bin/python`, with `--wheelhouse benchmarks/.work/wheelhouse-*`).
It builds the env of the requirements (default: six) into a temporary folder, offline, as
`reprorun --installer pip` does, and prints the median of each step: virtualenv, pip, the content
store, the bytecode. virtualenv runs in a process of its own each time, less that process's start
and reprorun's imports; the import of reprorun's build modules is timed once, in a fresh process.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CREATE = """\
import sys
from pathlib import Path
from reprorun.envs.installers import pip as installers
from reprorun.envs import interpreters
dest, python, root = sys.argv[1:]
interpreter = interpreters.inspect(python, Path(root) / "interpreters")
installers.PipBackend().create(Path(dest), interpreter, Path(root) / "app-data", 0)
"""


def _python_start() -> float:
    """What starting this interpreter with reprorun's modules costs, to take off the step's time."""
    start = time.perf_counter()
    code = "from reprorun.envs.installers import pip; from reprorun.envs import interpreters"
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def main() -> int:
    """Time the steps; print one line per step."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheelhouse", required=True, help="a folder of wheels (the only package source)")
    parser.add_argument("--python", default=sys.executable, help="the env's interpreter (default: this one)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("requirements", nargs="*", default=["six"])
    args = parser.parse_args()
    os.environ.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_FIND_LINKS=os.path.abspath(args.wheelhouse))
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

    code = "import time; t = time.perf_counter(); from reprorun import envs; print(time.perf_counter() - t)"
    imports = float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)

    from reprorun.envs import interpreters, store
    from reprorun.envs.installers import pip as installers
    from reprorun.envs.installers.base import InstallRequest
    from reprorun.envs.installers.sources import Sources

    steps: dict[str, list[float]] = {"virtualenv": [], "pip": [], "store": [], "bytecode": []}
    with tempfile.TemporaryDirectory(prefix="reprorun-phases-") as work:
        root = Path(work)
        interpreter = interpreters.inspect(args.python, root / "interpreters")
        sources = Sources(find_links=(os.path.abspath(args.wheelhouse),), no_index=True)
        request = InstallRequest(tuple(args.requirements), sources, {})
        backend = installers.PipBackend(root / "pip", root / "store")
        for run in range(args.runs + 1):  # the first run unpacks pip and fills caches: not counted
            dest = root / f"env-{run}"
            dest.mkdir()
            # In a process of its own, as in a build: virtualenv's import and plugin discovery count.
            marks = [time.perf_counter()]
            subprocess.run([sys.executable, "-c", CREATE, str(dest), args.python, str(root)], check=True)
            marks.append(time.perf_counter())
            marks[0] += _python_start()
            backend.install(dest, interpreter, request, 0)
            marks.append(time.perf_counter())
            store.share(root / "store", dest / "lib")
            marks.append(time.perf_counter())
            installers.compile_env(dest)
            marks.append(time.perf_counter())
            if run:
                for name, start, end in zip(steps, marks[:-1], marks[1:], strict=True):
                    steps[name].append(end - start)
            shutil.rmtree(dest)
    print(f"pip build of {' '.join(args.requirements)} with Python {interpreter.version}, median of {args.runs}:")
    print(f"  {'reprorun build imports':24} {imports * 1000:7.1f} ms (one fresh process)")
    for name, values in steps.items():
        print(f"  {name:24} {statistics.median(values) * 1000:7.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())

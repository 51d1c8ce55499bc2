"""How much work one reprorun invocation does twice: block scans, requirement parses, config reads, use-locks.

    python benchmarks/work_counts.py [--src PATH]

Counts, not seconds (issue 11: "work done once"), so the figures do not depend on the machine's
load. Each command runs in its own interpreter with a small prelude that counts calls; a command
that would exec the script reports its counts instead. Offline: the packages come from tests'
tiny wheelhouse. `--src` measures another checkout's `src` (for a before/after comparison).
A requirement parse is packaging's, or a requirement read in its plain spelling without packaging
(script/requirements.py `plain`, each text once, unless packaging parses it too).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PRELUDE = r'''
import builtins, collections, os, pathlib, sys
counts = collections.Counter()
import packaging.requirements as pr
original = pr.Requirement.__init__
parsed = set()
def init(self, text, *a, **k):
    counts["requirement parses"] += 1
    parsed.add(text)
    return original(self, text, *a, **k)
pr.Requirement.__init__ = init
# A requirement in its plainest spelling is read without packaging (script/requirements.py `plain`):
# each text read only that way counts as one parse as well.
read_plainly = set()
import reprorun.script.requirements as requirements
if hasattr(requirements, "plain"):
    plain = requirements.plain
    def counting_plain(text):
        found = plain(text)
        if found is not None:
            read_plainly.add(text)
        return found
    requirements.plain = counting_plain
def plain_parses():
    return len(read_plainly - parsed)
CONFIG = os.environ["REPRORUN_CONFIG"]
opened = builtins.open
def counting_open(file, *a, **k):
    if isinstance(file, (str, os.PathLike)) and os.fspath(file) == CONFIG:
        counts["config reads"] += 1
    return opened(file, *a, **k)
builtins.open = counting_open
read_text = pathlib.Path.read_text
def counting_read_text(self, *a, **k):
    if str(self) == CONFIG:
        counts["config reads"] += 1
    return read_text(self, *a, **k)
pathlib.Path.read_text = counting_read_text
def wrap(module, name, label):
    function = getattr(module, name)
    def counted(*a, **k):
        counts[label] += 1
        return function(*a, **k)
    setattr(module, name, counted)
try:  # the warm start's own modules (reprorun/warm.py, cachefiles.py, inprocess.py), else the older layout
    import reprorun.warm as warm, reprorun.cachefiles as cachefiles, reprorun.inprocess as inprocess
    import reprorun.envs.locks as locks
    wrap(warm, "_scan", "block scans")
    wrap(cachefiles, "hold", "use-locks")
    locks.hold = cachefiles.hold  # the full path's name for it
except ImportError:
    import reprorun.script.blocks as blocks
    wrap(blocks, "_scan" if hasattr(blocks, "_scan") else "scan", "block scans")
    import reprorun.envs.locks as locks
    wrap(locks, "_hold", "use-locks")
    import reprorun.launch.inprocess as inprocess
    import reprorun.launch.warm as warm
inprocess.possible = lambda *a, **k: False
def report(*a):
    if plain_parses():
        counts["requirement parses"] += plain_parses()
    print(dict(counts), file=sys.stderr)
    os._exit(0)
warm.os.execve = report
import reprorun.launch.execute as execute
execute.execute = lambda *a: report()
execute.os.execve = report
warm.try_exec(sys.argv[1:])
from reprorun.cli import main
main(sys.argv[1:])
report()
'''
RUN = '# /// script\n# requires-python = ">=3.10"\n# dependencies = ["beta", "delta>=1"]\n# ///\nprint("hi")\n'
FROZEN = """\
# /// script
# requires-python = ">=3.10"
# dependencies = [
#     "alpha==2.0",  # via beta
#     "beta==1.0",
#     "delta==1.0",
#     "epsilon==1.0",
# ]
#
# [tool.reprorun]
# requested = ["beta", "delta>=1", "epsilon"]
# frozen-for = "cpython-3.11.7-manylinux_2_36_x86_64"
# ///
print("hi")
"""
COMMANDS = [
    ("cold run (pip)", ["--installer", "pip", "run.py"]),
    ("second run (pip, full path)", ["--installer", "pip", "run.py"]),
    ("warm run", ["run.py"]),
    ("no-op --freeze (7 requirement strings)", ["--freeze", "frozen.py"]),
    ("--freeze --check", ["--freeze", "--check", "frozen.py"]),
]


def main() -> int:
    """Print one row per command with its counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=REPO / "src", help="the reprorun sources to measure")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "tests"))
    from wheelhouse import build_wheelhouse

    with tempfile.TemporaryDirectory(prefix="reprorun-counts-") as folder:
        work = Path(folder)
        build_wheelhouse(work / "wheels")
        (work / "run.py").write_text(RUN)
        (work / "frozen.py").write_text(FROZEN)
        (work / "config.toml").write_text('prune-older-than = "30d"\n')
        env = {key: value for key, value in os.environ.items() if not key.startswith(("PIP_", "UV_", "REPRORUN_"))}
        env.update(REPRORUN_CONFIG=str(work / "config.toml"), REPRORUN_CACHE_DIR=str(work / "cache"),
                   PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_FIND_LINKS=str(work / "wheels"),
                   PYTHONPATH=str(args.src))  # fmt: skip
        print(f"{'command':<42} counts")
        for label, argv in COMMANDS:
            result = subprocess.run([sys.executable, "-c", PRELUDE, *argv], cwd=work, env=env,
                                    capture_output=True, text=True, check=False)  # fmt: skip
            counts = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "(no output)"
            print(f"{label:<42} {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

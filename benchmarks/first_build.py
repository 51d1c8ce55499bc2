"""Time to first result of a cold science env: the first env ever, a later one, and uv's.

    python benchmarks/first_build.py [--runs 7] [--old VENV] [--script science]

reprorun's builds share bytecode between envs (issue 17, envs/pycache.py): the first env of a
set of packages compiles on its first run's imports, into folders of the content store that every
later env's `__pycache__` links to. The cold section of run.py measures the later builds (its
untimed warm-up fills the store); this shows the first one too. Rows, run interleaved after one
untimed warm-up each (wheel caches warm):

- `reprorun --installer uv, first env`: the cache's envs and its content store removed before
  each run, so the first run compiles its imports (interpreter descriptions, virtualenv's data stay);
- `reprorun --installer uv, later env`: only the envs removed: the bytecode is there;
- `uv run --script (fresh env)`: `environments-v2/*` removed, as in run.py;
- with `--old VENV` (an install of the code before the change), its `--installer uv` build,
  envs and store removed: what a first env cost before.

Each timed run is `reprorun --refresh --installer uv --python X SCRIPT` (or `uv run --script`),
which builds and then runs the script once. Run benchmarks/run.py once first (the work dir).
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import sys
import tempfile
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from run import BLOCKS, _built, _empty, _write_scripts
from timing import Case, measure, relate, table
from workdir import WORK, Work, resolve_python


def cases(work: Work, script: str, caches: dict[str, str], old: str | None) -> list[Case]:
    """The rows: reprorun's first and later envs (and the old install's first), uv's fresh env."""
    assert work.uv is not None
    rows = []
    installs = [("first env", work.reprorun, caches["first"], True),
                ("later env", work.reprorun, caches["later"], False)]  # fmt: skip
    if old is not None:
        installs.append(("first env, code before", os.path.join(old, "bin", "reprorun"), caches["old"], True))
    for label, reprorun, cache, fresh_store in installs:
        env = work.environ(REPRORUN_CACHE_DIR=cache)
        envs = os.path.join(cache, "envs")
        argv = [reprorun, "--refresh", "--installer", "uv", "--python", work.python, script]
        before = _fresh(envs, os.path.join(cache, "store") if fresh_store else None)
        rows.append(Case(f"reprorun --installer uv, {label}", argv, env, before=before, check=_built(envs)))
    env = work.environ()
    uv_envs = os.path.join(env["UV_CACHE_DIR"], "environments-v2")
    rows.append(Case("uv run --script (fresh env)", [work.uv, "run", "--script", script], env,
                     before=_empty(uv_envs), check=_built(uv_envs)))  # fmt: skip
    return rows


def _fresh(envs: str, store: str | None) -> Callable[[], None]:
    """Remove the envs (and the content store, if given) before a run."""
    clear = _empty(envs)

    def before() -> None:
        clear()
        if store is not None:
            shutil.rmtree(store, ignore_errors=True)

    return before


def main(argv: list[str] | None = None) -> int:
    """Measure the rows interleaved; print the table with each reprorun row's ratio to uv's."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--old", metavar="VENV", help="an install of reprorun before the change")
    parser.add_argument("--script", default="science", choices=sorted(BLOCKS))
    args = parser.parse_args(argv)
    python = resolve_python(None)
    wheelhouse = glob.glob(os.path.join(WORK, "wheelhouse-cpython-*"))[0]
    work = Work(python, WORK, wheelhouse, os.path.join(WORK, "venv-reprorun"), None, os.path.join(WORK, "scripts"))
    if work.uv is None:
        raise SystemExit("no uv: run benchmarks/run.py once first")
    scripts = _write_scripts(work.scripts)
    caches = {name: tempfile.mkdtemp(prefix=f"reprorun-first-{name}-") for name in ("first", "later", "old")}
    try:
        results = measure(cases(work, scripts[args.script], caches, args.old), args.runs, warmups=1)
    finally:
        for cache in caches.values():
            shutil.rmtree(cache, ignore_errors=True)
    uv = next(r for r in results if r.name.startswith("uv run"))
    for row in results:
        if row is not uv:
            relate(row, "uv run", uv)
    title = f"cold build, {args.script} script, time to first result (median of {args.runs}), load {os.getloadavg()}"
    print(table([(title, results)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

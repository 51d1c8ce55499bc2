"""Warm starts from each install kind, with no options and with options that keep the env (issue 17).

One section per install (benchmarks/installs.py). Its rows run interleaved: the bare `python` of
the env, reprorun with each option set, `uv run --script` on the same interpreter, and, when the
default choice picks another interpreter, reprorun without options next to that env's python.
Before timing, a probe script with the same block says which launch each option set gets
(in-process or exec, from /proc/self/cmdline).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable

from installs import Install
from timing import Case, Result, measure, relate, target
from workdir import Work, probe_launch

Log = Callable[[str], None]


def option_sets(install: Install, cache: str) -> dict[str, list[str]]:
    """The reprorun options of each row: all of them keep the env of `--python <its python>`."""
    path = ["--python", install.python]
    return {
        "--python PATH": path,
        f"--python {install.version}": ["--python", install.version],
        "--python PATH --installer pip": [*path, "--installer", "pip"],
        "--python PATH --offline -q": [*path, "--offline", "-q"],
        "--python PATH --cache-dir C": [*path, "--cache-dir", cache],
    }


def section(
    work: Work, install: Install, script: str, runs: int, log: Log
) -> tuple[str, list[Result], dict[str, object]]:
    """Time one install's warm rows; return (title, results, what each probe saw)."""
    env = work.environ(UV_PYTHON=install.python)
    cache = env["REPRORUN_CACHE_DIR"]
    probe = script.replace(".py", "_probe.py")
    rows = {**option_sets(install, cache), "no options": []}
    seen: dict[str, object] = {}
    log(f"warm, {install.name}: building the envs (untimed), probing each option set")
    for label, options in rows.items():
        first = subprocess.run([install.reprorun, *options, probe], env=env, capture_output=True, text=True,
                               check=False)  # fmt: skip
        if first.returncode != 0:
            raise SystemExit(f"{install.name}: reprorun {' '.join(options)} failed:\n{first.stderr[-2000:]}")
        seen[label] = probe_launch([install.reprorun, *options, probe], env)
    python = str(seen["--python PATH"]["executable"])  # type: ignore[index]
    default_python = str(seen["no options"]["executable"])  # type: ignore[index]
    cases = [Case("python (the env's bin/python)", [python, script], env, quiet=True)]
    for label, options in rows.items():
        if label == "no options" and default_python != python:
            continue
        mode = seen[label]["launch"]  # type: ignore[index]
        cases.append(Case(f"reprorun {label} ({mode})", [install.reprorun, *options, script], env, quiet=True))
    if work.uv:
        cases.append(Case("uv run --script", [work.uv, "run", "--script", script], env, quiet=True))
    if default_python != python:
        version = _version(default_python)
        mode = seen["no options"]["launch"]  # type: ignore[index]
        cases.append(Case(f"python (default choice's env, {version})", [default_python, script], env, quiet=True))
        cases.append(Case(f"reprorun, no options (picks {version}; {mode})", [install.reprorun, script], env,
                          quiet=True))  # fmt: skip
    log(f"warm, {install.name}: {len(cases)} rows x {runs} runs, interleaved")
    results = measure(cases, runs, warmups=2)
    floor = next(r for r in results if r.name == "python (the env's bin/python)")
    default_floor = next((r for r in results if r.name.startswith("python (default")), None)
    uv = next((r for r in results if r.name.startswith("uv run")), None)
    for r in results:
        if r.name.startswith(("python", "uv")):
            continue
        if "no options (picks" in r.name:
            relate(r, "python", default_floor)  # its own env's python: another interpreter
        else:
            relate(r, "python", floor)
            relate(r, "uv", uv)
    title = f"warm start from {install.name} (Python {install.version}), six script (median of {runs})"
    return title, results, seen


def targets(title: str, results: list[Result]) -> list[dict[str, object]]:
    """Issue 17's warm targets for one install section: <= 1.25x python and <= 0.75x uv, every row."""
    found = []
    for r in results:
        if r.name.startswith("reprorun") and r.samples:
            where = f"{title.split(' (', maxsplit=1)[0]}: {r.name}"
            found.append(target(f"{where} <= 1.25x python", r, "python", 1.25))
            if "uv" in r.ratios:
                found.append(target(f"{where} <= 0.75x uv run", r, "uv", 0.75))
    return found


def _version(python: str) -> str:
    done = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True,
                          text=True, check=False)  # fmt: skip
    return done.stdout.strip()

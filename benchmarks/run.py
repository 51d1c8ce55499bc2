"""reprorun against bare python, `uv run --script` and `pipx run`: warm starts and cold builds.

    python benchmarks/run.py [--quick] [--json out.json] [--python X] [--only warm|cold]

Stdlib only. The first run downloads a wheelhouse (numpy, pandas, six, uv, pipx and reprorun's
dependencies) into benchmarks/.work/; every measured command then runs offline against it, with
its caches inside the work dir. See docs/performance.md for what each row means.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import burst
import disk
import installs
import warm_installs
from timing import Case, Result, measure, relate, table, target
from workdir import REPO, SetupError, Work, prepare, probe_launch, resolve_python


def _block(*deps: str) -> str:
    listed = ", ".join(f'"{d}"' for d in deps)
    return f'# /// script\n# requires-python = ">=3.10"\n# dependencies = [{listed}]\n# ///\n'


SCIENCE = ("numpy", "pandas", "matplotlib")
BLOCKS = {
    "six": _block("six"),
    "no deps": _block(),
    "requests": _block("requests"),
    "science": _block(*SCIENCE),
    "science+six": _block(*SCIENCE, "six"),
}
_PLOT = 'import matplotlib\nmatplotlib.use("Agg")\nimport matplotlib.pyplot\n'
BODIES = {
    "six": 'print("hi")\n',
    "no deps": 'print("hi")\n',
    "requests": 'import requests\n\nprint("hi")\n',
    "science": "import numpy\nimport pandas\n" + _PLOT + '\nprint("hi")\n',
    "science+six": "import numpy\nimport pandas\nimport six\n" + _PLOT + '\nprint("hi")\n',
}
WARM = ("six", "science")
COLD = ("no deps", "requests", "science")
SECTIONS = ("warm", "installs", "concurrent", "cold", "disk")
PROBE = """\
import json, os, sys
try:
    with open("/proc/self/cmdline", "rb") as handle:
        cmdline = [part.decode() for part in handle.read().split(b"\\0") if part]
except OSError:
    cmdline = []
print(json.dumps({"executable": sys.executable, "prefix": sys.prefix, "cmdline": cmdline}))
"""


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0915 - the sections in order, one screen
    """Prepare the work dir, run the selected sections, print the table, write the JSON."""
    args = _parser().parse_args(argv)
    warm_runs, warm_heavy_runs, cold_runs = (15, 15, 3) if args.quick else (30, 20, 15)
    chosen = args.only or list(SECTIONS)
    started = time.monotonic()
    try:
        python = resolve_python(args.python)
        work = prepare(python, log=_log)
        made = installs.prepare(work, os.path.join(work.root, "src"), _log) if "installs" in chosen else []
    except SetupError as exc:
        print(f"benchmark setup failed: {exc}", file=sys.stderr)
        return 1
    scripts = _write_scripts(work.scripts)
    report: dict[str, object] = {
        "command": "python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "runs": {"warm": warm_runs, "warm_science": warm_heavy_runs, "cold": cold_runs, "concurrent": args.concurrent},
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
        "sections": [],
    }
    sections: list[tuple[str, list[Result]]] = []
    targets: list[dict[str, object]] = []
    texts: list[str] = []

    def add(kind: str, name: str, title: str, results: list[Result]) -> None:
        sections.append((title, results))
        rows = [r.as_json() for r in results]
        report["sections"].append({"title": title, "kind": kind, "script": name, "rows": rows})  # type: ignore[attr-defined]

    out = args.json or os.path.join(REPO, "benchmarks", "results-latest.json")

    def save(final: bool = False) -> None:
        """Write the JSON (and the printed report beside it) after every section: a run cut short
        on a loaded machine still leaves every section it finished."""
        report["complete"] = final
        report["machine"] = _machine(work)  # after the runs: pipx's shared pip exists by now
        report["targets"] = _targets(sections) + targets
        report["seconds"] = round(time.monotonic() - started, 1)
        with open(out, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=2)
            handle.write("\n")
        with open(out + ".txt", "w", encoding="utf-8") as handle:
            handle.write(_report_text(report, sections, texts) + "\n")

    # The sections the targets hang on most come first.
    for install in made:
        title, results, seen = warm_installs.section(work, install, scripts["six"], warm_runs, _log)
        report.setdefault("install_launches", {})[install.name] = {  # type: ignore[index]
            label: info["launch"] for label, info in seen.items()  # type: ignore[index]
        }
        add("installs", "six", title, results)
        targets += warm_installs.targets(title, results)
        save()
    if "concurrent" in chosen:
        targets += _concurrent(work, args.concurrent, report, texts)
        save()
    if "warm" in chosen:
        for name in WARM:
            title, results, launch = _warm(work, scripts[name], name, warm_runs if name == "six" else warm_heavy_runs)
            report.setdefault("launch", {})[name] = launch  # type: ignore[index]
            add("warm", name, title, results)
            save()
        picked = _warm(work, scripts["six"], "six", warm_runs, request=None)
        if picked is not None:
            report.setdefault("launch", {})["six, no --python"] = picked[2]  # type: ignore[index]
            add("warm", "six", picked[0], picked[1])
            save()
    if "cold" in chosen:
        for name in COLD:
            add("cold", name, *_cold(work, scripts[name], name, cold_runs))
            save()
    if "disk" in chosen:
        targets += _disk(work, scripts, report, texts)
    save(final=True)
    print(_report_text(report, sections, texts))
    _log(f"wrote {out} ({report['seconds']}s in all)")
    return 0


def _concurrent(work: Work, count: int, report: dict[str, object], texts: list[str]) -> list[dict[str, object]]:
    _log(f"concurrent: {count} warm starts at once, reprorun then uv")
    script = _write(os.path.join(work.scripts, "now.py"), BLOCKS["six"] + burst.SCRIPT_BODY)
    figures = burst.section(work, script, count)
    report["concurrent"] = figures
    texts += burst.lines(figures, count)
    return _concurrent_targets(figures)


def _disk(work: Work, scripts: dict[str, str], report: dict[str, object], texts: list[str]) -> list[dict[str, object]]:
    _log("disk: fresh caches, the science script, then science + six")
    sizes = disk.section(work, scripts["science"], scripts["science+six"])
    report["disk"] = sizes
    texts += disk.lines(sizes)
    return disk.targets(sizes)


def _concurrent_targets(figures: dict[str, object]) -> list[dict[str, object]]:
    row = figures["reprorun"]
    assert isinstance(row, dict)
    writes = row.get("writing_calls_per_start")
    files = None if writes is None else len({w.split(" ", 1)[1] for w in writes})
    return [
        {"target": "concurrent: every start succeeds", "ratio": None, "met": row["failed"] == 0},
        {"target": "concurrent: p95 <= 2x p50", "ratio": row["p95_over_p50"],
         "met": None if row["p95_over_p50"] is None else row["p95_over_p50"] <= 2},
        {"target": "concurrent: <= 1 file written per start", "ratio": files,
         "met": None if files is None else files <= 1},
    ]  # fmt: skip


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs (warm 15, cold 3)")
    parser.add_argument("--json", metavar="PATH", help="results file (default benchmarks/results-latest.json)")
    parser.add_argument("--python", metavar="X", help="the one interpreter for everything (default: the running one)")
    parser.add_argument("--only", choices=SECTIONS, action="append", help="run this section (repeatable)")
    parser.add_argument("--concurrent", type=int, default=256, metavar="N", help="starts launched at once")
    return parser


def _write_scripts(folder: str) -> dict[str, str]:
    os.makedirs(folder, exist_ok=True)
    paths = {}
    for name, block in BLOCKS.items():
        stem = "uses_" + name.replace("+", "_").replace(" ", "_")  # never a module's name: `requests.py` would
        # be what `import requests` finds first, from the script's own folder
        paths[name] = _write(os.path.join(folder, f"{stem}.py"), block + BODIES[name])
        _write(os.path.join(folder, f"{stem}_probe.py"), block + PROBE)  # same block: same env
    return paths


def _write(path: str, text: str) -> str:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


# --- warm starts ---------------------------------------------------------------------------


def _warm(
    work: Work, script: str, name: str, runs: int, request: str | None = ""
) -> tuple[str, list[Result], dict[str, object]] | None:
    """Warm starts of one script. With request=None, reprorun picks the interpreter itself
    (no --python): a shorter section without peers, skipped when it picks the benchmark's own."""
    env = work.environ()
    choose = request is None
    reprorun = [work.reprorun] if choose else [work.reprorun, "--python", work.python]
    probe = script.replace(".py", "_probe.py")
    _log(f"warm, {name}{', no --python' if choose else ''}: building the env (untimed), probing the launch")
    first = subprocess.run([*reprorun, probe], env=env, capture_output=True, text=True, check=False)
    if first.returncode != 0:
        raise SystemExit(f"reprorun could not build the {name} env:\n{first.stderr[-2000:]}")
    launch = {
        "default": probe_launch([*reprorun, probe], env),
        "exec": probe_launch([*reprorun, probe], {**env, "REPRORUN_LAUNCH": "exec"}),
    }
    env_python = str(launch["default"]["executable"])
    own = os.path.realpath(os.path.join(work.reprorun_venv, "bin", "python"))
    launch["same_real_executable"] = os.path.realpath(env_python) == own
    if choose and launch["same_real_executable"]:
        _log("reprorun picks the benchmark's own interpreter: no separate section")
        return None
    version = _out([env_python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
    envs = os.path.join(env["REPRORUN_CACHE_DIR"], "envs")
    unchanged = _unchanged(envs, "reprorun built an env on a warm run")
    mode = launch["default"]["launch"]
    label = f"python (the env's bin/python{f', {version}' if choose else ''})"
    cases = [Case(label, [env_python, script], env, quiet=True)]
    if choose:
        label = f"reprorun, no --python (picks {version}: {mode})"
        cases.append(Case(label, [*reprorun, script], env, quiet=True, check=unchanged))
    else:
        cases += [
            Case(f"reprorun ({mode} launch)", [*reprorun, script], env, quiet=True, check=unchanged),
            Case("reprorun, REPRORUN_LAUNCH=exec", [*reprorun, script], {**env, "REPRORUN_LAUNCH": "exec"}, quiet=True,
                 check=unchanged),
        ]  # fmt: skip
    if work.uv and not choose:
        uv_envs = os.path.join(env["UV_CACHE_DIR"], "environments-v2")
        cases.append(Case("uv run --script", [work.uv, "run", "--script", script], env, quiet=True,
                          check=_unchanged(uv_envs, "uv built an env on a warm run")))  # fmt: skip
    if work.pipx and not choose:
        cases.append(Case("pipx run", [work.pipx, "run", "--python", work.python, script], env, quiet=True))
    _log(f"warm, {name}: {len(cases)} rows x {runs} runs, interleaved")
    results = measure(cases, runs, warmups=2)
    base = _row(results, "python")
    uv = _row(results, "uv run")
    for r in results:
        if not r.name.startswith("python"):
            relate(r, "python", base)
        if not r.name.startswith("uv"):
            relate(r, "uv", uv)
    where = f"no --python: reprorun picks {version}, median of {runs}" if choose else f"median of {runs}"
    return f"warm start, {name} script ({where})", results, launch


def _unchanged(folder: str, message: str) -> Callable[[], str | None]:
    """A check that the folder's env count stays what it was after the first (warm-up) run."""
    seen: list[int] = []

    def check() -> str | None:
        now = _count(folder)
        if not seen:
            seen.append(now)  # the first warm-up may build (uv, pipx); later runs must not
        return f"{message} ({seen[0]} -> {now} envs)" if now != seen[0] else None

    return check


# --- cold builds ---------------------------------------------------------------------------


def _cold(work: Work, script: str, name: str, runs: int) -> tuple[str, list[Result]]:
    """Cold builds (wheel caches warm), each run followed by the script's first run in the new env.

    For the science script only the uv rows run: its target is uv's time to first result.
    """
    small = name != "science"
    cache = os.path.join(work.root, "cache-cold")
    env = work.environ(REPRORUN_CACHE_DIR=cache)
    envs = os.path.join(cache, "envs")
    reprorun = [work.reprorun, "--refresh", "--python", work.python]
    cases = []
    if work.uv:
        cases.append(Case("reprorun --installer uv", [*reprorun, "--installer", "uv", script], env,
                          before=_empty(envs), check=_built(envs)))  # fmt: skip
    if small:
        cases.append(Case("reprorun --installer pip", [*reprorun, "--installer", "pip", script], env,
                          before=_empty(envs), check=_built(envs)))  # fmt: skip
    if work.uv:
        # A new script env each time, the wheel cache kept: remove uv's cached script environments.
        uv_envs = os.path.join(env["UV_CACHE_DIR"], "environments-v2")
        cases.append(Case("uv run --script (fresh env)", [work.uv, "run", "--script", script], env,
                          before=_empty(uv_envs), check=_built(uv_envs)))  # fmt: skip
    if work.pipx and small:
        pipx_envs = os.path.join(env["PIPX_HOME"], ".cache")
        cases.append(Case("pipx run (fresh env)", [work.pipx, "run", "--python", work.python, script], env,
                          before=_empty(pipx_envs), check=_built(pipx_envs)))  # fmt: skip
    _log(f"cold, {name}: {len(cases)} rows x {runs} runs (+1 warm-up), interleaved")
    results = measure(cases, runs, warmups=1)
    uv, pipx = _row(results, "uv run"), _row(results, "pipx run")
    for r in results:
        if r.name.endswith("uv"):
            relate(r, "uv run", uv)
        if r.name.endswith("pip"):
            relate(r, "pipx run", pipx)
    for case in cases:
        if case.before is not None:
            case.before()  # leave no cold env behind (disk)
    return f"cold build, {name} script (wheel cache warm, median of {runs})", results


def _empty(folder: str) -> Callable[[], None]:
    def clear() -> None:
        for path in glob.glob(os.path.join(folder, "*")):
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.remove(path)

    return clear


def _built(folder: str) -> Callable[[], str | None]:
    def check() -> str | None:
        return None if _count(folder) >= 1 else f"no new env in {folder}: was it really a cold build?"

    return check


def _count(folder: str) -> int:
    try:
        return sum(1 for name in os.listdir(folder) if not name.startswith("."))
    except OSError:
        return 0


def _row(results: list[Result], prefix: str) -> Result | None:
    for r in results:
        if r.name.startswith(prefix) and r.samples:
            return r
    return None


# --- report --------------------------------------------------------------------------------


def _targets(sections: list[tuple[str, list[Result]]]) -> list[dict[str, object]]:
    """Issue 17's targets of the warm and cold sections, each with the measured ratio and whether it is met."""
    found = []
    for title, results in sections:
        short = title.split(" (")[0]
        for r in results:
            if not r.samples:
                continue
            if title.startswith("warm start, six") and r.name.startswith("reprorun ("):
                found.append(target(f"{short}: reprorun <= 1.25x python", r, "python", 1.25))
                found.append(target(f"{short}: reprorun <= 0.75x uv run", r, "uv", 0.75))
            if title.startswith("warm start, science") and r.name.startswith("reprorun ("):
                found.append(target(f"{short}: reprorun <= uv run", r, "uv", 1.0))
            if title.startswith("cold") and r.name.endswith("uv"):
                limit = 0.9 if "science" in title else 1.3
                what = "time to first result" if "science" in title else "build and run"
                found.append(target(f"{short}: reprorun uv {what} <= {limit}x uv run", r, "uv run", limit))
            if title.startswith("cold") and r.name.endswith("pip"):
                found.append(target(f"{short}: reprorun pip <= pipx run (stop 9: 0.99x for six)", r, "pipx run", 1.0))
    return found


def _report_text(report: dict[str, object], sections: list[tuple[str, list[Result]]], texts: list[str]) -> str:
    """The printed report: machine, versions, launches, the table, the other sections, targets, anomalies."""
    lines: list[str] = []
    print = lines.append
    machine = report["machine"]
    assert isinstance(machine, dict)
    print(
        f"machine: {machine['cpu']}, {machine['cores']} cores, {machine['system']}, "
        f"load average {machine['load_average']}, harness spawn overhead {machine['spawn_overhead_ms']}ms"
    )
    print("versions: " + ", ".join(f"{k} {v}" for k, v in machine["versions"].items()))
    for name, launch in (report.get("launch") or {}).items():  # type: ignore[attr-defined]
        same = launch["same_real_executable"]
        print(f"launch ({name}): default {launch['default']['launch']}, with REPRORUN_LAUNCH=exec "
              f"{launch['exec']['launch']}; env python is reprorun's own executable: {same}")  # fmt: skip
    for name, launches in (report.get("install_launches") or {}).items():  # type: ignore[attr-defined]
        print(f"launch from {name}: " + ", ".join(f"{k}: {v}" for k, v in launches.items()))
    print("")
    print(table(sections))
    print("")
    for line in texts:
        print(line)
    print("")
    for t in report["targets"]:  # type: ignore[attr-defined]
        mark = {True: "met", False: "NOT met", None: "not measured"}[t["met"]]
        ratio = "" if t["ratio"] is None else f"{t['ratio']:.2f}x"
        cpu = f" (cpu {t['cpu_ratio']:.2f}x)" if t.get("cpu_ratio") is not None else ""
        print(f"target: {t['target']:72} {ratio:>7}{cpu:16}  {mark}")
    for _, results in sections:
        for r in results:
            for text in r.anomalies + ([r.error] if r.error else []):
                print(f"anomaly: {r.name}: {text}")
    return "\n".join(lines)


def _machine(work: Work) -> dict[str, object]:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next((ln.split(":", 1)[1].strip() for ln in handle if ln.startswith("model name")), cpu)
    except OSError:
        pass
    venv_python = os.path.join(work.reprorun_venv, "bin", "python")
    versions = {
        "python": _out([work.python, "-c", "import sys; print(sys.version.split()[0])"]) + f" ({work.python})",
        "reprorun": _out([work.reprorun, "--version"]).replace("reprorun ", "") + _git(),
        "pip (reprorun's, embedded in virtualenv)": _out([venv_python, "-c", _EMBEDDED_PIP]),
        "uv": _out([work.uv, "--version"]).replace("uv ", "") if work.uv else "not installed",
        "pipx": _out([work.pipx, "--version"]) if work.pipx else "not installed",
        "pip (pipx's shared libs)": _pipx_pip(work),
    }
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "spawn_overhead_ms": _spawn_overhead(),
        "system": f"{platform.system()} {platform.release()} {platform.machine()}",
        "versions": versions,
    }


_EMBEDDED_PIP = """\
import glob, os, virtualenv
found = glob.glob(os.path.join(os.path.dirname(virtualenv.__file__), "seed/wheels/embed/pip-*.whl"))
print(", ".join(sorted(os.path.basename(p).split("-")[1] for p in found)))
"""


def _pipx_pip(work: Work) -> str:
    """The pip pipx drives (from its shared venv, made on its first run)."""
    shared = os.path.join(work.environ()["PIPX_HOME"], "shared")
    found = glob.glob(os.path.join(shared, "lib", "python*", "site-packages", "pip-*.dist-info"))
    return ", ".join(os.path.basename(p)[4:-10] for p in found) or "not created"


def _spawn_overhead() -> float:
    """The harness's own cost per run (median of 20 `true`), included in every figure."""
    true = shutil.which("true") or "/bin/true"
    samples = []
    for _ in range(20):
        start = time.perf_counter()
        subprocess.run([true], capture_output=True, check=False)
        samples.append(time.perf_counter() - start)
    return round(sorted(samples)[10] * 1000, 2)


def _git() -> str:
    commit = _out(["git", "-C", REPO, "rev-parse", "--short", "HEAD"])
    dirty = _out(["git", "-C", REPO, "status", "--porcelain", "--", "src", "pyproject.toml"])
    return f" (git {commit}{', src modified' if dirty else ''})"


def _out(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return "?"


def _log(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())

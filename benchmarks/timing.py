"""Time commands as a user would see them: wall clock from spawn to exit, interleaved, checked."""

from __future__ import annotations

import resource
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


@dataclass
class Case:
    """One row: a command, its environment, what it must print, and untimed hooks around it."""

    name: str
    argv: list[str]
    env: dict[str, str]
    expect: str = "hi\n"
    quiet: bool = False  # a warm run: anything on stderr is worth reporting
    before: Callable[[], None] | None = None  # untimed, before every run (e.g. remove the env)
    check: Callable[[], str | None] | None = None  # untimed, after every run: an anomaly or None


@dataclass
class Result:
    """The samples of one row and whatever looked wrong while taking them."""

    name: str
    samples: list[float] = field(default_factory=list)  # seconds
    cpu: list[float] = field(default_factory=list)  # seconds of CPU (user + system, the whole process tree)
    anomalies: list[str] = field(default_factory=list)
    error: str | None = None
    ratios: dict[str, float] = field(default_factory=dict)  # wall-clock median / another row's
    cpu_bases: dict[str, float] = field(default_factory=dict)  # the other rows' CPU medians, same keys

    def cpu_ratios(self) -> dict[str, float]:
        """The ratios of CPU medians to the rows the wall-clock ratios compare with."""
        return {k: self.cpu_median / v for k, v in self.cpu_bases.items() if v and self.cpu}

    @property
    def median(self) -> float:
        """Median seconds."""
        return statistics.median(self.samples) if self.samples else float("nan")

    @property
    def cpu_median(self) -> float:
        """Median CPU seconds: what a run costs, much less swayed by other work on the machine."""
        return statistics.median(self.cpu) if self.cpu else float("nan")

    def as_json(self) -> dict[str, object]:
        """The row as data, in milliseconds."""
        ms = [round(s * 1000, 2) for s in self.samples]
        return {
            "name": self.name,
            "runs": len(ms),
            "median_ms": round(self.median * 1000, 2) if ms else None,
            "min_ms": min(ms) if ms else None,
            "max_ms": max(ms) if ms else None,
            "samples_ms": ms,
            "cpu_median_ms": round(self.cpu_median * 1000, 2) if self.cpu else None,
            "cpu_samples_ms": [round(c * 1000, 2) for c in self.cpu],
            "ratios": {k: round(v, 3) for k, v in self.ratios.items()},
            "cpu_ratios": {k: round(v, 3) for k, v in self.cpu_ratios().items()},
            "anomalies": self.anomalies,
            "error": self.error,
        }


def relate(row: Result, key: str, base: Result | None) -> None:
    """Record row / base as the ratio `key`, for the wall-clock medians and for the CPU medians."""
    if base is None or not base.samples or not row.samples:
        return
    row.ratios[key] = row.median / base.median
    if base.cpu:
        row.cpu_bases[key] = base.cpu_median


def target(what: str, row: Result, key: str, limit: float) -> dict[str, object]:
    """A target `row / key <= limit`: met or not by the wall-clock ratio; the CPU ratio beside it."""
    ratio, cpu = row.ratios.get(key), row.cpu_ratios().get(key)
    return {
        "target": what,
        "ratio": None if ratio is None else round(ratio, 3),
        "cpu_ratio": None if cpu is None else round(cpu, 3),
        "met": None if ratio is None else ratio <= limit,
    }


def measure(cases: Sequence[Case], runs: int, warmups: int = 1) -> list[Result]:
    """Run every case `warmups + runs` times, round-robin (so drift hits all rows alike)."""
    results = [Result(case.name) for case in cases]
    for round_ in range(warmups + runs):
        order = list(range(len(cases)))
        shift = round_ % len(order)
        for index in order[shift:] + order[:shift]:
            case, result = cases[index], results[index]
            if result.error is None:
                _once(case, result, timed=round_ >= warmups)
    return results


def _once(case: Case, result: Result, timed: bool) -> None:
    if case.before is not None:
        case.before()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(case.argv, env=case.env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # every reaped descendant of the run
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-6:])
        result.error = f"exit {done.returncode}: {tail}"
        return
    when = "run" if timed else "warm-up run"
    if done.stdout != case.expect:
        _note(result, f"{when}: unexpected stdout {done.stdout[-200:]!r}")
    if case.quiet and timed and done.stderr:
        _note(result, f"{when}: stderr {done.stderr.strip()[-300:]!r}")
    if case.check is not None:
        problem = case.check()
        if problem:
            _note(result, f"{when}: {problem}")
    if timed:
        result.samples.append(elapsed)
        result.cpu.append(cpu)


def _note(result: Result, text: str) -> None:
    if text not in result.anomalies and len(result.anomalies) < 5:
        result.anomalies.append(text)


def table(sections: Sequence[tuple[str, Sequence[Result]]]) -> str:
    """One plain-text table: row, runs, median, min, max, CPU median (ms) and the ratios of each row."""
    header = f"{'':52} {'runs':>4} {'median':>9} {'min':>9} {'max':>9} {'cpu':>9}  ratio (wall; cpu)"
    lines = [header, "-" * len(header)]
    for title, results in sections:
        lines.append(title)
        for r in results:
            if r.error is not None or not r.samples:
                lines.append(f"  {r.name:50} failed: {(r.error or 'no samples').splitlines()[0][:60]}")
                continue
            ratio = ", ".join(f"{v:.2f}x {k}" for k, v in r.ratios.items())
            cpu = ", ".join(f"{v:.2f}x" for k, v in r.cpu_ratios().items())
            spread = f"{_ms(r.median)} {_ms(min(r.samples))} {_ms(max(r.samples))} {_ms(r.cpu_median)}"
            lines.append(f"  {r.name:50} {len(r.samples):>4} {spread}  {ratio}{f'; {cpu}' if cpu else ''}")
    return "\n".join(lines)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f}ms" if seconds < 10 else f"{seconds:8.2f}s"

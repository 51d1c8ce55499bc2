"""Time commands as a user would see them: wall clock from spawn to exit, interleaved, checked."""

from __future__ import annotations

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
    anomalies: list[str] = field(default_factory=list)
    error: str | None = None
    ratios: dict[str, float] = field(default_factory=dict)

    @property
    def median(self) -> float:
        """Median seconds."""
        return statistics.median(self.samples) if self.samples else float("nan")

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
            "ratios": {k: round(v, 3) for k, v in self.ratios.items()},
            "anomalies": self.anomalies,
            "error": self.error,
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
    start = time.perf_counter()
    done = subprocess.run(case.argv, env=case.env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
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


def _note(result: Result, text: str) -> None:
    if text not in result.anomalies and len(result.anomalies) < 5:
        result.anomalies.append(text)


def table(sections: Sequence[tuple[str, Sequence[Result]]]) -> str:
    """One plain-text table: row, runs, median, min, max (ms) and the ratios of each row."""
    header = f"{'':44} {'runs':>4} {'median':>9} {'min':>9} {'max':>9}  ratio"
    lines = [header, "-" * len(header)]
    for title, results in sections:
        lines.append(title)
        for r in results:
            if r.error is not None or not r.samples:
                lines.append(f"  {r.name:42} failed: {(r.error or 'no samples').splitlines()[0][:60]}")
                continue
            ratio = ", ".join(f"{v:.2f}x {k}" for k, v in r.ratios.items())
            spread = f"{_ms(r.median)} {_ms(min(r.samples))} {_ms(max(r.samples))}"
            lines.append(f"  {r.name:42} {len(r.samples):>4} {spread}  {ratio}")
    return "\n".join(lines)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f}ms" if seconds < 10 else f"{seconds:8.2f}s"

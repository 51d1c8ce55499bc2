# /// script
# requires-python = ">=3.10"
# dependencies = ["matplotlib"]
# ///
"""Charts of a benchmarks/run.py result: warm starts and cold builds, reprorun beside its peers.

    reprorun benchmarks/plot.py [RESULTS.json] [--out docs/img]

Writes `benchmarks-warm.svg` (the warm sections and the warm start from each install) and
`benchmarks-cold.svg` (the cold builds), one panel per section, one bar per row: the median
wall-clock time, whiskers from the 25th to the 75th percentile, and a black mark at the median CPU
time of the row's process tree. Needs matplotlib (its PEP 723 block: reprorun runs it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COLOURS = {"reprorun": "#00897b", "uv": "#5c6bc0", "pipx": "#ef6c00", "python": "#9e9e9e"}


def colour(row: str) -> str:
    """The bar colour of a row: reprorun's rows in teal, each peer in its own colour."""
    lowered = row.lower()
    for key in ("reprorun", "uv", "pipx"):
        if key in lowered:
            return COLOURS[key]
    return COLOURS["python"]


KINDS = {"warm": ("installs", "warm"), "cold": ("cold",)}  # chart -> the section kinds of run.py on it


def sections_of(report: dict[str, object], kind: str) -> list[dict[str, object]]:
    """The result sections of one chart (`warm` or `cold`) that have at least one measured row."""
    found = []
    for section in report.get("sections", []):  # type: ignore[union-attr]
        if isinstance(section, dict) and str(section.get("kind", "")) in KINDS[kind]:
            rows = [r for r in section.get("rows", []) if r.get("median_ms") is not None]
            if rows:
                found.append({**section, "rows": rows})
    return found


def plot(report: dict[str, object], kind: str, out: Path) -> Path | None:
    """One SVG for the sections of a kind; None when the report has none."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.fonttype"] = "none"  # text stays text: small files, crisp in any browser
    sections = sections_of(report, kind)
    if not sections:
        return None
    height = sum(len(s["rows"]) for s in sections) * 0.42 + 1.1 * len(sections)  # type: ignore[arg-type]
    height = max(2.5, height) + 0.5
    figure, axes = plt.subplots(len(sections), 1, figsize=(9, height), squeeze=False)
    for axis, section in zip(axes[:, 0], sections, strict=True):
        rows = list(reversed(section["rows"]))  # type: ignore[call-overload]
        names = [str(r["name"]) for r in rows]
        medians = [float(r["median_ms"]) for r in rows]
        low = [m - _quantile(r, 0.25, m) for m, r in zip(medians, rows, strict=True)]
        high = [_quantile(r, 0.75, m) - m for m, r in zip(medians, rows, strict=True)]
        axis.barh(names, medians, xerr=[low, high], color=[colour(n) for n in names], capsize=3,
                  error_kw={"elinewidth": 0.8, "ecolor": "#555555"})  # fmt: skip
        cpu = [(y, float(r["cpu_median_ms"])) for y, r in enumerate(rows) if r.get("cpu_median_ms") is not None]
        if cpu:
            axis.plot([c for _, c in cpu], [y for y, _ in cpu], "|", color="black", markersize=12, mew=2,
                      label="CPU time (median)")  # fmt: skip
        for y, value in enumerate(medians):
            axis.text(value + high[y], y, f"  {_ms(value)}", va="center", fontsize=8)
        axis.set_title(textwrap.fill(str(section.get("title", "")), 90), fontsize=9, loc="left")
        axis.set_xlabel("milliseconds (bar: median wall clock; whiskers: 25th-75th percentile; |: median CPU)",
                        fontsize=8)  # fmt: skip
        axis.tick_params(labelsize=8)
        axis.spines[["top", "right"]].set_visible(False)
        axis.set_xlim(0, max(m + h for m, h in zip(medians, high, strict=True)) * 1.3)
    figure.suptitle(f"{kind} runs — {machine_label(report)}", fontsize=10)
    figure.tight_layout(rect=(0, 0, 1, 1 - 0.45 / height))  # room for the title above the panels
    path = out / f"benchmarks-{kind}.svg"
    figure.savefig(path, metadata={"Date": None})  # no timestamp: the file changes only with the data
    plt.close(figure)
    return path


def _quantile(row: dict[str, object], q: float, default: float) -> float:
    samples = sorted(float(x) for x in row.get("samples_ms") or [])  # type: ignore[attr-defined]
    if not samples:
        return default
    return samples[min(len(samples) - 1, int(q * len(samples)))]


def _ms(value: float) -> str:
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:,.0f} ms" if value >= 10 else f"{value:.1f} ms"


def machine_label(report: dict[str, object]) -> str:
    """The machine a report was measured on, and its load, for the chart's title."""
    machine = report.get("machine")
    if not isinstance(machine, dict):
        return "machine unknown"
    load = machine.get("load_average") or []
    before = report.get("load_average_before") or []
    loads = ", ".join(f"{x:.1f}" for x in [*before[:1], *load[:1]])  # type: ignore[index]
    return f"{machine.get('cpu')}, {machine.get('cores')} cores, load average {loads} (start, end)"


def main(argv: list[str] | None = None) -> int:
    """Read the results, write the charts, print their paths."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="?", default=str(REPO / "benchmarks" / "results-latest.json"))
    parser.add_argument("--out", default=str(REPO / "docs" / "img"), help="folder of the SVG files")
    args = parser.parse_args(argv)
    try:
        with open(args.results, encoding="utf-8") as handle:
            report = json.load(handle)
    except (OSError, ValueError) as exc:
        print(f"plot: cannot read {args.results}: {exc}", file=sys.stderr)
        return 1
    out = Path(args.out)
    os.makedirs(out, exist_ok=True)
    written = [p for p in (plot(report, kind, out) for kind in ("warm", "cold")) if p is not None]
    for path in written:
        print(path)
    return 0 if written else 1


if __name__ == "__main__":
    sys.exit(main())

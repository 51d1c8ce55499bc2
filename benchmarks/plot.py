"""Charts of a benchmarks/run.py result: warm starts and cold builds, reprorun beside its peers.

    python benchmarks/plot.py [RESULTS.json] [--out docs/img]

Writes `benchmarks-warm.svg` and `benchmarks-cold.svg` (one panel per measured script, one bar
per row: median with the min-max range), for docs/performance.md. Needs matplotlib (any venv that
has it; reprorun itself does not depend on it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
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


def sections_of(report: dict[str, object], kind: str) -> list[dict[str, object]]:
    """The result sections of one kind (`warm` or `cold`) that have at least one measured row."""
    found = []
    for section in report.get("sections", []):  # type: ignore[union-attr]
        if isinstance(section, dict) and str(section.get("kind", "")).startswith(kind):
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
    figure, axes = plt.subplots(len(sections), 1, figsize=(8, max(2.5, height)), squeeze=False)
    for axis, section in zip(axes[:, 0], sections, strict=True):
        rows = list(reversed(section["rows"]))  # type: ignore[call-overload]
        names = [str(r["name"]) for r in rows]
        medians = [float(r["median_ms"]) for r in rows]
        low = [m - float(r.get("min_ms") or m) for m, r in zip(medians, rows, strict=True)]
        high = [float(r.get("max_ms") or m) - m for m, r in zip(medians, rows, strict=True)]
        axis.barh(names, medians, xerr=[low, high], color=[colour(n) for n in names], capsize=3,
                  error_kw={"elinewidth": 0.8, "ecolor": "#555555"})  # fmt: skip
        for y, value in enumerate(medians):
            axis.text(value, y, f"  {value:,.0f} ms" if value >= 10 else f"  {value:.1f} ms", va="center", fontsize=8)
        axis.set_title(str(section.get("title", "")), fontsize=10, loc="left")
        axis.set_xlabel("milliseconds (median; whiskers: min to max)", fontsize=8)
        axis.tick_params(labelsize=8)
        axis.spines[["top", "right"]].set_visible(False)
        axis.set_xlim(0, max(medians) * 1.35 + max(high or [0]))
    machine = report.get("machine") or report.get("python") or ""
    figure.suptitle(f"{kind} runs" + (f" — {machine}" if machine else ""), fontsize=11)
    figure.tight_layout()
    path = out / f"benchmarks-{kind}.svg"
    figure.savefig(path, metadata={"Date": None})  # no timestamp: the file changes only with the data
    plt.close(figure)
    return path


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

"""Time `metadata.parse` on a generated 10,000-line cell script; print the median of 50 runs.

Run: python benchmarks/parse_speed.py   (the target of issue 2 is "well under 10 ms")
"""

from __future__ import annotations

import statistics
import time

from reprorun.script import metadata

LINES = 10_000
RUNS = 50


def generate(lines: int = LINES) -> str:
    """A realistic script: a block near the top, then cells of code and comments."""
    head = [
        "#!/usr/bin/env reprorun",
        "# /// script",
        '# requires-python = ">=3.10"',
        '# dependencies = ["numpy>=2", "pandas>=2.2", "matplotlib"]',
        "#",
        "# [tool.reprorun]",
        '# requested = ["numpy", "pandas", "matplotlib"]',
        "# exclude-newer = 2024-06-01",
        "# ///",
        "import numpy as np",
    ]
    body = []
    n = 0
    while len(head) + len(body) < lines:
        body += [
            f"# %% Cell {n}",
            f"# a comment about step {n}",
            f"values_{n} = np.arange({n}) * 2  # inline comment",
            f"print(values_{n}.sum())",
            "",
        ]
        n += 1
    return "\n".join((head + body)[:lines]) + "\n"


def main() -> None:
    """Print the median parse time in milliseconds."""
    text = generate()
    assert text.count("\n") == LINES
    metadata.parse(text)  # warm up imports and caches
    timings = []
    for _ in range(RUNS):
        start = time.perf_counter()
        metadata.parse(text, "bench.py")
        timings.append(time.perf_counter() - start)
    median = statistics.median(timings) * 1000
    print(f"metadata.parse, {LINES} lines, median of {RUNS}: {median:.2f} ms")


if __name__ == "__main__":
    main()

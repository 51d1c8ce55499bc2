"""Warm start: a cached trivial script against bare `python` of the same env and `uv run --script`.

The warm section of benchmarks/run.py (median, min and max of at least 20 runs, with ratios), for
issue 3's check; `python benchmarks/warm_start.py [--quick] [--python X] [--json PATH]`.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

if __name__ == "__main__":
    runner = Path(__file__).with_name("run.py")
    sys.argv = [str(runner), "--only", "warm", *sys.argv[1:]]
    runpy.run_path(str(runner), run_name="__main__")

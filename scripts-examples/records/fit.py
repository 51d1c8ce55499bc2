# /// script
# requires-python = ">=3.10"
# dependencies = [
#     "tabulate==0.10.0",
# ]
#
# [tool.reprorun]
# requested = ["tabulate==0.10.0"]
# frozen-for = "cpython-3.11.7-manylinux_2_36_x86_64"
#
# [tool.reprorun.hashes]
# tabulate = ["sha256:f0b0622e567335c8fabaaa659f1b33bcb6ddfe2e496071b743aa113f8774f2d3"]
# ///
"""Fit a straight line to data.csv (x,y) and write its slope to results/slope.txt."""

import csv
import statistics
import sys
from pathlib import Path

from tabulate import tabulate

with open(sys.argv[1], newline="") as handle:
    rows = [(float(row["x"]), float(row["y"])) for row in csv.DictReader(handle)]
fit = statistics.linear_regression([x for x, _ in rows], [y for _, y in rows])
Path("results").mkdir(exist_ok=True)
Path("results/slope.txt").write_text(f"{fit.slope:.4f}\n")
print(tabulate([("points", len(rows)), ("slope", f"{fit.slope:.4f}"), ("intercept", f"{fit.intercept:.4f}")]))

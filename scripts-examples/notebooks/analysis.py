# /// script
# requires-python = ">=3.10"
# dependencies = ["tabulate==0.10.0"]
# ///
"""Monthly mean temperatures of one city, as a cell script (the percent format of VS Code and jupytext)."""

import csv
import statistics

from tabulate import tabulate

# %% tags=["parameters"]
city = "Oslo"
source = "temperatures.csv"

# %% Load data
with open(source, newline="") as handle:
    rows = [row for row in csv.DictReader(handle) if row["city"] == city]
by_month: dict[str, list[float]] = {}
for row in rows:
    by_month.setdefault(row["date"][:7], []).append(float(row["celsius"]))

# %% [markdown]
# The table: one line per month, the mean of that month's days.

# %% Summary
table = [(month, len(days), round(statistics.mean(days), 1)) for month, days in sorted(by_month.items())]
print(f"{city}: {len(rows)} days")
print(tabulate(table, headers=["month", "days", "mean °C"]))

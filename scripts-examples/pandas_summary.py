#!/usr/bin/env reprorun
# /// script
# requires-python = ">=3.10"
# dependencies = ["pandas>=2"]
# ///
# ruff: noqa: T201 - a script prints its results
"""Summarise a small table of penguin measurements with pandas: counts, means, a grouped table.

How to run it:

    reprorun scripts-examples/pandas_summary.py                     # the bundled data/penguins_small.csv
    reprorun scripts-examples/pandas_summary.py path/to/other.csv   # any CSV with a 'species' column
    reprorun --freeze scripts-examples/pandas_summary.py            # pin pandas and its dependencies

The data is a small excerpt in the shape of the Palmer penguins data set (CC0).
"""

import sys
from pathlib import Path

import pandas as pd

path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "data" / "penguins_small.csv"
table = pd.read_csv(path)
complete = table.dropna()
print(f"{path.name}: {len(table)} rows, {len(table) - len(complete)} incomplete, dropped")
print()
print(complete["species"].value_counts().to_string())
print()
numeric = complete.select_dtypes("number")
summary = numeric.groupby(complete["species"]).mean().round(1)
print(summary.to_string())
print()
heaviest = complete.loc[complete["body_mass_g"].idxmax()]
print(f"heaviest: a {heaviest['sex']} {heaviest['species']} from {heaviest['island']}, {heaviest['body_mass_g']:.0f} g")

#!/usr/bin/env reprorun
# /// script
# requires-python = ">=3.10"
# dependencies = ["tabulate==0.10.0"]
# ///
#SBATCH --time=00:10:00
#SBATCH --cpus-per-task=1
"""Summarize one data file (a column of numbers) into results/NAME.txt; run on a cluster's nodes."""

import argparse
import os
import socket
import statistics
from pathlib import Path

from tabulate import tabulate

parser = argparse.ArgumentParser()
parser.add_argument("data")
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()
values = [float(line) for line in Path(args.data).read_text().split()]
summary = tabulate([("n", len(values)), ("mean", statistics.mean(values)), ("seed", args.seed)])
Path("results").mkdir(exist_ok=True)
name = Path(args.data).stem
task = os.environ.get("SLURM_ARRAY_TASK_ID", "-")
Path(f"results/{name}.txt").write_text(f"{name} (task {task} on {socket.gethostname()})\n{summary}\n")
print(f"{name}: mean {statistics.mean(values):.2f}")

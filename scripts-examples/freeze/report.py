# /// script
# requires-python = ">=3.10"
# dependencies = [
#     "python-dateutil==4.0.0",
#     "tabulate==0.9.0",
#     "tzdata==2026.6",  # via python-dateutil
# ]
#
# [tool.reprorun]
# requested = ["python-dateutil", "tabulate"]
# frozen-for = "cpython-3.11.7-manylinux_2_36_x86_64"
# ///
"""Which versions this script runs with: the frozen block decides."""

from importlib.metadata import version

from dateutil import parser
from tabulate import tabulate

print(f"parsed {parser.parse('2024-03-01T12:00'):%Y-%m-%d}")
print(tabulate([(name, version(name)) for name in ("python-dateutil", "tabulate")], headers=["package", "version"]))

"""A script without a block: its packages are listed in requirements.txt beside it."""

from dateutil import parser
from tabulate import tabulate

print(tabulate([("parsed", f"{parser.parse('2024-03-01'):%Y-%m-%d}")]))

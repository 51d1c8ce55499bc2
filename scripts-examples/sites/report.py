# /// script
# requires-python = ">=3.10"
# dependencies = ["tabulate==0.10.0"]
# ///
from tabulate import tabulate

print(tabulate([("from", "the site's wheelhouse")]))

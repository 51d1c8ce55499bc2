# /// script
# requires-python = ">=3.9"
# dependencies = ["tabulate==0.10.0"]
# ///
import sys

print(sys.version.split()[0])

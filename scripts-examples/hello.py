#!/usr/bin/env reprorun
# /// script
# requires-python = ">=3.10"
# dependencies = []
# ///
# ruff: noqa: T201 - a script prints its results
"""The smallest script reprorun can run: no dependencies, prints a greeting and its interpreter.

How to run it:

    reprorun scripts-examples/hello.py [NAME]
"""

import sys

name = sys.argv[1] if len(sys.argv) > 1 else "world"
print(f"hello, {name}")
print(sys.executable)

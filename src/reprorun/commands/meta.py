"""`reprorun meta SCRIPT`: print the parsed block as one JSON object."""

from __future__ import annotations

import argparse
import json
import sys

from reprorun.commands import load
from reprorun.errors import NoBlock
from reprorun.options import Options


def describe(name: str) -> str:
    """One line for `--help`."""
    return "Print a script's PEP 723 block as one JSON object (exit 1: no block, 2: invalid)."


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    """Arguments of `meta`."""
    parser.add_argument("script", help="the script (a path, or - for standard input)")


def run(name: str, ns: argparse.Namespace, options: Options) -> int:
    """Print the block, or fail with 1 (no block) or 2 (invalid)."""
    _, meta = load(ns.script)
    if meta.source == "none" and meta.near_misses:
        miss = meta.near_misses[0]
        raise NoBlock(f"{ns.script}:{miss.line}: no '# /// script' block: {miss.message}", hint=miss.hint)
    if meta.source == "none":
        raise NoBlock(f"{ns.script}: no '# /// script' block", hint=f"add one with: reprorun init {ns.script}")
    json.dump(meta.to_json(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0

"""`reprorun export --format F SCRIPT`: write what another tool needs to reproduce the script's run.

FORMATS maps each format name to its renderer: `renderer(script, options) -> text`, written to
stdout. Each renderer is imported only when its format is asked for.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from reprorun.options import Options


def _slurm(script: str, options: Options) -> str:
    """The batch script `reprorun submit --dry-run SCRIPT` prints (DESIGN §6)."""
    from reprorun.cluster import submission

    return submission.plan(submission.Request(script), options, build=False).text


FORMATS: dict[str, Callable[[str, Options], str]] = {
    "slurm": _slurm,
}


def describe(name: str) -> str:
    """One line for `--help`."""
    return "Write what another tool needs to run the script: " + ", ".join(FORMATS) + "."


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    """Arguments of `export`."""
    parser.add_argument("--format", required=True, choices=sorted(FORMATS), help="what to write")
    parser.add_argument("script", metavar="SCRIPT", help="the script")


def run(name: str, ns: argparse.Namespace, options: Options) -> int:
    """Render the format to stdout."""
    sys.stdout.write(FORMATS[ns.format](ns.script, options))
    return 0

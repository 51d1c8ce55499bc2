"""`reprorun bundle [--for TARGET]... [-o DIR|FILE.tar.gz] SCRIPT`: everything to run it with no network.

The bundle holds the script, every wheel its pins need on the targets (checked against the
recorded hashes), a pylock.toml and a manifest of sha256 sums (portable/bundle.py). A block that
is not frozen is resolved in memory first, and the user is told that the bundle holds pins the
script does not. `reprorun --bundle BUNDLE SCRIPT` then runs it from the bundle alone.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
from pathlib import Path

from reprorun.errors import UsageError
from reprorun.options import Options

log = logging.getLogger("reprorun")


def describe(name: str) -> str:
    """One line for `--help`."""
    return "Write the script and every wheel of its pins (for one or more platforms) for a machine with no network."


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    """Arguments of `bundle`."""
    parser.add_argument("--for", dest="targets", action="append", default=[], metavar="TARGET",
                        help="a platform to carry wheels for (repeatable; default: those the block was frozen for)")
    parser.add_argument("-o", "--output", metavar="DIR|FILE.tar.gz",
                        help="a new folder, or an archive (default: STEM.bundle.tar.gz beside the script)")
    parser.add_argument("script", help="the script")  # fmt: skip


def run(name: str, ns: argparse.Namespace, options: Options) -> int:
    """Resolve if needed, download the wheels for every target, write the bundle."""
    from reprorun.commands import load
    from reprorun.portable import bundle, lock

    script, meta = load(ns.script)
    if meta.block is None or script.is_stdin:
        raise UsageError(f"{ns.script}: no '# /// script' block to bundle",
                         hint=f"write one with: reprorun init {ns.script}")  # fmt: skip
    resolver = lock.resolver_for(ns.script, meta, options)
    export, reasons = lock.exported(ns.script, meta, resolver, options, ns.targets)
    if reasons:
        log.warning("%s: %s; resolved it first: the bundle holds pins the script does not "
                    "(reprorun --freeze%s %s writes them)", ns.script, reasons[0],
                    "".join(f" --for {t}" for t in ns.targets), ns.script)  # fmt: skip
    stem = export.stem
    output = ns.output or os.path.join(os.path.dirname(ns.script), f"{stem}.bundle.tar.gz")
    dest = Path(output)
    if output.endswith((".tar.gz", ".tgz")):
        if dest.exists():
            raise UsageError(f"{output} exists; a bundle needs a new name")
        with tempfile.TemporaryDirectory(prefix="reprorun-bundle-", dir=dest.parent or None) as folder:
            files = bundle.build(export, resolver, script.data, Path(folder) / "b")
            bundle.archive(Path(folder) / "b", dest)
    else:
        files = bundle.build(export, resolver, script.data, dest)
    wheels = sum(1 for f in files if f.startswith("wheels/"))
    log.info("wrote %s: %s, %d wheels for %s; run it with: reprorun --bundle %s %s", output, export.name, wheels,
             ", ".join(t.name for t in export.targets), output, export.name)  # fmt: skip
    return 0

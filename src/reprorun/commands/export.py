"""`reprorun export --format F [-o FILE] SCRIPT`: the frozen pins in another tool's format (DESIGN §7).

`FORMATS` maps a format name to its renderer: a pure function of the pins
(`portable.exported.Exported`), or, for a format made from the script alone (slurm: the batch
script `reprorun submit` writes), `direct(script, options) -> text`. An entry also says whether
the pins' wheel files are needed (pylock) and which file is written when no `-o` is given
(pylock: `pylock.<stem>.toml` beside the script; the others: stdout). A format is one more entry
in the table. A block that is not frozen is resolved first, and the user is told.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

from reprorun.errors import UsageError
from reprorun.options import Options
from reprorun.portable import containers, exported, pylock
from reprorun.portable.exported import Exported

log = logging.getLogger("reprorun")


@dataclass(frozen=True)
class Format:
    """One export format: how to render it, and what it needs."""

    render: Callable[[Exported], str] | None
    help: str
    wheels: bool = False  # locate each pin's wheel files first
    beside: Callable[[str], str] | None = None  # the file written beside the script when there is no -o
    direct: Callable[[str, Options], str] | None = None  # made from the script alone, not from pins


def _slurm(script: str, options: Options) -> str:
    """The batch script `reprorun submit --dry-run SCRIPT` prints (DESIGN §6)."""
    from reprorun.cluster import submission

    return submission.plan(submission.Request(script), options, build=False).text


FORMATS: dict[str, Format] = {
    "requirements": Format(exported.requirements, "requirements.txt, with --hash options when hashes are recorded"),
    "pylock": Format(pylock.render, "PEP 751 lock file, pylock.<stem>.toml beside the script unless -o", wheels=True,
                     beside=lambda stem: f"pylock.{stem}.toml"),
    "environment.yml": Format(exported.environment_yml, "a conda environment: Python and a pip section"),
    "dockerfile": Format(containers.dockerfile, "a Dockerfile: python:X.Y-slim, a venv with the pins, the script"),
    "apptainer": Format(containers.apptainer, "an Apptainer definition, the same as the Dockerfile"),
    "slurm": Format(None, "the batch script reprorun submit writes", direct=_slurm),
}  # fmt: skip


def describe(name: str) -> str:
    """One line for `--help`."""
    return "Write the script's frozen pins for another tool: " + ", ".join(FORMATS) + "."


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    """Arguments of `export`."""
    parser.add_argument("--format", "-f", required=True, choices=sorted(FORMATS), metavar="FORMAT",
                        help="; ".join(f"{n}: {f.help}" for n, f in FORMATS.items()))  # fmt: skip
    parser.add_argument("-o", "--output", metavar="FILE", help="write here ('-': stdout) instead of the default")
    parser.add_argument("script", help="the script")


def run(name: str, ns: argparse.Namespace, options: Options) -> int:
    """Render the format and write it: to -o, beside the script (pylock), or to stdout."""
    from reprorun.commands import load
    from reprorun.portable import lock

    form = FORMATS[ns.format]
    if form.direct is not None:
        return _write(form.direct(ns.script, options), ns.output, ns.format)
    _, meta = load(ns.script)
    if meta.block is None:
        raise UsageError(f"{ns.script}: no '# /// script' block to export",
                         hint=f"write one with: reprorun init {ns.script}")  # fmt: skip
    resolver = lock.resolver_for(ns.script, meta, options)
    export, reasons = lock.exported(ns.script, meta, resolver, options)
    if reasons:
        log.warning("%s: the block is not frozen (%s); resolved it first: the export holds pins the script "
                    "does not (reprorun --freeze %s writes them)", ns.script, reasons[0], ns.script)  # fmt: skip
    if form.wheels:
        export = lock.with_wheels(export, resolver)
        left = [r for r in export.requirements if r not in export.wheels]
        if left:  # a direct reference, or a requirement kept as written that applies on no target
            log.warning("%s: not in the lock (no wheel located for it): %s", ns.script, ", ".join(left))
    output = ns.output
    if output is None and form.beside is not None:
        output = os.path.join(os.path.dirname(ns.script), form.beside(export.stem))
    assert form.render is not None
    return _write(form.render(export), output, f"{ns.format}, {len(export.requirements)} requirements")


def _write(text: str, output: str | None, what: str) -> int:
    """Write to the output file (atomically), or to stdout without one (or with '-')."""
    if output is None or output == "-":
        sys.stdout.write(text)
        return 0
    from reprorun.script import rewrite

    rewrite.write(rewrite.read(output, missing_ok=True), text.encode("utf-8"))
    log.info("wrote %s (%s)", output, what)
    return 0

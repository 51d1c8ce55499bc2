"""The commands of the command line, one module each; they may print, the layers below may not.

Each subcommand module has `describe(name)`, `configure(name, parser)` and
`run(name, ns, options) -> int`; `run` and `freeze` have `run_script(path, args, ns, options)`.
"""

from __future__ import annotations

import logging

from reprorun import metadata, source
from reprorun.metadata import Metadata
from reprorun.source import Source

log = logging.getLogger("reprorun")


def load(path: str) -> tuple[Source, Metadata]:
    """Read and parse a script, telling the user (stderr) of every notice."""
    script = source.read(path)
    text = script.text
    if path.endswith(".ipynb"):  # the block sits in the first code cell (the layout juv uses)
        from reprorun import notebooks

        text = notebooks.first_code_cell_source(text, path)
    meta = metadata.parse(text, path)
    for notice in meta.notices:
        log.warning("%s:%d: %s", path, notice.line, notice.message)
        if notice.hint:
            log.warning("hint: %s", notice.hint)
    return script, meta

"""Load a script as every command does: read it, parse its block, tell the user of each notice."""

from __future__ import annotations

import logging

from reprorun.script import metadata, source
from reprorun.script.metadata import Metadata
from reprorun.script.source import Source

log = logging.getLogger("reprorun")

SHOWN = 10  # warnings told per file: 100,000 unclosed openers are one problem, not 200,000 lines


def tell(meta: Metadata, path: str) -> Metadata:
    """Tell the user (stderr) of the notices the parser gave, the first SHOWN of them; return the metadata."""
    hints: set[str] = set()
    for notice in meta.notices[:SHOWN]:
        log.warning("%s:%d: %s", path, notice.line, notice.message)
        if notice.hint and notice.hint not in hints:  # the same advice once
            hints.add(notice.hint)
            log.warning("hint: %s", notice.hint)
    if len(meta.notices) > SHOWN:
        log.warning("%s: %d more warnings like these not shown", path, len(meta.notices) - SHOWN)
    return meta


def load(path: str) -> tuple[Source, Metadata]:
    """Read and parse a script (for a notebook: its first code cell), telling the user of notices."""
    script = source.read(path)
    text = script.text
    if path.endswith(".ipynb"):  # the block sits in the first code cell (the layout juv uses)
        from reprorun.script import notebooks

        text = notebooks.first_code_cell_source(text, path)
    return script, tell(metadata.parse(text, path), path)

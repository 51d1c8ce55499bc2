"""Load a script as every command does: read it, parse its block, tell the user of each notice."""

from __future__ import annotations

from reprorun.notices import warn_all
from reprorun.script import metadata, source
from reprorun.script.metadata import Metadata
from reprorun.script.source import Source


def tell(meta: Metadata, path: str) -> Metadata:
    """Tell the user (stderr) of the notices the parser gave (capped: notices.SHOWN); return the metadata."""
    warn_all(path, meta.notices, lambda notice: (f"{path}:{notice.line}: {notice.message}", notice.hint))
    return meta


def load(path: str) -> tuple[Source, Metadata]:
    """Read and parse a script (for a notebook: its first code cell), telling the user of notices."""
    script = source.read(path)
    text = script.text
    if path.endswith(".ipynb"):  # the block sits in the first code cell (the layout juv uses)
        from reprorun.script import notebooks

        text = notebooks.first_code_cell_source(text, path)
    return script, tell(metadata.parse(text, path), path)

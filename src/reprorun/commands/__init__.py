"""The commands of the command line, one module each; they may print, the layers below may not.

Each subcommand module has `describe(name)`, `configure(name, parser)` and
`run(name, ns, options) -> int`; `run` and `freeze` have `run_script(path, args, ns, options)`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from reprorun.script import metadata, source
from reprorun.script.metadata import Metadata
from reprorun.script.source import Source

if TYPE_CHECKING:
    from reprorun.script.infer import Inference

log = logging.getLogger("reprorun")


def load(path: str) -> tuple[Source, Metadata]:
    """Read and parse a script, telling the user (stderr) of every notice."""
    script = source.read(path)
    text = script.text
    if path.endswith(".ipynb"):  # the block sits in the first code cell (the layout juv uses)
        from reprorun.script import notebooks

        text = notebooks.first_code_cell_source(text, path)
    meta = metadata.parse(text, path)
    for notice in meta.notices:
        log.warning("%s:%d: %s", path, notice.line, notice.message)
        if notice.hint:
            log.warning("hint: %s", notice.hint)
    return script, meta


def infer_from(text: str, path: str, notebook: str | None = None) -> Inference:
    """Requirements inferred from a script's text (or every code cell of a notebook), with its
    problems and unknown imports told to the user (stderr)."""
    import os

    from reprorun.script import importnames, infer, notebooks

    whole = notebooks.code_text(notebook, path) if notebook is not None else text
    where = notebooks.locator(notebook, path) if notebook is not None else "line {}".format
    local = importnames.local_modules(path) if os.path.exists(path) else ()
    found = infer.infer(whole, path, local=local, installed=importnames.installed_distributions(), where=where)
    for problem in found.problems:
        log.warning("%s: %s", path, problem)
    if found.unknown:
        log.warning("%s: no package known for: %s (add them with reprorun add)", path, ", ".join(found.unknown))
    return found

"""Scripts written for the tests that run `reprorun` on them (run, records): one writer, one pip setting."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

PIP = {"REPRORUN_INSTALLER": "pip"}  # the environment of a run that must build with pip


def script(folder: Path, name: str, deps: list[str] | None, body: str, extra: str = "") -> Path:
    """Write a script with a block (None: no block at all)."""
    lines = []
    if deps is not None:
        lines += ["# /// script", f"# dependencies = {json.dumps(deps)}"]
        lines += [f"# {line}" for line in extra.splitlines()]
        lines += ["# ///"]
    path = folder / name
    path.write_text("\n".join(lines) + "\n" + textwrap.dedent(body), encoding="utf-8")
    return path

"""`reprorun --freeze SCRIPT`: resolve the block and write exact pins back into it (DESIGN §3).

`--dry-run` prints the new block instead of writing it; `--check` exits 1 when the block is not
frozen or no longer matches `requested`, and warns when it was frozen for another platform. The
work is freeze/writeback.py's; this module reads the command line and prints.
"""

from __future__ import annotations

import argparse

from reprorun.commands import show_block, tell
from reprorun.errors import UsageError
from reprorun.freeze import pins, writeback
from reprorun.options import Options
from reprorun.script import metadata
from reprorun.script import rewrite as files
from reprorun.script.metadata import Metadata


def run_script(path: str, args: list[str], ns: argparse.Namespace, options: Options) -> int:
    """Freeze (or check, or preview) the block of the script at path; never runs the script."""
    if path == "-":
        raise UsageError("--freeze needs a script file: it writes the block back into it")
    if args:
        raise UsageError(f"--freeze takes no script arguments (got {' '.join(args)})")
    snapshot = files.read(path)
    meta = tell(metadata.parse(snapshot.text, path), path)
    require_block(meta, path)
    names = tuple(ns.targets or meta.settings.targets)
    force = _targets_reason(meta, names)
    if ns.check:
        writeback.check(path, meta, options, hashes=ns.hashes, exclude_newer=ns.exclude_newer, force=force)
        return 0
    plan = pins.plan(meta, upgrade=ns.upgrade, upgrade_packages=ns.upgrade_package,
                     hashes=ns.hashes, exclude_newer=ns.exclude_newer, force=force)  # fmt: skip
    new_text = writeback.frozen_text(snapshot, snapshot.text, meta, plan, options, dry_run=ns.dry_run,
                                     targets=names)  # fmt: skip
    if ns.dry_run:
        show_block(new_text, path)
    else:
        writeback.write(snapshot, new_text)
    return 0


def _targets_reason(meta: Metadata, names: tuple[str, ...]) -> str | None:
    """Why the block must be resolved for these targets (`--for`, `[tool.reprorun] targets`), if it must."""
    if not names:
        return None
    from reprorun.portable import multi

    return multi.reason(meta, names)


def require_block(meta: Metadata, path: str) -> None:
    """No block (or only a PEP 722 comment) is an error here."""
    if meta.block is None:
        raise UsageError(
            f"{path}: no '# /// script' block to freeze",
            hint=f"write one with: reprorun init {path}"
            + (" --infer (it adopts the 'Script Dependencies' comment)" if meta.source == "pep722" else ""),
        )

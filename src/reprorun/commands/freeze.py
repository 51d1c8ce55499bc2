"""`reprorun --freeze SCRIPT`: resolve the block and write exact pins back into it (DESIGN §3).

`--dry-run` prints the new block instead of writing it; `--check` exits 1 when the block is not
frozen or no longer matches `requested`, and warns when it was frozen for another platform.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys

from reprorun import freeze
from reprorun.envs.interpreters import Interpreter
from reprorun.errors import MetadataError, ReprorunError, UsageError
from reprorun.options import Options
from reprorun.script import metadata
from reprorun.script import rewrite as files
from reprorun.script.blocks import Block
from reprorun.script.metadata import Metadata

log = logging.getLogger("reprorun")


class NotCurrent(ReprorunError):
    """`--check`: the block is not frozen, or no longer matches `requested` (exit 1)."""


def run_script(path: str, args: list[str], ns: argparse.Namespace, options: Options) -> int:
    """Freeze (or check, or preview) the block of the script at path; never runs the script."""
    if path == "-":
        raise UsageError("--freeze needs a script file: it writes the block back into it")
    if args:
        raise UsageError(f"--freeze takes no script arguments (got {' '.join(args)})")
    snapshot = files.read(path)
    meta = parse(snapshot.text, path)
    require_block(meta, path)
    if ns.check:
        return check(path, meta, options, hashes=ns.hashes, exclude_newer=ns.exclude_newer)
    plan = freeze.plan(meta, upgrade=ns.upgrade, upgrade_packages=ns.upgrade_package,
                       hashes=ns.hashes, exclude_newer=ns.exclude_newer)  # fmt: skip
    return apply(snapshot, snapshot.text, meta, plan, options, dry_run=ns.dry_run)


def parse(text: str, path: str) -> Metadata:
    """Parse a script's block, telling the user (stderr) of every notice."""
    meta = metadata.parse(text, path)
    for notice in meta.notices:
        log.warning("%s:%d: %s", path, notice.line, notice.message)
    return meta


def require_block(meta: Metadata, path: str) -> Block:
    """The script's block; no block (or only a PEP 722 comment) is an error here."""
    if meta.block is None:
        raise UsageError(
            f"{path}: no '# /// script' block to freeze",
            hint=f"write one with: reprorun init {path}"
            + (" --infer (it adopts the 'Script Dependencies' comment)" if meta.source == "pep722" else ""),
        )
    return meta.block


def check(path: str, meta: Metadata, options: Options, *, hashes: bool = False,
          exclude_newer: str | None = None) -> int:  # fmt: skip
    """Exit 0 when the block is frozen and current, else 1; warn on a platform mismatch."""
    warn_if_frozen_elsewhere(meta, options)
    reasons = freeze.plan(meta, hashes=hashes, exclude_newer=exclude_newer).reasons
    if reasons:
        details = "\n".join(f"  {reason}" for reason in reasons)
        raise NotCurrent(f"{path}: the block is not frozen and current:\n{details}",
                         hint=f"freeze it with: reprorun --freeze {path}")  # fmt: skip
    log.info("%s: frozen for %s and current", path, meta.settings.frozen_for)
    return 0


def warn_if_frozen_elsewhere(meta: Metadata, options: Options) -> None:
    """Warn when the block's pins were frozen for another interpreter or platform."""
    if not meta.settings.frozen_for:
        return
    try:
        interpreter = choose_interpreter(meta, options)
    except ReprorunError as exc:
        log.debug("no interpreter to compare frozen-for with: %s", exc.message)
        return
    warning = freeze.frozen_for_mismatch(meta.settings.frozen_for, interpreter.tag)
    if warning:
        log.warning("%s", warning)


def choose_interpreter(meta: Metadata, options: Options) -> Interpreter:
    """The interpreter the script would run with (as the run path chooses it)."""
    from reprorun.envs import cache, interpreters

    return interpreters.choose(meta.requires_python, options.python, cache.root(options) / "interpreters")


def apply(snapshot: files.Snapshot, text: str, meta: Metadata, plan: freeze.Plan, options: Options,
          *, dry_run: bool = False) -> int:  # fmt: skip
    """Resolve when needed, then write `text` with its block frozen (or print it, with dry_run).

    `text`/`meta` may already differ from the snapshot (an edit by `add`/`remove`); the snapshot
    is what the file must still hold when the new text replaces it.
    """
    assert meta.block is not None
    if not plan.needed:
        warn_if_frozen_elsewhere(meta, options)
        log.info("%s: already frozen for %s and current; nothing to do", snapshot.path, meta.settings.frozen_for)
        new_text = text
    else:
        interpreter = choose_interpreter(meta, options)
        log.debug("resolving %s for %s (%s)", snapshot.path, interpreter.tag, "; ".join(plan.reasons))
        from reprorun.envs import installers

        exclude = freeze.check_timestamp(plan.exclude_newer) if plan.exclude_newer else None
        base = os.path.dirname(os.path.abspath(snapshot.path))
        sources = installers.sources_for(options, meta.settings, exclude_newer=exclude, base=base)
        from reprorun.envs import cache

        report = freeze.resolve(plan, interpreter, sources, options.verbosity, cache.Cache(cache.root(options)).pip)
        resolution = freeze.from_report(report, plan.requested)
        new_text = freeze.render(text, meta, plan, resolution, interpreter.tag)
        verify(text, meta.block, new_text, snapshot.path)
        _summarise(snapshot.path, meta, resolution, interpreter.tag, dry_run)
    if dry_run:
        show_block(new_text, snapshot.path)
        return 0
    if new_text != snapshot.text:
        files.write(snapshot, new_text.encode("utf-8"))
    return 0


def verify_edit(old_text: str, old_block: Block, new_text: str, path: str) -> Metadata:
    """Re-parse the new text: its block must be valid and every byte outside it unchanged."""
    try:
        meta = metadata.parse(new_text, path)
    except MetadataError as exc:
        raise ReprorunError(
            f"internal error: the new block would not parse ({exc.message}); nothing was written",
            hint="this is a bug in reprorun; please report it",
        ) from None
    block = meta.block
    if block is None or (
        new_text[: block.start] != old_text[: old_block.start] or new_text[block.end :] != old_text[old_block.end :]
    ):
        raise ReprorunError("internal error: the new text differs outside the block; nothing was written",
                            hint="this is a bug in reprorun; please report it")  # fmt: skip
    return meta


def verify(old_text: str, old_block: Block, new_text: str, path: str) -> Metadata:
    """`verify_edit`, and the new block must be frozen and current."""
    meta = verify_edit(old_text, old_block, new_text, path)
    problems = [r for r in freeze.staleness(meta) if not r.startswith("no hash recorded")]
    if problems:
        raise ReprorunError(f"internal error: the frozen block is not current ({problems[0]}); "
                            "nothing was written", hint="this is a bug in reprorun; please report it")  # fmt: skip
    for reason in freeze.staleness(meta):
        log.warning("%s: %s (pip gave no sha256 for it, so installs with hashes will refuse it)", path, reason)
    return meta


def show_block(text: str, path: str) -> None:
    """Print the script's block on stdout (LF line endings), for --dry-run."""
    block = metadata.parse(text, path).block
    assert block is not None
    sys.stdout.write(re.sub(r"\r\n?", "\n", text[block.start : block.end]) + "\n")


def _summarise(path: str, meta: Metadata, resolution: freeze.Resolution, tag: str, dry_run: bool) -> None:
    added, changed, removed, unchanged = freeze.summary(freeze.pins_of(meta), resolution.pins)
    verb = "would freeze" if dry_run else "froze"
    log.info("%s %s for %s: %d pinned (%d added, %d changed, %d removed, %d unchanged)", verb, path, tag,
             len(resolution.pins), len(added), len(changed), len(removed), len(unchanged))  # fmt: skip
    for sign, lines in (("+", added), ("~", changed), ("-", removed)):
        for line in lines:
            log.info("  %s %s", sign, line)
    for requirement in resolution.kept:
        log.info("  kept as written (does not apply to this interpreter): %s", requirement)

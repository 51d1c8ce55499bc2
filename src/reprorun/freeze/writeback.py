"""Freezing, the use case: resolve when needed, render the frozen block, verify it, write the file.

One path for `--freeze`, `--freeze --check`, and `add`/`remove` on a frozen block: the text to
write is computed and verified in full before the file is touched, and the file is replaced only
if it still holds what was read (script/rewrite.py).
"""

from __future__ import annotations

import logging
import os

from reprorun.envs import cache, frozenfor
from reprorun.envs.installers.sources import sources_for
from reprorun.envs.interpreters import Interpreter
from reprorun.envs.scratch import scratch
from reprorun.errors import InternalError, MetadataError, NotCurrent, ReprorunError
from reprorun.freeze import pins, resolve
from reprorun.notices import warn_all
from reprorun.options import Options
from reprorun.script import blockedit, metadata, tomledit, tomlrender
from reprorun.script import rewrite as files
from reprorun.script.blocks import Block
from reprorun.script.metadata import Metadata

log = logging.getLogger("reprorun")


def check(path: str, meta: Metadata, options: Options, *, hashes: bool = False,
          exclude_newer: str | None = None, force: str | None = None) -> None:  # fmt: skip
    """Return when the block is frozen and current; raise `NotCurrent` (exit 1) when it is not."""
    warn_if_frozen_elsewhere(meta, options)
    reasons = pins.plan(meta, hashes=hashes, exclude_newer=exclude_newer, force=force).reasons
    if reasons:
        details = "\n".join(f"  {reason}" for reason in reasons)
        raise NotCurrent(f"{path}: the block is not frozen and current:\n{details}",
                         hint=f"freeze it with: reprorun --freeze {path}")  # fmt: skip
    log.info("%s: frozen for %s and current", path, meta.settings.frozen_for)


def frozen_text(snapshot: files.Snapshot, text: str, meta: Metadata, plan: pins.Plan, options: Options,
                *, dry_run: bool = False, targets: tuple[str, ...] = ()) -> str:  # fmt: skip
    """The script's text with its block frozen: resolved when the plan needs it, verified.

    `text`/`meta` may already differ from the snapshot (an edit by `add`/`remove`). With `targets`
    (or the block's own `targets`), the pins are resolved for each of those platforms
    (portable/multi.py, DESIGN §7).
    """
    targets = targets or meta.settings.targets
    assert meta.block is not None
    if not plan.needed:
        warn_if_frozen_elsewhere(meta, options)
        log.info("%s: already frozen for %s and current; nothing to do", snapshot.path, meta.settings.frozen_for)
        return text
    interpreter = choose_interpreter(meta, options)
    log.debug("resolving %s for %s (%s)", snapshot.path, interpreter.tag, "; ".join(plan.reasons))
    exclude = pins.check_timestamp(plan.exclude_newer) if plan.exclude_newer else None
    base = os.path.dirname(os.path.abspath(snapshot.path))
    sources = sources_for(options, meta.settings, exclude_newer=exclude, base=base)
    where = cache.Cache(cache.root(options))
    with scratch(where.path):  # pip's temporary files and the report stay inside the cache
        if targets:
            from reprorun.portable import multi

            resolution, tag = multi.resolve_for(plan, meta, targets, interpreter, sources, options, where.pip)
        else:
            report = resolve.resolve(plan, interpreter, sources, options.verbosity, where.pip)
            resolution, tag = resolve.from_report(report, plan.requested), interpreter.tag
    new_text = render(text, meta, plan, resolution, tag, targets or None)
    verify(text, meta.block, new_text, snapshot.path)
    _summarise(snapshot.path, meta, resolution, tag, dry_run)
    return new_text


def render(text: str, meta: Metadata, plan: pins.Plan, resolution: pins.Resolution, frozen_for: str,
           targets: tuple[str, ...] | None = None) -> str:  # fmt: skip
    """The script's new text: its block frozen to the resolution; every other byte kept."""
    assert meta.block is not None
    comments = tomlrender.array_comments(meta.block.content)
    lines = pins.dependency_lines(resolution, comments, frozen=meta.settings.frozen_for is not None)
    hashes = {p.name: p.hashes for p in resolution.pins if p.hashes} if plan.hashes else None
    fields = tomledit.FrozenFields(plan.requested, frozen_for, plan.exclude_newer, hashes, targets)
    content = tomledit.freeze_content(meta.block.content, lines, fields)
    return blockedit.replace_block(text, meta.block, content)


def write(snapshot: files.Snapshot, new_text: str) -> None:
    """Replace the file with the new text if it differs (and still holds the snapshot)."""
    if new_text != snapshot.text:
        files.write(snapshot, new_text.encode("utf-8"))


def warn_if_frozen_elsewhere(meta: Metadata, options: Options) -> None:
    """Warn when the block's pins were frozen for another interpreter or platform."""
    if not meta.settings.frozen_for:
        return
    try:
        interpreter = choose_interpreter(meta, options)
    except ReprorunError as exc:
        log.debug("no interpreter to compare frozen-for with: %s", exc.message)
        return
    warning = frozenfor.frozen_for_mismatch(meta.settings.frozen_for, interpreter.tag)
    if warning:
        log.warning("%s", warning)


def choose_interpreter(meta: Metadata, options: Options) -> Interpreter:
    """The interpreter the script would run with (as the run path chooses it, DESIGN section 2)."""
    from reprorun.envs.build import choose_interpreter as choose

    return choose(meta, options, cache.Cache(cache.root(options)).interpreters).interpreter


def verify_edit(old_text: str, old_block: Block, new_text: str, path: str) -> Metadata:
    """Re-parse the new text: its block must be valid and every byte outside it unchanged."""
    try:
        meta = metadata.parse(new_text, path)
    except MetadataError as exc:
        raise InternalError(f"the new block would not parse ({exc.message}); nothing was written") from None
    block = meta.block
    if block is None or (
        new_text[: block.start] != old_text[: old_block.start] or new_text[block.end :] != old_text[old_block.end :]
    ):
        raise InternalError("the new text differs outside the block; nothing was written")
    return meta


def verify(old_text: str, old_block: Block, new_text: str, path: str) -> Metadata:
    """`verify_edit`, and the new block must be frozen and current."""
    meta = verify_edit(old_text, old_block, new_text, path)
    stale = pins.stale(meta)
    problems = [p for p in stale if p.kind != "no-hash"]
    if problems:
        raise InternalError(f"the frozen block is not current ({problems[0]}); nothing was written")
    warn_all(path, stale, lambda problem: f"{path}: {problem} (pip gave no sha256 for it, so installs with hashes "
             "will refuse it)")
    return meta


def _summarise(path: str, meta: Metadata, resolution: pins.Resolution, tag: str, dry_run: bool) -> None:
    added, changed, removed, unchanged = pins.summary(pins.pins_of(meta), resolution.pins)
    verb = "would freeze" if dry_run else "froze"
    log.info("%s %s for %s: %d pinned (%d added, %d changed, %d removed, %d unchanged)", verb, path, tag,
             len(resolution.pins), len(added), len(changed), len(removed), len(unchanged))  # fmt: skip
    for sign, lines in (("+", added), ("~", changed), ("-", removed)):
        for line in lines:
            log.info("  %s %s", sign, line)
    for requirement in resolution.kept:
        log.info("  kept as written (does not apply to this interpreter): %s", requirement)

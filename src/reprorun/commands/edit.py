"""`reprorun init | add | remove`: write a block, or edit its requirements keeping their format.

On a frozen block, `add` and `remove` edit `[tool.reprorun] requested` (the user's intent) and
re-freeze, keeping every other pin where it is.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from reprorun.commands import show_block, tell
from reprorun.errors import InternalError, UsageError
from reprorun.freeze import pins, writeback
from reprorun.notices import warn_all
from reprorun.options import Options
from reprorun.script import adopt, blockedit, blocks, metadata, tomledit
from reprorun.script import rewrite as files
from reprorun.script.metadata import Metadata
from reprorun.script.requirements import InvalidRequirement, canonical_name, parse

log = logging.getLogger("reprorun")

_DESCRIPTIONS = {
    "init": "Write a '# /// script' block into a script (after its shebang, encoding line and "
    "jupytext header), or create a new script.",
    "add": "Add requirements to a script's block (on a frozen block: to 'requested', then re-freeze).",
    "remove": "Remove requirements from a script's block (on a frozen block: from 'requested', then re-freeze).",
}


def describe(name: str) -> str:
    """One line for `--help`."""
    return _DESCRIPTIONS[name]


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    """Arguments of `init`, `add` and `remove`."""
    parser.add_argument("script", help="the script file")
    if name == "remove":
        parser.add_argument("names", nargs="+", metavar="NAME", help="a package to remove")
    else:
        parser.add_argument("requirements", nargs="+" if name == "add" else "*", metavar="REQ",
                            help="a PEP 508 requirement, e.g. 'pandas>=2'")  # fmt: skip
    if name == "init":
        parser.add_argument("--requires-python", metavar="SPEC", help="write requires-python, e.g. '>=3.10'")
        parser.add_argument("--infer", action="store_true",
                            help="adopt %%pip lines, imports and a PEP 722 comment as requirements")  # fmt: skip
        parser.add_argument("--yes", "-y", action="store_true", help="with --infer: write without asking")
        parser.add_argument("--from", dest="from_file", metavar="FILE",
                            help="adopt the requirements of a requirements.txt, environment.yml, pyproject.toml "
                                 "or pylock.toml")  # fmt: skip
    parser.add_argument("--dry-run", action="store_true", help="print the new block; write nothing")


def run(name: str, ns: argparse.Namespace, options: Options) -> int:
    """Run one of the three commands."""
    if name == "init":
        return init(ns, options)
    snapshot = files.read(ns.script, missing_ok=name == "add")
    meta = tell(metadata.parse(snapshot.text, ns.script), ns.script)
    if name == "add":
        return add(snapshot, meta, _requirements(ns.requirements), ns, options)
    return remove(snapshot, meta, ns.names, ns, options)


def init(ns: argparse.Namespace, options: Options) -> int:
    """Write a new block, refusing a script that already has one."""
    snapshot = files.read(ns.script, missing_ok=True)
    text = snapshot.text
    requirements = _requirements(ns.requirements)
    if snapshot.exists:
        meta = tell(metadata.parse(text, ns.script), ns.script)
        if meta.block is not None:
            raise UsageError(f"{ns.script}: already has a script block (line {meta.block.start_line})",
                             hint=f"edit it with: reprorun add {ns.script} REQ...")  # fmt: skip
        if meta.source == "pep722" and not ns.infer:
            requirements = [*meta.dependencies, *requirements]
    else:
        meta = None
    requires_python = ns.requires_python
    if ns.from_file:
        adopted = _adopt(ns.from_file)
        given = {canonical_name(r) for r in requirements}
        requirements = [*(r for r in adopted.requirements if canonical_name(r) not in given), *requirements]
        requires_python = requires_python or adopted.requires_python
    if ns.infer:
        text, requirements = _infer(text, ns.script, requirements, snapshot.notebook)
        if not ns.dry_run and not ns.yes:
            _confirm(ns.script, requirements)
    if requires_python:
        try:
            SpecifierSet(requires_python)
        except InvalidSpecifier:
            raise UsageError(f"requires-python {requires_python!r} is not a version specifier",
                             hint="write it like '>=3.10'") from None  # fmt: skip
    content = tomledit.new_content(list(dict.fromkeys(requirements)), requires_python)
    new_text, rest = _place_block(text, meta, content, ns.script)
    _verify_insert(rest, new_text, ns.script)
    return _finish(snapshot, new_text, ns, f"wrote a script block into {ns.script}"
                   + (f" ({len(requirements)} requirements)" if requirements else ""))  # fmt: skip


def add(snapshot: files.Snapshot, meta: Metadata, requirements: list[str],
        ns: argparse.Namespace, options: Options) -> int:  # fmt: skip
    """Add to `dependencies`, or to `requested` and re-freeze on a frozen block."""
    if meta.block is None:
        if meta.source == "pep722":
            requirements = [*meta.dependencies, *requirements]
        new_text, rest = _place_block(snapshot.text, meta, tomledit.new_content(requirements), ns.script)
        _verify_insert(rest, new_text, ns.script)
        return _finish(snapshot, new_text, ns, f"added {', '.join(requirements)} to a new block in {ns.script}")
    frozen = meta.settings.requested is not None
    path = ("tool", "reprorun", "requested") if frozen else ("dependencies",)
    content = tomledit.add_requirements(meta.block.content, requirements, path)
    return _edited(snapshot, meta, content, ns, options, f"added {', '.join(requirements)}")


def remove(snapshot: files.Snapshot, meta: Metadata, names: list[str],
           ns: argparse.Namespace, options: Options) -> int:  # fmt: skip
    """Remove from `dependencies`, or from `requested` and re-freeze on a frozen block."""
    if meta.block is None:
        raise UsageError(f"{ns.script}: no '# /// script' block to remove from")
    frozen = meta.settings.requested is not None
    path = ("tool", "reprorun", "requested") if frozen else ("dependencies",)
    content, removed = tomledit.remove_requirements(meta.block.content, names, path)
    missing = _missing(names, removed)
    if missing:
        where = "requested" if frozen else "dependencies"
        pinned = set(pins.pins_of(meta)) & set(missing) if frozen else set()
        hint = (f"{', '.join(sorted(pinned))} is pinned only because another package needs it"
                if pinned else None)  # fmt: skip
        raise UsageError(f"{ns.script}: not in {where}: {', '.join(missing)}; nothing was changed", hint=hint)
    shown = ", ".join(dict.fromkeys(removed))  # a name listed 20,000 times is said once
    return _edited(snapshot, meta, content, ns, options, f"removed {shown}", force="remove")


def _edited(snapshot: files.Snapshot, meta: Metadata, content: str, ns: argparse.Namespace,
            options: Options, message: str, force: str | None = None) -> int:  # fmt: skip
    assert meta.block is not None
    text = blockedit.replace_block(snapshot.text, meta.block, content)
    new_meta = writeback.verify_edit(snapshot.text, meta.block, text, ns.script)
    if new_meta.settings.requested is None:
        return _finish(snapshot, text, ns, f"{message} in {ns.script}")
    log.info("%s in %s; re-freezing", message, ns.script)
    plan = pins.plan(new_meta, force=force)
    new_text = writeback.frozen_text(snapshot, text, new_meta, plan, options, dry_run=ns.dry_run)
    if ns.dry_run:
        show_block(new_text, ns.script)
    else:
        writeback.write(snapshot, new_text)
    return 0


def _place_block(text: str, meta: Metadata | None, content: str, path: str) -> tuple[str, str]:
    """The text with a new block, and the text the block leaves untouched: a PEP 722 comment is
    replaced by the block (up to its last requirement line), otherwise the block is inserted."""
    if meta is None or meta.pep722_lines is None:
        return blockedit.insert_block(text, content), text
    first, last = meta.pep722_lines
    lines = blocks.split_lines(text)
    start = lines[first - 1][0]
    end = lines[last][0] if last < len(lines) else len(text)
    newline = blockedit.newline_of(text, start)
    tail = text[end:]
    ending = newline if tail or text.endswith(("\n", "\r")) else ""
    log.info("%s: replacing the PEP 722 'Script Dependencies' comment (lines %d-%d) with a block", path, first, last)
    return text[:start] + blockedit.render_block(content, newline) + ending + tail, text[:start] + tail


def _finish(snapshot: files.Snapshot, new_text: str, ns: argparse.Namespace, message: str) -> int:
    if ns.dry_run:
        show_block(new_text, ns.script)
        return 0
    files.write(snapshot, new_text.encode("utf-8"))
    log.info("%s", message)
    return 0


def _adopt(path: str) -> adopt.Adopted:
    """The requirements of a project file, its problems told (stderr)."""
    try:
        with open(path, encoding="utf-8-sig") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--from {path}: cannot read it: {getattr(exc, 'strerror', None) or exc}") from None
    adopted = adopt.adopt(text, path)
    warn_all(path, adopted.problems, lambda problem: f"{path}: {problem}")
    count = len(adopted.requirements)
    log.info("%s: adopted %d requirement%s", path, count, "" if count == 1 else "s")
    return adopted


def _requirements(texts: list[str]) -> list[str]:
    for text in texts:
        try:
            parse(text)
        except InvalidRequirement as exc:
            raise UsageError(f"invalid requirement {text!r}: {str(exc).splitlines()[0]}") from None
    return list(texts)


def _missing(names: list[str], removed: list[str]) -> list[str]:
    from packaging.utils import canonicalize_name

    gone = {canonical_name(r) for r in removed}
    return [n for n in names if canonicalize_name(n) not in gone]


def _infer(text: str, path: str, requirements: list[str], notebook: str | None = None) -> tuple[str, list[str]]:
    """Requirements inferred from imports, `%pip` lines and a PEP 722 comment, then the given.

    For a notebook, every code cell is read (`text` is its first cell, where the block goes); its
    `!pip` lines are left as they are, since running a notebook skips them anyway.
    """
    from reprorun.commands import infer_from
    from reprorun.script import installlines

    found = infer_from(text, path, notebook)
    count = len(found.requirements)
    log.info("%s: found %d requirement%s:", path, count, "" if count == 1 else "s")
    for requirement in found.requirements:
        log.info("  %s  (%s)", requirement, found.reasons.get(canonical_name(requirement), ""))
    if found.pip_lines and notebook is None:
        text = installlines.comment_out_pip_lines(text, found.pip_lines)
    given = {canonical_name(r) for r in requirements}
    return text, [*(r for r in found.requirements if canonical_name(r) not in given), *requirements]


def _confirm(path: str, requirements: list[str]) -> None:
    """Ask before writing an inferred block; without a terminal, insist on --yes."""
    if not sys.stdin.isatty():
        raise UsageError(
            f"{path}: not writing an inferred block without confirmation",
            hint="check the list above, then rerun with --yes (or --dry-run to see the block)",
        )
    sys.stderr.write(f"write a block with these {len(requirements)} requirements into {path}? [y/N] ")
    sys.stderr.flush()
    if sys.stdin.readline().strip().lower() not in ("y", "yes"):
        raise UsageError(f"{path}: nothing written", hint="edit the list with reprorun add/remove later")


def _verify_insert(old_text: str, new_text: str, path: str) -> None:
    """The new text parses, has exactly one block, and the old text is all still there."""
    scan = blocks.scan(new_text).of_type("script")
    tell(metadata.parse(new_text, path), path)
    if len(scan) != 1:
        raise InternalError("the new script has no single block; nothing was written")
    block = scan[0]
    outside = new_text[: block.start] + new_text[block.end :]
    if re.sub(r"\s+", "", outside) != re.sub(r"\s+", "", old_text):
        raise InternalError("text outside the new block would change; nothing was written")

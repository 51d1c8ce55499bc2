"""Parse and validate a script's inline metadata: a pure function of the script's text.

The `script` block (PEP 723) is TOML with `requires-python`, `dependencies` and `[tool.*]`
tables; reprorun's own settings live in `[tool.reprorun]`. A script with no `script` block may
still carry the rejected PEP 722 `# Script Dependencies:` comment, which is read as a fallback.
Every invalid case raises `MetadataError` naming the file's line; everything doubtful but usable
comes back as a `Notice` for the caller to show.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from reprorun.errors import MetadataError
from reprorun.script import fields, tomltext
from reprorun.script.blocks import Block, scan, split_lines
from reprorun.script.fields import Settings
from reprorun.script.locator import Locator
from reprorun.script.nearmiss import near_misses, uv_table
from reprorun.script.requirements import parse as parse_requirement
from reprorun.script.requirements import plain_specifier

KNOWN_FIELDS = ("requires-python", "dependencies", "tool")
_PEP722_MARKER = re.compile(r"(?i)^#\s+script\s+dependencies:\s*$")


@dataclass(frozen=True)
class Notice:
    """Something worth telling the user that does not stop the run."""

    line: int
    message: str
    hint: str | None = None


@dataclass(frozen=True)
class Metadata:
    """What a script declares: the block (if any), its validated fields and the raw TOML."""

    path: str
    source: Literal["pep723", "pep722", "none"]
    block: Block | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    requires_python: str | None = None
    dependencies: tuple[str, ...] = ()
    settings: Settings = field(default_factory=Settings)
    notices: tuple[Notice, ...] = ()
    near_misses: tuple[Notice, ...] = ()  # lines meant to open or close a block (also in notices)
    pep722_lines: tuple[int, int] | None = None  # first and last line of the PEP 722 comment read

    def to_json(self) -> dict[str, Any]:
        """The block as a JSON-ready object (dates and times as ISO 8601 strings)."""
        return tomltext.jsonable(dict(self.data))  # type: ignore[return-value]


def parse(text: str, path: str = "<script>") -> Metadata:
    """Parse a script's text; raise `MetadataError` for any invalid block."""
    result = scan(text)
    misses = tuple(Notice(*found) for found in near_misses(text, result.blocks)) if "///" in text else ()
    notices = [
        Notice(u.line, f"unclosed '# /// {u.type}' block ignored", "close it with a '# ///' line")
        for u in result.unclosed
        if not any(miss.line >= u.line for miss in misses)  # the near miss at or after it says it better
    ]
    notices += misses
    scripts = result.of_type("script")
    if len(scripts) > 1:
        second = scripts[1]
        raise MetadataError(
            f"a second 'script' block (the first is at line {scripts[0].start_line})",
            path=path,
            line=second.start_line,
            source_line=f"# /// {second.type}",
            hint="PEP 723 allows one 'script' block per file; merge them",
        )
    if not scripts:
        meta = _parse_pep722(text, path, notices)
    else:
        block = scripts[0]
        meta = _validate(tomltext.load(block, text, path), block, text, path, notices)
    return replace(meta, near_misses=misses) if misses else meta


def _validate(
    data: dict[str, Any], block: Block, text: str, path: str, notices: list[Notice]
) -> Metadata:
    where = Locator(block, text, path)
    for key in data:
        if key not in KNOWN_FIELDS:
            notices.append(Notice(where.key_line(key), f"unknown field '{key}' ignored"))
    requires_python = data.get("requires-python")
    if requires_python is not None:
        if not isinstance(requires_python, str):
            raise where.error("requires-python", "'requires-python' must be a string")
        _check_specifier(requires_python, where)
    dependencies = fields.requirements(data, "dependencies", where)
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise where.error("tool", "'tool' must be a table")
    table = tool.get("reprorun", {})
    settings = fields.settings(table, where)
    notices.extend(
        Notice(where.key_line(key, parent="reprorun"), f"unknown key '{key}' in [tool.reprorun] ignored",
               "a newer reprorun may know it; this one does not")
        for key in table if key not in fields.SETTINGS_KEYS
    )  # fmt: skip
    uv_advice = uv_table(tool)
    if uv_advice is not None:
        notices.append(Notice(where.table_line("tool", "uv"), *uv_advice))
    return Metadata(
        path=path,
        source="pep723",
        block=block,
        data=data,
        requires_python=requires_python,
        dependencies=dependencies,
        settings=settings,
        notices=tuple(notices),
    )


def _check_specifier(requires_python: str, where: Locator) -> None:
    """`MetadataError` unless requires-python is a valid version specifier (packaging judges all but
    the plainest)."""
    if plain_specifier(requires_python) is not None:
        return
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        SpecifierSet(requires_python)
    except InvalidSpecifier:
        raise where.error(
            "requires-python",
            f"'requires-python' is not a valid version specifier: {requires_python!r}",
            hint="write it like \">=3.10\" or \">=3.10,<3.13\"",
        ) from None


def _parse_pep722(text: str, path: str, notices: list[Notice]) -> Metadata:
    """PEP 722's `# Script Dependencies:` comment, the fallback when there is no block."""
    # A cheap filter that spares most scripts the line loop; "pendenc" holds no letter with an
    # unusual case folding (unlike s and i), so it never rejects what the marker would match.
    if "pendenc" not in text.lower():
        return Metadata(path=path, source="none", notices=tuple(notices))
    lines = split_lines(text)
    for number, (_, line) in enumerate(lines, start=1):
        if not _PEP722_MARKER.match(line.lstrip("\ufeff")):
            continue
        dependencies = []
        last = number
        for offset, (_, dep_line) in enumerate(lines[number:], start=number + 1):
            if not dep_line.startswith("#"):
                break
            requirement = dep_line[1:].split(" # ", maxsplit=1)[0].strip()
            if not requirement:
                break
            from reprorun.script.requirements import InvalidRequirement

            try:
                parse_requirement(requirement)
            except InvalidRequirement:
                # Real scripts follow the list with prose (`# USAGE: ...`): the list ends here.
                notices.append(Notice(offset, f"the 'Script Dependencies' list ends before this line: "
                                      f"{dep_line.strip()!r} is not a requirement",
                                      "separate the list from other comments with a '#' line"))  # fmt: skip
                break
            dependencies.append(requirement)
            last = offset
        notices.append(
            Notice(
                number,
                "read the PEP 722 'Script Dependencies' comment (a rejected format)",
                f"convert it to a PEP 723 block with: reprorun init --infer {path}",
            )
        )
        notices.sort(key=lambda notice: notice.line)
        return Metadata(path=path, source="pep722", dependencies=tuple(dependencies),
                        data={"dependencies": dependencies}, notices=tuple(notices),
                        pep722_lines=(number, last))  # fmt: skip
    return Metadata(path=path, source="none", notices=tuple(notices))

"""The block's fields validated: `dependencies` and the other arrays of requirements, and `[tool.reprorun]`."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reprorun.script.locator import Locator
from reprorun.script.requirements import parse, plain
from reprorun.script.timestamps import utc_text
from reprorun.script.tomltext import toml_type

SETTINGS_KEYS = (
    "requested", "frozen-for", "exclude-newer", "index-url", "extra-index-urls", "find-links",
    "hashes", "record", "targets",
)  # fmt: skip
HASH_RE = re.compile(r"sha256:[0-9a-f]{64}")


@dataclass(frozen=True)
class Settings:
    """The validated `[tool.reprorun]` table."""

    requested: tuple[str, ...] | None = None
    frozen_for: str | None = None
    exclude_newer: str | None = None
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    hashes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    record: str | None = None  # record every run in this folder (relative: to the script's)
    targets: tuple[str, ...] = ()  # the platforms `--freeze` resolves for (DESIGN §7)



def requirements(table: Mapping[str, Any], key: str, where: Locator) -> tuple[str, ...]:
    """The array of PEP 508 strings under `key` (none: empty); `MetadataError` on the bad item's line."""
    value = table.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise where.error(key, f"'{key}' must be an array of strings")
    for item in value:
        if not isinstance(item, str):
            raise where.error(key, f"'{key}' holds {toml_type(item)}, not a string: {item!r}")
        if plain(item) is not None:
            continue  # valid in its plainest spelling, told without packaging
        from reprorun.script.requirements import InvalidRequirement

        try:
            parse(item)
        except InvalidRequirement as exc:
            reason = str(exc).splitlines()[0].rstrip()
            raise where.error(
                key, f"invalid requirement {item!r}: {reason}", needle=item
            ) from None
    return tuple(value)


def settings(table: object, where: Locator) -> Settings:
    """The `[tool.reprorun]` table validated (its unknown keys are the caller's to tell)."""
    if not isinstance(table, dict):
        raise where.error("reprorun", "'[tool.reprorun]' must be a table")
    requested = requirements(table, "requested", where) if "requested" in table else None
    for key in ("frozen-for", "index-url", "record"):
        if key in table and not isinstance(table[key], str):
            raise where.error(key, f"'{key}' must be a string")
    for key in ("extra-index-urls", "find-links", "targets"):
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise where.error(key, f"'{key}' must be an array of strings")
    return Settings(
        requested=requested,
        frozen_for=table.get("frozen-for"),
        exclude_newer=_exclude_newer(table, where),
        index_url=table.get("index-url"),
        extra_index_urls=tuple(table.get("extra-index-urls", ())),
        find_links=tuple(table.get("find-links", ())),
        hashes=_hashes(table, where),
        record=table.get("record"),
        targets=tuple(table.get("targets", ())),
    )


def _exclude_newer(table: Mapping[str, Any], where: Locator) -> str | None:
    value = table.get("exclude-newer")
    if value is None:
        return None
    if isinstance(value, dt.datetime | dt.date):
        value = value.isoformat()  # a TOML date literal: checked as its text is
    if isinstance(value, str):
        try:
            utc_text(value)
        except ValueError:
            pass
        else:
            return value
    shown = repr(value) if isinstance(value, str) else toml_type(value)
    raise where.error(
        "exclude-newer",
        f"'exclude-newer' must be an RFC 3339 date-time or a date, not {shown}",
        hint='write it like "2024-06-01" or "2024-06-01T00:00:00Z"',
    )


def _hashes(table: Mapping[str, Any], where: Locator) -> dict[str, tuple[str, ...]]:
    value = table.get("hashes", {})
    if not isinstance(value, dict):
        raise where.error("hashes", "'hashes' must be a table: package name -> array of hashes")
    hashes: dict[str, tuple[str, ...]] = {}
    for name, items in value.items():
        if not isinstance(items, list) or not all(isinstance(h, str) for h in items):
            raise where.error(
                name, f"hashes of '{name}' must be an array of strings", parent="hashes"
            )
        for item in items:
            if not HASH_RE.fullmatch(item):
                raise where.error(
                    name, f"hash of '{name}' is not 'sha256:' and 64 hex digits: {item!r}",
                    needle=item, parent="hashes",
                )  # fmt: skip
        hashes[name] = tuple(items)
    return hashes

"""Where packages come from: reprorun's options and the block's settings, as pip and uv arguments.

Pure: no file system, no subprocess. `keys` imports it to put the sources into an env's key.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from reprorun.options import Options
from reprorun.script.metadata import Settings, parse_timestamp


@dataclass(frozen=True)
class Sources:
    """Where packages come from: reprorun's options first, then the block's `[tool.reprorun]`."""

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    offline: bool = False
    exclude_newer: str | None = None

    def pip_args(self) -> list[str]:
        """The pip options that say the same."""
        args: list[str] = []
        if self.index_url:
            args += ["--index-url", self.index_url]
        for url in self.extra_index_urls:
            args += ["--extra-index-url", url]
        for link in self.find_links:
            args += ["--find-links", link]
        if self.no_index or self.offline:
            args.append("--no-index")
        if self.exclude_newer:
            args += ["--uploaded-prior-to", self.exclude_newer]
        return args

    def uv_args(self) -> list[str]:
        """The uv options that say the same."""
        args: list[str] = []
        if self.index_url:
            args += ["--default-index", self.index_url]
        for url in self.extra_index_urls:
            args += ["--index", url]
        for link in self.find_links:
            args += ["--find-links", link]
        if self.no_index:
            args.append("--no-index")
        if self.offline:
            args.append("--offline")
        if self.exclude_newer:
            args += ["--exclude-newer", self.exclude_newer]
        return args


def sources_for(
    options: Options, settings: Settings, exclude_newer: str | None = None, base: str | None = None
) -> Sources:
    """Merge command-line and block settings; relative local paths become absolute (from `base`)."""
    return Sources(
        index_url=options.index_url or settings.index_url,
        extra_index_urls=(*options.extra_index_urls, *settings.extra_index_urls),
        find_links=(
            *(_absolute(p, None) for p in options.find_links),
            *(_absolute(p, base) for p in settings.find_links),
        ),
        no_index=options.no_index,
        offline=options.offline,
        exclude_newer=utc_timestamp(exclude_newer or settings.exclude_newer),
    )


def utc_timestamp(value: str | None) -> str | None:
    """An RFC 3339 value as UTC `YYYY-MM-DDTHH:MM:SSZ`: pip and uv read a bare date in local time."""
    if value is None:
        return None
    from datetime import timezone

    return parse_timestamp(value).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _absolute(link: str, base: str | None) -> str:
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]+://", link):
        return link
    return os.path.abspath(os.path.join(base, link) if base else link)

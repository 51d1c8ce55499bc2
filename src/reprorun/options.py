"""The options that shape a run, as one frozen bundle passed from the CLI to the commands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Installer = Literal["auto", "pip", "uv"]


@dataclass(frozen=True)
class Options:
    """Global options: where packages come from, which interpreter, how much to say."""

    python: str | None = None
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    offline: bool = False
    refresh: bool = False
    installer: Installer = "auto"
    cache_dir: str | None = None
    verbosity: int = 0  # -1 quiet, 0 normal, 1+ verbose

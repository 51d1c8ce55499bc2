"""The options that shape a run, as one frozen bundle passed from the CLI to the commands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Installer = Literal["auto", "pip", "uv"]


@dataclass(frozen=True)
class Options:
    """Global options: where packages come from, which interpreter, how much to say."""

    python: str | None = None
    python_default: str | None = None  # REPRORUN_PYTHON or the config file's `python`
    python_origin: str = "--python"  # which of the two, for messages
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    offline: bool = False
    refresh: bool = False
    installer: Installer = "auto"
    cache_dir: str | None = None
    no_build: bool = False  # refuse source builds: wheels only
    verbosity: int = 0  # -1 quiet, 0 normal, 1+ verbose

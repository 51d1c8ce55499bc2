"""Where packages come from: reprorun's options, the block's settings and pip's own configuration
(pipconfig.py), as pip and uv arguments.

`Sources` is pure; `sources_for` reads pip's configuration files and the constraint files they
name. `keys` imports it to put the sources into an env's key.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from reprorun.envs.pipconfig import HARMLESS, PipConfig
from reprorun.errors import BuildError
from reprorun.options import Options
from reprorun.script.fields import Settings
from reprorun.script.timestamps import utc_text


@dataclass(frozen=True)
class Sources:
    """Where packages come from and which files may be used: reprorun's options, the block's
    `[tool.reprorun]`, and pip's own configuration (pipconfig.py) beneath them."""

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    offline: bool = False
    exclude_newer: str | None = None
    trusted_hosts: tuple[str, ...] = ()
    cert: str | None = None
    client_cert: str | None = None
    constraints: tuple[str, ...] = ()  # files
    constraints_sha256: tuple[str, ...] = ()  # their contents, for the key
    only_binary: tuple[str, ...] = ()
    no_binary: tuple[str, ...] = ()
    pre: bool = False
    no_build: bool = False
    # pip settings uv cannot be given faithfully, as (name, value, origin): only pip may build.
    pip_only: tuple[tuple[str, str, str], ...] = ()
    # pip settings that change nothing installed (timeouts, ...): passed on to pip, not in the key.
    pip_passed: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def pip_args(self) -> list[str]:
        """The pip options that say the same."""
        return [
            *_each("--index-url", _one(self.index_url)),
            *_each("--extra-index-url", self.extra_index_urls),
            *_each("--find-links", self.find_links),
            *(["--no-index"] if self.no_index or self.offline else []),
            *_each("--uploaded-prior-to", _one(self.exclude_newer)),
            *_each("--trusted-host", self.trusted_hosts),
            *_each("--cert", _one(self.cert)),
            *_each("--client-cert", _one(self.client_cert)),
            *_each("--constraint", self.constraints),
            *_each("--no-binary", self.no_binary),
            *_each("--only-binary", (*self.only_binary, *((":all:",) if self.no_build else ()))),
            *(["--pre"] if self.pre else []),
        ]

    def pip_environ(self) -> dict[str, str | None]:
        """pip's environment changes: its own file reading off (this object already holds the
        result), and the settings it alone understands as `PIP_*` variables."""
        changes: dict[str, str | None] = {name: None for name in os.environ if name.startswith("PIP_")}
        changes["PIP_CONFIG_FILE"] = os.devnull
        for name, value, *_ in (*self.pip_only, *self.pip_passed):
            changes["PIP_" + name.upper().replace("-", "_")] = value
        return changes

    def uv_args(self, sync: bool = False) -> list[str]:
        """The uv options that say the same (`sync`: for `uv sync`, which takes fewer)."""
        # pip takes the best version from all its sources; uv's default stops at the first index.
        several = self.extra_index_urls or (self.find_links and not self.no_index)
        args = [
            *_each("--default-index", _one(self.index_url)),
            *_each("--index", self.extra_index_urls),
            *_each("--find-links", self.find_links),
            *(["--no-index"] if self.no_index else []),
            *(["--offline"] if self.offline else []),
            *(["--index-strategy", "unsafe-best-match"] if several else []),
            *_each("--exclude-newer", _one(self.exclude_newer)),
            *_each("--allow-insecure-host", self.trusted_hosts),
            *(["--prerelease", "allow"] if self.pre else []),
            *(["--no-build"] if self.no_build else []),
        ]
        if not sync:
            args += [*_each("--constraints", self.constraints), *_each("--no-binary", self.no_binary),
                     *_each("--only-binary", self.only_binary)]  # fmt: skip
        return args

    def uv_environ(self) -> dict[str, str | None]:
        """The variables through which uv takes what pip takes as `cert` and `client-cert`."""
        changes: dict[str, str | None] = {}
        if self.cert:
            changes["SSL_CERT_FILE"] = self.cert
        if self.client_cert:
            changes["SSL_CLIENT_CERT"] = self.client_cert
        return changes

    @property
    def uv_can_sync(self) -> bool:
        """Whether `uv sync --script` takes every setting (it has no constraints or binary lists)."""
        return not (self.constraints or self.only_binary or self.no_binary)


def sources_for(
    options: Options,
    settings: Settings,
    exclude_newer: str | None = None,
    base: str | None = None,
    pip: PipConfig | None = None,
) -> Sources:
    """Merge command-line and block settings over pip's configuration (read here unless given);
    relative local paths become absolute (from `base` for the block's)."""
    if pip is None:
        from reprorun.envs import pipconfig

        pip = pipconfig.load()
    constraints = tuple(_absolute(os.path.expanduser(p), None) for p in pip.items("constraint"))
    return Sources(
        index_url=options.index_url or settings.index_url or pip.get("index-url"),
        extra_index_urls=_unique(*pip.items("extra-index-url"), *options.extra_index_urls, *settings.extra_index_urls),
        find_links=_unique(
            *(_absolute(p, None) for p in pip.items("find-links")),
            *(_absolute(p, None) for p in options.find_links),
            *(_absolute(p, base) for p in settings.find_links),
        ),
        no_index=options.no_index or pip.flag("no-index"),
        offline=options.offline,
        exclude_newer=utc_timestamp(exclude_newer or settings.exclude_newer),
        trusted_hosts=pip.items("trusted-host"),
        cert=_path_setting(pip.get("cert")),
        client_cert=_path_setting(pip.get("client-cert")),
        constraints=constraints,
        constraints_sha256=tuple(_file_digest(p) for p in constraints),
        only_binary=_format_list(pip.get("only-binary")),
        no_binary=_format_list(pip.get("no-binary")),
        pre=pip.flag("pre"),
        no_build=options.no_build,
        pip_only=tuple((s.name, s.value, s.origin) for s in pip.unmappable()),
        pip_passed=tuple((s.name, s.value) for s in pip.passed_on() if s.name in HARMLESS),
    )


def _each(flag: str, values: Sequence[str]) -> list[str]:
    return [arg for value in values for arg in (flag, value)]


def _one(value: str | None) -> tuple[str, ...]:
    return (value,) if value else ()


def _unique(*items: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _path_setting(value: str | None) -> str | None:
    return os.path.abspath(os.path.expanduser(value.strip())) if value and value.strip() else None


def _format_list(value: str | None) -> tuple[str, ...]:
    """pip's comma-separated `only-binary`/`no-binary` values, one per entry."""
    return tuple(v.strip() for v in (value or "").replace(" ", ",").split(",") if v.strip())


def _file_digest(path: str) -> str:
    """The sha256 of a constraints file: its content decides the env, not its name."""
    import hashlib

    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError as exc:
        raise BuildError(f"pip's constraint file {path} cannot be read: {exc.strerror}") from None


def utc_timestamp(value: str | None) -> str | None:
    """An RFC 3339 value as UTC `YYYY-MM-DDTHH:MM:SSZ`: pip and uv read a bare date in local time."""
    if value is None:
        return None
    return utc_text(value)


def _absolute(link: str, base: str | None) -> str:
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]+://", link):
        return link
    return os.path.abspath(os.path.join(base, link) if base else link)

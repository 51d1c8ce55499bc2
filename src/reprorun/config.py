"""The user's configuration file: defaults for options, below the command line and the environment.

`config.toml` in platformdirs' user config dir (`~/.config/reprorun/config.toml` on Linux), or the
file `REPRORUN_CONFIG` names. Top-level keys only:

    cache-dir = "/scratch/me/reprorun"
    installer = "uv"                      # auto, pip or uv
    index-url = "https://pypi.example/simple"
    extra-index-urls = ["https://more.example/simple"]
    find-links = ["/shared/wheels"]
    prune-older-than = "30d"
    record = "~/runs"                     # record every run there (docs/records.md)
    python = "3.11"                       # the interpreter, as --python takes it
    no-build = true                       # wheels only: refuse to build packages from source

An invalid file is an error naming the file and the line; an unknown key is a warning.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from reprorun.envs import layout
from reprorun.errors import ConfigError
from reprorun.notices import warn_all

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

log = logging.getLogger("reprorun")

INSTALLERS = ("auto", "pip", "uv")
_STRINGS = ("cache-dir", "installer", "index-url", "prune-older-than", "record", "python")
_BOOLEANS = ("no-build",)
_LISTS = ("extra-index-urls", "find-links")
_TOML_POS = re.compile(r"\(at line (\d+), column (\d+)\)")


@dataclass(frozen=True)
class Config:
    """The settings a configuration file may give; None or () where it gives none."""

    path: str | None = None
    cache_dir: str | None = None
    installer: str | None = None
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    prune_older_than: str | None = None
    record: str | None = None
    python: str | None = None
    no_build: bool = False


def load() -> Config:
    """Read and validate the configuration (once per process: envs/layout.py reads the text, which
    the warm path shares); an absent file is an empty one."""
    try:
        path, text = layout.config_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{layout.config_path()}: cannot read the configuration file: {exc}") from None
    if text is None:
        if os.environ.get("REPRORUN_CONFIG", "").strip():
            raise ConfigError(f"{path}: REPRORUN_CONFIG names a file that does not exist")
        return Config()
    return _parsed(text, path)


@lru_cache(maxsize=4)
def _parsed(text: str, path: str) -> Config:
    return parse(text, path)


def parse(text: str, path: str) -> Config:
    """Validate the configuration text; raise `ConfigError` naming `path:line`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        pos = _TOML_POS.search(str(exc))
        line = int(pos.group(1)) if pos else len(text.splitlines()) or 1
        raise ConfigError(f"{path}:{line}: invalid TOML: {_TOML_POS.sub('', str(exc)).strip()}") from None
    unknown = [key for key in data if key not in (*_STRINGS, *_LISTS, *_BOOLEANS)]
    warn_all(path, unknown, lambda key: f"{path}:{_line_of(text, key)}: unknown key '{key}' ignored")
    for key in _STRINGS:
        if key in data and not isinstance(data[key], str):
            raise _error(text, path, key, f"'{key}' must be a string")
    for key in _BOOLEANS:
        if key in data and not isinstance(data[key], bool):
            raise _error(text, path, key, f"'{key}' must be true or false")
    for key in _LISTS:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _error(text, path, key, f"'{key}' must be an array of strings")
    if data.get("installer", "auto") not in INSTALLERS:
        raise _error(text, path, "installer", f"'installer' must be one of {', '.join(INSTALLERS)}")
    if "prune-older-than" in data:
        from reprorun.envs.inventory import parse_duration

        try:
            parse_duration(data["prune-older-than"])
        except ValueError as exc:
            raise _error(text, path, "prune-older-than", str(exc)) from None
    return Config(
        path=path,
        cache_dir=_path(data.get("cache-dir"), path),
        installer=data.get("installer"),
        index_url=data.get("index-url"),
        extra_index_urls=tuple(data.get("extra-index-urls", ())),
        find_links=tuple(_path(p, path) or p for p in data.get("find-links", ())),
        prune_older_than=data.get("prune-older-than"),
        record=_path(data.get("record"), path),
        python=data.get("python"),
        no_build=data.get("no-build", False),
    )


def option_defaults(ns_values: dict[str, Any]) -> dict[str, Any]:
    """Fill options the command line left unset from the environment, then from the file."""
    conf = load()
    env = os.environ

    def unless_set(names: tuple[str, ...], value: Any) -> Any:  # noqa: ANN401 - any option value
        # pip's and uv's own variables are the environment level of "CLI > env > file".
        return None if any(env.get(n) for n in names) else value

    python_origin = "REPRORUN_PYTHON" if env.get("REPRORUN_PYTHON") else f"python in {conf.path}"
    return {
        "python_default": env.get("REPRORUN_PYTHON") or conf.python,
        "python_origin": python_origin,
        "no_build": bool(ns_values.get("no_build")) or conf.no_build,
        "installer": ns_values.get("installer") or env.get("REPRORUN_INSTALLER") or conf.installer or "auto",
        "cache_dir": ns_values.get("cache_dir") or env.get("REPRORUN_CACHE_DIR") or conf.cache_dir,
        "index_url": ns_values.get("index_url")
        or unless_set(("PIP_INDEX_URL", "UV_INDEX_URL", "UV_DEFAULT_INDEX"), conf.index_url),
        "extra_index_urls": tuple(ns_values.get("extra_index_urls")
        or unless_set(("PIP_EXTRA_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_INDEX"), conf.extra_index_urls) or ()),
        "find_links": tuple(ns_values.get("find_links")
        or unless_set(("PIP_FIND_LINKS", "UV_FIND_LINKS"), conf.find_links) or ()),
    }


def _path(value: str | None, config_path: str) -> str | None:
    """`~` expanded; a relative local path is relative to the configuration file's folder."""
    if value is None or re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]+://", value):
        return value
    expanded = os.path.expanduser(value)
    return os.path.join(os.path.dirname(os.path.abspath(config_path)), expanded)


def _line_of(text: str, key: str) -> int:
    for number, line in enumerate(text.splitlines(), 1):
        if re.match(rf"\s*[\"']?{re.escape(key)}[\"']?\s*=", line):
            return number
    return 1


def _error(text: str, path: str, key: str, message: str) -> ConfigError:
    return ConfigError(f"{path}:{_line_of(text, key)}: {message}")

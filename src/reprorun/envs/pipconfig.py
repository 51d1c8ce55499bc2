"""pip's effective configuration, read once the way pip reads it, for every installer to honour.

A site points its users at a wheelhouse or a mirror through `pip.conf` files and `PIP_*`
variables. uv reads neither, so reprorun reads them (pip's own order and rules, from
pip/_internal/configuration.py and cli/parser.py) and hands the result to whichever installer
builds: uv as its own options, pip as explicit options with its file reading switched off, so
both see exactly what is in the env key.

Files, lowest priority first: global (`$XDG_CONFIG_DIRS/pip/pip.conf`, then `/etc/pip.conf`),
user (`~/.pip/pip.conf`, then `$XDG_CONFIG_HOME/pip/pip.conf`; skipped when `PIP_CONFIG_FILE`
names an existing file), site (`$VIRTUAL_ENV/pip.conf`), then the `PIP_CONFIG_FILE` file;
`PIP_CONFIG_FILE=os.devnull` disables every file. In each, `[global]` applies, then `[install]`
overrides it; `PIP_*` variables override both. A later value replaces an earlier one, except
`only-binary`/`no-binary`, which pip accumulates.

The path list and the fingerprint are defined in `reprorun.warm` (the warm start hashes pip's
configuration before anything else of reprorun is imported); this module reads the files.
"""

from __future__ import annotations

import os

from reprorun.warm import PIP_ETC, pip_config_files, pip_fingerprint

# Settings that map onto uv options (see installers.Sources).
MAPPED = frozenset({"index-url", "extra-index-url", "find-links", "no-index", "trusted-host", "cert",
                    "client-cert", "constraint", "only-binary", "no-binary", "pre"})  # fmt: skip
# Settings that change neither what is installed nor where from: passed on to pip, kept out of the key.
HARMLESS = frozenset({
    "timeout", "default-timeout", "retries", "resume-retries", "disable-pip-version-check", "no-color",
    "no-input", "progress-bar", "quiet", "verbose", "log", "log-file", "cache-dir", "no-cache-dir",
    "exists-action", "no-python-version-warning", "root-user-action", "no-warn-script-location",
    "no-warn-conflicts", "compile", "no-compile", "break-system-packages", "upgrade", "upgrade-strategy",
    "force-reinstall", "ignore-installed", "format",
})  # fmt: skip
# Settings that would send an env's install elsewhere, or that reprorun itself decides: never passed on.
DROPPED = frozenset({"user", "target", "prefix", "root", "src", "require-virtualenv", "isolated", "report",
                     "dry-run", "python", "config-file", "editable", "requirement", "version", "help"})  # fmt: skip
ACCUMULATED = frozenset({"only-binary", "no-binary"})
ETC = PIP_ETC  # pip's last global folder, fixed in pip; a name here so tests need not write /etc
COMMAND = "install"
_TRUE = {"y", "yes", "t", "true", "on", "1"}
_FALSE = {"n", "no", "f", "false", "off", "0"}


class Setting:
    """One effective setting: its value and where it came from (a file and section, or a variable)."""

    __slots__ = ("name", "origin", "value")

    def __init__(self, name: str, value: str, origin: str) -> None:
        self.name = name
        self.value = value
        self.origin = origin

    def __repr__(self) -> str:
        return f"Setting({self.name!r}, {self.value!r}, {self.origin!r})"


class PipConfig:
    """pip's effective configuration for `pip install`: name -> setting, and the files read.

    (Plain classes, not dataclasses: a stdlib-only first run imports this module.)
    """

    def __init__(self, settings: dict[str, Setting] | None = None, files: tuple[str, ...] = ()) -> None:
        self.settings = settings or {}
        self.files = files

    def get(self, name: str) -> str | None:
        """The value of a setting, if it is set."""
        found = self.settings.get(name)
        return found.value if found else None

    def items(self, name: str) -> tuple[str, ...]:
        """A list setting (white-space separated, as pip splits `append` options)."""
        value = self.get(name)
        return tuple(value.split()) if value else ()

    def flag(self, name: str) -> bool:
        """A boolean setting, read with pip's strtobool; a value pip would refuse is an error."""
        value = self.get(name)
        if value is None:
            return False
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        from reprorun.errors import UsageError

        raise UsageError(f"{self.settings[name].origin}: pip setting '{name}' is not a boolean: {value!r}")

    def unmappable(self) -> tuple[Setting, ...]:
        """Settings that decide what gets installed but that uv cannot be given faithfully."""
        return tuple(s for n, s in sorted(self.settings.items()) if n not in MAPPED | HARMLESS | DROPPED)

    def passed_on(self) -> tuple[Setting, ...]:
        """Every setting pip still needs besides the mapped ones (as `PIP_*` variables)."""
        return tuple(s for n, s in sorted(self.settings.items()) if n not in MAPPED | DROPPED)


def config_files(environ: dict[str, str] | os._Environ[str] | None = None) -> list[tuple[str, str]]:
    """The (kind, path) of every file pip would consider, lowest priority first (existing or not)."""
    return pip_config_files(environ, ETC)


def fingerprint() -> str:
    """Everything pip's configuration is made of, as one string: the warm path hashes it."""
    return pip_fingerprint(config_files())


def load() -> PipConfig:
    """Read pip's effective configuration for `pip install` from the files and `PIP_*` variables."""
    merged: dict[tuple[str, str], Setting] = {}  # (section, name) -> setting, later files win
    read: list[str] = []
    for _kind, path in config_files():
        if not os.path.isfile(path):
            continue
        import configparser  # only when there is a file: the first run's lean build reads no file often

        from reprorun.errors import UsageError

        parser = configparser.RawConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError) as exc:
            raise UsageError(f"{path}: pip's configuration file is not valid: {exc}".splitlines()[0]) from None
        read.append(path)
        for section in parser.sections():
            for key, value in parser.items(section):
                name = _normalize(key)
                merged[(section, name)] = Setting(name, value, f"{path} [{section}]")
    ordered = [s for (section, _), s in merged.items() if section == "global"]
    ordered += [s for (section, _), s in merged.items() if section == COMMAND]
    for key, value in sorted(os.environ.items()):
        if key.startswith("PIP_") and key != "PIP_CONFIG_FILE":
            ordered.append(Setting(_normalize(key[4:]), value, key))
    settings: dict[str, Setting] = {}
    for setting in ordered:
        if not setting.value.strip():
            continue  # pip ignores empty values
        before = settings.get(setting.name)
        if before is not None and setting.name in ACCUMULATED:
            value, origin = f"{before.value},{setting.value}", f"{before.origin}, {setting.origin}"
            settings[setting.name] = Setting(setting.name, value, origin)
        else:
            settings[setting.name] = setting
    return PipConfig(settings, tuple(read))


def _normalize(key: str) -> str:
    """pip's key spelling: lower case, dashes, no leading `--`."""
    name = key.lower().replace("_", "-")
    return name[2:] if name.startswith("--") else name

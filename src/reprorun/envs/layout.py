"""The cache's layout contract: every name and path under the cache root, in one place.

Standard library only, and only what is loaded at start-up (`os`, `sys`): the warm path
(launch/warm.py) uses this module as much as the full path does, so nothing else spells a cache
path. docs/cache.md describes the same layout for people.

    CACHEDIR.TAG
    envs/<key20>-<build>/      one environment; never modified once published
        reprorun-key.json      the key document it was built from
        reprorun-complete      written last inside the env: the build finished
    keys/<key20>               names the published build of a key, written atomically after
                               `reprorun-complete`: this is the publication
    locks/<key20>.lock         one builder per key (REPRORUN_LOCK=mkdir: locks/<key20>.lock.d/)
    locks/<build>.use          shared by every run of the env, exclusive for a pruner
    locks/<build>.use.d/       mkdir mode: a pruner's announced intent
    index/<fingerprint>        warm-path shortcut: block fingerprint -> key
    used/<build>               its mtime is the env's last use
    used/<build>.scripts       the scripts that used it, one absolute path per line
    used/<build>.code-<hash>   a script's compiled code, kept by the in-process launch
    used/<build>.<host>.<pid>  mkdir mode only: a run of that process uses the env
    interpreters/*.json        what each interpreter file is (by path, size and mtime)
    virtualenv/                virtualenv's app data
    pip/<wheel name>/          virtualenv's embedded pip wheel, unpacked once
    store/                     the content store (files shared between pip-built envs)
    stdin/<sha>.py             scripts read from standard input
    snapshots/                 reprorun submit: content-addressed snapshots and batch scripts
    tmp/<host>.<pid>.<start>.<r>/  a build's or freeze's temporary folder (the installers' TMPDIR)
    bundles/<sha>/             `--bundle ARCHIVE`: the archive extracted once
    readers/                   sticky, world-writable: use records of users who cannot write the rest
"""

from __future__ import annotations

import os
import sys

SHORT = 20  # hex digits of a key used in names (80 bits)
COMPLETE = "reprorun-complete"
KEY_FILE = "reprorun-key.json"
TAG_NAME = "CACHEDIR.TAG"
TAG = """Signature: 8a477f597d28d172789f06886806bc55
# This file is a cache directory tag created by reprorun.
# For information about cache directory tags see https://bford.info/cachedir/
"""
ENVS, KEYS, LOCKS, INDEX, USED = "envs", "keys", "locks", "index", "used"
INTERPRETERS, APP_DATA, PIP, STORE, STDIN = "interpreters", "virtualenv", "pip", "store", "stdin"
SNAPSHOTS = "snapshots"  # reprorun submit's default snapshot root
TMP, READERS = "tmp", "readers"
BUNDLES = "bundles"  # `reprorun --bundle ARCHIVE`: each archive extracted once, by its sha256
FOLDERS = (ENVS, KEYS, LOCKS, INDEX, USED)  # created with the root; the others on first use

_config: tuple[str, str | None] | None = None  # (path, text) of the configuration file, read once


# --- where the cache and the configuration are -------------------------------------------------


def default_root() -> str | None:
    """platformdirs' user cache dir for reprorun, where it is simple (None: ask platformdirs)."""
    if sys.platform.startswith("linux"):
        return os.path.join(_xdg_home("XDG_CACHE_HOME", "~/.cache"), "reprorun")
    if sys.platform == "darwin":
        return os.path.expanduser("~/Library/Caches/reprorun")
    return None


def config_path() -> str | None:
    """The configuration file: `REPRORUN_CONFIG`, else the user config dir's config.toml."""
    named = os.environ.get("REPRORUN_CONFIG", "").strip()
    if named:
        return os.path.expanduser(named)
    if sys.platform.startswith("linux"):
        return os.path.join(_xdg_home("XDG_CONFIG_HOME", "~/.config"), "reprorun", "config.toml")
    if sys.platform == "darwin":
        return os.path.expanduser("~/Library/Application Support/reprorun/config.toml")
    return None


def _xdg_home(variable: str, default: str) -> str:
    """An XDG base directory as platformdirs reads it: the variable's value as written when it is an
    absolute path (the XDG spec ignores relative ones), else the default under the home folder."""
    value = os.environ.get(variable, "")
    return value if os.path.isabs(value) else os.path.expanduser(default)


def config_text() -> tuple[str, str | None]:
    """(path, text) of the configuration file, read once per process; text None if there is no file.

    Raises OSError or UnicodeDecodeError for a file that exists but cannot be read.
    """
    global _config  # noqa: PLW0603 - one read per process is the point
    path = config_path()
    if path is None:
        from platformdirs import user_config_dir  # pragma: no cover - neither Linux nor macOS

        path = os.path.join(user_config_dir("reprorun", appauthor=False), "config.toml")
    if _config is not None and _config[0] == path:
        return _config
    text: str | None
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        text = None
    _config = (path, text)
    return _config


def forget_config() -> None:
    """Read the configuration file again next time (for tests and long-lived processes)."""
    global _config  # noqa: PLW0603
    _config = None


# --- names ---------------------------------------------------------------------------------------


def env_dir(root: str, build: str) -> str:
    """The folder of one built environment."""
    return os.path.join(root, ENVS, build)


def env_bin(env: str) -> str:
    """The folder of an env's executables (`bin`, or `Scripts` on Windows)."""
    return os.path.join(env, "Scripts" if os.name == "nt" else "bin")


def env_python(env: str) -> str:
    """The interpreter inside an env."""
    return os.path.join(env_bin(env), "python.exe" if os.name == "nt" else "python")


def pointer(root: str, key: str) -> str:
    """The file naming the published build of a key."""
    return os.path.join(root, KEYS, key[:SHORT])


def build_lock(root: str, key: str) -> str:
    """The lock that admits one builder per key."""
    return os.path.join(root, LOCKS, key[:SHORT] + ".lock")


def use_lock(root: str, build: str) -> str:
    """The lock every run of an env shares and a pruner takes exclusively."""
    return os.path.join(root, LOCKS, build + ".use")


def prune_intent(root: str, build: str) -> str:
    """mkdir mode: the folder a pruner makes before it looks for users of an env."""
    return os.path.join(root, LOCKS, build + ".use.d")


def last_use(root: str, build: str) -> str:
    """The file whose mtime is the env's last use."""
    return os.path.join(root, USED, build)


def scripts_file(root: str, build: str) -> str:
    """The list of scripts that used an env."""
    return os.path.join(root, USED, build + ".scripts")


def use_marker(root: str, build: str, host: str, pid: int) -> str:
    """mkdir mode: the marker of one running process using an env."""
    return os.path.join(root, USED, f"{build}.{host}.{pid}")


def reader_use(root: str, build: str, uid: int) -> str:
    """The last use of an env by a user who cannot write `used/` (its mtime, as `used/<build>`'s)."""
    return os.path.join(root, READERS, f"{build}.uid{uid}")


def reader_marker(root: str, build: str, host: str, pid: int) -> str:
    """mkdir mode: a running process's use marker, for a user who cannot write `used/`."""
    return os.path.join(root, READERS, f"{build}.{host}.{pid}")


def index_entry(root: str, fingerprint: str) -> str:
    """The warm-path entry of a block fingerprint."""
    return os.path.join(root, INDEX, fingerprint)


# --- reading and writing -------------------------------------------------------------------------


def read_lines(path: str) -> list[str] | None:
    """A small file's lines, or None if it cannot be read."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().splitlines()
    except (OSError, UnicodeDecodeError):
        return None


def published(root: str, key: str) -> str | None:
    """The build a key's pointer names, if the pointer is whole and names one of this key."""
    lines = read_lines(pointer(root, key))
    if not lines:
        return None
    name = lines[0].strip()
    return name if name.startswith(key[:SHORT] + "-") and "/" not in name else None


def looks_complete(env: str) -> bool:
    """Whether the env's completion marker is there and whole (a JSON object, as publish writes it)."""
    lines = read_lines(os.path.join(env, COMPLETE))
    return bool(lines) and lines[0] == "{" and lines[-1] == "}"  # type: ignore[index]


def write_atomic(path: str, data: str | bytes, *, durable: bool = True) -> None:
    """Replace `path` with `data` so a reader sees the old file or the new one, never a part.

    The temporary file is beside the target (same file system) and its name starts with a dot
    and ends in `.tmp`, which `cache prune` recognises as debris of a killed writer.
    """
    folder, name = os.path.split(path)
    temp = os.path.join(folder, f".{name}.{os.getpid()}.{id(data):x}.tmp")
    try:
        with open(temp, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        try:  # noqa: SIM105 - contextlib is not loaded at start-up
            os.unlink(temp)
        except OSError:
            pass
        raise


def prepare_root(root: str) -> None:
    """Create the cache root and its folders, tagged so backup tools skip it (before a build)."""
    for name in FOLDERS:
        os.makedirs(os.path.join(root, name), exist_ok=True)
    readers = os.path.join(root, READERS)
    if not os.path.isdir(readers):  # sticky and world-writable, like /tmp: see docs/cache.md, "Sharing"
        try:  # noqa: SIM105 - contextlib is not loaded at start-up
            os.mkdir(readers)
        except FileExistsError:
            pass
        os.chmod(readers, 0o1777)  # noqa: S103 - sticky: each user may remove only their own files
    tag = os.path.join(root, TAG_NAME)
    if not os.path.exists(tag):
        write_atomic(tag, TAG)


def remember_script(root: str, build: str, script: str) -> None:
    """Note which script used an env (for `cache list`); cheap, append-only, best effort."""
    if script == "-":
        return
    line = os.path.abspath(script) + "\n"
    try:
        with open(scripts_file(root, build), "a+", encoding="utf-8") as handle:
            handle.seek(0)
            if line not in handle.read().splitlines(keepends=True):
                handle.write(line)
    except OSError:
        pass


def record_use(root: str, build: str) -> None:
    """Record a use of the env now: `used/<build>`'s mtime, or, for a user who may not write it
    (a shared cache), the mtime of that user's own file in the sticky `readers/` folder."""
    if not touch(last_use(root, build)):
        touch(reader_use(root, build, os.getuid() if hasattr(os, "getuid") else 0))


def touch(path: str) -> bool:
    """Set a file's mtime to now, creating it if needed; best effort: False if it could not."""
    try:
        os.utime(path)
    except FileNotFoundError:
        try:
            with open(path, "a"):
                pass
        except OSError:
            return False
    except OSError:
        return False
    return True

"""The cache files every start touches: where the cache is, the names it reads, its use hold and record.

The warm start (warm.py) imports this before anything else of reprorun, so it holds only what
a start needs; envs/layout.py (every other name and path), envs/locks.py (the lock mode, the
exclusive locks) and envs/liveness.py (whether an owner still runs) import these from here, and
launch/activate.py the env's activation (the variables of a process run in an env).
Standard library only, and only what start-up has loaded (`os`, `sys`; `fcntl` when locking).
No `from __future__ import annotations` and one-line docstrings: each module, and each byte of
bytecode, a warm start loads is a measurable part of it (docs/performance.md); comments are free.
"""

import os
import sys

TYPE_CHECKING = False  # typing's own flag costs an import of typing
if TYPE_CHECKING:
    from collections.abc import Mapping

SHORT = 20  # hex digits of a key used in names (80 bits)
COMPLETE = "reprorun-complete"
ENVS, KEYS, LOCKS, INDEX, USED, READERS = "envs", "keys", "locks", "index", "used", "readers"
_config: "tuple[str, str | None] | None" = None  # (path, text) of the configuration file, read once


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
    # As platformdirs reads it: the variable's value when it is an absolute path (the XDG spec
    # ignores relative ones), else the default under the home folder.
    value = os.environ.get(variable, "")
    return value if os.path.isabs(value) else os.path.expanduser(default)


def config_text() -> tuple[str, str | None]:
    """(path, text) of the configuration file, read once per process; text None if there is none."""
    # Raises OSError or UnicodeDecodeError for a file that exists but cannot be read.
    global _config  # noqa: PLW0603 - one read per process is the point
    path = config_path()
    if path is None:
        from platformdirs import user_config_dir  # pragma: no cover - neither Linux nor macOS

        path = os.path.join(user_config_dir("reprorun", appauthor=False), "config.toml")
    if _config is not None and _config[0] == path:
        return _config
    text: str | None
    try:  # bytes, then universal newlines by hand: a text-mode file object costs more than the read
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except FileNotFoundError:
        text = None
    _config = (path, text)
    return _config


def forget_config() -> None:
    """Read the configuration file again next time (for tests and long-lived processes)."""
    global _config  # noqa: PLW0603
    _config = None


# --- names ----------------------------------------------------------------------------------------


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


def index_entry(root: str, fingerprint: str) -> str:
    """The warm-path entry of a block fingerprint."""
    return os.path.join(root, INDEX, fingerprint)


def use_lock(root: str, build: str) -> str:
    """The lock every run of an env shares and a pruner takes exclusively."""
    return os.path.join(root, LOCKS, build + ".use")


def prune_intent(root: str, build: str) -> str:
    """mkdir mode: the folder a pruner makes before it looks for users of an env."""
    return os.path.join(root, LOCKS, build + ".use.d")


def last_use(root: str, build: str) -> str:
    """The file whose mtime is the env's last use."""
    return os.path.join(root, USED, build)


def use_marker(root: str, build: str, host: str, pid: int) -> str:
    """mkdir mode: the marker of one running process using an env."""
    return os.path.join(root, USED, f"{build}.{host}.{pid}")


def reader_use(root: str, build: str, uid: int) -> str:
    """The last use of an env by a user who cannot write `used/` (its mtime, as `used/<build>`'s)."""
    return os.path.join(root, READERS, f"{build}.uid{uid}")


def reader_marker(root: str, build: str, host: str, pid: int) -> str:
    """mkdir mode: a running process's use marker, for a user who cannot write `used/`."""
    return os.path.join(root, READERS, f"{build}.{host}.{pid}")


# --- the activation of an env for a process: which variables to set and which to drop ------------------

# PYTHONHOME would point the env's interpreter at another installation's standard library;
# __PYVENV_LAUNCHER__ (set by macOS framework builds) would make it report the launcher's
# sys.executable instead of the env's, so `site` would not find the env.
DROPPED = ("PYTHONHOME", "__PYVENV_LAUNCHER__")


def variables(env: str, base: "Mapping[str, str] | None" = None) -> dict[str, str]:
    """The environment variables a script in `env` sees: `base` (os.environ) with the env activated."""
    result = dict(os.environ if base is None else base)
    result["VIRTUAL_ENV"] = env
    result["PATH"] = env_bin(env) + os.pathsep + result.get("PATH", "")
    for name in DROPPED:
        result.pop(name, None)
    return result


def activate_here(env: str) -> None:
    """Activate `env` in this process's own `os.environ` (the in-process launch)."""
    for name in DROPPED:
        os.environ.pop(name, None)
    os.environ["VIRTUAL_ENV"] = env
    os.environ["PATH"] = env_bin(env) + os.pathsep + os.environ.get("PATH", "")


# --- reading and writing ----------------------------------------------------------------------------


def read_lines(path: str) -> list[str] | None:
    """A small file's lines, or None if it cannot be read."""
    try:  # bytes, then decode: a text-mode file object costs more than the read
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8").splitlines()
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
    """Replace `path` with `data` so a reader sees the old file or the new one, never a part."""
    # The temporary file is beside the target (same file system); its name starts with a dot and
    # ends in `.tmp`, which `cache prune` recognises as debris of a killed writer.
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
        _remove(temp)
        raise


def record_use(root: str, build: str) -> None:
    """Record a use of the env now: `used/<build>`'s mtime, else this user's file in `readers/`."""
    # A user who may not write used/ (a shared cache) touches their own file in the sticky readers/.
    if not touch(last_use(root, build)):
        touch(reader_use(root, build, os.getuid() if hasattr(os, "getuid") else 0))


def touch(path: str) -> bool:
    """Set a file's mtime to now, creating it if needed; best effort: False if it could not."""
    try:
        os.utime(path)
    except FileNotFoundError:
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666))
        except OSError:
            return False
    except OSError:
        return False
    return True


# --- a run's hold on its env (docs/cache.md, "Locking protocol"; envs/locks.py explains the modes) ------


def lock_mode() -> str:
    """The lock mechanism: `flock` unless `REPRORUN_LOCK=mkdir` (anything else means flock)."""
    return "mkdir" if os.environ.get("REPRORUN_LOCK", "").strip().lower() == "mkdir" else "flock"


def hold_and_verify(root: str, build: str) -> bool:
    """Hold the env, then check it is still complete; False (and nothing held) if it is gone."""
    held = hold(root, build)
    if os.path.isfile(os.path.join(env_dir(root, build), COMPLETE)):
        return True
    if isinstance(held, int):
        os.close(held)
    elif isinstance(held, str):
        _remove(held)
    return False


def hold(root: str, build: str) -> int | str | None:
    """Hold the env `build` in use until this process (and what it execs) ends; best effort.

    Returns what holds it: the open descriptor of the shared flock, or the mkdir mode's marker.
    """
    if lock_mode() == "mkdir":
        return _mark_use(root, build)
    import fcntl  # here: a module that only names paths need not load it

    path = use_lock(root, build)
    marker = None
    try:
        fd = open_lock_file(path)
    except OSError:
        # A reader of a shared cache, and no lock file it may open (missing, or the owner's only):
        # announce the use in readers/ first, then try again: a pruner creates the file to lock
        # it, and reads readers/ while it holds it, so one of us sees the other (docs/cache.md).
        marker = _write_marker(reader_marker(root, build, host(), os.getpid()))
        try:
            fd = open_lock_file(path)
        except OSError:
            return marker
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)  # waits only while a pruner is removing this very env
    except OSError:
        os.close(fd)
        return marker
    if marker is not None:  # the shared lock holds the env now
        _remove(marker)
    os.set_inheritable(fd, True)  # left open on purpose, across exec: the script holds the lock
    return fd


def open_lock_file(path: str) -> int:
    """A descriptor on a lock file: read-write (created if missing), else read-only."""
    # Read-write, because NFS emulates flock with POSIX locks and an exclusive one needs write
    # access; read-only as a fallback for a cache the user may read but not write (another
    # user's, or a read-only mount), where a shared lock is all a run needs.
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError:  # EACCES, EPERM, EROFS; anything else fails again, and is raised, just below
        return os.open(path, os.O_RDONLY)


STALE_SECONDS = 60.0  # default age after which an mkdir lock's heartbeat counts as dead


def _mark_use(root: str, build: str) -> str | None:
    # mkdir mode: a `used/<build>.<host>.<pid>` marker (a thread cannot outlive exec to keep a
    # heartbeat), else one in readers/; then wait out a pruner's intent. A pruner announces itself
    # with mkdir before it reads the markers; we wrote ours before looking for its announcement,
    # so one of us always sees the other (docs/cache.md).
    marker = _write_marker(use_marker(root, build, host(), os.getpid()))
    if marker is None:
        marker = _write_marker(reader_marker(root, build, host(), os.getpid()))
    if marker is None:
        return None
    intent = prune_intent(root, build)
    if os.path.isdir(intent):
        import time

        deadline = time.monotonic() + 2 * STALE_SECONDS
        while os.path.isdir(intent) and time.monotonic() < deadline:
            time.sleep(0.05)
    return marker


def _write_marker(marker: str) -> str | None:
    try:
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o644)
        try:
            os.write(fd, (process_start(os.getpid()) + "\n").encode())
        finally:
            os.close(fd)
    except OSError:
        return None
    return marker


def _remove(path: str) -> None:
    try:  # noqa: SIM105 - contextlib is not loaded at start-up
        os.unlink(path)
    except OSError:
        pass


def host() -> str:
    """This machine's name, as owner files and use markers record it."""
    return os.uname().nodename.replace("/", "_") or "localhost"


def process_start(pid: int) -> str:
    """When a process started (clock ticks since boot, Linux), to tell a reused pid; or ''."""
    fields = stat_fields(pid)
    return fields[19] if fields is not None and len(fields) > 19 else ""


def stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (the state first); None if unreadable."""
    try:
        fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
    except OSError:
        return None
    try:
        data = os.read(fd, 4096).decode("ascii", "replace")
    except OSError:
        return None
    finally:
        os.close(fd)
    # The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    return data[data.rfind(")") + 2 :].split()

"""The warm path: a script whose env is cached starts with one hash, a few stats and an exec.

`try_exec(argv)` runs before the command line is even parsed. It handles only the plain case
(`reprorun [--offline] [-q] [--python X] [--cache-dir D] SCRIPT ARGS...`) and gives up, returning
to the full path, at the first doubt: another option, stdin, a missing index entry, a changed
interpreter, a removed env. The index maps a fingerprint of the raw block text (plus what else
decides the interpreter and sources) to the env key; the full path writes it after every run.

This module must import nothing heavy: no TOML, no `packaging`, no `platformdirs`, `filelock`
or `virtualenv`. An architecture test checks what a warm run imports.
"""

from __future__ import annotations

import os
import sys

from reprorun import __version__
from reprorun.script.blocks import scan

try:  # the builtin sha256 costs far less to import than hashlib's OpenSSL binding
    from _sha2 import sha256  # type: ignore[import-not-found]  # Python >= 3.12
except ImportError:  # pragma: no cover - depends on the Python version
    try:
        from _sha256 import sha256  # type: ignore[import-not-found,no-redef,unused-ignore]
    except ImportError:
        from hashlib import sha256  # type: ignore[assignment,unused-ignore]

FORMAT = "reprorun-warm-1"
_FLAGS = {"--offline", "-q", "--quiet"}
_VALUED = {"--python", "--cache-dir"}


def try_exec(argv: list[str]) -> None:
    """Exec the script if its env is known and intact; otherwise return and let the CLI work."""
    if os.environ.get("REPRORUN_RECORD", "").strip():
        return  # a recorded run keeps a parent (records/supervise.py): the full path does it
    try:
        parsed = _parse(argv)
        if parsed is None:
            return
        python_request, cache_dir, script, args = parsed
        config = config_text()
        root = cache_dir or os.environ.get("REPRORUN_CACHE_DIR") or configured_root(config) or default_root()
        if not root:
            return
        with open(script, "rb") as handle:
            text = handle.read().decode("utf-8")
        block = block_text(text)
        if block is None:
            return
        entry = _read(os.path.join(root, "index", fingerprint(block, script, python_request, config)))
        if entry is None or len(entry) != 4:
            return
        key, interpreter, size, mtime = entry
        info = os.stat(interpreter)
        if str(info.st_size) != size or str(info.st_mtime_ns) != mtime:
            return  # the interpreter was upgraded in place: the full path re-probes it
        pointer = _read(os.path.join(root, "keys", key[:20]))
        if not pointer or not pointer[0].startswith(key[:20] + "-"):
            return
        env = os.path.join(root, "envs", pointer[0])
        marker = _read(os.path.join(env, "reprorun-complete"))
        if not marker or marker[0] != "{" or marker[-1] != "}":
            return  # missing or truncated: the full path repairs it
        from reprorun.envs.locks import hold_and_verify

        if not hold_and_verify(root, pointer[0]):
            return  # pruned between the look-up and the lock
        _touch(os.path.join(root, "used", pointer[0]))
    except (OSError, ValueError, UnicodeDecodeError):
        return
    python = os.path.join(env, "bin", "python")
    from reprorun.launch import inprocess

    if inprocess.possible(python):
        inprocess.run(env, python, script, args)  # never returns
    # launch.environment() says the same; it is not imported here because launch pulls in
    # installers and packaging, which the warm path must not load.
    variables = dict(os.environ)
    variables["VIRTUAL_ENV"] = env
    variables["PATH"] = os.path.join(env, "bin") + os.pathsep + variables.get("PATH", "")
    variables.pop("PYTHONHOME", None)
    try:
        os.execve(python, [python, script, *args], variables)
    except OSError:
        return  # an env damaged by hand: the full path rebuilds it


def _parse(argv: list[str]) -> tuple[str | None, str | None, str, list[str]] | None:
    python_request = cache_dir = None
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in _FLAGS:
            i += 1
        elif arg in _VALUED and i + 1 < len(argv):
            if arg == "--python":
                python_request = argv[i + 1]
            else:
                cache_dir = os.path.abspath(os.path.expanduser(argv[i + 1]))
            i += 2
        elif arg.startswith("-"):
            return None
        else:
            break
    else:
        return None
    script = argv[i]
    if script.endswith(".ipynb"):
        return None  # a notebook runs through _runner.py: the full path builds its argv
    if not (os.sep in script or script.endswith(".py") or os.path.isfile(script)):
        return None  # maybe a command: the CLI decides
    return python_request, cache_dir, script, argv[i + 1 :]


def default_root() -> str | None:
    """platformdirs' user cache dir for reprorun, on the platforms where it is simple."""
    if sys.platform.startswith("linux"):
        base = os.environ.get("XDG_CACHE_HOME", "").strip() or os.path.expanduser("~/.cache")
        return os.path.join(base, "reprorun")
    if sys.platform == "darwin":
        return os.path.expanduser("~/Library/Caches/reprorun")
    return None


def config_text() -> str:
    """The user's config file as text ("" if none): part of the fingerprint, since it sets sources."""
    named = os.environ.get("REPRORUN_CONFIG", "").strip()
    if named:
        path = named
    elif sys.platform.startswith("linux"):
        base = os.environ.get("XDG_CONFIG_HOME", "").strip() or os.path.expanduser("~/.config")
        path = os.path.join(base, "reprorun", "config.toml")
    elif sys.platform == "darwin":
        path = os.path.expanduser("~/Library/Application Support/reprorun/config.toml")
    else:
        return ""
    try:
        with open(path, encoding="utf-8") as handle:
            return path + "\0" + handle.read()
    except FileNotFoundError:
        return ""


def configured_root(config: str) -> str | None:
    """`cache-dir` of the config text when it is a plain one-line TOML string; raise if unsure."""
    if "cache-dir" not in config:
        return None
    path, _, text = config.partition("\0")
    for line in text.splitlines():
        name, equals, value = line.partition("=")
        if name.strip() in ("cache-dir", '"cache-dir"') and equals:
            value = value.split(" #", 1)[0].strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'" and "\\" not in value:
                chosen = os.path.expanduser(value[1:-1])
                return os.path.join(os.path.dirname(os.path.abspath(path)), chosen)
    raise ValueError("cache-dir in a form only the full path reads")


def block_text(text: str) -> str | None:
    """The raw `script` block (the empty string if none), or None when only the full path knows."""
    found = scan(text)
    if found.unclosed:
        return None  # the full path warns about it
    blocks = found.of_type("script")
    if len(blocks) > 1:
        return None
    if not blocks:
        lowered = text.lower()
        return None if "script dependencies:" in lowered else ""
    block = blocks[0]
    return text[block.start : block.end]


def fingerprint(block: str, script: str, python_request: str | None, config: str) -> str:
    """What decides the env besides the block: interpreter request, PATH, script folder, config."""
    parts = (
        config,
        FORMAT,
        __version__,
        block.replace("\r\n", "\n").replace("\r", "\n"),
        python_request or "",
        os.environ.get("PATH", ""),
        os.environ.get("PYENV_ROOT", ""),
        os.path.dirname(os.path.abspath(script)),
        os.path.realpath(sys.executable),  # a candidate interpreter; `python` and `python3` alike
    )
    digest: str = sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
    return digest[:40]


def eligible(ns: object) -> bool:
    """Whether a command line could have taken the warm path (no package-source options on it).

    Sources from the config file are fine: its text is part of the fingerprint. The installer
    does not matter: pip and uv build the same env, so either may fill the index.
    """
    return not any(getattr(ns, name, None) for name in ("index_url", "extra_index_url", "find_links", "no_index"))


def record(root: os.PathLike[str] | str, text: str, script: str, python_request: str | None,
           key: str, interpreter: str) -> None:  # fmt: skip
    """Write the index entry that lets the next run of this script take the warm path."""
    block = block_text(text)
    if block is None:
        return
    folder = os.path.join(os.fspath(root), "index")
    path = os.path.join(folder, fingerprint(block, script, python_request, config_text()))
    info = os.stat(interpreter)
    content = f"{key}\n{interpreter}\n{info.st_size}\n{info.st_mtime_ns}\n"
    try:
        if _read(path) == content.splitlines():
            return
        os.makedirs(folder, exist_ok=True)
        temp = f"{path}.{os.getpid()}.tmp"
        with open(temp, "w", encoding="utf-8") as handle:
            handle.write(content)
        os.replace(temp, path)
    except OSError:
        pass  # only the next start's speed depends on it


def _read(path: str) -> list[str] | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().splitlines()
    except (OSError, UnicodeDecodeError):
        return None


def _touch(path: str) -> None:
    try:
        os.utime(path)
    except FileNotFoundError:
        try:
            with open(path, "a"):
                pass
        except OSError:
            pass

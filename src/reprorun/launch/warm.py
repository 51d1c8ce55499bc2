"""The warm path: a script whose env is cached starts with one hash, a few stats and an exec.

`try_exec(argv)` runs before the command line is even parsed. It handles only the plain case
(`reprorun [--offline] [-q] [--installer I] [--python X] [--cache-dir D] SCRIPT ARGS...`) and gives up, returning
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
from reprorun.envs import layout, pipconfig
from reprorun.launch import activate
from reprorun.script.blocks import scan

try:  # the builtin sha256 costs far less to import than hashlib's OpenSSL binding
    from _sha2 import sha256  # type: ignore[import-not-found]  # Python >= 3.12
except ImportError:  # pragma: no cover - depends on the Python version
    try:
        from _sha256 import sha256  # type: ignore[import-not-found,no-redef,unused-ignore]
    except ImportError:
        from hashlib import sha256  # type: ignore[assignment,unused-ignore]

FORMAT = "reprorun-warm-1"
CODE_FORMAT = "reprorun-code-1"
_FLAGS = {"--offline", "-q", "--quiet"}
_VALUED = {"--python", "--cache-dir", "--installer"}
_INSTALLERS = {"auto", "pip", "uv"}  # cli.py's choices
_own: str | None = None


def start(argv: list[str]) -> None:
    """Run the script now if its env is cached (never returns then); else return to the CLI.

    `REPRORUN_WARM=0` turns the warm path off (every run goes through the full command line).
    """
    if os.environ.get("REPRORUN_WARM", "1") != "0":
        try_exec(argv)


def try_exec(argv: list[str]) -> None:
    """Exec the script if its env is known and intact; otherwise return and let the CLI work."""
    if os.environ.get("REPRORUN_RECORD", "").strip():
        return  # a recorded run keeps a parent (records/supervise.py; its warm start: records/fast.py)
    parsed = _parse(argv)
    if parsed is None:
        return
    python_request, cache_dir, script, args = parsed
    found = _find(python_request, cache_dir, script)
    if found is None:
        return
    root, env, _key, data = found
    python = layout.env_python(env)
    if os.path.realpath(python) == own_executable():  # else exec: no need to load the in-process launch
        from reprorun.launch import inprocess

        if inprocess.possible(python, same_executable=True):
            inprocess.run(env, python, script, args, data, code_cache(root, env, script, data))  # never returns
    try:
        os.execve(python, [python, script, *args], activate.variables(env))
    except OSError:
        return  # an env damaged by hand: the full path rebuilds it


def own_executable() -> str:
    """The real path of the interpreter running reprorun (resolved once: each resolution is a
    dozen system calls and a Python loop)."""
    global _own  # noqa: PLW0603 - a per-process memo, as layout.config_text has
    if _own is None:
        _own = os.path.realpath(sys.executable)
    return _own


def find(python_request: str | None, cache_dir: str | None, script: str) -> tuple[str, str, str, str] | None:
    """(cache root, env folder, key, script text) when the script's env is known and intact, held for
    the run (its use lock); None at the first doubt. The recorded warm start (records/fast.py) uses it too."""
    found = _find(python_request, cache_dir, script)
    return None if found is None else (*found[:3], found[3].decode("utf-8"))


def code_cache(root: str, env: str, script: str, data: bytes) -> tuple[str, bytes]:
    """Where the script's compiled code is kept for the in-process launch, and the header that
    must start that file: the Python, the script's absolute path and its bytes, hashed.

    One file per script and env, `used/<build>.code-<path hash>`: `cache prune` removes it with
    the env. The full path writes it (`record`; `submit` too, for the snapshot its tasks run); a
    start writes it only when it is missing, so that a start of a script that has run writes one
    file, its use record (a thousand array tasks land on a node at once). An edited script is
    compiled at each start, as `python` does, until the next full-path run keeps its code.
    """
    path = os.path.abspath(script)
    name = sha256(path.encode("utf-8", "surrogatepass")).hexdigest()[:20]
    file = os.path.join(root, layout.USED, f"{os.path.basename(env)}.code-{name}")
    seen = f"{CODE_FORMAT}\0{sys.version}\0{sys.implementation.cache_tag}\0{path}\0".encode("utf-8", "surrogatepass")
    return file, CODE_FORMAT.encode() + b"\n" + sha256(seen + data).digest()


def _find(python_request: str | None, cache_dir: str | None, script: str) -> tuple[str, str, str, bytes] | None:
    try:
        config = config_text()
        if "record" in config.partition("\0")[2]:
            return None  # maybe `record = ...`: every run is recorded, as only the full path knows
        root = cache_dir or os.environ.get("REPRORUN_CACHE_DIR") or configured_root(config) or layout.default_root()
        if not root:
            return None
        fd = os.open(script, os.O_RDONLY | os.O_NONBLOCK)
        try:  # a FIFO, socket or device: the full path refuses it with a clear error, unread
            if os.fstat(fd).st_mode & 0o170000 != 0o100000:
                return None
            with open(fd, "rb", closefd=False) as handle:
                data = handle.read()
        finally:
            os.close(fd)
        text = data.decode("utf-8")
        block = block_text(text)
        if block is None or "record" in block:
            return None  # maybe `[tool.reprorun] record`: likewise
        entry = layout.read_lines(layout.index_entry(root, fingerprint(block, script, python_request, config)))
        if entry is None or len(entry) != 4:
            return None
        key, interpreter, size, mtime = entry
        info = os.stat(interpreter)
        if str(info.st_size) != size or str(info.st_mtime_ns) != mtime:
            return None  # the interpreter was upgraded in place: the full path re-probes it
        build = layout.published(root, key)
        if build is None:
            return None
        env = layout.env_dir(root, build)
        if not layout.looks_complete(env):
            return None  # missing or truncated: the full path repairs it
        from reprorun.envs.locks import hold_and_verify

        if not hold_and_verify(root, build):
            return None  # pruned between the look-up and the lock
        layout.record_use(root, build)
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return root, env, key, data


def _parse(argv: list[str]) -> tuple[str | None, str | None, str, list[str]] | None:
    """(python request, cache dir, script, its arguments), or None for anything but the plain case.

    Besides the script, only options that cannot change which env runs or what is printed:
    `--offline` and `-q` (a warm run prints nothing and touches no network), `--installer` (the
    key does not name the installer: pip and uv build the same env), and `--python` and
    `--cache-dir`, which are part of the fingerprint. Each valued option also as `--name=value`.
    """
    chosen: dict[str, str] = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in _FLAGS or (arg.startswith("-q") and arg.strip("q") == "-"):
            i += 1
            continue
        name, equals, value = arg.partition("=")
        if name not in _VALUED:
            if arg.startswith("-"):
                return None
            break
        if not equals:
            if i + 1 >= len(argv):
                return None
            value = argv[i + 1]
        if name == "--installer" and value not in _INSTALLERS:
            return None  # the full path reports it
        chosen[name] = value  # the last one counts, as with argparse
        i += 1 if equals else 2
    else:
        return None
    script = argv[i]
    if script.endswith(".ipynb"):
        return None  # a notebook runs through _runner.py: the full path builds its argv
    if not (os.sep in script or script.endswith(".py") or os.path.isfile(script)):
        return None  # maybe a command: the CLI decides
    cache_dir = chosen.get("--cache-dir")
    if cache_dir is not None:
        cache_dir = os.path.abspath(os.path.expanduser(cache_dir))
    return chosen.get("--python"), cache_dir, script, argv[i + 1 :]


def config_text() -> str:
    """The configuration file as part of the fingerprint: its path and text ("" if there is none)."""
    path, text = layout.config_text()
    return "" if text is None else path + "\0" + text


def configured_root(config: str) -> str | None:
    """`cache-dir` of the config text when it is a plain one-line TOML string; raise if unsure."""
    if "cache-dir" not in config:
        return None
    path, _, text = config.partition("\0")
    for line in text.splitlines():
        if line.lstrip().startswith("["):
            break  # a table: the keys below it are not top-level
        name, equals, value = line.partition("=")
        if name.strip() in ("cache-dir", '"cache-dir"') and equals:
            value = value.split(" #", 1)[0].strip()
            if (len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'" and "\\" not in value
                    and value[:3] not in ('"""', "'''")):  # fmt: skip
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
        if "///" in text:
            return None  # maybe a near-miss opener (`#/// script`): the full path warns every time
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
        own_executable(),  # a candidate interpreter; `python` and `python3` alike
        os.environ.get("REPRORUN_PYTHON", ""),
        pipconfig.fingerprint(),  # pip's configuration decides the sources, whichever installer built
    )
    digest: str = sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
    return digest[:40]

"""The warm start: a script whose env is cached starts with one hash, a few reads and a launch.

`start(argv)` runs before the command line is even parsed (scripts/reprorun, __main__.py).
"""

# It handles only the plain case (`reprorun [--offline] [-q] [--installer I] [--python X]
# [--cache-dir D] SCRIPT ARGS...`) and gives up, returning to the full path, at the first doubt:
# another option, stdin, a missing index entry, a changed interpreter, a removed env. The index
# maps a fingerprint of the raw block text (plus what else decides the interpreter and sources) to
# the env key; the full path writes it after every run (launch/remember.py).
#
# Each module, and each byte of bytecode, a warm start loads is a measurable part of it
# (docs/performance.md): this module, cachefiles.py and, for the in-process launch, inprocess.py
# are all it loads of reprorun, and they import only what start-up has loaded already. So: no
# `from __future__` (its import costs more than the annotations it would defer), one-line
# docstrings (comments cost nothing), `_imp.source_hash` (builtin SipHash, what Python uses for
# hash-based .pyc files) rather than a sha256 extension module. What the warm start shares with
# the full path is defined here and imported from here: the block scanner's core
# (script/blocks.py builds its records on it) and pip's configuration files (envs/pipconfig.py).
# tests/test_architecture.py checks what these modules import.

import os
import sys

from reprorun import __version__
from reprorun.cachefiles import (
    USED,
    default_root,
    env_dir,
    env_python,
    hold_and_verify,
    index_entry,
    looks_complete,
    published,
    read_lines,
    record_use,
    variables,
)
from reprorun.cachefiles import config_text as _config_file

try:
    from _imp import source_hash
except ImportError:  # pragma: no cover - not CPython: any stable 8-byte hash will do

    def source_hash(key: int, source: bytes) -> bytes:  # type: ignore[misc]
        """8 bytes of sha256 over the key and the data."""
        from hashlib import sha256

        return sha256(key.to_bytes(8, "little") + source).digest()[:8]

FORMAT = "reprorun-warm-2"  # in the fingerprint: another format's index entries are simply not found
CODE_FORMAT = "reprorun-code-2"
_FLAGS = {"--offline", "--quiet"}  # and -q, -qq... (options)
_VALUED = {"--python", "--cache-dir", "--installer"}
_INSTALLERS = {"auto", "pip", "uv"}  # cli.py's choices
_own: "str | None" = None


def start(argv: list[str]) -> None:
    """Run the script now if its env is cached (never returns then); else return to the CLI."""
    if os.environ.get("REPRORUN_WARM", "1") != "0":  # `REPRORUN_WARM=0` turns the warm path off
        try_exec(argv)


def try_exec(argv: list[str]) -> None:
    """Launch the script if its env is known and intact; otherwise return and let the CLI work."""
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
    python = env_python(env)
    if runs_here(python):  # else exec: no need to load the in-process launch
        from reprorun import inprocess

        if inprocess.possible(python, same_executable=True):
            inprocess.run(env, python, script, args, data, code_cache(root, env, script, data))  # never returns
    try:
        os.execve(python, [python, script, *args], variables(env))
    except OSError:
        return  # an env damaged by hand: the full path rebuilds it


def own_executable() -> str:
    """The real path of the interpreter running reprorun, found once per process."""
    global _own  # noqa: PLW0603 - a per-process memo
    if _own is None:
        # The kernel's answer where there is one, checked to be sys.executable's file (valgrind, for
        # one, names the script a `#!` line started): two system calls, where os.path.realpath walks
        # every folder of the path (a quarter of a million instructions, docs/performance.md).
        try:
            found = os.readlink("/proc/self/exe")
            _own = found if os.path.samestat(os.stat(found), os.stat(sys.executable)) else None
        except OSError:
            pass
        if _own is None:
            _own = os.path.realpath(sys.executable)
    return _own


def runs_here(python: str) -> bool:
    """Whether `python` is the very interpreter running reprorun (the same file, through any links)."""
    try:
        return os.path.samestat(os.stat(python), os.stat(own_executable()))
    except OSError:
        return False


def find(python_request: str | None, cache_dir: str | None, script: str) -> tuple[str, str, str, str] | None:
    """(cache root, env folder, key, script text) of a known, intact env, held for the run; or None."""
    # The recorded warm start (records/fast.py) uses it too.
    found = _find(python_request, cache_dir, script)
    return None if found is None else (*found[:3], found[3].decode("utf-8"))


def digest(data: bytes) -> bytes:
    """128 bits of SipHash over `data`: two keys of `_imp.source_hash`, builtin and stable."""
    return source_hash(0x7265_7072_6F72_756E, data) + source_hash(0x7761_726D_2D73_7461, data)


def code_cache(root: str, env: str, script: str, data: bytes) -> tuple[str, bytes]:
    """Where the script's compiled code is kept, and the header (Python, path, bytes) it must start with."""
    # One file per script and env, `used/<build>.code-<path hash>`: `cache prune` removes it with
    # the env. The full path writes it (launch/remember.py); a start only when it is missing, so
    # a start of a script that has run writes one file, its use record (a thousand array tasks
    # land on a node at once). An edited script is compiled at each start, as `python` does,
    # until the next full-path run keeps its code.
    path = os.path.abspath(script)
    name = digest(path.encode("utf-8", "surrogatepass")).hex()[:20]
    file = os.path.join(root, USED, f"{os.path.basename(env)}.code-{name}")
    seen = f"{CODE_FORMAT}\0{sys.version}\0{sys.implementation.cache_tag}\0{path}\0".encode("utf-8", "surrogatepass")
    return file, CODE_FORMAT.encode() + b"\n" + digest(seen + data)


def _find(python_request: str | None, cache_dir: str | None, script: str) -> tuple[str, str, str, bytes] | None:
    try:
        config = config_text()
        if "record" in config.partition("\0")[2]:
            return None  # maybe `record = ...`: every run is recorded, as only the full path knows
        root = cache_dir or os.environ.get("REPRORUN_CACHE_DIR") or configured_root(config) or default_root()
        if not root:
            return None
        fd = os.open(script, os.O_RDONLY | os.O_NONBLOCK)
        try:  # a FIFO, socket or device: the full path refuses it with a clear error, unread
            if os.fstat(fd).st_mode & 0o170000 != 0o100000:
                return None
            data = b"".join(iter(lambda: os.read(fd, 1 << 20), b""))
        finally:
            os.close(fd)
        block = block_text(data.decode("utf-8"))
        if block is None or "record" in block:
            return None  # maybe `[tool.reprorun] record`: likewise
        entry = read_lines(index_entry(root, fingerprint(block, script, python_request, config)))
        if entry is None or len(entry) != 4:
            return None
        key, interpreter, size, mtime = entry
        info = os.stat(interpreter)
        if str(info.st_size) != size or str(info.st_mtime_ns) != mtime:
            return None  # the interpreter was upgraded in place: the full path re-probes it
        build = published(root, key)
        if build is None:
            return None
        env = env_dir(root, build)
        if not looks_complete(env) or not hold_and_verify(root, build):
            return None  # missing, truncated (the full path repairs it) or pruned since the look-up
        record_use(root, build)
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return root, env, key, data


def _parse(argv: list[str]) -> tuple[str | None, str | None, str, list[str]] | None:
    """(python request, cache dir, script, its arguments), or None for anything but the plain case."""
    # Besides the script, only options that cannot change which env runs or what is printed:
    # `--offline` and `-q` (a warm run prints nothing and touches no network), `--installer` (the
    # key does not name the installer: pip and uv build the same env), and `--python` and
    # `--cache-dir`, which are part of the fingerprint.
    found = options(argv, _FLAGS)
    if found is None:
        return None
    i, chosen, _, _ = found
    script = argv[i]
    if script.endswith(".ipynb"):
        return None  # a notebook runs through _runner.py: the full path builds its argv
    if not (os.sep in script or script.endswith(".py") or os.path.isfile(script)):
        return None  # maybe a command: the CLI decides
    cache_dir = chosen.get("--cache-dir")
    if cache_dir is not None:
        cache_dir = os.path.abspath(os.path.expanduser(cache_dir))
    return chosen.get("--python"), cache_dir, script, argv[i + 1 :]


def options(argv: list[str], flags: set[str]) -> tuple[int, dict[str, str], set[str], int] | None:
    """For `[OPTION...] SCRIPT ...`: (the script's index, the valued options chosen, the `flags`
    seen, how many `-q`), or None at another option, a missing value or no script."""
    # `-q`, `-qq` and `--quiet` count; `--python`, `--cache-dir` and `--installer` (one of the
    # command line's choices, else the full path reports it) take a value, also as `--name=value`.
    chosen: dict[str, str] = {}
    seen: set[str] = set()
    quiet = 0
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg.startswith("-q") and arg.strip("q") == "-":
            quiet += len(arg) - 1
            i += 1
            continue
        if arg in flags:
            seen.add(arg)
            quiet += arg == "--quiet"
            i += 1
            continue
        name, equals, value = arg.partition("=")
        if name not in _VALUED:
            if arg.startswith("-"):
                return None
            return i, chosen, seen, quiet
        if not equals:
            if i + 1 >= len(argv):
                return None
            value = argv[i + 1]
        if name == "--installer" and value not in _INSTALLERS:
            return None
        chosen[name] = value  # the last one counts, as with argparse
        i += 1 if equals else 2
    return None


def config_text() -> str:
    """The configuration file as part of the fingerprint: its path and text ("" if there is none)."""
    path, text = _config_file()
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
    blocks, unclosed = scan_blocks(text)
    if unclosed:
        return None  # the full path warns about it
    found = [b for b in blocks if b[0] == "script"]
    if len(found) > 1:
        return None
    if not found:
        if "///" in text:
            return None  # maybe a near-miss opener (`#/// script`): the full path warns every time
        return None if "script dependencies:" in text.lower() else ""
    return text[found[0][3] : found[0][4]]


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
        pip_fingerprint(),  # pip's configuration decides the sources, whichever installer built
    )
    return digest("\0".join(parts).encode("utf-8", "surrogatepass")).hex()


# --- pip's configuration files (envs/pipconfig.py reads them; the fingerprint hashes them) -------------

PIP_ETC = "/etc"  # pip's last global folder, fixed in pip


def pip_config_files(environ: "dict[str, str] | os._Environ[str] | None" = None,
                     etc: str = PIP_ETC) -> list[tuple[str, str]]:  # fmt: skip
    """The (kind, path) of every file pip would consider, lowest priority first (existing or not)."""
    env = os.environ if environ is None else environ
    named = env.get("PIP_CONFIG_FILE")
    if named is not None and named == os.devnull:
        return []
    home = os.path.expanduser("~")
    files: list[tuple[str, str]] = []
    if sys.platform == "darwin":  # pragma: no cover - reprorun's tests run on Linux
        global_dirs = ["/Library/Application Support/pip"]
        user_dir = os.path.join(home, "Library", "Application Support", "pip")
    else:
        xdg_dirs = env.get("XDG_CONFIG_DIRS", "").strip() or "/etc/xdg"
        global_dirs = [os.path.join(d, "pip") for d in xdg_dirs.split(os.pathsep) if d] + [etc]
        user_dir = os.path.join(env.get("XDG_CONFIG_HOME", "").strip() or os.path.join(home, ".config"), "pip")
    files += [("global", os.path.join(d, "pip.conf")) for d in global_dirs]
    if not (named and os.path.exists(named)):
        files += [("user", os.path.join(home, ".pip", "pip.conf")), ("user", os.path.join(user_dir, "pip.conf"))]
    site = env.get("VIRTUAL_ENV") or (sys.prefix if sys.prefix != sys.base_prefix else "")
    if site:
        files.append(("site", os.path.join(site, "pip.conf")))
    if named:
        files.append(("env", named))
    return files


def pip_fingerprint(files: "list[tuple[str, str]] | None" = None) -> str:
    """Everything pip's configuration is made of (`PIP_*` variables, files), as one string."""
    environ = os.environ
    parts = [f"{k}={environ[k]}" for k in sorted(k for k in environ if k.startswith("PIP_"))]
    for _kind, path in pip_config_files() if files is None else files:
        try:
            with open(path, "rb") as handle:
                parts.append(path + "\0" + handle.read().decode("utf-8", "replace"))
        except OSError:
            continue
    return "\0".join(parts)


# --- the block scanner's core (script/blocks.py: the specification's rules, and the records) ----------

CLOSE = "# ///"
_TYPE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
_last: "tuple[str, tuple[list[tuple[str, int, int, int, int, str]], list[tuple[str, int]]]] | None" = None


def scan_blocks(text: str) -> tuple[list[tuple[str, int, int, int, int, str]], list[tuple[str, int]]]:
    """Every closed block as (type, start line, end line, start, end, content), and each unclosed
    opener as (type, line): what script/blocks.py's `Block` and `Unclosed` hold (see there)."""
    global _last  # noqa: PLW0603 - one invocation scans one script: the warm start, then the full path
    if _last is None or not (_last[0] is text or _last[0] == text):
        _last = (text, _scan(text))
    return _last[1]


def line_at(text: str, offset: int) -> str:
    """The line starting at `offset`, with its line ending (LF, CRLF or a lone CR)."""
    lf = text.find("\n", offset)
    cr = text.find("\r", offset, lf if lf >= 0 else len(text))
    if cr >= 0:  # noqa: SIM108 - two plain branches read better than a nested ternary
        end = cr + 2 if text.startswith("\r\n", cr) else cr + 1
    else:
        end = lf + 1 if lf >= 0 else len(text)
    return text[offset:end]


def _breaks(text: str, start: int, end: int) -> int:
    # How many line breaks (LF, CRLF or lone CR) lie in text[start:end]; only this span: counting
    # in the whole text each time would be quadratic.
    count = text.count("\n", start, end)
    if text.find("\r", start, end) >= 0:
        count += text.count("\r", start, end) - text.count("\r\n", start, end)
    return count


def _openers(text: str) -> list[tuple[int, str]]:
    # Every `# /// TYPE` line and its TYPE, found with `str.find` (C speed), not line by line.
    found = []
    offset = text.find("# /// ")
    while offset >= 0:
        at_line_start = offset == 0 or text[offset - 1] in "\r\n" or (offset == 1 and text[0] == "\ufeff")
        if at_line_start:
            block_type = line_at(text, offset)[6:].rstrip("\r\n")
            if block_type and _TYPE_CHARS.issuperset(block_type):
                found.append((offset, block_type))
        offset = text.find("# /// ", offset + 1)
    return found


def _scan(text: str) -> tuple[list[tuple[str, int, int, int, int, str]], list[tuple[str, int]]]:
    blocks: list[tuple[str, int, int, int, int, str]] = []
    unclosed: list[tuple[str, int]] = []
    if "# /// " not in text:  # the common case, and it costs one C-level search
        return blocks, unclosed
    resume = 0  # openers before this offset are inside a block found already
    run_end = -1  # openers before this offset sit in a comment run known to have no closer
    counted_to, number = 0, 1  # line numbers are counted incrementally, opener to opener
    for offset, opener in _openers(text):
        if offset < resume:
            continue
        number += _breaks(text, counted_to, offset)
        counted_to = offset
        if offset < run_end:
            unclosed.append((opener, number))
            continue
        # Walk the run of content lines (`#` alone, or starting with `# `) after the opener,
        # remembering its last `# ///`: a `# ///` inside a TOML multi-line string does not close it.
        body: list[str] = []
        close: tuple[int, int, int] | None = None  # (offset, lines of content, end offset)
        pos = offset + len(line_at(text, offset))
        while pos < len(text):
            raw = line_at(text, pos)
            line = raw.rstrip("\r\n")
            if not (line == "#" or line.startswith("# ")):
                break
            if line == CLOSE:
                close = (pos, len(body), pos + len(line))
            body.append(line[2:])
            pos += len(raw)
        if close is None:
            unclosed.append((opener, number))
            run_end = pos
            continue
        close_offset, size, end = close
        # Each content line loses its "# " (or its lone "#") and keeps a newline, as in the
        # specification's reference implementation; one bare "#" line holds "\n".
        content = "".join(line + "\n" for line in body[:size])
        blocks.append((opener, number, number + size + 1, offset, end, content))
        resume = close_offset + 1
    return blocks, unclosed

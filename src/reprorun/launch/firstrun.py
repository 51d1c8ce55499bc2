"""The first run of a script without requirements, made without the command line (issue 17).

A cold run otherwise pays for reprorun's whole command line (about 100 ms of imports and work)
before uv even starts. When the warm start (warm.py) finds no env for a script whose block asks
for nothing, this module makes the very env the full path would, with the standard library
alone: the same key document (envs/leankey.py), the same interpreter (the running one, or the
`--python` path, as envs/selection.py chooses), the same build lock, the same `uv venv` command
as the uv backend (installers/uv.py `create`), the same publication order (cache.publish), the
same use record, script listing and index entry (remember.record); then it runs the script as a
warm start does. At the first doubt (another option, REPRORUN_PYTHON, a configuration file with
more than `cache-dir` and `installer`, pip settings uv cannot take, a `requires-python` it cannot
decide, an interpreter the cache has not described yet, no uv beside reprorun, a read-only cache,
a build lock held by another, an interrupted build's leftovers, the lock's mkdir mode) it
returns with nothing half made, and the full path does the work and says what is wrong.
"""

from __future__ import annotations

import os
import sys

from reprorun import cachefiles, warm  # both loaded by the warm start already

# Every other module is imported only once the command line is a plain run of a script, and each
# only when the step before it has not already left the work to the full path: a command, or a
# script with requirements, pays next to nothing for this attempt.

_FLAGS = {"--offline", "--refresh", "--quiet"}
_CONFIG_KEYS = ("cache-dir", "installer")

TYPE_CHECKING = False  # typing's own flag costs an import of typing
if TYPE_CHECKING:
    from typing import Any


class _Run:
    """The command line of a plain run (`reprorun [options] SCRIPT ARGS...`), as the lean build reads it."""

    def __init__(self, script: str, args: list[str], flags: set[str], chosen: dict[str, str], quiet: int) -> None:
        self.script, self.args = script, args
        self.offline, self.refresh = "--offline" in flags, "--refresh" in flags
        self.python = chosen.get("--python")
        self.installer = chosen.get("--installer")
        cache_dir = chosen.get("--cache-dir")
        self.cache_dir = None if cache_dir is None else os.path.abspath(os.path.expanduser(cache_dir))
        self.verbosity = -quiet


def start(argv: list[str]) -> None:
    """Build the env of a script without requirements and run the script (never returns then);
    return at the first doubt, having changed nothing the full path would not."""
    if os.environ.get("REPRORUN_RECORD", "").strip() or os.environ.get("SLURM_JOB_ID"):
        return  # recorded runs keep a parent; inside a Slurm job the full path builds (cluster/jobs.py)
    try:
        run = _parse(argv)
        found = None if run is None else _decide(run)
        if run is None or found is None:
            return
        root, doc, python, data = found
        from reprorun.envs import layout, leanbuild, leankey
        from reprorun.launch import remember

        build = leanbuild.ensure(root, doc, python, run.script, run)
        if build is None:
            return
        text = data.decode("utf-8")
        layout.record_use(root, build)
        layout.remember_script(root, build, run.script)
        remember.record(root, text, run.script, run.python, leankey.digest(doc), python["executable"])
    except (OSError, ValueError, UnicodeError):
        return
    _launch(root, cachefiles.env_dir(root, build), run.script, run.args, data)


def _launch(root: str, env: str, script: str, args: list[str], data: bytes) -> None:
    """Run the script in the env as the warm start does (warm.try_exec): in this process when the
    env's interpreter is this one and nothing but the standard library is loaded, else exec."""
    python = cachefiles.env_python(env)
    if warm.runs_here(python):  # one stat comparison, as the warm start's (a realpath walk costs more)
        from reprorun import inprocess

        if inprocess.possible(python, same_executable=True):
            inprocess.run(env, python, script, args, data, warm.code_cache(root, env, script, data))  # never returns
    try:
        os.execve(python, [python, script, *args], cachefiles.variables(env))
    except OSError:
        return  # the full path finds the env and says what is wrong


def _parse(argv: list[str]) -> _Run | None:
    """The plain run's options, or None for anything else (warm's options, with `--refresh`)."""
    found = warm.options(argv, _FLAGS)
    if found is None:
        return None
    i, chosen, flags, quiet = found
    script = argv[i]
    if script == "-" or script.endswith(".ipynb") or not (os.sep in script or script.endswith(".py")
                                                           or os.path.isfile(script)):  # fmt: skip
        return None
    return _Run(script, argv[i + 1 :], flags, chosen, quiet)


def _decide(run: _Run) -> tuple[str, dict[str, Any], dict[str, str], bytes] | None:
    """(cache root, key document, interpreter description, script bytes) when every choice is certain."""
    config = warm.config_text()
    configured = _configured(config)
    if configured is None or (os.environ.get("REPRORUN_CONFIG", "").strip() and not config):
        return None  # a file saying more, or REPRORUN_CONFIG naming none: the full path reads or reports it
    installer = run.installer or os.environ.get("REPRORUN_INSTALLER") or configured.get("installer") or "auto"
    if installer not in ("auto", "uv"):
        return None  # the pip backend builds with virtualenv: the full path's work
    root = run.cache_dir or os.environ.get("REPRORUN_CACHE_DIR") or warm.configured_root(config)
    root = root or cachefiles.default_root()
    if not root:
        return None
    root = os.path.abspath(os.path.expanduser(root))
    data = _read(run.script)
    if data is None:
        return None
    requires = _requires_python(data.decode("utf-8"))
    if requires is None:
        return None
    from reprorun.envs import leanbuild, leankey
    from reprorun.script import leanblock

    if leanbuild.uv_executable() is None:
        return None  # auto without uv means pip; uv elsewhere (PATH): the full path finds it
    sources = leankey.sources()
    python = None if sources is None else _interpreter(root, run.python)
    if sources is None or python is None or leanblock.fits(requires, python["version"]) is not True:
        return None  # the full path chooses another interpreter, or says that none fits
    return root, leankey.document(python, sources), python, data


def _configured(config: str) -> dict[str, str] | None:
    """The configuration file's `installer` (and that it says nothing else the lean build must
    know: only `cache-dir` and `installer`, as plain strings); None when it says more."""
    found: dict[str, str] = {}
    for raw in config.partition("\0")[2].splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, equals, value = line.partition("=")
        name, value = name.strip(), value.split(" #", 1)[0].strip()
        if not equals or name not in _CONFIG_KEYS or name in found or len(value) < 2 or value[0] != value[-1] \
                or value[0] not in "\"'" or "\\" in value or value[1:-1].count(value[0]):  # fmt: skip
            return None
        found[name] = value[1:-1]
    return found


def _read(script: str) -> bytes | None:
    """The script's bytes if it is a regular file (warm._find's reading)."""
    fd = os.open(script, os.O_RDONLY | os.O_NONBLOCK)
    try:
        if os.fstat(fd).st_mode & 0o170000 != 0o100000:
            return None
        with open(fd, "rb", closefd=False) as handle:
            return handle.read()
    finally:
        os.close(fd)


def _requires_python(text: str) -> str | None:
    """The block's requires-python ("" for none) when the script asks for no requirements and the
    full path would print nothing about it; None otherwise."""
    block = warm.block_text(text)
    if block is None:
        return None
    from reprorun.script import leanblock

    if not block:  # no block: no PEP 722 comment, no install lines to tell of
        return None if "pendenc" in text.lower() or leanblock.may_have_install_lines(text) else ""
    if text.count("///") != 2:
        return None  # another block, or a near miss the full path warns about
    from reprorun.script.blocks import scan

    return leanblock.requires_python(scan(block).of_type("script")[0].content)


def _interpreter(root: str, request: str | None) -> dict[str, str] | None:
    """The interpreter selection.select chooses, as the cache describes it: with no request, the
    one running reprorun; with a path, that file."""
    from reprorun.envs import leankey

    if request is None:
        if os.environ.get("REPRORUN_PYTHON"):
            return None
        found = leankey.interpreter(root, sys.executable)
        return found if found is not None and found["executable"] == warm.own_executable() else None
    if not (os.sep in request or os.path.isfile(request)):
        return None  # a version: every installed interpreter must be looked at
    path = os.path.abspath(request)
    return leankey.interpreter(root, path) if os.path.exists(path) else None

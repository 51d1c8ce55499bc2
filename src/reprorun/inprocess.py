"""The one-interpreter launch: turn this very process into the env's interpreter running the script."""

# Exec costs a second interpreter start-up, about as much as the script's own. When the env's
# interpreter is the very binary already running reprorun, and nothing but the standard library
# is loaded (no import hooks from `.pth` files of reprorun's own environment), reprorun can instead
# set up what `ENV/bin/python SCRIPT ARGS` would have set up (`sys.prefix`, `sys.executable`,
# `sys.path` with the env's site-packages and its `.pth` files, a clean `__main__`, `VIRTUAL_ENV`,
# `PATH`) and run the script here. tests/test_inprocess.py runs probe scripts both ways and
# compares what they observe; `REPRORUN_LAUNCH=exec` turns this off.
#
# The warm start (warm.py) loads this module: only the standard library, and only what is already
# loaded at start-up, may be imported here; no `from __future__`, one-line docstrings (see warm.py).

import os
import sys

from reprorun.cachefiles import activate_here, write_atomic

_DEFAULT_FLAGS = {
    "debug": 0, "inspect": 0, "interactive": 0, "optimize": 0, "dont_write_bytecode": None,
    "no_user_site": 0, "no_site": 0, "ignore_environment": 0, "verbose": 0, "bytes_warning": 0,
    "quiet": 0, "isolated": 0, "dev_mode": False, "safe_path": False,
}  # fmt: skip
_DEFAULT_META_PATH = ("BuiltinImporter", "FrozenImporter", "PathFinder")
# Import hooks that a `.pth` file of reprorun's own environment installs at every start, and that
# can be taken out again without a trace: module -> its meta-path finder's class. setuptools'
# `distutils-precedence.pth` (in every `python -m venv` + `pip install` of Python < 3.12) imports
# `_distutils_hack`, whose finder only answers for `distutils`, `pip` and `setuptools`; none of
# them is imported on the warm path, so removing the finder and the module leaves the process as
# a start without that `.pth` would have (the env's own `.pth` files are processed afterwards,
# as its interpreter would, so an env with setuptools gets its own hook back).
_REMOVABLE_HOOKS = {"_distutils_hack": "DistutilsMetaFinder"}


TYPE_CHECKING = False  # typing's own flag costs an import of typing
if TYPE_CHECKING:
    from types import CodeType


def _trampoline(code: "CodeType", namespace: dict[str, object]) -> None:
    exec(code, namespace)  # noqa: S102


# The frame below the script's <module> looks like the one Python reports when a stack walk runs
# off the top ("sys", line 1), so `warnings.warn(..., stacklevel=2)` at module level still says
# `sys:1:` as it does under exec. It is made from a function's code rather than with compile():
# the first compile() of a process builds every `ast` node type (PyAST_Check), about a third of
# what an in-process start cost beyond a bare one (docs/performance.md).
if sys.version_info >= (3, 11):
    _TRAMPOLINE = _trampoline.__code__.replace(co_filename="sys", co_name="<module>", co_qualname="<module>",
                                               co_firstlineno=0)  # its `exec` line is then line 1  # fmt: skip
else:  # pragma: no cover - the suite runs on 3.11; tests/test_inprocess.py's 3.10 launcher runs this
    _TRAMPOLINE = _trampoline.__code__.replace(co_filename="sys", co_name="<module>", co_firstlineno=0)
_FUNCTION = type(_trampoline)  # types.FunctionType, without importing `types`


def possible(env_python: str, *, same_executable: bool = False) -> bool:
    """Whether running the script in this process is observably the same as exec'ing it.

    `same_executable`: the caller has checked that `env_python` is this very interpreter.
    """
    if os.environ.get("REPRORUN_LAUNCH", "auto") == "exec" or os.name != "posix":
        return False
    if not same_executable and os.path.realpath(env_python) != os.path.realpath(sys.executable):
        return False
    flags = sys.flags
    for name, value in _DEFAULT_FLAGS.items():
        if value is not None and getattr(flags, name, value) != value:
            return False
    if sys._xoptions or sys.warnoptions:
        return False
    meta_path = [f for f in sys.meta_path if not _removable(f)]
    if tuple(getattr(f, "__name__", type(f).__name__) for f in meta_path) != _DEFAULT_META_PATH:
        return False  # an import hook, e.g. from a `.pth` file or an editable install
    if "distutils" in sys.modules:
        return False  # loaded through a hook, or not: either way not what a fresh start has
    # Top-level names as a set, compared in C: a loop over every loaded module costs twice as much.
    loaded = {name.partition(".")[0] for name in list(sys.modules) if name not in _REMOVABLE_HOOKS}
    return not loaded.difference(sys.stdlib_module_names, ("__main__", "reprorun"))


def _removable(finder: object) -> bool:
    kind = type(finder)
    return _REMOVABLE_HOOKS.get(kind.__module__) == kind.__name__


def _remove_hooks() -> None:
    """Take out the hooks `possible` tolerated: the finders first, then their modules."""
    sys.meta_path[:] = [f for f in sys.meta_path if not _removable(f)]
    for name in _REMOVABLE_HOOKS:
        sys.modules.pop(name, None)


def run(env: str, env_python: str, script: str, args: list[str], source: bytes | None = None,
        code_cache: tuple[str, bytes] | None = None) -> None:  # fmt: skip
    """Become `env_python script *args` and run the script; never returns (exits like Python)."""
    # `source` is the script's bytes when the caller has read them already. `code_cache` is (file,
    # header): the script's code, marshalled after `header` (which must name the Python, the
    # script's path and these very bytes), is read from that file, else compiled. The full path
    # writes that file (launch/remember.py); a start writes it only when there is none for the
    # script, so that, once a script has run, a start's one write is its use record.
    if source is None:
        source = _read(script)
    _activate(env, env_python, script, args)
    import builtins

    # importlib.machinery's class, from the frozen module Python itself names __main__'s loader
    # with: importing `importlib.machinery` would also load `importlib` and `warnings`, which a
    # script run by `python` does not find in sys.modules.
    from _frozen_importlib_external import SourceFileLoader

    path = os.path.abspath(script)  # Python makes __main__.__file__ and tracebacks absolute
    main = type(sys)("__main__")
    main.__file__ = path
    main.__builtins__ = builtins  # type: ignore[attr-defined]
    main.__cached__ = None  # type: ignore[attr-defined]
    main.__spec__ = None
    main.__package__ = None
    main.__loader__ = SourceFileLoader("__main__", path)
    if sys.version_info < (3, 14):  # the interpreter's own __main__ has it until 3.14
        main.__annotations__ = {}
    sys.modules["__main__"] = main
    for name in [n for n in sys.modules if n == "reprorun" or n.startswith("reprorun.")]:
        del sys.modules[name]
    try:
        code = _code(source, path, code_cache)
        _FUNCTION(_TRAMPOLINE, {"__name__": "sys", "__builtins__": builtins})(code, main.__dict__)  # type: ignore[misc]
    except SystemExit:
        raise
    except BaseException as exc:  # noqa: BLE001 - every uncaught exception ends as Python ends it
        _uncaught(exc)
    raise SystemExit(0)


def _code(source: bytes, path: str, cache: tuple[str, bytes] | None) -> "CodeType":
    # The script's code object: from the cache file when its header matches, else compiled: the
    # same bytes as `python SCRIPT` compiles (same source, file name, flags), without the builtin
    # compile()'s one-off cost of building the `ast` node types (see `_TRAMPOLINE`).
    import marshal

    missing = False
    if cache is not None:
        file, header = cache
        try:
            with open(file, "rb") as handle:
                data = handle.read()
            if data.startswith(header):
                # reprorun's own cache, trusted as the env it runs: the header holds a 128-bit hash
                # of the very bytes being run, so a stale or foreign file is never loaded.
                code = marshal.loads(data[len(header) :])  # noqa: S302
                if isinstance(code, type(_TRAMPOLINE)):
                    return code
        except FileNotFoundError:
            missing = True
        except (OSError, ValueError, EOFError, TypeError):
            pass
    code = compile(source, path, "exec", dont_inherit=True)
    if cache is not None and missing:  # the first start of a script the full path never ran (its
        try:  # noqa: SIM105 - folder's block shared an index entry); else only the full path writes
            write_atomic(cache[0], cache[1] + marshal.dumps(code), durable=False)
        except OSError:
            pass  # only the next start's speed depends on it
    return code


def _read(script: str) -> bytes:
    with open(script, "rb") as handle:
        return handle.read()


def _activate(env: str, env_python: str, script: str, args: list[str]) -> None:
    _remove_hooks()
    activate_here(env)
    import site

    base = (sys.base_prefix, sys.base_exec_prefix)
    stdlib = [p for p in sys.path if p.startswith(base) and "-packages" not in p]
    if getattr(sys, "_base_executable", None) == sys.executable:
        # Before 3.11 a venv's interpreter reports itself here (3.11 names the base one): as
        # the env's interpreter would, name the env's.
        sys._base_executable = env_python  # type: ignore[attr-defined]
    sys.executable = env_python
    sys.prefix = sys.exec_prefix = env
    sys.argv = [script, *args]
    sys.orig_argv = [env_python, script, *args]
    sys.path[:] = [os.path.dirname(os.path.realpath(script)), *stdlib]
    sys.path_importer_cache.clear()
    site.PREFIXES = [env, env]
    site.ENABLE_USER_SITE = False  # a venv without system site-packages, as pyvenv.cfg says
    for folder in site.getsitepackages():
        if os.path.isdir(folder):
            site.addsitedir(folder)  # its `.pth` files too
    sysconfig = sys.modules.get("sysconfig")
    if sysconfig is not None:  # its cached paths were computed for the old prefix
        sysconfig._CONFIG_VARS = None  # type: ignore[attr-defined]
        if hasattr(sysconfig, "_CONFIG_VARS_INITIALIZED"):
            sysconfig._CONFIG_VARS_INITIALIZED = False  # type: ignore[attr-defined]


def _uncaught(exc: BaseException) -> None:
    # Report an uncaught exception as Python's top level would, without reprorun's frames.
    tb = exc.__traceback__
    for _ in range(2):  # drop this module's `run` frame and the trampoline's
        tb = tb.tb_next if tb is not None else None
    exc = exc.with_traceback(tb)
    sys.last_type, sys.last_value, sys.last_traceback = type(exc), exc, tb
    if sys.version_info >= (3, 12):
        sys.last_exc = exc
    sys.excepthook(type(exc), exc, tb)
    if isinstance(exc, KeyboardInterrupt):
        # Python exits with SIGINT after finalizing, so the shell sees "killed by Ctrl-C".
        import atexit
        import signal

        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            try:  # noqa: SIM105 - contextlib is not loaded at start-up; this path stays import-free
                stream.flush()
            except (OSError, ValueError):
                pass
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    raise SystemExit(1)

"""The command line: split argv into reprorun's options, a script or a subcommand, and dispatch.

`reprorun [OPTIONS] SCRIPT [ARGS...]` runs a script; everything after SCRIPT is the script's.
`reprorun [OPTIONS] COMMAND ...` runs a management command. A first positional argument that
names an existing file, contains a path separator, ends in `.py`/`.ipynb`, or is `-`, is always
a script, so `./env` runs a script even though `env` is a command (DESIGN §2).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from reprorun import __version__
from reprorun.commandline.argv import bare_record, split_argv
from reprorun.commandline.globalopts import add_global_options, options_from
from reprorun.commandline.logs import configure_logging
from reprorun.errors import InternalError, ReprorunError, UsageError
from reprorun.records.command import add_options

log = logging.getLogger("reprorun")

# name -> module in reprorun.commands; imported only when the command is used.
COMMANDS: dict[str, str] = {
    "meta": "meta",
    "cells": "cells",
    "sync": "sync",
    "env": "env",
    "check": "check",
    "init": "edit",
    "add": "edit",
    "remove": "edit",
    "cache": "cache",
    "export": "export",
    "bundle": "bundle",
    "submit": "submit",
    "runs": "runs",
    "rerun": "rerun",
    "kernel": "kernel",
    "doctor": "doctor",
    "completions": "completions",
}

DESCRIPTION = """\
Run a Python script in a cached environment built from its PEP 723 `# /// script` block.

  reprorun [OPTIONS] SCRIPT [ARGS...]     run SCRIPT (a path, or - for stdin) with ARGS
  reprorun --freeze SCRIPT                write exact pins back into the block
  reprorun [OPTIONS] COMMAND [...]        a management command (reprorun COMMAND --help)
"""


def version_line() -> str:
    """`reprorun X.Y.Z (Python 3.11.7, /path/to/python)`: what `--version` prints."""
    python = ".".join(map(str, sys.version_info[:3]))
    return f"reprorun {__version__} (Python {python}, {sys.executable})"


def global_parser(add_help: bool = True) -> argparse.ArgumentParser:
    """The parser of reprorun's own options (those before SCRIPT or COMMAND)."""
    parser = argparse.ArgumentParser(
        prog="reprorun",
        usage="reprorun [OPTIONS] SCRIPT [ARGS...] | reprorun [OPTIONS] COMMAND ...",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        add_help=add_help,
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=version_line())
    add_global_options(parser)
    run = parser.add_argument_group("running")
    run.add_argument("--freeze", action="store_true", help="resolve and write exact pins into the block; do not run")
    run.add_argument("--upgrade", action="store_true", help="with --freeze: re-resolve from 'requested'")
    run.add_argument("--upgrade-package", action="append", default=[], metavar="NAME",
                     help="with --freeze: move just this package (repeatable)")
    run.add_argument("--for", dest="targets", action="append", default=[], metavar="TARGET",
                     help="with --freeze: pin for this platform too, e.g. linux-x86_64, cp311-macos-arm64 (repeatable)")
    run.add_argument("--bundle", metavar="DIR|FILE.tar.gz",
                     help="build the environment from a bundle alone (reprorun bundle): no index, no network")
    run.add_argument("--hashes", action="store_true", help="with --freeze: record sha256 hashes")
    run.add_argument("--exclude-newer", metavar="DATE",
                     help="with --freeze: resolve only with files uploaded before DATE")
    run.add_argument("--dry-run", action="store_true", help="with --freeze: print the new block, write nothing")
    run.add_argument("--check", action="store_true",
                     help="with --freeze: exit 1 if the block is not frozen and current")
    run.add_argument("--cells", metavar="SPEC",
                     help="run only these cells of a '# %%%%' script or notebook (3, 2:4, :5, \"Title\", a,b)")
    run.add_argument("--infer", action="store_true",
                     help="for a notebook without a block: infer one from imports and %%pip lines")
    add_options(parser)
    notebook = parser.add_argument_group("executed notebooks (a real Jupyter kernel in the script's env)")
    notebook.add_argument("--output", metavar="OUT.ipynb",
                          help="execute the notebook or cell script with a kernel and save it with its outputs")
    notebook.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                          help="with --output: a parameter (a Python literal, else a string; repeatable)")
    notebook.add_argument("--params", metavar="FILE", help="with --output: parameters from a JSON or YAML file")
    notebook.add_argument("--each", metavar="FILE",
                          help="with --output: run once per row of a CSV or JSON-lines file ({column} in --output)")
    notebook.add_argument("-j", "--jobs", type=int, default=1, metavar="N", help="with --each: N runs at a time")
    notebook.add_argument("--timeout", type=float, metavar="SECONDS", help="with --output: limit of each cell")
    notebook.add_argument("--cwd", metavar="DIR",
                          help="with --output: the kernel's working directory (default: the notebook's folder)")
    parser.epilog = "commands: " + ", ".join(available_commands()) + "  (reprorun COMMAND --help)"
    return parser


def available_commands() -> list[str]:
    """The command names whose module is installed, in table order (`--help` lists only these)."""
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "commands")
    return [name for name, module in COMMANDS.items() if os.path.isfile(os.path.join(folder, module + ".py"))]


# Options of `--freeze` alone: without it they would be silently ignored, and the script run.
FREEZE_ONLY = {"upgrade": "--upgrade", "upgrade_package": "--upgrade-package", "hashes": "--hashes",
               "exclude_newer": "--exclude-newer", "dry_run": "--dry-run", "check": "--check",
               "targets": "--for"}  # fmt: skip


def is_script(word: str) -> bool:
    """The dispatch rule of DESIGN §2: is this first positional a script rather than a command?"""
    return (
        word == "-"
        or os.sep in word
        or (os.altsep is not None and os.altsep in word)
        or word.endswith((".py", ".ipynb"))
        or os.path.isfile(word)
        or word not in COMMANDS
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (the script's own, when one is run)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = global_parser()  # built once: a cold run's own work is mostly its start (docs/performance.md)
    before, word, after = split_argv(argv, parser)
    # The script's own -v is not ours; every option of a command is.
    own = before + after if word is not None and not is_script(word) else before
    verbosity = sum(1 for arg in own if arg == "--verbose" or (arg[:2] == "-v" and set(arg[1:]) == {"v"}))
    try:
        return _dispatch(argv, parser)
    except ReprorunError as exc:
        if isinstance(exc, InternalError) and verbosity:
            raise
        sys.stderr.write(exc.render())
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 1
    except Exception as exc:  # a bug: say so, briefly unless -v
        if verbosity:
            raise
        from reprorun.envs.failures import is_cache_failure

        if isinstance(exc, OSError) and is_cache_failure(exc):  # a full or read-only disk, not a bug
            import errno

            where = f"{exc.filename}: " if exc.filename else ""
            denied = exc.errno in (errno.EACCES, errno.EPERM)  # maybe a read
            sys.stderr.write(f"reprorun: error: {'cannot access' if denied else 'cannot write'} {where}{exc.strerror}\n"
                             f"hint: {'check its permissions' if denied else 'free space there'}, "
                             "or use a writable cache (--cache-dir DIR)\n")  # fmt: skip
            return 1
        kind, value = sys.exc_info()[:2]
        print(f"reprorun: internal error: {kind.__name__ if kind else '?'}: {value}", file=sys.stderr)
        print("hint: this is a bug in reprorun; rerun with -v for the traceback and report it", file=sys.stderr)
        return 1


def _dispatch(argv: list[str], parser: argparse.ArgumentParser) -> int:
    before, word, after = split_argv(argv, parser)
    if word is not None and not is_script(word):
        return _run_command(word, before, after)
    ns = parser.parse_args(before)
    configure_logging(ns.verbose - ns.quiet)  # before the config file is read: its warnings are ours too
    options = options_from(ns)
    if word is None:
        parser.print_usage(sys.stderr)
        raise UsageError("no script given", hint="reprorun SCRIPT [ARGS...], or reprorun --help")
    if not ns.freeze:
        given = [flag for name, flag in FREEZE_ONLY.items() if getattr(ns, name, None)]
        if given:
            raise UsageError(f"{', '.join(given)} only go{'es' if len(given) == 1 else ''} with --freeze",
                             hint=f"reprorun --freeze {' '.join(given)} {word}")  # fmt: skip
    executed = ns.output or ns.each or ns.parameter or ns.params or ns.timeout or ns.cwd or ns.jobs != 1  # by a kernel
    name = "freeze" if ns.freeze else "execute" if executed else "run"
    module = _command_module(name)
    if name != "run":
        _collect_garbage()  # a freeze or a notebook's kernel may run long
    result = module.run_script(word, after, ns, options)
    if isinstance(result, int):
        return result
    from reprorun.launch.execute import execute

    if result.supervisor is not None:
        _collect_garbage()  # a recorded run's parent stays for the script's life; an exec needs none
    return execute(result)


def command_parser(name: str) -> argparse.ArgumentParser:
    """The full parser of one command: its own arguments and the global options."""
    module = _command_module(COMMANDS[name])
    parser = argparse.ArgumentParser(prog=f"reprorun {name}", description=module.describe(name), allow_abbrev=False)
    add_global_options(parser)
    module.configure(name, parser)
    return parser


def parsers() -> dict[str, argparse.ArgumentParser]:
    """Every parser of the command line: "" for `reprorun [OPTIONS] SCRIPT`, then one per command.

    Commands that describe the command line itself (completions, doctor) get this as
    `ns.parsers`: only the CLI knows its own options, and commands do not import it.
    """
    return {"": global_parser(), **{name: command_parser(name) for name in available_commands()}}


def _run_command(name: str, before: list[str], after: list[str]) -> int:
    module = _command_module(COMMANDS[name])
    parser = command_parser(name)
    ns = parser.parse_args([*before, *bare_record(after, parser)])
    if getattr(module, "NEEDS_PARSERS", False):
        ns.parsers = parsers
    configure_logging(ns.verbose - ns.quiet)  # before the config file is read: its warnings are ours too
    options = options_from(ns)
    _collect_garbage()
    return module.run(name, ns, options)  # type: ignore[no-any-return]


def _collect_garbage() -> None:
    """Turn the cyclic garbage collector back on, before work that may run long.

    `reprorun.__main__` turns it off before importing the command line: until a command's own work
    starts, the collector only walks the objects that imports make (tens of thousands, none of them
    garbage), 13 of the 340 million instructions of a cold run's own process (valgrind). A run's
    build stays without it: its process ends in exec (turning it on would first walk them all).
    main() called in-process (tests) finds it on, and leaves it on.
    """
    gc.enable()


def _command_module(name: str) -> ModuleType:
    try:
        return importlib.import_module(f"reprorun.commands.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"reprorun.commands.{name}":
            raise UsageError(f"'{name}' is not available in this version of reprorun") from None
        raise

"""`reprorun sync SCRIPT...`: build each script's environment, its modules compiled, without running it."""

from __future__ import annotations

import argparse
import sys

from reprorun.commands import prepare
from reprorun.errors import ReprorunError
from reprorun.launch import remember
from reprorun.options import Options


def describe(name: str) -> str:
    """One line for `--help`."""
    return "Build the environments of scripts without running them and print each path (e.g. on a login node)."


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    """Arguments of `sync`."""
    parser.add_argument("scripts", nargs="+", metavar="SCRIPT", help="the scripts")


def run(name: str, ns: argparse.Namespace, options: Options) -> int:
    """Prepare every script; go on after a failure, and exit with the worst status."""
    from reprorun.envs.installers.pip import compile_once

    status = 0
    for path in ns.scripts:
        try:
            found = prepare(path, options)
        except ReprorunError as exc:  # tell it as the CLI would, and go on with the next script
            sys.stderr.write(exc.render())
            status = max(status, exc.exit_code)
            continue
        script, spec, env, cache = found.script, found.spec, found.env, found.cache
        cache.touch(env.path.name)
        cache.remember_script(env.path.name, path)
        compile_once(env.path)  # prepared whole: jobs and readers of the cache then compile nothing
        if not script.is_stdin and remember.eligible(ns):
            remember.record(cache.path, script.text, path, options.python, env.key, spec.interpreter.executable)
        sys.stdout.write(f"{env.path}\n")
        sys.stdout.flush()
    return status

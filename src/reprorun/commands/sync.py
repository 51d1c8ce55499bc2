"""`reprorun sync SCRIPT...`: build each script's environment without running it; print its path."""

from __future__ import annotations

import argparse
import logging
import sys

from reprorun.commands.run import prepare
from reprorun.errors import ReprorunError
from reprorun.launch import warm
from reprorun.options import Options

log = logging.getLogger("reprorun")


def describe(name: str) -> str:
    """One line for `--help`."""
    return "Build the environments of scripts without running them and print each path (e.g. on a login node)."


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    """Arguments of `sync`."""
    parser.add_argument("scripts", nargs="+", metavar="SCRIPT", help="the scripts")


def run(name: str, ns: argparse.Namespace, options: Options) -> int:
    """Prepare every script; go on after a failure, and exit with the worst status."""
    status = 0
    for path in ns.scripts:
        try:
            script, _meta, spec, env, cache = prepare(path, options)
        except ReprorunError as exc:
            log.error("%s: %s", path, exc.message)
            if exc.hint:
                log.error("hint: %s", exc.hint)
            status = max(status, exc.exit_code)
            continue
        cache.touch(env.path.name)
        cache.remember_script(env.path.name, path)
        if not script.is_stdin and warm.eligible(ns):
            warm.record(cache.path, script.text, path, options.python, env.key, spec.interpreter.executable)
        sys.stdout.write(f"{env.path}\n")
        sys.stdout.flush()
    return status

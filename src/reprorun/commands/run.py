"""`reprorun SCRIPT [ARGS...]`: find or build the script's environment, then become the script."""

from __future__ import annotations

import argparse
import logging
import os

from reprorun import cache as cachemod
from reprorun import envs, launch, locks, warm
from reprorun.commands import load
from reprorun.errors import BuildError
from reprorun.metadata import Metadata
from reprorun.options import Options
from reprorun.source import Source

log = logging.getLogger("reprorun")


def prepare(path: str, options: Options) -> tuple[Source, Metadata, envs.Spec, envs.Env, cachemod.Cache]:
    """Load the script and find or build its environment (shared by run, sync and env)."""
    script, meta = load(path)
    cache = cachemod.Cache(cachemod.root(options))
    script_dir = None if script.is_stdin else os.path.dirname(os.path.abspath(path))
    spec = envs.spec_for(meta, options, cache, script_dir)
    if meta.settings.frozen_for:  # said on the full path only: a warm run prints nothing of its own
        from reprorun.freeze import frozen_for_mismatch

        warning = frozen_for_mismatch(meta.settings.frozen_for, spec.interpreter.tag)
        if warning:
            log.warning("%s", warning)
    env = envs.ensure(cache, spec, options, "<stdin>" if script.is_stdin else path)
    return script, meta, spec, env, cache


def run_script(path: str, args: list[str], ns: argparse.Namespace, options: Options) -> int:
    """Run the script in its environment; returns only where exec is not available."""
    for _attempt in range(3):
        script, _meta, spec, env, cache = prepare(path, options)
        if locks.hold_and_verify(str(cache.path), env.path.name):
            break  # held until the script ends (the descriptor survives exec): prune skips it
    else:
        raise BuildError("the environment was removed three times while starting; is 'cache prune' looping?")
    build = env.path.name
    cache.touch(build)
    cache.remember_script(build, path)
    stdin_copy = None
    if script.is_stdin:
        stdin_copy = launch.keep_stdin_source(cache.path / "stdin", script.data)
    elif warm.eligible(ns):
        warm.record(cache.path, script.text, path, options.python, env.key, spec.interpreter.executable)
    argv = launch.script_argv(env.path, path, args, stdin_copy)
    return launch.execute(argv, launch.environment(env.path))


"""`reprorun SCRIPT [ARGS...]`: find or build the script's environment, then become the script."""

from __future__ import annotations

import argparse
import os

from reprorun import cache as cachemod
from reprorun import envs, launch, warm
from reprorun.commands import load
from reprorun.metadata import Metadata
from reprorun.options import Options
from reprorun.source import Source


def prepare(path: str, options: Options) -> tuple[Source, Metadata, envs.Spec, envs.Env, cachemod.Cache]:
    """Load the script and find or build its environment (shared by run, sync and env)."""
    script, meta = load(path)
    cache = cachemod.Cache(cachemod.root(options))
    script_dir = None if script.is_stdin else os.path.dirname(os.path.abspath(path))
    spec = envs.spec_for(meta, options, cache, script_dir)
    env = envs.ensure(cache, spec, options, "<stdin>" if script.is_stdin else path)
    return script, meta, spec, env, cache


def run_script(path: str, args: list[str], ns: argparse.Namespace, options: Options) -> int:
    """Run the script in its environment; returns only where exec is not available."""
    script, _meta, spec, env, cache = prepare(path, options)
    build = env.path.name
    cache.touch(build)
    cache.remember_script(build, path)
    stdin_copy = None
    if script.is_stdin:
        stdin_copy = launch.keep_stdin_source(cache.path / "stdin", script.data)
    elif warm.eligible(options):
        warm.record(cache.path, script.text, path, options.python, env.key, spec.interpreter.executable)
    argv = launch.script_argv(env.path, path, args, stdin_copy)
    return launch.execute(argv, launch.environment(env.path))


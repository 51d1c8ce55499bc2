"""`reprorun SCRIPT [ARGS...]`: find or build the script's environment, then become the script."""

from __future__ import annotations

import argparse
import logging
import os

from reprorun.commands import infer_from, load
from reprorun.envs import build as envs
from reprorun.envs import cache as cache_module
from reprorun.envs import locks
from reprorun.errors import BuildError, UsageError
from reprorun.launch import execute as launch
from reprorun.launch import warm
from reprorun.options import Options
from reprorun.records.command import folder_for
from reprorun.script.metadata import Metadata
from reprorun.script.source import Source

log = logging.getLogger("reprorun")


def prepare(
    path: str, options: Options, infer: bool = False
) -> tuple[Source, Metadata, envs.Spec, envs.Env, cache_module.Cache]:
    """Load the script and find or build its environment (shared by run, sync and env)."""
    script, meta = load(path)
    if infer and meta.source == "none" and path.endswith(".ipynb"):
        meta = _inferred(script, meta)
    cache = cache_module.Cache(cache_module.root(options))
    script_dir = None if script.is_stdin else os.path.dirname(os.path.abspath(path))
    spec = envs.spec_for(meta, options, cache, script_dir)
    if meta.settings.frozen_for:  # said on the full path only: a warm run prints nothing of its own
        from reprorun.freeze import frozen_for_mismatch

        warning = frozen_for_mismatch(meta.settings.frozen_for, spec.interpreter.tag)
        if warning:
            log.warning("%s", warning)
    label = "<stdin>" if script.is_stdin else path
    if os.environ.get("SLURM_JOB_ID") and not options.offline:  # `sbatch script.py` with the shebang
        from reprorun.cluster.jobs import ensure_in_job

        return script, meta, spec, ensure_in_job(cache, spec, options, label), cache
    env = envs.ensure(cache, spec, options, label)
    return script, meta, spec, env, cache


def run_script(path: str, args: list[str], ns: argparse.Namespace, options: Options) -> int:
    """Run the script in its environment; returns only where exec is not available."""
    for _attempt in range(3):
        script, meta, spec, env, cache = prepare(path, options, infer=ns.infer)
        if locks.hold_and_verify(str(cache.path), env.path.name):
            break  # held until the script ends (the descriptor survives exec): prune skips it
    else:
        raise BuildError("the environment was removed three times while starting; is 'cache prune' looping?")
    build = env.path.name
    cache.touch(build)
    cache.remember_script(build, path)
    record = folder_for(ns, meta, path)
    stdin_copy = None
    if script.is_stdin:
        stdin_copy = launch.keep_stdin_source(cache.path / "stdin", script.data)
    elif warm.eligible(ns) and record is None and not path.endswith(".ipynb"):
        warm.record(cache.path, script.text, path, options.python, env.key, spec.interpreter.executable)
    if path.endswith(".ipynb"):
        argv = _notebook_argv(env, script, path, args, ns.cells)
    elif ns.cells:
        argv = _cells_argv(env, script, path, args, ns.cells)
    else:
        argv = launch.script_argv(env.path, path, args, stdin_copy)
    variables = launch.environment(env.path)
    if record is not None:  # a thin parent instead of exec (docs/records.md); an unrecorded run pays nothing
        from reprorun.records import command, supervise

        block = command.block_of(script, meta)
        outcome = command.run_recorded(record, script, block, spec, env, argv, variables, args, ns.outputs,
                                       ns.record_output)  # fmt: skip
        if outcome is not None:
            return supervise.die_like(outcome[0])
    return launch.execute(argv, variables)


RUNNER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "launch", "_runner.py")


def _cells_argv(env: envs.Env, script: Source, path: str, args: list[str], spec: str) -> list[str]:
    """Run only the chosen cells of a `# %%` script, with their real line numbers (_runner.py)."""
    from reprorun.script import cells, cellspec

    if script.is_stdin:
        raise UsageError("--cells needs a script file, not standard input")
    found = cells.split(script.text)
    lines = cellspec.format_lines(cellspec.line_ranges(found, cellspec.select(spec, found)))
    return [str(env.python), RUNNER, "cells", "--lines", lines, "--", path, *args]


def _notebook_argv(env: envs.Env, script: Source, path: str, args: list[str], spec: str | None) -> list[str]:
    """Run a notebook's code cells headless (_runner.py), all of them or the chosen ones."""
    from reprorun.script import cellspec, notebooks

    chosen: list[str] = []
    if spec:
        numbers = cellspec.select(spec, notebooks.cells_of_notebook(script.text, path))
        chosen = ["--cells", ",".join(str(n) for n in numbers)]
    return [str(env.python), RUNNER, "notebook", *chosen, "--", path, *args]


def _inferred(script: Source, meta: Metadata) -> Metadata:
    """A notebook without a block, with requirements inferred from its imports and %pip lines."""
    import dataclasses

    found = infer_from(script.text, script.path, notebook=script.text)
    log.info("%s: inferred %s", script.path, ", ".join(found.requirements) or "no requirements")
    return dataclasses.replace(meta, dependencies=tuple(found.requirements))

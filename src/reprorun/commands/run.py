"""`reprorun SCRIPT [ARGS...]`: find or build the script's environment, then plan the launch.

The recipe: load the script, choose the interpreter and compute the key (build.spec_for), find or
build the env (build.ensure), hold it for the script's life, and return the launch plan that the
CLI executes (exec, so the script becomes this process).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
from typing import TYPE_CHECKING

from reprorun.commands import Prepared, infer_from, load, prepare
from reprorun.envs import build, locks
from reprorun.errors import BuildError, UsageError
from reprorun.launch import execute, remember
from reprorun.options import Options
from reprorun.records.command import folder_for
from reprorun.script.metadata import Metadata
from reprorun.script.source import Source

if TYPE_CHECKING:
    from reprorun.portable.unbundle import Bundle

log = logging.getLogger("reprorun")


def run_script(path: str, args: list[str], ns: argparse.Namespace, options: Options) -> execute.Plan:
    """Find or build the env and return how to run the script in it."""
    bundle = None
    if getattr(ns, "bundle", None):
        from reprorun.envs.cache import root
        from reprorun.portable.unbundle import for_run

        bundle, path, options = for_run(ns.bundle, path, options, root(options) / "bundles")
    found, told = _held(path, options, infer=ns.infer, bundle=bundle)
    script, env, cache = found.script, found.env, found.cache
    build_name = env.path.name
    cache.touch(build_name)
    cache.remember_script(build_name, path)
    record = folder_for(ns, found.meta, path)
    if record is None and (ns.outputs or ns.record_output):
        raise UsageError("--outputs and --record-output belong to a recorded run", hint="add --record [DIR]")
    stdin_copy = None
    if script.is_stdin:
        stdin_copy = execute.keep_stdin_source(cache.stdin, script.data)
    elif remember.eligible(ns) and not path.endswith(".ipynb") and not told:
        # Recorded runs start warm too (records/fast.py); a script whose install lines call for a
        # block takes this path each time, to say so.
        remember.record(cache.path, script.text, path, options.python, env.key, found.spec.interpreter.executable)
    if path.endswith(".ipynb"):
        argv = _notebook_argv(env, script, path, args, ns.cells)
    elif ns.cells:
        argv = _cells_argv(env, script, path, args, ns.cells)
    else:
        argv = execute.script_argv(env.path, path, args, stdin_copy)
    launch = execute.plan(env.path, argv, path)
    if record is not None:  # a thin parent instead of exec (docs/records.md); an unrecorded run pays nothing
        from reprorun.records import command

        supervisor = command.supervisor(record, script, found.meta, found.spec, env, args, ns.outputs,
                                        ns.record_output)  # fmt: skip
        launch = dataclasses.replace(launch, supervisor=supervisor)
    return launch


def _held(path: str, options: Options, infer: bool, bundle: Bundle | None = None) -> tuple[Prepared, bool]:
    """The prepared env, held for this process's life (the lock's descriptor survives exec).

    A build of this process holds its env from before publication; a found env is held, then
    checked again: a pruner may have removed it in between (then it is looked up again). The flag
    says whether the user was told of install lines in a script without a block.
    """
    script, meta = load(path)
    told = False
    if infer and meta.source == "none" and path.endswith(".ipynb"):
        meta = _inferred(script, meta)
    elif meta.source == "none" and not script.is_stdin:
        from reprorun.script.installlines import tell_install_lines  # its tables are for scripts without a block

        told = tell_install_lines(script.text, path)  # before the env is built and the first import fails
    for _attempt in range(3):
        found = prepare(path, options, meta, script, bundle)
        if found.env.built or locks.hold_and_verify(str(found.cache.path), found.env.path.name):
            return found, told
    raise BuildError("the environment was removed three times while starting; is 'cache prune' looping?")


RUNNER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "launch", "_runner.py")


def _cells_argv(env: build.Env, script: Source, path: str, args: list[str], spec: str) -> list[str]:
    """Run only the chosen cells of a `# %%` script, with their real line numbers (_runner.py)."""
    from reprorun.script import cells, cellspec

    if script.is_stdin:
        raise UsageError("--cells needs a script file, not standard input")
    found = cells.split(script.text)
    lines = cellspec.format_lines(cellspec.line_ranges(found, cellspec.select(spec, found)))
    return [str(env.python), RUNNER, "cells", "--lines", lines, "--", path, *args]


def _notebook_argv(env: build.Env, script: Source, path: str, args: list[str], spec: str | None) -> list[str]:
    """Run a notebook's code cells headless (_runner.py), all of them or the chosen ones."""
    from reprorun.script import cellspec, notebooks

    chosen: list[str] = []
    if spec:
        numbers = cellspec.select(spec, notebooks.cells_of_notebook(script.text, path))
        chosen = ["--cells", ",".join(str(n) for n in numbers)]
    return [str(env.python), RUNNER, "notebook", *chosen, "--", path, *args]


def _inferred(script: Source, meta: Metadata) -> Metadata:
    """A notebook without a block, with requirements inferred from its imports and %pip lines."""
    found = infer_from(script.text, script.path, notebook=script.text)
    log.info("%s: inferred %s", script.path, ", ".join(found.requirements) or "no requirements")
    return dataclasses.replace(meta, dependencies=tuple(found.requirements))

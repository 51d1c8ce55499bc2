"""`reprorun --output OUT.ipynb [-p NAME VALUE] [--each FILE] SCRIPT`: execute with a real kernel.

Part of the run command (cli.py routes here when `--output`, `--each` or `-p` is given): the
notebook or cell script runs in a Jupyter kernel of its own environment with the kernel
packages layered on it (reprorun.jupyter.layer), and is saved with every output.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from typing import Any

from reprorun.commands import infer_from, load, prepare
from reprorun.envs import locks
from reprorun.errors import BuildError, UsageError
from reprorun.jupyter import layer, params
from reprorun.jupyter import run as executed
from reprorun.launch import activate
from reprorun.launch import execute as launch
from reprorun.options import Options
from reprorun.script.installlines import tell_install_lines


def request_of(ns: argparse.Namespace) -> executed.Request:
    """The execution request of parsed options; bad values are usage errors."""
    if not ns.output:
        raise UsageError("-p, --params, --each, -j, --timeout and --cwd need --output OUT.ipynb (a kernel executes it)",
                         hint="with --each, put a placeholder in it: --output 'out/{name}.ipynb'")
    if ns.jobs < 1:
        raise UsageError(f"-j {ns.jobs}: the number of runs at a time is at least 1")
    if ns.timeout is not None and ns.timeout <= 0:
        raise UsageError(f"--timeout {ns.timeout:g}: a time limit is a positive number of seconds")
    if ns.cwd is not None and not os.path.isdir(ns.cwd):
        raise UsageError(f"--cwd {ns.cwd}: no such folder")
    if ns.jobs > 1 and not ns.each:
        raise UsageError("-j runs rows of --each in parallel; give --each FILE")
    overrides: dict[str, Any] = {name: params.literal(value) for name, value in ns.parameter}
    values = params.read_file(ns.params) if ns.params else {}
    params.check_names({**values, **overrides})
    cwd = os.path.abspath(ns.cwd) if ns.cwd is not None else None
    return executed.Request(ns.output, values, overrides, ns.each, ns.jobs, ns.timeout, ns.cells, cwd)


def run_script(path: str, args: list[str], ns: argparse.Namespace, options: Options) -> int | launch.Plan:
    """Execute the notebook once (a launch plan the CLI execs), or once per row (an exit status)."""
    if args:
        raise UsageError(f"{path}: a notebook executed by a kernel takes no arguments ({' '.join(args)})",
                         hint="give values as parameters: -p NAME VALUE (options go before the notebook)")  # fmt: skip
    request = request_of(ns)
    made = executed.tasks(request, path)  # bad rows and outputs are told before anything is built
    script, meta = load(path)
    if ns.infer and meta.source == "none" and path.endswith(".ipynb"):
        found = infer_from(script.text, path, notebook=script.text)
        meta = dataclasses.replace(meta, dependencies=tuple(found.requirements))
    elif meta.source == "none" and not script.is_stdin:
        tell_install_lines(script.text, path)
    base_nb = executed.base_notebook(script, path, request.cells)
    for _attempt in range(3):
        found_env = prepare(path, options, meta, script)
        cache, base = found_env.cache, found_env.env
        env = layer.kernel_env(cache, found_env.spec, base, options, path, "execute")
        if locks.hold_and_verify(str(cache.path), base.path.name) and locks.hold_and_verify(
            str(cache.path), env.path.name
        ):
            break  # both held until the kernel ends: prune skips them
    else:
        raise BuildError("the environment was removed three times while starting; is 'cache prune' looping?")
    for build in (base.path.name, env.path.name):
        cache.touch(build)
        cache.remember_script(build, path)
    if request.each is None:
        job = executed.job(base_nb, made[0], path, request.timeout, request.cwd)
        return launch.plan(env.path, executed.argv(env, job), path)
    executed.run_each(env, activate.variables(str(env.path)), made, base_nb, path, request)
    return 0

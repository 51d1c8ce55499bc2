"""Working out a Slurm submission: check the request, find or build the env, render the batch script.

Shared by `reprorun submit` (which then snapshots and submits) and `reprorun export --format
slurm` (which prints the same batch script); nothing here writes a file or calls sbatch.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from reprorun import matrix
from reprorun.cluster import batch as batchmod
from reprorun.cluster import snapshot as snapmod
from reprorun.envs import build as envs
from reprorun.envs import cache as cachemod
from reprorun.envs import keys
from reprorun.errors import UsageError
from reprorun.jupyter import submit as notebooks
from reprorun.notices import warn_all
from reprorun.options import Options
from reprorun.script.loading import load
from reprorun.script.metadata import Metadata

log = logging.getLogger("reprorun")

# Variables that must mean on the compute nodes what they meant here, even under `--export=NONE`.
EXPORTED = ("REPRORUN_CONFIG", "REPRORUN_LOCK", "REPRORUN_LOCK_STALE")
NODE_LOCAL = ("/tmp", "/var/tmp", "/dev/shm", "/run")  # noqa: S108 - paths to warn about, not to use


@dataclass(frozen=True)
class Request:
    """What to submit: the script, its arguments, and how the job is shaped."""

    script: str
    args: tuple[str, ...] = ()
    includes: tuple[str, ...] = ()
    snapshot_dir: str | None = None
    sbatch: tuple[str, ...] = ()
    array: str | None = None
    each: str | None = None
    sources_on_command_line: tuple[str, ...] = ()  # --index-url ... as given, passed on to the tasks
    record: str | None = None  # --record [DIR] ("" for the default folder): every task records its run
    no_record: bool = False
    record_output: bool = False
    outputs: tuple[str, ...] = ()
    notebook: notebooks.NotebookJob | None = None  # --output: each task executes the notebook with a kernel


@dataclass(frozen=True)
class Job:
    """A submission worked out: the env, the snapshot, and the batch script's text."""

    spec: envs.Spec
    env: envs.Env | None  # None for a dry run whose env is not built yet
    cache: cachemod.Cache
    script_text: str
    snapshot: snapmod.Snapshot
    batch: batchmod.Batch
    text: str
    warm: bool  # whether the tasks' command can take the warm path (no package-source options)
    kernel_env: envs.Env | None = None  # --output: the kernel env layered on env, built here

    @property
    def batch_file(self) -> Path:
        """Where the batch script is kept: beside the snapshot, named by its content."""
        return self.snapshot.folder / f"batch-{hashlib.sha256(self.text.encode()).hexdigest()[:12]}.sh"


def plan(request: Request, options: Options, build: bool) -> Job:
    """Check the request, find (or build) the env, and write the batch script's text (nothing on disk)."""
    if request.script == "-":
        raise UsageError("submit needs a script file, not standard input")
    task_args = _task_args(request) if request.notebook is None else _notebook_task_args(request)
    sbatch_options = _array_options(request, None if task_args is None else len(task_args))
    for arg in sbatch_options:
        batchmod.quote(arg)  # a line break in an option: an error now, not a broken batch script
    cache = cachemod.Cache(cachemod.root(options))
    snapshot_root = request.snapshot_dir or str(cache.snapshots)
    for what, path in (("cache", str(cache.path)), ("snapshot folder", snapshot_root)):
        if os.path.abspath(path).startswith(tuple(p + "/" for p in NODE_LOCAL)):
            log.warning("the %s %s is on a node-local path: compute nodes will not see it "
                        "(put it on a shared file system: --cache-dir, --snapshot-dir)", what, path)  # fmt: skip
    problem = None if not build else snapmod.writable(snapshot_root)
    if problem:
        raise UsageError(f"the snapshot folder {snapshot_root} cannot be written: {problem}",
                         hint="choose one on a shared file system you can write: --snapshot-dir DIR")  # fmt: skip
    script, meta = load(request.script)
    directives = batchmod.directives(script.text, request.script)
    warn_all(request.script, list(batchmod.ignored(script.text)), lambda line: f"{request.script}:{line}: this "
             "#SBATCH line comes after the first command; sbatch (and so reprorun) ignores it")
    files = snapmod.collect(request.script, script.data, request.includes)
    snapshot = snapmod.locate(snapshot_root, request.script, files)
    script_dir = os.path.dirname(os.path.abspath(request.script))
    spec = envs.spec_for(meta, options, cache, script_dir)
    env = envs.ensure(cache, spec, options, request.script) if build else None
    kernel_env = None
    if request.notebook is not None and env is not None:  # the tasks are offline: layer the kernel here
        from reprorun.jupyter import layer

        kernel_env = layer.kernel_env(cache, spec, env, options, request.script, "execute")
    key = env.key if env is not None else keys.digest(spec.document())
    # The tasks name the interpreter itself: on a compute node PATH may differ, the choice may not.
    task_options = replace(options, python=spec.interpreter.executable, offline=True, refresh=False)
    task_spec = envs.spec_for(meta, task_options, cache, str(snapshot.script.parent))
    if keys.digest(task_spec.document()) != key:
        raise UsageError(
            f"{request.script}: from the snapshot, the block would ask for another environment than here",
            hint="a relative find-links path in the block? make it absolute, or give it with --find-links",
        )
    command = (*_reprorun_command(), "--offline", "--python", spec.interpreter.executable,
               *request.sources_on_command_line, *_record_options(request, meta))  # fmt: skip
    args = request.args
    if request.notebook is not None:  # reprorun's options, before the snapshot (Batch.options_first)
        copy = params_copy(snapshot, request.notebook.params) if request.notebook.params else None
        command += notebooks.fixed_options(request.notebook, str(copy) if copy else None)
        if task_args is None:
            (args,) = notebooks.task_options(request.notebook, None, request.script)
    batch = batchmod.Batch(
        source=request.script, snapshot=str(snapshot.script), folder=str(snapshot.folder), command=command,
        cache_root=str(cache.path), env_key=key, script_directives=tuple(directives), options=tuple(sbatch_options),
        args=args, task_args=task_args, options_first=request.notebook is not None,
        environment=tuple((name, os.environ[name]) for name in EXPORTED if os.environ.get(name)),
    )  # fmt: skip
    warm = not request.sources_on_command_line and request.notebook is None
    return Job(spec, env, cache, script.text, snapshot, batch, batchmod.render(batch), warm, kernel_env)


def _record_options(request: Request, meta: Metadata) -> tuple[str, ...]:
    """What makes every task record its run (docs/records.md): the folder is resolved here, where
    --record, REPRORUN_RECORD, the block and the config file are read, and given as an absolute path."""
    import argparse

    from reprorun.records.command import folder_for

    asked = argparse.Namespace(record=request.record, no_record=request.no_record)
    folder = folder_for(asked, meta, request.script)
    if folder is None:
        if request.outputs or request.record_output:
            raise UsageError("--outputs and --record-output belong to a recorded run", hint="add --record [DIR]")
        return ()
    return (f"--record={os.path.abspath(folder)}", *(["--record-output"] if request.record_output else []),
            *(f"--outputs={os.path.abspath(path)}" for path in request.outputs))  # fmt: skip


def _array_options(request: Request, rows: int | None) -> list[str]:
    """The sbatch options of the command line: the array (--array, or one task per --each row), --sbatch."""
    if rows is not None and request.array:
        raise UsageError("--each makes the array (one task per row); it cannot be combined with --array")
    array = request.array if rows is None else f"0-{rows - 1}"
    return [*([f"--array={array}"] if array else []), *request.sbatch]


def _task_args(request: Request) -> tuple[tuple[str, ...], ...] | None:
    """Each array task's arguments (--each), every placeholder checked before anything runs."""
    if not request.each:
        return None
    rows = matrix.read_rows(request.each)
    tasks = tuple(tuple(matrix.fill(arg, row, task) for arg in request.args) for task, row in enumerate(rows))
    for task, args in enumerate(tasks):
        if any("\0" in arg for arg in args):
            raise UsageError(f"{request.each}: row {task + 1}: a value holds a NUL character, which no argument can")
    return tasks


def _notebook_task_args(request: Request) -> tuple[tuple[str, ...], ...] | None:
    """Each task's options for an executed notebook (--each), or None for a single task."""
    assert request.notebook is not None
    if not request.each:
        return None
    return notebooks.task_options(request.notebook, request.each, request.script)


def params_copy(snapshot: snapmod.Snapshot, params: str) -> Path:
    """Where the snapshot keeps its copy of --params FILE, named by its content: editing the file
    changes no queued task, and two submissions with different files do not share one."""
    digest = hashlib.sha256(Path(params).read_bytes()).hexdigest()[:12]
    return snapshot.folder / f"params-{digest}{Path(params).suffix.lower() or '.json'}"


def _reprorun_command() -> tuple[str, ...]:
    """How a task starts this very reprorun: the `reprorun` script beside our interpreter, or -m."""
    beside = os.path.join(os.path.dirname(sys.executable), "reprorun")
    if os.path.isfile(beside) and os.access(beside, os.X_OK):
        return (beside,)
    return (sys.executable, "-m", "reprorun")



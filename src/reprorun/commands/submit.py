"""`reprorun submit SCRIPT [ARGS...]`: prepare the env here, snapshot the script, submit it to Slurm.

The recipe (DESIGN §6): check what can be checked before anything is built or written (sbatch
on PATH, the --each file and its placeholders, the sbatch options, the includes); find or build
the environment on this machine; copy the script into a content-addressed snapshot; write a batch
script beside it whose tasks run `reprorun --offline` on the snapshot; submit it with the real
`sbatch`; with --wait, follow the job to its end and name every task that failed.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from reprorun import matrix
from reprorun.cluster import batch as batchmod
from reprorun.cluster import slurm
from reprorun.cluster import snapshot as snapmod
from reprorun.commands import load
from reprorun.envs import build as envs
from reprorun.envs import cache as cachemod
from reprorun.envs import keys
from reprorun.errors import ClusterError, UsageError
from reprorun.options import Options

log = logging.getLogger("reprorun")

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

    @property
    def batch_file(self) -> Path:
        """Where the batch script is kept: beside the snapshot, named by its content."""
        return self.snapshot.folder / f"batch-{hashlib.sha256(self.text.encode()).hexdigest()[:12]}.sh"


def describe(name: str) -> str:
    """One line for `--help`."""
    return ("Prepare the script's environment here, snapshot the script, and submit it to Slurm (tasks run "
            "offline on the snapshot; one task, an --array, or one task per row of --each FILE).")  # fmt: skip


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    """Arguments of `submit`."""
    parser.add_argument("--include", action="append", default=[], metavar="PATH",
                        help="a file or folder the script needs, snapshotted with it (repeatable)")
    parser.add_argument("--snapshot-dir", metavar="DIR",
                        help="where snapshots go, on a file system the compute nodes share (default: CACHE/snapshots)")
    parser.add_argument("--sbatch", action="append", default=[], metavar="ARG",
                        help="an sbatch option, overriding the script's #SBATCH lines (repeatable): "
                             "--sbatch=--time=10 or --sbatch time=10")
    parser.add_argument("--array", metavar="SPEC", help="a job array: sbatch's --array=SPEC (0-31, 1,3,5, 0-9%%2)")
    parser.add_argument("--each", metavar="FILE",
                        help="one array task per row of a CSV (with a header) or JSON-lines file; "
                             "{column} and {task} in ARGS take the row's values")
    parser.add_argument("--wait", action="store_true", help="wait for the job; exit 1 naming the failed tasks")
    parser.add_argument("--dry-run", action="store_true", help="print the batch script; build and submit nothing")
    parser.add_argument("script", metavar="SCRIPT", help="the script")
    parser.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS", help="the script's arguments")  # fmt: skip


def run(name: str, ns: argparse.Namespace, options: Options) -> int:
    """Submit (or, with --dry-run, print) the job; with --wait, report how its tasks ended."""
    request = Request(
        script=ns.script, args=tuple(ns.args), includes=tuple(ns.include), snapshot_dir=ns.snapshot_dir,
        sbatch=tuple(_sbatch_option(arg) for arg in ns.sbatch), array=ns.array, each=ns.each,
        sources_on_command_line=_source_options(ns),
    )  # fmt: skip
    if ns.dry_run:
        sys.stdout.write(plan(request, options, build=False).text)
        return 0
    slurm.sbatch()  # no sbatch: say so before building anything
    job = plan(request, options, build=True)
    assert job.env is not None
    snapmod.create(job.snapshot, python=str(job.env.python))
    if not job.batch_file.exists():
        snapmod.write_file(job.batch_file, job.text)
    _prepare_tasks(job)
    job_id = slurm.submit(str(job.batch_file))
    sys.stdout.write(job_id + "\n")
    sys.stdout.flush()
    count = len(job.batch.task_args) if job.batch.task_args is not None else None
    log.info("submitted job %s%s: batch script %s; logs in %s", job_id,
             f" ({count} tasks)" if count else "", job.batch_file, job.snapshot.folder / "logs")  # fmt: skip
    return _wait(job_id) if ns.wait else 0


def plan(request: Request, options: Options, build: bool) -> Job:
    """Check the request, find (or build) the env, and write the batch script's text (nothing on disk)."""
    if request.script == "-":
        raise UsageError("submit needs a script file, not standard input")
    task_args = _task_args(request)
    sbatch_options = _array_options(request, None if task_args is None else len(task_args))
    for arg in sbatch_options:
        batchmod.quote(arg)  # a line break in an option: an error now, not a broken batch script
    cache = cachemod.Cache(cachemod.root(options))
    snapshot_root = request.snapshot_dir or str(cache.path / "snapshots")
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
    for line in batchmod.ignored(script.text):
        log.warning("%s:%d: this #SBATCH line comes after the first command; sbatch (and so reprorun) ignores it",
                    request.script, line)  # fmt: skip
    files = snapmod.collect(request.script, script.data, request.includes)
    snapshot = snapmod.locate(snapshot_root, request.script, files)
    script_dir = os.path.dirname(os.path.abspath(request.script))
    spec = envs.spec_for(meta, options, cache, script_dir)
    env = envs.ensure(cache, spec, options, request.script) if build else None
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
               *request.sources_on_command_line)  # fmt: skip
    batch = batchmod.Batch(
        source=request.script, snapshot=str(snapshot.script), folder=str(snapshot.folder), command=command,
        cache_root=str(cache.path), env_key=key, script_directives=tuple(directives), options=tuple(sbatch_options),
        args=request.args, task_args=task_args,
    )  # fmt: skip
    warm = not request.sources_on_command_line
    return Job(spec, env, cache, script.text, snapshot, batch, batchmod.render(batch), warm)


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


def _sbatch_option(arg: str) -> str:
    """`--sbatch time=10` means `--time=10`; an argument that starts with '-' is taken as it is."""
    return arg if arg.startswith("-") else f"--{arg}"


def _source_options(ns: argparse.Namespace) -> tuple[str, ...]:
    """The package-source options given on this command line, for the tasks to compute the same key."""
    found: list[str] = []
    if ns.index_url:
        found += ["--index-url", ns.index_url]
    for url in ns.extra_index_url:
        found += ["--extra-index-url", url]
    for link in ns.find_links:
        found += ["--find-links", link if "://" in link else os.path.abspath(link)]
    if ns.no_index:
        found.append("--no-index")
    return tuple(found)


def _reprorun_command() -> tuple[str, ...]:
    """How a task starts this very reprorun: the `reprorun` script beside our interpreter, or -m."""
    beside = os.path.join(os.path.dirname(sys.executable), "reprorun")
    if os.path.isfile(beside) and os.access(beside, os.X_OK):
        return (beside,)
    return (sys.executable, "-m", "reprorun")


def _prepare_tasks(job: Job) -> None:
    """What lets every task start warm: the env marked used, and the warm index entry of the snapshot."""
    from reprorun.envs import locks, prune
    from reprorun.launch import warm

    assert job.env is not None
    build = job.env.path.name
    if not locks.hold_and_verify(str(job.cache.path), build):  # held until submit exits
        raise ClusterError("the environment was removed (cache prune?) while submitting; submit again")
    job.cache.touch(build)
    job.cache.remember_script(build, str(job.snapshot.script))
    prune.reserve(job.cache, build)  # queued tasks hold nothing yet: keep `cache prune` off it
    if job.warm:
        python = job.spec.interpreter.executable
        warm.record(job.cache.path, job.script_text, str(job.snapshot.script), python, job.env.key, python)


def _wait(job_id: str) -> int:
    """Wait for every task; 0 if all succeeded, else 1 after naming each failed task and its logs."""
    log.info("waiting for job %s...", job_id)
    tasks = slurm.wait(job_id)
    failed = [task for task in tasks if not task.succeeded]
    if not failed:
        log.info("job %s: %d task%s succeeded", job_id, len(tasks), "" if len(tasks) == 1 else "s")
        return 0
    for task in failed:
        name = f"task {task.task}" if task.task else "the job"
        how = f"exit code {task.exit_code}" + (f", signal {task.signal}" if task.signal else "")
        stdout = f" (stdout: {task.stdout})" if task.stdout and task.stdout != task.stderr else ""
        sys.stderr.write(f"reprorun: job {job_id}: {name} {task.state} ({how}); log: {task.stderr or '?'}{stdout}\n")
    raise ClusterError(f"job {job_id}: {len(failed)} of {len(tasks)} tasks failed",
                       hint="each task's stderr is in the log named above")  # fmt: skip

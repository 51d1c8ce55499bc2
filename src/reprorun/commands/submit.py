"""`reprorun submit SCRIPT [ARGS...]`: prepare the env here, snapshot the script, submit it to Slurm.

The recipe (DESIGN §6): check what can be checked before anything is built or written (sbatch
on PATH, the --each file and its placeholders, the sbatch options, the includes); find or build
the environment on this machine; copy the script into a content-addressed snapshot; write a batch
script beside it whose tasks run `reprorun --offline` on the snapshot; submit it with the real
`sbatch`; with --wait, follow the job to its end and name every task that failed.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from reprorun.cluster import slurm
from reprorun.cluster import snapshot as snapmod
from reprorun.cluster.submission import Job, Request, params_copy, plan
from reprorun.errors import ClusterError, UsageError
from reprorun.jupyter.submit import NotebookJob
from reprorun.options import Options
from reprorun.records import command

log = logging.getLogger("reprorun")


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
    notebook = parser.add_argument_group("executed notebooks (see reprorun --help)")
    notebook.add_argument("--output", metavar="OUT.ipynb",
                          help="each task executes the notebook with a Jupyter kernel and saves it here "
                               "({column}, {task} with --each)")  # fmt: skip
    notebook.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                          help="with --output: a parameter of every task (repeatable)")  # fmt: skip
    notebook.add_argument("--params", metavar="FILE", help="with --output: parameters from a JSON or YAML file")
    notebook.add_argument("--timeout", type=float, metavar="SECONDS", help="with --output: limit of each cell")
    notebook.add_argument("--cwd", metavar="DIR", help="with --output: the kernel's working directory in each "
                          "task (default: the notebook's folder here, not the snapshot's)")  # fmt: skip
    parser.add_argument("--wait", action="store_true", help="wait for the job; exit 1 naming the failed tasks")
    parser.add_argument("--dry-run", action="store_true", help="print the batch script; build and submit nothing")
    command.add_options(parser)  # --record [DIR], --record-output, --outputs: every task records its run
    parser.add_argument("script", metavar="SCRIPT", help="the script")
    parser.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS", help="the script's arguments")  # fmt: skip


def run(name: str, ns: argparse.Namespace, options: Options) -> int:
    """Submit (or, with --dry-run, print) the job; with --wait, report how its tasks ended."""
    request = Request(
        script=ns.script, args=tuple(ns.args), includes=tuple(ns.include), snapshot_dir=ns.snapshot_dir,
        sbatch=tuple(_sbatch_option(arg) for arg in ns.sbatch), array=ns.array, each=ns.each,
        sources_on_command_line=_source_options(ns), record=ns.record, no_record=ns.no_record,
        record_output=ns.record_output, outputs=tuple(ns.outputs), notebook=_notebook(ns),
    )  # fmt: skip
    if ns.dry_run:
        sys.stdout.write(plan(request, options, build=False).text)
        return 0
    slurm.sbatch()  # no sbatch: say so before building anything
    job = plan(request, options, build=True)
    assert job.env is not None
    try:
        snapmod.create(job.snapshot, python=str(job.env.python))
        if request.notebook is not None and request.notebook.params:
            copy = params_copy(job.snapshot, request.notebook.params)
            if not copy.exists():
                snapmod.write_file(copy, Path(request.notebook.params).read_text("utf-8"))
        if not job.batch_file.exists():
            snapmod.write_file(job.batch_file, job.text)
    except OSError as exc:
        raise ClusterError(f"cannot write the snapshot {job.snapshot.folder}: {exc.strerror or exc}",
                           hint="choose a snapshot folder you can write: --snapshot-dir DIR") from None  # fmt: skip
    _prepare_tasks(job)
    job_id = slurm.submit(str(job.batch_file))
    sys.stdout.write(job_id + "\n")
    sys.stdout.flush()
    count = len(job.batch.task_args) if job.batch.task_args is not None else None
    log.info("submitted job %s%s: batch script %s; logs in %s", job_id,
             f" ({count} tasks)" if count else "", job.batch_file, job.snapshot.folder / "logs")  # fmt: skip
    return _wait(job_id) if ns.wait else 0


def _notebook(ns: argparse.Namespace) -> NotebookJob | None:
    """The executed-notebook options (--output, -p, --params, --timeout), checked; None without --output."""
    if not ns.output:
        if ns.parameter or ns.params or ns.timeout is not None or ns.cwd is not None:
            raise UsageError("-p, --params, --timeout and --cwd need --output OUT.ipynb (a kernel runs the notebook)")
        return None
    if ns.args:
        raise UsageError(f"{ns.script}: a notebook executed by a kernel takes no arguments ({' '.join(ns.args)})",
                         hint="give values as parameters: -p NAME VALUE, or columns of --each FILE")  # fmt: skip
    if ns.timeout is not None and ns.timeout <= 0:
        raise UsageError(f"--timeout {ns.timeout:g}: a time limit is a positive number of seconds")
    cwd = os.path.abspath(ns.cwd if ns.cwd is not None else os.path.dirname(os.path.abspath(ns.script)))
    if not os.path.isdir(cwd):
        raise UsageError(f"--cwd {ns.cwd}: no such folder")
    from reprorun.jupyter import params

    params.check_names({name: None for name, _ in ns.parameter})
    if ns.params:
        params.check_names(params.read_file(ns.params))  # a bad file is told now, not in every task
    return NotebookJob(ns.output, tuple((n, v) for n, v in ns.parameter), ns.params, ns.timeout, cwd)


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


def _prepare_tasks(job: Job) -> None:
    """What lets every task start warm: the env marked used, and the warm index entry of the snapshot."""
    from reprorun.envs import inventory, locks
    from reprorun.envs.installers.pip import compile_once
    from reprorun.launch import remember

    assert job.env is not None
    build = job.env.path.name
    if not locks.hold_and_verify(str(job.cache.path), build):  # held until submit exits
        raise ClusterError("the environment was removed (cache prune?) while submitting; submit again")
    job.cache.touch(build)
    job.cache.remember_script(build, str(job.snapshot.script))
    inventory.reserve(job.cache, build)  # queued tasks hold nothing yet: keep `cache prune` off it
    compile_once(job.env.path)  # else every task compiles its imports, all at once
    if job.kernel_env is not None:  # and the kernel env the executed notebooks run in
        kernel = job.kernel_env.path.name
        if not locks.hold_and_verify(str(job.cache.path), kernel):
            raise ClusterError("the kernel environment was removed (cache prune?) while submitting; submit again")
        job.cache.touch(kernel)
        job.cache.remember_script(kernel, str(job.snapshot.script))
        inventory.reserve(job.cache, kernel)
        compile_once(job.kernel_env.path)
    if job.warm:
        python = job.spec.interpreter.executable
        remember.record(job.cache.path, job.script_text, str(job.snapshot.script), python, job.env.key, python)


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

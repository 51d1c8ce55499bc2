"""What the `run` and `rerun` commands call: where records go, and one recorded run from its parts."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from reprorun.envs.build import Env, Spec
    from reprorun.launch.execute import Plan
    from reprorun.script.metadata import Metadata
    from reprorun.script.source import Source


def add_options(parser: argparse.ArgumentParser) -> None:
    """Options of a recorded run (docs/records.md); `run` and `rerun` take them."""
    group = parser.add_argument_group("run records")
    group.add_argument("--record", nargs="?", const="", default=None, metavar="DIR",
                       help="write a record of the run (an RO-Crate) into DIR (default: the configured folder)")
    group.add_argument("--no-record", action="store_true", help="do not record, whatever the configuration says")
    group.add_argument("--record-output", action="store_true", help="keep the script's stdout and stderr in the record")
    group.add_argument("--outputs", action="append", default=[], metavar="PATH",
                       help="record the files created or changed under PATH (repeatable)")


def default_folder() -> str:
    """Where records go when nothing says: `runs` in the user data dir (not the cache: never pruned)."""
    from platformdirs import user_data_dir

    return os.path.join(user_data_dir("reprorun", appauthor=False), "runs")


def configured_folder() -> str | None:
    """The folder `REPRORUN_RECORD` or the config file's `record` names, if any."""
    named = os.environ.get("REPRORUN_RECORD", "").strip()
    if named:
        return named
    from reprorun.config import load

    return load().record


def folder_for(ns: argparse.Namespace, meta: Metadata | None, script_path: str) -> str | None:
    """The folder this run is recorded in, or None: --record, REPRORUN_RECORD, the block, the config."""
    if getattr(ns, "no_record", False):
        return None
    if getattr(ns, "record", None) is not None:
        return os.path.abspath(os.path.expanduser(ns.record)) if ns.record else configured_folder() or default_folder()
    named = os.environ.get("REPRORUN_RECORD", "").strip()
    if named:
        return os.path.abspath(os.path.expanduser(named))
    if meta is not None and meta.settings.record:
        base = os.getcwd() if script_path == "-" else os.path.dirname(os.path.abspath(script_path))
        return os.path.join(base, os.path.expanduser(meta.settings.record))
    from reprorun.config import load

    return load().record


def block_of(script: Source, meta: Metadata) -> str | None:
    """The raw `script` block of a script, as written (None without one)."""
    return None if meta.block is None else script.text[meta.block.start : meta.block.end]


def run_recorded(
    folder: str,
    script: Source,
    block: str | None,
    spec: Spec,
    env: Env,
    argv: list[str],
    variables: dict[str, str],
    args: list[str],
    outputs: list[str],
    capture: bool,
    based_on: dict[str, str] | None = None,
) -> tuple[int, Path | None] | None:
    """Run the script as a recorded child: its status (-N: signal N) and the record written (None if
    it could not be); None when no record can even be started (then the caller exec's)."""
    if os.name != "posix":  # pragma: no cover - the supervisor needs POSIX signals
        return None
    from reprorun.records.recorder import Request, open_recording

    if capture:
        variables = {**variables, "PYTHONUNBUFFERED": "1"}  # through a pipe, output stays live
    interpreter: dict[str, Any] = {
        "implementation": spec.interpreter.implementation, "version": spec.interpreter.version,
        "abi": spec.interpreter.abi, "platform": spec.interpreter.platform_tag,
        "executable": spec.interpreter.executable,
    }  # fmt: skip
    request = Request(
        folder=folder, script_path=script.path, script_data=script.data, block=block, args=tuple(args),
        child_argv=tuple(argv), variables=variables, env_key=env.key, env_path=str(env.path),
        key_document=spec.document(), interpreter=interpreter, block_hashes=dict(spec.hashes),
        outputs=tuple(outputs), capture=capture, command=tuple(sys.argv[1:]), based_on=based_on,
    )  # fmt: skip
    recording = open_recording(request)
    if recording is None:
        return None
    status = recording.run()
    return status, Path(recording.final) if os.path.isdir(recording.final) else None


def supervisor(folder: str, script: Source, meta: Metadata, spec: Spec, env: Env, args: list[str],
               outputs: list[str], capture: bool) -> Callable[[Plan], int | None]:  # fmt: skip
    """What runs a launch plan as a recorded child (launch/execute.Plan.supervisor)."""

    def run(plan: Plan) -> int | None:
        outcome = run_recorded(folder, script, block_of(script, meta), spec, env, plan.argv, plan.variables, args,
                               outputs, capture)  # fmt: skip
        if outcome is None:
            return None
        from reprorun.records import supervise

        return supervise.die_like(outcome[0])

    return run


def records_root(folder: str | None) -> Path:
    """The folder `runs` lists: the one given, else the configured one, else the default."""
    return Path(folder or configured_folder() or default_folder()).expanduser()

"""`reprorun rerun RECORD [--check]`: run a recorded run again, in its recorded environment.

The environment is rebuilt from the record (every distribution pinned to its recorded version,
with its recorded sha256 when the record knows them all; the recorded Python version), the
recorded script bytes run with the recorded arguments, in the recorded working directory, with
the recorded result-changing variables; the new record names the old one (`isBasedOn`).
`--check` then compares the outputs' sha256 with the recorded ones.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import re
from pathlib import Path
from typing import Any

from reprorun.errors import InterpreterError, ReprorunError, UsageError
from reprorun.options import Options
from reprorun.records import command, facts, listing

log = logging.getLogger("reprorun")


class CheckFailed(ReprorunError):
    """`rerun --check`: the outputs differ from the recorded ones (exit 1)."""


def describe(name: str) -> str:
    """One line for `--help`."""
    return "Rerun a recorded run in its recorded environment; --check compares the outputs' sha256."


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    """Arguments of `rerun`."""
    parser.add_argument("target", metavar="RECORD", help="the record: its folder, its id, or a unique part of the id")
    parser.add_argument("--check", action="store_true",
                        help="exit 1, listing the files, if an output's sha256 differs from the record's")  # fmt: skip
    command.add_options(parser)


def run(name: str, ns: argparse.Namespace, options: Options) -> int:
    """Rebuild, rerun, record; with --check, compare the outputs."""
    from reprorun.envs import locks
    from reprorun.envs.build import ensure
    from reprorun.launch import activate
    from reprorun.launch import execute as launch
    from reprorun.records import supervise

    if ns.no_record:
        raise UsageError("rerun always writes a record (it names the one it repeats)")
    old = listing.find(command.records_root(None), ns.target).absolute()
    recorded = listing.load(old)
    script, copy_used = _script(old, recorded)
    spec, cache = _spec(recorded, options)
    env = ensure(cache, spec, options, str(old))
    locks.hold_and_verify(str(cache.path), env.path.name)
    cwd = recorded["run"].get("cwd") or os.getcwd()
    if os.path.isdir(cwd):
        os.chdir(cwd)
    else:
        log.warning("the recorded working directory %s is gone; running in %s", cwd, os.getcwd())
    if copy_used:
        log.warning("%s changed since the run (or is gone): running the recorded copy %s", recorded["script"]["path"],
                    script.path)  # fmt: skip
    variables = _variables(activate.variables(str(env.path)), recorded["variables"])
    args = list(recorded["run"]["argv"])
    stdin_copy = None
    if recorded["script"]["path"] == "-":
        stdin_copy = launch.keep_stdin_source(cache.stdin, script.data)
    argv = launch.script_argv(env.path, script.path, args, stdin_copy)
    outputs = ns.outputs or recorded.get("outputs-paths") or []
    capture = ns.record_output or {"stdout", "stderr"} <= set(recorded["files"])
    folder = os.path.abspath(ns.record) if ns.record else str(old.parent)
    based_on = {"uuid": recorded["run"]["uuid"], "id": recorded["id"], "path": str(old)}
    outcome = command.run_recorded(folder, script, None, spec, env, argv, variables, args, outputs, capture,
                                   based_on)  # fmt: skip
    if outcome is None:
        raise UsageError(f"cannot write a record in {folder}", hint="give another folder with --record=DIR")
    status, new = outcome
    if ns.check:
        differing = _compare(recorded, listing.load(new)["outputs"] if new else None)
        if differing and status == 0:
            raise CheckFailed(
                f"outputs differ from the record {recorded['id']}:\n" + "\n".join(f"  {line}" for line in differing)
            )
        if not recorded["outputs"]:
            log.warning("the record %s has no outputs to compare (it was made without --outputs)", recorded["id"])
    return supervise.die_like(status)


def _script(old: Path, recorded: dict[str, Any]) -> tuple[Any, bool]:
    """The recorded script bytes: the original file when it still holds them, else the record's copy."""
    from reprorun.script.source import Source, decode

    info = recorded["script"]
    copy = old / str(info["copy"])
    try:
        data = copy.read_bytes()
    except OSError as exc:
        raise UsageError(f"{copy}: the record's copy of the script is missing ({exc.strerror})") from None
    if hashlib.sha256(data).hexdigest() != info["sha256"]:
        raise UsageError(f"{copy}: the script copy does not match the sha256 the record names")
    original = info["path"]
    if original != "-" and os.path.isfile(original):
        with open(original, "rb") as handle:
            if hashlib.sha256(handle.read()).hexdigest() == info["sha256"]:
                return Source(original, data, decode(original, data)), False
    return Source(str(copy) if original != "-" else "-", data, decode(str(copy), data)), original != "-"


def _spec(recorded: dict[str, Any], options: Options) -> tuple[Any, Any]:
    """The environment of the record: its pins, hashes, Python version and package sources."""
    from reprorun.envs.build import Spec
    from reprorun.envs.cache import Cache, root
    from reprorun.envs.installers.sources import sources_for
    from reprorun.envs.selection import choose
    from reprorun.script.fields import Settings

    cache = Cache(root(options))
    python = recorded["python"]
    version = python.get("version")
    if not version:
        raise UsageError(f"the record {recorded['id']} names no Python version")
    try:
        executable = python.get("executable")
        interpreter = None
        if options.python is None and executable and os.path.isfile(executable):
            interpreter = choose(None, executable, cache.interpreters)
        if interpreter is None or interpreter.version != version:
            interpreter = choose(None, options.python or version, cache.interpreters)
    except InterpreterError as exc:
        raise InterpreterError(
            f"the record ran Python {version}, which is not available here ({exc.message})",
            hint=f"install Python {version} (for example: pyenv install {version}), or give one with --python",
        ) from None
    if interpreter.version != version:
        log.warning("the record ran Python %s; --python chose %s", version, interpreter.version)
    packages = [p for p in recorded["packages"] if p.get("version") not in (None, "unknown")]
    pins = tuple(f"{p['name']}=={p['version']}" for p in packages)
    unknown = [p["name"] for p in packages if not re.fullmatch(r"[0-9a-f]{64}", str(p.get("sha256")))]
    hashes: dict[str, tuple[str, ...]] = {}
    if not unknown:
        hashes = {str(p["name"]): (f"sha256:{p['sha256']}",) for p in packages}
    if unknown:
        log.warning("the record knows no sha256 for %s: installing by version only", ", ".join(unknown))
    sources = recorded["env"].get("document", {}).get("sources", {})
    settings = Settings(index_url=sources.get("index-url"), extra_index_urls=tuple(sources.get("extra-index-urls", ())),
                        find_links=tuple(sources.get("find-links", ())))  # fmt: skip
    return Spec(pins, interpreter, sources_for(options, settings), hashes), cache


def _variables(current: dict[str, str], recorded: dict[str, str]) -> dict[str, str]:
    """The recorded result-changing variables restored (those it lacked unset); Slurm's stay as they are."""
    chosen = {k: v for k, v in current.items() if k.startswith("SLURM_") or k not in facts.variables(current)}
    chosen.update({k: v for k, v in recorded.items() if not k.startswith("SLURM_")})
    return chosen


def _compare(recorded: dict[str, Any], new: list[dict[str, Any]] | None) -> list[str]:
    """The outputs whose sha256 differs, with why: `path: differs`, `not written`, `new`."""
    before = {o["path"]: o["sha256"] for o in recorded["outputs"]}
    after = {o["path"]: o["sha256"] for o in new or []}
    lines = []
    for path in sorted(before.keys() | after.keys()):
        if path not in after:
            lines.append(f"{path}: not written by the rerun")
        elif path not in before:
            lines.append(f"{path}: new (not in the record)")
        elif before[path] != after[path]:
            lines.append(f"{path}: sha256 {after[path][:16]}... (recorded {before[path][:16]}...)")
    return lines

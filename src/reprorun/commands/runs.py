"""`reprorun runs [DIR]` lists run records, newest first; `reprorun runs show ID` prints one."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from reprorun.errors import UsageError
from reprorun.options import Options
from reprorun.records import command, listing


def describe(name: str) -> str:
    """One line for `--help`."""
    return "List run records (time, script, status, duration, host), newest first; 'runs show ID' prints one."


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    """Arguments of `runs`."""
    parser.usage = "reprorun runs [DIR] [--json] | reprorun runs show ID [DIR] [--json]"
    parser.add_argument("words", nargs="*", metavar="[show ID] [DIR]",
                        help="the records folder (default: --record's folder); 'show ID' for one record")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(name: str, ns: argparse.Namespace, options: Options) -> int:
    """List the records, or show one."""
    words = list(ns.words)
    if words and words[0] == "show":
        if len(words) not in (2, 3):
            raise UsageError("runs show takes a record id (and optionally the folder)", hint="reprorun runs show ID")
        folder = command.records_root(words[2] if len(words) == 3 else None)
        facts = listing.load(listing.find(folder, words[1]))
        if ns.json:
            _print_json(facts)
        else:
            _show(facts)
        return 0
    if len(words) > 1:
        raise UsageError(f"runs takes one folder, not {len(words)} arguments", hint="reprorun runs [DIR]")
    folder = command.records_root(words[0] if words else None)
    rows = [listing.summary(facts) for facts in listing.records(folder)]
    if ns.json:
        _print_json(rows)
        return 0
    if not rows:
        sys.stderr.write(f"reprorun: no run records in {folder}\n")
        return 0
    header = ("TIME", "SCRIPT", "STATUS", "DURATION", "HOST", "ID")
    table = [header] + [
        ((r["start"] or "?")[:19].replace("T", " "), r["script"] or "?", r["status"], _seconds(r["duration"]),
         r["host"] or "?", r["id"])
        for r in rows
    ]  # fmt: skip
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header) - 1)]
    for row in table:
        _out("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1])
    return 0


def _show(facts: dict[str, Any]) -> None:
    run, script, machine, python, env = facts["run"], facts["script"], facts["machine"], facts["python"], facts["env"]
    _out(f"record:       {facts['id']}  ({facts['folder']})")
    _out(f"script:       {script['path']}  sha256:{script['sha256']}  {script['size']} bytes")
    _out(f"arguments:    {json.dumps(run['argv'])}")
    _out(f"directory:    {run['cwd']}")
    _out(f"started:      {run['start']}")
    _out(f"ended:        {run['end']}  ({_seconds(run.get('duration'))})")
    _out(f"status:       {facts['exit']['summary']}")
    _out(f"host:         {machine.get('hostname')}  {machine.get('os')}  kernel {machine.get('kernel')}")
    _out(f"machine:      {machine.get('cpu-model')} x{machine.get('cpu-count')}  {_memory(machine.get('memory-bytes'))}"
         f"  {machine.get('libc')}")  # fmt: skip
    _out(f"python:       {python.get('implementation')} {python.get('version')}  {python.get('executable')}")
    _out(f"environment:  {env.get('key')}  ({env.get('installer')})")
    for label, key in (("gpus", "gpus"), ("slurm", "slurm"), ("git", "git")):
        if facts.get(key):
            _out(f"{label + ':':<14}{json.dumps(facts[key])}")
    if run.get("based_on"):
        _out(f"repeats:      {run['based_on']}")
    _out(f"packages:     {len(facts['packages'])}")
    for dist in facts["packages"]:
        _out(f"  {dist['name']}=={dist['version']}  sha256:{dist['sha256']}  {dist['source']}")
    if facts["variables"]:
        _out("variables:")
        for key, value in facts["variables"].items():
            _out(f"  {key}={value}")
    if facts["outputs"]:
        _out("outputs:")
        for output in facts["outputs"]:
            _out(f"  {output['path']}  {output['size']} bytes  sha256:{output['sha256']}")


def _seconds(value: object) -> str:
    return f"{value:.2f}s" if isinstance(value, int | float) else "?"


def _memory(value: object) -> str:
    return f"{value / 2**30:.1f} GiB" if isinstance(value, int | float) else "memory unknown"


def _print_json(value: object) -> None:
    json.dump(value, sys.stdout, indent=2)
    sys.stdout.write("\n")


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")

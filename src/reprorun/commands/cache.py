"""`reprorun cache dir|list|prune|clear`: see the cache, and keep it small without breaking runs."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from datetime import datetime
from typing import Any

from reprorun.envs import cache as cachemod
from reprorun.envs import failures, inventory, prune
from reprorun.errors import UsageError
from reprorun.options import Options

log = logging.getLogger("reprorun")

ACTIONS = ("dir", "list", "prune", "clear")
DEFAULT_AGE = "30d"


def describe(name: str) -> str:
    """One line for `--help`."""
    return "Inspect and clean the cache: dir, list [--json], prune [--older-than 30d] [--max-size 20G], clear."


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    """Arguments of `cache`."""
    parser.add_argument("action", choices=ACTIONS, help="what to do")
    parser.add_argument("--json", action="store_true", help="list: print a JSON array")
    parser.add_argument("--older-than", metavar="AGE", help="prune: envs unused for AGE (30d, 12h; default 30d)")
    parser.add_argument("--max-size", metavar="SIZE", help="prune: then drop least recently used envs down to SIZE")
    parser.add_argument("--dry-run", action="store_true", help="prune: show what would go, remove nothing")
    parser.add_argument("--yes", "-y", action="store_true", help="clear: do not ask for confirmation")


def run(name: str, ns: argparse.Namespace, options: Options) -> int:
    """Dispatch the sub-action."""
    cache = cachemod.Cache(cachemod.root(options))
    if ns.action == "dir":
        _out(cache.path)
        return 0
    if ns.action == "list":
        return list_envs(cache, ns.json)
    if ns.action == "prune":
        older = ns.older_than or _configured_age()
        try:
            age = inventory.parse_duration(older)
            budget = inventory.parse_size(ns.max_size) if ns.max_size else None
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        if not ns.dry_run:
            failures.require_writable(cache.path, "pruning it", failures.OWNER_ONLY)
        with failures.writing(cache.path, "pruning it"):
            report = prune.prune(cache, age, budget, ns.dry_run)
        _summarize(report, ns.dry_run)
        return 0
    failures.require_writable(cache.path, "clearing it", failures.OWNER_ONLY)
    if not ns.yes:
        _confirm(cache)
    with failures.writing(cache.path, "clearing it"):
        report = prune.clear(cache)
    _summarize(report, dry_run=False)
    return 0


def list_envs(cache: cachemod.Cache, as_json: bool) -> int:
    """One row per env (published, superseded or interrupted), least recently used first."""
    rows = [_row(cache, entry) for entry in inventory.entries(cache)]
    if as_json:
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if not rows:
        log.info("the cache at %s holds no environments", cache.path)
        return 0
    _out(f"{'key':<12}  {'python':<8}  {'pkgs':>4}  {'size':>7}  {'created':<16}  {'last used':<16}  scripts")
    for row in rows:
        state = "" if row["state"] == "ready" else f"  [{row['state']}]"
        _out(
            f"{row['key'][:12]:<12}  {row['python_version']:<8}  {row['packages']!s:>4}  {_human(row['size']):>7}  "
            f"{_short(row['created']):<16}  {_short(row['last_used']):<16}  {', '.join(row['scripts'])}{state}"
        )
    return 0


def _row(cache: cachemod.Cache, entry: inventory.Entry) -> dict[str, Any]:
    state = "ready" if entry.complete and entry.published else "superseded" if entry.complete else "incomplete"
    return {
        "key": entry.key,
        "build": entry.build,
        "path": str(entry.path),
        "state": state,
        "interpreter": entry.interpreter,
        "python_version": entry.python_version,
        "packages": entry.info.get("packages"),
        "installer": entry.info.get("installer"),
        "size": entry.size,
        "created": entry.info.get("created"),
        "last_used": datetime.fromtimestamp(entry.last_used).astimezone().isoformat(timespec="seconds"),
        "scripts": inventory.scripts(cache, entry.build),
    }


def _configured_age() -> str:
    from reprorun.config import load

    return load().prune_older_than or DEFAULT_AGE


def _confirm(cache: cachemod.Cache) -> None:
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise UsageError("cache clear removes every environment; refusing without a terminal to ask",
                         hint="add --yes to clear without asking")  # fmt: skip
    sys.stderr.write(f"remove every environment not in use under {cache.path}? [y/N] ")
    sys.stderr.flush()
    if sys.stdin.readline().strip().lower() not in ("y", "yes"):
        raise UsageError("nothing removed")


def _summarize(report: prune.Report, dry_run: bool) -> None:
    verb = "would remove" if dry_run else "removed"
    for path, reason, size in report.removed:
        log.info("%s %s (%s, %s)", verb, os.path.basename(path), reason, _human(size))
    for path in report.skipped:
        log.info("kept %s: in use", os.path.basename(path))
    count = len(report.removed)
    log.info("%s %d environment%s, %s", verb, count, "" if count == 1 else "s", _human(report.freed))


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "K", "M", "G"):
        if value < 1024:
            return f"{value:.0f}{unit}" if unit == "B" else f"{value:.1f}{unit}"
        value /= 1024
    return f"{value:.1f}T"


def _short(stamp: object) -> str:
    if not isinstance(stamp, str):
        return "?"
    try:
        return datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return stamp[:16]


def _out(line: object) -> None:
    sys.stdout.write(f"{line}\n")



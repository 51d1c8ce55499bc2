"""Finding records again: every record of a folder, newest first, and one record by its id."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from reprorun.errors import UsageError
from reprorun.records import crate

log = logging.getLogger("reprorun")
METADATA = "ro-crate-metadata.json"


def load(record: Path) -> dict[str, Any]:
    """The facts of one record (crate.read), with its id and folder; ValueError if it is not one."""
    try:
        document = json.loads((record / METADATA).read_text("utf-8"))
    except OSError as exc:
        raise ValueError(f"{record}: no readable {METADATA} ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise ValueError(f"{record}/{METADATA}: not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise ValueError(f"{record}/{METADATA}: not a JSON object")
    try:
        facts = crate.read(document)
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{record}/{METADATA}: not a reprorun record ({exc!r})") from None
    facts["id"] = record.name
    facts["folder"] = str(record)
    return facts


def records(folder: Path) -> list[dict[str, Any]]:
    """Every record in the folder, newest first; what is not a record is skipped (said with -v)."""
    found = []
    try:
        entries = sorted(folder.iterdir())
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise UsageError(f"{folder}: cannot list records: {exc.strerror or exc}") from None
    for entry in entries:
        if entry.name.startswith(".") or not (entry / METADATA).is_file():
            continue
        try:
            found.append(load(entry))
        except ValueError as exc:
            log.debug("skipping %s: %s", entry, exc)
    return sorted(found, key=lambda f: (f["run"].get("start") or "", f["id"]), reverse=True)


def summary(facts: dict[str, Any]) -> dict[str, Any]:
    """The one-line view of a record: time, script, status, duration, host, id."""
    ending = facts["exit"]
    code = ending.get("code")
    status = "ok" if code == 0 else ending.get("signal") or f"exit {code}"
    return {
        "id": facts["id"],
        "start": facts["run"].get("start"),
        "script": facts["script"].get("name"),
        "path": facts["script"].get("path"),
        "status": status,
        "exit-code": code,
        "duration": facts["run"].get("duration"),
        "host": facts["machine"].get("hostname"),
        "folder": facts["folder"],
    }


def find(folder: Path, ident: str) -> Path:
    """A record by folder path, full id, or a unique part of its id (the short id at its end)."""
    given = Path(ident).expanduser()
    if (given / METADATA).is_file():
        return given
    if os.sep in ident or ident.startswith("."):
        raise UsageError(f"{ident}: not a run record (no {METADATA})")
    names = [r["id"] for r in records(folder)]
    matches = [n for n in names if n == ident] or [n for n in names if ident in n]
    if not matches:
        raise UsageError(f"no run record '{ident}' in {folder}", hint=f"reprorun runs {folder}")
    if len(matches) > 1:
        shown = ", ".join(matches[:5]) + (" ..." if len(matches) > 5 else "")
        raise UsageError(f"'{ident}' names {len(matches)} records in {folder}: {shown}", hint="give more of the id")
    return folder / str(matches[0])

"""Checks of a run record: loaded with the `rocrate` library, held to the Process Run Crate profile.

The requirements checked are those of the profile's text (Process Run Crate 0.5, "Requirements")
and of RO-Crate 1.1 that a consumer relies on, plus reprorun's own: every file named is there,
every reference resolves.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from rocrate.rocrate import ROCrate

from reprorun.records import crate as crate_module

PROFILE = "https://w3id.org/ro/wfrun/process/0.5"
RO_CRATE_1_1 = "https://w3id.org/ro/crate/1.1"
# The profile's SHOULD for startTime and endTime (its SHACL shape uses the same pattern).
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?\+\d{2}:\d{2}$")
STATUSES = {"http://schema.org/CompletedActionStatus", "http://schema.org/FailedActionStatus"}


def records_in(folder: Path) -> list[Path]:
    """The finished records in a folder (partial ones are hidden), by name."""
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def check_crate(record: Path) -> dict[str, Any]:
    """Assert that the record is a valid Process Run Crate; return its facts (crate.read)."""
    crate = ROCrate(str(record))  # the real library: parses the metadata and resolves the entities
    described = crate.metadata["conformsTo"]
    assert getattr(described, "id", described) == RO_CRATE_1_1
    root = crate.root_dataset
    conforms = root["conformsTo"]
    conforms = conforms if isinstance(conforms, list) else [conforms]
    profile = [c for c in conforms if getattr(c, "id", c) == PROFILE]
    assert profile, f"root conformsTo {conforms!r} lacks {PROFILE}"
    assert "CreativeWork" in _types(profile[0])
    actions = [e for e in crate.get_entities() if "CreateAction" in _types(e)]
    assert len(actions) == 1, actions
    action = actions[0]
    mentions = root["mentions"] if isinstance(root["mentions"], list) else [root["mentions"]]
    assert action in mentions  # SHOULD: listed under mentions of the root
    instrument = action["instrument"]
    assert {"SoftwareApplication", "SoftwareSourceCode"} & _types(instrument)
    assert instrument["name"]
    for key in ("object", "result"):
        value = action[key]
        values = value if isinstance(value, list) else [value]
        assert values and all(v is not None for v in values), key
        for entity in values:
            assert {"File", "PropertyValue", "Dataset", "CreativeWork"} & _types(entity), entity.type
    assert ISO.match(action["startTime"]), action["startTime"]
    assert ISO.match(action["endTime"]), action["endTime"]
    assert action["startTime"] <= action["endTime"]
    status = action["actionStatus"]
    assert getattr(status, "id", status) in STATUSES, status
    if "Failed" in str(getattr(status, "id", status)):
        assert action["error"]
    else:
        assert action.get("error") is None
    document = json.loads((record / "ro-crate-metadata.json").read_text("utf-8"))
    ids = {entity["@id"] for entity in document["@graph"]}
    for entity in document["@graph"]:
        for reference in _references(entity):
            assert reference in ids or reference in (RO_CRATE_1_1, *STATUSES), (entity["@id"], reference)
    (root_entity,) = (entity for entity in document["@graph"] if entity["@id"] == "./")
    for part in root_entity["hasPart"]:
        assert (record / part["@id"]).is_file(), part
    return crate_module.read(document)


def _references(entity: dict[str, Any]) -> list[str]:
    found = []
    for key, value in entity.items():
        if key.startswith("@"):
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and "@id" in item:
                found.append(item["@id"])
    return found


def _types(entity: Any) -> set[str]:
    kind = entity.type
    return {kind} if isinstance(kind, str) else set(kind)

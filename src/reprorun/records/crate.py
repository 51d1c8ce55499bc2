"""A run's facts as an RO-Crate 1.1 conforming to the Process Run Crate 0.5 profile, and back.

The run is one `CreateAction` (`#run`): its `instrument` is the script (a copy in the crate), its
`object` the arguments and working directory, its `result` the exit status and the output files,
`environment` the result-changing variables (workflow-run terms), `additionalProperty` the
machine, Slurm, git and environment facts, one `PropertyValue` each. Distributions are the
script's `softwareRequirements`. docs/records.md explains every field.
"""

from __future__ import annotations

import json
from typing import Any

CONTEXT = [
    "https://w3id.org/ro/crate/1.1/context",
    {
        "wfrun": "https://w3id.org/ro/terms/workflow-run#",
        "environment": {"@id": "wfrun:environment", "@type": "@id"},
        "sha256": "http://schema.org/sha256",
    },
]
RO_CRATE = "https://w3id.org/ro/crate/1.1"
PROFILE = "https://w3id.org/ro/wfrun/process/0.5"
PYPI_HOSTS = ("https://files.pythonhosted.org/", "https://pypi.org/")
# additionalProperty name -> where it lives in the facts (section, key)
PROPERTIES = {
    "hostname": ("machine", "hostname"), "os": ("machine", "os"), "system": ("machine", "system"),
    "kernel": ("machine", "kernel"), "machine": ("machine", "machine"), "libc": ("machine", "libc"),
    "cpu-model": ("machine", "cpu-model"), "cpu-count": ("machine", "cpu-count"),
    "cpu-usable": ("machine", "cpu-usable"), "memory-bytes": ("machine", "memory-bytes"),
    "env-key": ("env", "key"), "env-path": ("env", "path"), "installer": ("env", "installer"),
    "python-implementation": ("python", "implementation"), "python-version": ("python", "version"),
    "python-build": ("python", "build"), "python-abi": ("python", "abi"),
    "python-platform": ("python", "platform"), "python-executable": ("python", "executable"),
    "reprorun-version": ("run", "reprorun"), "reprorun-command": ("run", "command"),
    "duration-seconds": ("run", "duration"), "exit-code": ("exit", "code"), "signal": ("exit", "signal"),
}  # fmt: skip
JSON_PROPERTIES = {"gpus": "gpus", "slurm": "slurm", "git": "git", "outputs-paths": "outputs-paths"}


def render(facts: dict[str, Any]) -> dict[str, Any]:
    """The `ro-crate-metadata.json` document of a run's facts."""
    run, script, ending = facts["run"], facts["script"], facts["exit"]
    graph: list[dict[str, Any]] = [
        {"@id": "ro-crate-metadata.json", "@type": "CreativeWork", "conformsTo": {"@id": RO_CRATE},
         "about": {"@id": "./"}},
        {"@id": PROFILE, "@type": "CreativeWork", "name": "Process Run Crate", "version": "0.5"},
    ]  # fmt: skip
    parts = [script["copy"], *facts["files"].values()]
    root = {
        "@id": "./", "@type": "Dataset", "name": f"Run of {script['name']}",
        "description": f"reprorun ran {script['path']} on {facts['machine']['hostname']} ({run['id']})",
        "datePublished": run["end"], "conformsTo": {"@id": PROFILE},
        "hasPart": [{"@id": part} for part in parts], "mentions": {"@id": "#run"},
    }  # fmt: skip
    graph.append(root)
    requirements = [{"@id": "#python"}]
    for dist in facts["packages"]:
        entity = _distribution(dist)
        requirements.append({"@id": entity["@id"]})
        graph.append(entity)
    python = facts["python"]
    graph.append({"@id": "#python", "@type": "SoftwareApplication", "name": f"Python ({python['implementation']})",
                  "url": "https://www.python.org/", "softwareVersion": python["version"]})  # fmt: skip
    graph.append({
        "@id": script["copy"], "@type": ["File", "SoftwareSourceCode"], "name": script["name"],
        "alternateName": script["path"], "contentSize": str(script["size"]), "sha256": script["sha256"],
        "encodingFormat": "text/x-python", "version": f"sha256:{script['sha256'][:16]}",
        "programmingLanguage": {"@id": "#python"}, "softwareRequirements": requirements,
        "description": script["block"] or "(no script block)",
    })  # fmt: skip
    for name, path in facts["files"].items():
        graph.append({"@id": path, "@type": "File", "name": name, **_file_details(name)})
    values = [_value("argv", json.dumps(run["argv"])), _value("cwd", run["cwd"])]
    results = [_value("exit-status", ending["summary"])]
    for number, output in enumerate(facts["outputs"], 1):
        results.append({"@id": f"#output-{number}", "@type": "File", "name": output["name"],
                        "alternateName": output["path"], "contentSize": str(output["size"]),
                        "sha256": output["sha256"]})  # fmt: skip
    variables = [_value(f"env:{name}", value, name=name) for name, value in facts["variables"].items()]
    properties = [
        _value(name, facts[section][key]) for name, (section, key) in PROPERTIES.items()
        if facts.get(section, {}).get(key) is not None
    ]  # fmt: skip
    properties += [_value(name, json.dumps(facts[key])) for name, key in JSON_PROPERTIES.items() if facts.get(key)]
    properties.append(_value("env-key-document", json.dumps(facts["env"]["document"], sort_keys=True)))
    action: dict[str, Any] = {
        "@id": "#run", "@type": "CreateAction", "identifier": run["uuid"], "name": f"Run of {script['name']}",
        "description": run["command-line"], "instrument": {"@id": script["copy"]},
        "object": [{"@id": v["@id"]} for v in values], "result": [{"@id": r["@id"]} for r in results]
        + [{"@id": facts["files"][n]} for n in ("stdout", "stderr") if n in facts["files"]],
        "startTime": run["start"], "endTime": run["end"],
        "actionStatus": {"@id": "http://schema.org/" + ("CompletedActionStatus" if ending["code"] == 0
                                                         else "FailedActionStatus")},
        "agent": {"@id": "#user"}, "environment": [{"@id": v["@id"]} for v in variables],
        "additionalProperty": [{"@id": p["@id"]} for p in properties],
    }  # fmt: skip
    if ending["code"] != 0:
        action["error"] = ending["summary"]
    if run.get("based-on"):
        action["isBasedOn"] = {"@id": run["based-on"]["uuid"]}
        # The record this run repeats; its @id is that record's action, unique across records.
        graph.append({"@id": run["based-on"]["uuid"], "@type": "CreativeWork", "name": "the run record repeated",
                      "identifier": run["based-on"]["id"], "url": run["based-on"]["path"]})  # fmt: skip
    graph += [action, {"@id": "#user", "@type": "Person", "name": run["user"]}, *values, *results]
    graph += [*variables, *properties]
    return {"@context": CONTEXT, "@graph": graph}


def _distribution(dist: dict[str, Any]) -> dict[str, Any]:
    source = dist.get("source", "unknown")
    on_pypi = source.startswith(PYPI_HOSTS)
    ident = f"https://pypi.org/project/{dist['name']}/{dist['version']}/" if on_pypi else (
        f"#dist-{dist['name'].lower()}-{dist['version']}")  # fmt: skip
    entity = {"@id": ident, "@type": "SoftwareApplication", "name": dist["name"],
              "softwareVersion": dist["version"], "installUrl": source, "sha256": dist.get("sha256", "unknown"),
              "additionalType": "python-distribution"}  # fmt: skip
    if on_pypi:
        entity["url"] = ident
    return entity


def _file_details(name: str) -> dict[str, str]:
    described = {
        "requirements": ("every distribution pinned, with its sha256 when known", "text/plain"),
        "pylock": ("the environment as a PEP 751 lock file", "application/toml"),
        "env-key": ("the key document the environment was built from", "application/json"),
        "stdout": ("the script's standard output", "text/plain"),
        "stderr": ("the script's standard error", "text/plain"),
    }
    description, media = described.get(name, (name, "application/octet-stream"))
    return {"description": description, "encodingFormat": media}


def _value(prop: str, value: object, name: str | None = None) -> dict[str, Any]:
    return {"@id": f"#{prop}", "@type": "PropertyValue", "name": name or prop, "propertyID": prop, "value": value}


def read(document: dict[str, Any]) -> dict[str, Any]:
    """The facts of a record back from its metadata document (what `runs` and `rerun` need)."""
    by_id = {e.get("@id"): e for e in document.get("@graph", []) if isinstance(e, dict)}
    action = by_id.get("#run")
    if action is None:
        raise ValueError("no '#run' action: not a reprorun record")
    values = {e["propertyID"]: e.get("value") for e in by_id.values() if e.get("@type") == "PropertyValue"
              and isinstance(e.get("propertyID"), str)}  # fmt: skip
    script = by_id.get(action.get("instrument", {}).get("@id"), {})
    facts: dict[str, Any] = {section: {} for section in ("machine", "env", "python", "run", "exit")}
    for name, (section, key) in PROPERTIES.items():
        if name in values:
            facts[section][key] = values[name]
    for name, key in JSON_PROPERTIES.items():
        facts[key] = json.loads(str(values[name])) if name in values else None
    facts["env"]["document"] = json.loads(values.get("env-key-document") or "{}")
    facts["run"].update(
        uuid=action.get("identifier"), start=action.get("startTime"), end=action.get("endTime"),
        argv=json.loads(values.get("argv") or "[]"), cwd=values.get("cwd"),
        user=by_id.get("#user", {}).get("name"), based_on=action.get("isBasedOn", {}).get("@id"),
    )  # fmt: skip
    facts["exit"]["summary"] = values.get("exit-status")
    facts["script"] = {"copy": script.get("@id"), "name": script.get("name"), "path": script.get("alternateName"),
                       "sha256": script.get("sha256"), "size": int(script.get("contentSize") or 0)}  # fmt: skip
    facts["variables"] = {k[4:]: v for k, v in values.items() if k.startswith("env:")}
    requirements = [r.get("@id") for r in script.get("softwareRequirements", [])]
    facts["packages"] = [
        {"name": e["name"], "version": e["softwareVersion"], "source": e.get("installUrl", "unknown"),
         "sha256": e.get("sha256", "unknown")}
        for e in (by_id.get(i, {}) for i in requirements) if e.get("additionalType") == "python-distribution"
    ]  # fmt: skip
    facts["outputs"] = [
        {"name": e.get("name"), "path": e.get("alternateName"), "size": int(e.get("contentSize") or 0),
         "sha256": e.get("sha256")}
        for e in (by_id.get(r.get("@id"), {}) for r in action.get("result", []))
        if str(e.get("@id", "")).startswith("#output-")
    ]  # fmt: skip
    facts["files"] = {e["name"]: e["@id"] for e in by_id.values() if e.get("@type") == "File"
                      and not str(e.get("@id")).startswith("#")}  # fmt: skip
    return facts

"""One recorded run: open its folder, run the script as a child, gather the facts, write the crate.

The folder is filled under a hidden name (`.NAME.partial`) and renamed when whole, so a listing
never shows half a record. Writing a record may fail (read-only, disk full): that is a warning,
and the script's own exit status is passed through all the same.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import logging
import os
import re
import secrets
import shlex
import shutil
import signal
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from reprorun import __version__
from reprorun.records import crate, facts, outputs, packages
from reprorun.records.supervise import Child

log = logging.getLogger("reprorun")
METADATA = "ro-crate-metadata.json"


@dataclass(frozen=True)
class Request:
    """Everything a recorded run needs to know from the run command."""

    folder: str  # the records folder (created if missing)
    script_path: str  # as given; "-" for standard input
    script_data: bytes
    block: str | None  # the raw `script` block, if any
    args: tuple[str, ...]
    child_argv: tuple[str, ...]
    variables: dict[str, str]
    env_key: str
    env_path: str
    key_document: dict[str, Any]
    interpreter: dict[str, str]  # implementation, version, abi, platform, executable
    block_hashes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    outputs: tuple[str, ...] = ()
    capture: bool = False
    command: tuple[str, ...] = ()
    based_on: dict[str, str] | None = None  # uuid, id and path of the record this run repeats


def utc_stamp(moment: float) -> str:
    """ISO 8601 with milliseconds and an explicit +00:00 offset (the form the profile asks for)."""
    return dt.datetime.fromtimestamp(moment, dt.timezone.utc).isoformat(timespec="milliseconds")


def record_name(moment: float, script_path: str) -> str:
    """`20261130T120510Z-analysis-3f9a1c`: UTC time, script stem, a short random id."""
    stem = "stdin" if script_path == "-" else os.path.splitext(os.path.basename(script_path))[0]
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem)[:40] or "script"
    return f"{dt.datetime.fromtimestamp(moment, dt.timezone.utc):%Y%m%dT%H%M%SZ}-{stem}-{secrets.token_hex(3)}"


class Recording:
    """A run being recorded; `run()` returns the script's status (-N when a signal ended it)."""

    def __init__(self, request: Request, partial: Path, name: str) -> None:
        self.request = request
        self.partial = partial
        self.name = name
        self.final = partial.parent / name
        self.facts: dict[str, Any] = {}
        self.captured = False

    def run(self) -> int:
        """Run the script, then write the record (a failure to write is only a warning)."""
        request = self.request
        copy = f"script/{'stdin.py' if request.script_path == '-' else os.path.basename(request.script_path)}"
        before = outputs.snapshot(request.outputs)
        streams: tuple[BinaryIO, BinaryIO] | None = None
        try:
            (self.partial / "script").mkdir()
            (self.partial / copy).write_bytes(request.script_data)
            if request.capture:
                streams = (open(self.partial / "stdout.txt", "wb"), open(self.partial / "stderr.txt", "wb"))  # noqa: SIM115
        except OSError as exc:
            log.warning("cannot write the run record in %s: %s", self.partial.parent, exc)
        self.captured = streams is not None
        start = time.time()
        child = Child(request.child_argv, request.variables, streams)
        gatherer = threading.Thread(target=self._gather, daemon=True)
        gatherer.start()  # while the script runs
        returncode = child.wait()
        end = time.time()
        for stream in streams or ():
            stream.close()
        gatherer.join()
        try:
            self._write(copy, start, end, returncode, before)
        except (OSError, ValueError) as exc:
            log.warning("could not write the run record %s: %s", self.final, exc)
            shutil.rmtree(self.partial, ignore_errors=True)
        else:
            log.info("run recorded in %s", self.final)
        return returncode

    def _gather(self) -> None:
        request = self.request
        environ = request.variables
        found: dict[str, Any] = {"machine": facts.machine(), "slurm": facts.slurm(environ) or None,
                                 "gpus": facts.gpus(), "variables": facts.variables(environ)}  # fmt: skip
        found["git"] = None if request.script_path == "-" else facts.git(request.script_path)
        found["packages"] = packages.distributions(Path(request.env_path), request.block_hashes)
        found["python"] = {**request.interpreter, "build": _build(request.interpreter["executable"])}
        self.facts = found

    def _write(self, copy: str, start: float, end: float, returncode: int, before: outputs.Snapshot) -> None:
        request = self.request
        data = request.script_data
        made = outputs.changed(before, request.outputs)
        cwd = os.getcwd()
        for item in made:
            item["name"] = os.path.relpath(str(item["path"]), cwd)
        facts_ = {
            **self.facts,
            "run": {"id": self.name, "uuid": f"urn:uuid:{uuid.uuid4()}", "start": utc_stamp(start),
                    "end": utc_stamp(end), "duration": round(end - start, 3), "argv": list(request.args),
                    "cwd": cwd, "user": _user(), "reprorun": __version__, "command": json.dumps(request.command),
                    "command-line": shlex.join(["reprorun", *request.command]), "based-on": request.based_on},
            "script": {"path": request.script_path if request.script_path == "-" else os.path.abspath(
                           request.script_path), "name": os.path.basename(copy), "copy": copy, "size": len(data),
                       "sha256": hashlib.sha256(data).hexdigest(), "block": request.block},
            "env": {"key": request.env_key, "path": request.env_path, "document": request.key_document,
                    "installer": _installer(request.env_path)},
            "exit": ending(returncode), "outputs": made, "outputs-paths": [os.path.abspath(p) for p in request.outputs],
        }  # fmt: skip
        files = {"requirements": "requirements.txt", "env-key": "env-key.json"}
        (self.partial / "requirements.txt").write_text(packages.requirements_text(facts_["packages"]), "utf-8")
        (self.partial / "env-key.json").write_text(json.dumps(request.key_document, indent=2) + "\n", "utf-8")
        lock = packages.pylock_text(facts_["packages"], request.interpreter["version"])
        if lock is not None:
            (self.partial / "pylock.toml").write_text(lock, "utf-8")
            files["pylock"] = "pylock.toml"
        if self.captured:
            files.update(stdout="stdout.txt", stderr="stderr.txt")
        facts_["files"] = files
        document = crate.render(facts_)
        with open(self.partial / METADATA, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2, ensure_ascii=False)
            handle.write("\n")
        os.replace(self.partial, self.final)


def open_recording(request: Request) -> Recording | None:
    """Create the record's folder; None (after a warning) when it cannot be created."""
    moment = time.time()
    name = record_name(moment, request.script_path)
    folder = Path(request.folder).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".{name}.partial"
        partial.mkdir()
    except OSError as exc:
        log.warning("cannot write a run record in %s (%s); running without one", folder, exc.strerror or exc)
        return None
    return Recording(request, partial, name)


def ending(returncode: int) -> dict[str, Any]:
    """How the run ended, from a subprocess-style return code (-N: killed by signal N)."""
    if returncode < 0:
        name = _signal_name(-returncode)
        return {"code": returncode, "signal": name, "summary": f"killed by signal {name} ({-returncode})"}
    return {"code": returncode, "signal": None, "summary": f"exit status {returncode}"}


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _build(executable: str) -> str:
    """The interpreter's own `sys.version` (build date and compiler)."""
    if os.path.realpath(executable) == os.path.realpath(sys.executable):
        return sys.version
    import subprocess

    try:
        done = subprocess.run([executable, "-I", "-S", "-c", "import sys; print(sys.version)"], capture_output=True,
                              text=True, timeout=30, check=True, stdin=subprocess.DEVNULL)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip() or "unknown"


def _installer(env: str) -> str:
    try:
        info = json.loads(Path(env, "reprorun-complete").read_text("utf-8"))
    except (OSError, ValueError):
        return "unknown"
    return str(info.get("installer", "unknown")) if isinstance(info, dict) else "unknown"


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"

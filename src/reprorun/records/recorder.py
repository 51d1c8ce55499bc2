"""One recorded run: open its folder, run the script as a child, gather the facts, write the crate.

The folder is filled under a hidden name (`.NAME.partial`) and renamed when whole, so a listing
never shows half a record. Writing a record may fail (read-only, disk full): that is a warning,
and the script's own exit status is passed through all the same.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

from reprorun import __version__
from reprorun.records import crate, facts, outputs, packages
from reprorun.records.supervise import Child

if TYPE_CHECKING:
    from typing import BinaryIO

# The recorded warm start (records/fast.py) loads this module: only what is cheap to import is
# imported at the top (no dataclasses, pathlib, re, uuid, datetime, hashlib, logging).
METADATA = "ro-crate-metadata.json"


class Say:
    """reprorun's messages about a record, on stderr as the CLI prints them (`reprorun: ...`).

    Through the `reprorun` logger when the CLI has configured it (so -q and -v apply); written
    directly otherwise: the recorded warm start does not load `logging` for two lines.
    """

    quiet = False  # set by the recorded warm start for -q

    def info(self, message: str) -> None:
        """Say what happened (not with -q)."""
        self._say(20, message)

    def warning(self, message: str) -> None:
        """Say what went wrong, in a way that keeps the run going."""
        self._say(30, message)

    def _say(self, level: int, message: str) -> None:
        logging = sys.modules.get("logging")
        logger = logging.getLogger("reprorun") if logging is not None else None
        if logger is not None and logger.handlers:
            logger.log(level, "%s", message)
        elif level >= 30 or not self.quiet:
            sys.stderr.write(("reprorun: warning: " if level >= 30 else "reprorun: ") + message + "\n")
            sys.stderr.flush()


say = Say()


class Request:
    """Everything a recorded run needs to know from the run command."""

    def __init__(
        self, *, folder: str, script_path: str, script_data: bytes, block: str | None, args: tuple[str, ...],
        child_argv: tuple[str, ...], variables: dict[str, str], env_key: str, env_path: str,
        key_document: dict[str, Any], interpreter: dict[str, str], block_hashes: dict[str, tuple[str, ...]],
        outputs: tuple[str, ...] = (), capture: bool = False, command: tuple[str, ...] = (),
        based_on: dict[str, str] | None = None,
    ) -> None:  # fmt: skip
        self.folder = folder  # the records folder (created if missing)
        self.script_path = script_path  # as given; "-" for standard input
        self.script_data = script_data
        self.block = block  # the raw `script` block, if any
        self.args = args
        self.child_argv = child_argv
        self.variables = variables
        self.env_key = env_key
        self.env_path = env_path
        self.key_document = key_document
        self.interpreter = interpreter  # implementation, version, abi, platform, executable
        self.block_hashes = block_hashes
        self.outputs = outputs
        self.capture = capture
        self.command = command
        self.based_on = based_on  # uuid, id and path of the record this run repeats


def utc_stamp(moment: float) -> str:
    """ISO 8601 with milliseconds and an explicit +00:00 offset (the form the profile asks for)."""
    millis = int(moment * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(moment)) + f".{millis:03d}+00:00"


def record_name(moment: float, script_path: str) -> str:
    """`20261130T120510Z-analysis-3f9a1c`: UTC time, script stem, a short random id."""
    stem = "stdin" if script_path == "-" else os.path.splitext(os.path.basename(script_path))[0]
    stem = "".join(c if c.isascii() and (c.isalnum() or c in "_.-") else "_" for c in stem)[:40] or "script"
    return f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(moment))}-{stem}-{os.urandom(3).hex()}"


class Recording:
    """A run being recorded; `run()` returns the script's status (-N when a signal ended it)."""

    def __init__(self, request: Request, partial: str, name: str) -> None:
        self.request = request
        self.partial = partial  # the record's folder while it is written
        self.name = name
        self.final = os.path.join(os.path.dirname(partial), name)
        self.facts: dict[str, Any] = {}
        self.captured = False

    def run(self) -> int:
        """Run the script, then write the record (a failure to write is only a warning)."""
        request = self.request
        copy = f"script/{'stdin.py' if request.script_path == '-' else os.path.basename(request.script_path)}"
        before = outputs.snapshot(request.outputs)
        streams: tuple[BinaryIO, BinaryIO] | None = None
        try:
            os.mkdir(os.path.join(self.partial, "script"))
            with open(os.path.join(self.partial, copy), "wb") as handle:
                handle.write(request.script_data)
            if request.capture:
                streams = (open(os.path.join(self.partial, "stdout.txt"), "wb"),  # noqa: SIM115
                           open(os.path.join(self.partial, "stderr.txt"), "wb"))  # noqa: SIM115  # fmt: skip
        except OSError as exc:
            say.warning(f"cannot write the run record in {os.path.dirname(self.partial)}: {exc}")
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
            say.warning(f"could not write the run record {self.final}: {exc}")
            import shutil

            shutil.rmtree(self.partial, ignore_errors=True)
        else:
            say.info(f"run recorded in {self.final}")
        return returncode

    def _gather(self) -> None:
        request = self.request
        environ = request.variables
        found: dict[str, Any] = {"machine": facts.machine(), "slurm": facts.slurm(environ) or None,
                                 "gpus": facts.gpus(), "variables": facts.variables(environ)}  # fmt: skip
        found["git"] = None if request.script_path == "-" else facts.git(request.script_path)
        found["packages"] = packages.distributions(request.env_path, request.block_hashes)
        build = facts.python_build(request.interpreter["executable"], os.path.dirname(self.partial))
        found["python"] = {**request.interpreter, "build": build}
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
            "run": {"id": self.name, "uuid": f"urn:uuid:{_uuid4()}", "start": utc_stamp(start),
                    "end": utc_stamp(end), "duration": round(end - start, 3), "argv": list(request.args),
                    "cwd": cwd, "user": facts.user(), "reprorun": __version__, "command": json.dumps(request.command),
                    "command-line": " ".join(_quote(w) for w in ["reprorun", *request.command]),
                    "based-on": request.based_on},
            "script": {"path": request.script_path if request.script_path == "-" else os.path.abspath(
                           request.script_path), "name": os.path.basename(copy), "copy": copy, "size": len(data),
                       "sha256": outputs.sha256_of_bytes(data), "block": request.block},
            "env": {"key": request.env_key, "path": request.env_path, "document": request.key_document,
                    "installer": facts.installer(request.env_path)},
            "exit": ending(returncode), "outputs": made, "outputs-paths": [os.path.abspath(p) for p in request.outputs],
        }  # fmt: skip
        files = {"requirements": "requirements.txt", "env-key": "env-key.json"}
        _write_text(self.partial, "requirements.txt", packages.requirements_text(facts_["packages"]))
        _write_text(self.partial, "env-key.json", json.dumps(request.key_document, indent=2) + "\n")
        lock = packages.pylock_text(facts_["packages"], request.interpreter["version"])
        if lock is not None:
            _write_text(self.partial, "pylock.toml", lock)
            files["pylock"] = "pylock.toml"
        if self.captured:
            files.update(stdout="stdout.txt", stderr="stderr.txt")
        facts_["files"] = files
        document = crate.render(facts_)
        _write_text(self.partial, METADATA, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        os.replace(self.partial, self.final)


def open_recording(request: Request) -> Recording | None:
    """Create the record's folder; None (after a warning) when it cannot be created."""
    moment = time.time()
    name = record_name(moment, request.script_path)
    folder = os.path.expanduser(request.folder)
    partial = os.path.join(folder, f".{name}.partial")
    try:
        os.makedirs(folder, exist_ok=True)
        os.mkdir(partial)
    except OSError as exc:
        say.warning(f"cannot write a run record in {folder} ({exc.strerror or exc}); running without one")
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


def _uuid4() -> str:
    """A random (version 4) UUID, as uuid.uuid4() makes it, without importing uuid."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _quote(word: str) -> str:
    """shlex.quote without loading shlex (and re)."""
    safe = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./-_"
    if word and all(c in safe for c in word):
        return word
    return "'" + word.replace("'", "'\"'\"'") + "'"


def _write_text(folder: str, name: str, text: str) -> None:
    with open(os.path.join(folder, name), "w", encoding="utf-8") as handle:
        handle.write(text)

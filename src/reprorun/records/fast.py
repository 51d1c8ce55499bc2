"""The recorded warm start: a recorded run of a script whose env is cached, without the full CLI.

`reprorun --record DIR SCRIPT` (or `REPRORUN_RECORD=DIR reprorun SCRIPT`) needs what the warm path
finds (reprorun/warm.py: the env of the block, held for the run) and what the env keeps on disk (its
key document: interpreter, sources, hashes). Nothing else of the full command line: no argparse,
no TOML, no `packaging`. Like the warm path it gives up, returning to the full path, at the first
doubt: another option, stdin, a notebook, a `record` setting in the config file or the block
(only the full path reads those), a folder it cannot resolve without platformdirs.
"""

from __future__ import annotations

import json
import os
import sys

from reprorun import warm
from reprorun.envs import layout
from reprorun.launch import activate


class _Parsed:
    """reprorun's options on a command line the recorded warm start handles, and the script's part."""

    def __init__(self) -> None:
        self.python: str | None = None
        self.cache_dir: str | None = None
        self.record = ""
        self.capture = False
        self.outputs: list[str] = []
        self.quiet = False
        self.script = ""
        self.args: list[str] = []


def try_recorded(argv: list[str]) -> None:
    """Run and record the script when its env is known; exits with the script's status. Else returns."""
    parsed = _parse(argv)
    if parsed is None:
        return
    folder = parsed.record or os.environ.get("REPRORUN_RECORD", "").strip() or _default_folder()
    if not folder:
        return
    found = warm.find(parsed.python, parsed.cache_dir, parsed.script)
    if found is None:
        return
    _root, env, key, text = found
    try:
        with open(os.path.join(env, "reprorun-key.json"), encoding="utf-8") as handle:
            document = json.load(handle)
        interpreter = {name: str(document["python"][name])
                       for name in ("implementation", "version", "abi", "platform", "executable")}  # fmt: skip
        hashes = {str(name): tuple(values) for name, values in document.get("hashes", {}).items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return  # the full path knows better
    from reprorun.records.recorder import Request, open_recording, say
    from reprorun.records.supervise import die_like

    say.quiet = parsed.quiet  # the CLI's logging is not loaded here: the recorder writes its lines itself
    variables = activate.variables(env)
    if parsed.capture:
        variables["PYTHONUNBUFFERED"] = "1"  # through a pipe, output stays live
    python = layout.env_python(env)
    request = Request(
        folder=os.path.abspath(os.path.expanduser(folder)), script_path=parsed.script,
        script_data=text.encode("utf-8"), block=warm.block_text(text) or None, args=tuple(parsed.args),
        child_argv=(python, parsed.script, *parsed.args), variables=variables, env_key=key, env_path=env,
        key_document=document, interpreter=interpreter, block_hashes=hashes, outputs=tuple(parsed.outputs),
        capture=parsed.capture, command=tuple(argv),
    )  # fmt: skip
    recording = open_recording(request)
    if recording is None:  # said why; run unrecorded, as the full path would (without saying it twice)
        try:
            os.execve(python, list(request.child_argv), activate.variables(env))
        except OSError:
            return
    sys.exit(die_like(recording.run()))


def _parse(argv: list[str]) -> _Parsed | None:  # noqa: PLR0912 - one flat option loop, as in warm.py
    parsed = _Parsed()
    i = 0
    while i < len(argv):
        arg = argv[i]
        name, equals, value = arg.partition("=")
        if arg in ("--offline", "-q", "--quiet"):
            parsed.quiet = parsed.quiet or arg != "--offline"
            i += 1
        elif arg == "--record-output":
            parsed.capture = True
            i += 1
        elif name == "--record" and equals:
            parsed.record = value
            i += 1
        elif arg == "--record":
            following = argv[i + 1 : i + 3]
            if len(following) == 2 and not following[0].startswith("-") and not following[0].endswith(
                    (".py", ".ipynb")) and not os.path.isfile(following[0]):  # fmt: skip
                parsed.record = following[0]  # `--record DIR SCRIPT`, as the CLI reads it
                i += 1
            i += 1
        elif name in ("--python", "--cache-dir", "--outputs") and (equals or i + 1 < len(argv)):
            given = value if equals else argv[i + 1]
            if name == "--outputs":
                parsed.outputs.append(given)
            elif name == "--python":
                parsed.python = given
            else:
                parsed.cache_dir = os.path.abspath(os.path.expanduser(given))
            i += 1 if equals else 2
        elif arg.startswith("-"):
            return None
        else:
            break
    else:
        return None
    script = argv[i]
    if script.endswith(".ipynb") or not (os.sep in script or script.endswith(".py") or os.path.isfile(script)):
        return None
    parsed.script, parsed.args = script, argv[i + 1 :]
    return parsed


def _default_folder() -> str | None:
    """platformdirs' user data dir + runs, where it is simple (records/command.py says the same)."""
    if not sys.platform.startswith("linux"):
        return None
    base = os.environ.get("XDG_DATA_HOME", "").strip() or os.path.expanduser("~/.local/share")
    return os.path.join(base, "reprorun", "runs")

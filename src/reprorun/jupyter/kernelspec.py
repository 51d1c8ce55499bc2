"""Jupyter kernelspecs for script envs: where Jupyter looks for them, and writing, listing, removing.

A kernelspec is a folder `kernels/NAME/` holding `kernel.json` in one of Jupyter's data
directories: the user's (`JUPYTER_DATA_DIR`, else `~/.local/share/jupyter` on Linux,
`~/Library/Jupyter` on macOS, `%APPDATA%/jupyter` on Windows, as jupyter_core computes it) or
`PREFIX/share/jupyter` for `--prefix`. Written with the standard library: Jupyter itself is not
needed to install one. reprorun's kernelspecs carry `metadata.reprorun` (the script and env), so
`list` and `remove` touch only them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reprorun.envs.layout import env_python
from reprorun.errors import UsageError

_NAME = re.compile(r"^[a-zA-Z0-9._-]+$")


@dataclass(frozen=True)
class Installed:
    """A reprorun kernelspec found on disk."""

    name: str
    folder: Path
    script: str
    env: str
    display_name: str

    @property
    def env_exists(self) -> bool:
        """Whether its environment is still in the cache (`cache prune` may have removed it)."""
        return os.path.exists(self.env)


def user_data_dir() -> Path:
    """The user's Jupyter data directory, as jupyter_core computes it."""
    if os.environ.get("JUPYTER_DATA_DIR"):
        return Path(os.environ["JUPYTER_DATA_DIR"])
    home = Path.home()
    if sys.platform == "darwin":
        return home / "Library" / "Jupyter"
    if sys.platform == "win32":  # pragma: no cover - POSIX CI
        return Path(os.environ.get("APPDATA") or home / "AppData" / "Roaming") / "jupyter"
    return Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share") / "jupyter"


def kernels_dir(prefix: str | None) -> Path:
    """`kernels/` of the user's data directory, or of `PREFIX/share/jupyter`."""
    return (Path(prefix).absolute() / "share" / "jupyter" if prefix else user_data_dir()) / "kernels"


def default_name(script: str) -> str:
    """`reprorun-<stem>-<6 hex of the script's path>`: two `analysis.py` in two folders differ."""
    absolute = os.path.abspath(script)
    stem = re.sub(r"[^a-zA-Z0-9._-]+", "-", Path(absolute).stem).strip("-.").lower() or "script"
    return f"reprorun-{stem}-{hashlib.sha256(absolute.encode()).hexdigest()[:6]}"


def check_name(name: str) -> str:
    """A kernel name Jupyter accepts (letters, digits, `.`, `_`, `-`), lower-cased as Jupyter does."""
    if not _NAME.match(name):
        raise UsageError(f"kernel name {name!r}: use only letters, digits, '.', '_' and '-'")
    return name.lower()


def spec(script: str, env: Path, key: str) -> dict[str, Any]:
    """The kernel.json of a script's kernel env: its interpreter starts ipykernel, env activated."""
    python = env_python(str(env))
    return {
        "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"{os.path.basename(script)} (reprorun)",
        "language": "python",
        # jupyter_client fills ${PATH} from the environment the kernel is started from.
        "env": {"VIRTUAL_ENV": str(env), "PATH": os.path.dirname(python) + os.pathsep + "${PATH}"},
        "metadata": {
            "reprorun": {"script": os.path.abspath(script), "env": str(env), "key": key},
            "debugger": True,
        },
    }


def write(folder: Path, content: dict[str, Any]) -> None:
    """Write (or replace) the kernelspec folder, its kernel.json written atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    temp = folder / f".kernel.json.{os.getpid()}.tmp"
    temp.write_text(json.dumps(content, indent=1) + "\n", "utf-8")
    os.replace(temp, folder / "kernel.json")


def installed(prefix: str | None) -> list[Installed]:
    """reprorun's kernelspecs in the user's data directory (or under PREFIX), by name."""
    found = []
    base = kernels_dir(prefix)
    for folder in sorted(base.iterdir()) if base.is_dir() else ():
        mine = _reprorun_metadata(folder)
        if mine is not None:
            data, meta = mine
            found.append(Installed(folder.name, folder, str(meta.get("script", "?")), str(meta.get("env", "?")),
                                   str(data.get("display_name", folder.name))))  # fmt: skip
    return found


def remove(name: str, prefix: str | None) -> Path:
    """Remove a reprorun kernelspec; one that is not reprorun's is left alone (an error)."""
    folder = kernels_dir(prefix) / name.lower()
    if not (folder / "kernel.json").is_file():
        raise UsageError(f"no kernel named {name!r} in {folder.parent}", hint="reprorun kernel list")
    if _reprorun_metadata(folder) is None:
        raise UsageError(f"kernel {name!r} was not installed by reprorun; leaving it alone",
                         hint="jupyter kernelspec remove NAME removes any kernel")  # fmt: skip
    shutil.rmtree(folder)
    return folder


def _reprorun_metadata(folder: Path) -> tuple[dict[str, Any], dict[str, Any]] | None:
    try:
        data = json.loads((folder / "kernel.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    meta = data.get("metadata", {}).get("reprorun") if isinstance(data, dict) else None
    return (data, meta) if isinstance(meta, dict) else None

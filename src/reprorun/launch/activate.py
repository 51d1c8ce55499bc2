"""The one activation of an environment for a process: which variables to set and which to drop.

Used by every launch: `exec` (execute.py), the in-process launch (inprocess.py), the warm path
(warm.py) and the cell and notebook runner (run through `exec`). Standard library only: the warm
path imports it.
"""

from __future__ import annotations

import os

from reprorun.envs import layout

TYPE_CHECKING = False  # typing's own flag costs an import of typing on the warm path
if TYPE_CHECKING:
    from collections.abc import Mapping

# PYTHONHOME would point the env's interpreter at another installation's standard library;
# __PYVENV_LAUNCHER__ (set by macOS framework builds) would make it report the launcher's
# sys.executable instead of the env's, so `site` would not find the env.
DROPPED = ("PYTHONHOME", "__PYVENV_LAUNCHER__")


def variables(env: str, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment variables a script in `env` sees: `base` (os.environ) with the env activated."""
    result = dict(os.environ if base is None else base)
    result["VIRTUAL_ENV"] = env
    result["PATH"] = layout.env_bin(env) + os.pathsep + result.get("PATH", "")
    for name in DROPPED:
        result.pop(name, None)
    return result


def activate_here(env: str) -> None:
    """Activate `env` in this process's own `os.environ` (the in-process launch)."""
    wanted = variables(env)
    for name in DROPPED:
        os.environ.pop(name, None)
    os.environ["VIRTUAL_ENV"] = wanted["VIRTUAL_ENV"]
    os.environ["PATH"] = wanted["PATH"]

"""The one activation of an environment for a process: which variables to set and which to drop.

Used by every launch: `exec` (execute.py), the in-process launch and the warm start, and the
cell and notebook runner (run through `exec`). Defined in `reprorun.cachefiles`, which the warm
start loads before anything else of reprorun; this is its name for the launches of this package.
"""

from __future__ import annotations

from reprorun.cachefiles import DROPPED, activate_here, variables

__all__ = ["DROPPED", "activate_here", "variables"]

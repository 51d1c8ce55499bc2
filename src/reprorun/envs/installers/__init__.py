"""Installers: who creates an environment and installs into it (pip via virtualenv, or uv).

    sources.py  where packages come from (pure; part of the key)
    venv.py     the layout of a built env: interpreter, site-packages, installed distributions
    base.py     the request, the backend protocol, the one install-error parser
    pip.py      virtualenv + virtualenv's embedded pip (and the one pip command builder)
    uv.py       uv

Both backends take the same requirement list, package sources and hashes, and leave the same
environment; only speed differs.
"""

from __future__ import annotations

from pathlib import Path

from reprorun.envs.installers.base import Backend
from reprorun.errors import BuildError


def backend_for(choice: str, unpacked: Path | None = None, store: Path | None = None) -> Backend:
    """`pip`, `uv`, or `auto` (uv when it can be found, else pip, run from `unpacked`, sharing
    its files through the content store `store`)."""
    if choice in ("uv", "auto"):
        from reprorun.envs.installers.uv import UvBackend, find_uv

        found = find_uv()
        if found:
            return UvBackend(found)
        if choice == "uv":
            raise BuildError("--installer uv: no 'uv' executable found",
                             hint="pip install 'reprorun[uv]', or put uv on PATH")  # fmt: skip
    from reprorun.envs.installers.pip import PipBackend

    return PipBackend(unpacked, store)

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

import logging
from pathlib import Path

from reprorun.envs.installers.base import Backend
from reprorun.envs.installers.sources import Sources
from reprorun.errors import BuildError

log = logging.getLogger("reprorun")


def backend_for(
    choice: str, unpacked: Path | None = None, store: Path | None = None, sources: Sources | None = None
) -> Backend:
    """`pip`, `uv`, or `auto` (uv when it can be found and can be given every pip setting of
    `sources`, else pip, run from `unpacked`, sharing its files through the content store `store`)."""
    unmappable = sources.pip_only if sources is not None else ()
    if unmappable:
        name, value, origin = unmappable[0]
        if choice == "uv":
            raise BuildError(f"--installer uv: pip's setting '{name} = {value}' ({origin}) has no faithful uv "
                             "equivalent, and uv would install past it",
                             hint="use --installer pip (or auto), or remove the setting")  # fmt: skip
        if choice == "auto":
            listed = ", ".join(f"'{n}' ({o})" for n, _, o in unmappable)
            log.debug("installer: pip, because uv cannot be given pip's setting %s", listed)
            choice = "pip"
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

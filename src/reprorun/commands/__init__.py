"""The commands of the command line, one module each, and the steps they share.

Each subcommand module has `describe(name)`, `configure(name, parser)` and
`run(name, ns, options) -> int`; `run` and `freeze` have `run_script(path, args, ns, options)`,
which returns an exit status or, for a run, a launch plan that only the CLI executes. Commands
never import one another: what two of them need (reading a script, finding or building its env)
is here.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reprorun.envs import build, keys
from reprorun.envs.cache import Cache, root
from reprorun.envs.frozenfor import frozen_for_mismatch
from reprorun.notices import names, warn_all
from reprorun.options import Options
from reprorun.script import metadata
from reprorun.script.loading import load, tell
from reprorun.script.metadata import Metadata
from reprorun.script.source import Source

__all__ = ["Located", "Prepared", "infer_from", "load", "locate", "prepare", "show_block", "tell"]

if TYPE_CHECKING:
    from reprorun.portable.unbundle import Bundle
    from reprorun.script.infer import Inference

log = logging.getLogger("reprorun")


@dataclass(frozen=True)
class Prepared:
    """A script, its parsed block, and its environment: found, or built by this call."""

    script: Source
    meta: Metadata
    spec: build.Spec
    env: build.Env
    cache: Cache


def prepare(path: str, options: Options, meta: Metadata | None = None, script: Source | None = None,
            bundle: Bundle | None = None) -> Prepared:  # fmt: skip
    """Load the script (unless given) and find or build its environment (run, sync); with a bundle
    (`--bundle`), the environment is the bundle's pins, from its wheels alone."""
    if script is None or meta is None:
        script, meta = load(path)
    cache = Cache(root(options))
    spec = build.spec_for(meta, options, cache, None if script.is_stdin else os.path.dirname(os.path.abspath(path)))
    if bundle is not None:
        from reprorun.portable.unbundle import spec_from

        spec = spec_from(bundle, spec)
    elif meta.settings.frozen_for:  # said on the full path only: a warm run prints nothing of its own
        warning = frozen_for_mismatch(meta.settings.frozen_for, spec.interpreter.tag)
        if warning:
            log.warning("%s", warning)
    label = "<stdin>" if script.is_stdin else path
    if os.environ.get("SLURM_JOB_ID") and not options.offline:  # `sbatch script.py` with the shebang
        from reprorun.cluster.jobs import ensure_in_job

        return Prepared(script, meta, spec, ensure_in_job(cache, spec, options, label), cache)
    env = build.ensure(cache, spec, options, label)
    return Prepared(script, meta, spec, env, cache)


@dataclass(frozen=True)
class Located:
    """A script's env as the cache knows it, without building anything."""

    script: str
    meta: Metadata
    spec: build.Spec
    key: str
    path: Path | None  # None when not built
    cache: Cache


def locate(path: str, options: Options) -> Located:
    """Parse the script, choose its interpreter, compute its key and look the env up (env, check)."""
    script, meta = load(path)
    cache = Cache(root(options))
    spec = build.spec_for(meta, options, cache, None if script.is_stdin else os.path.dirname(os.path.abspath(path)))
    key = keys.digest(spec.document())
    return Located(path, meta, spec, key, cache.lookup(key), cache)


def infer_from(text: str, path: str, notebook: str | None = None) -> Inference:
    """Requirements inferred from a script's text (or every code cell of a notebook), with its
    problems and unknown imports told to the user (stderr)."""
    from reprorun.script import importnames, infer, notebooks

    whole = notebooks.code_text(notebook, path) if notebook is not None else text
    where = notebooks.locator(notebook, path) if notebook is not None else "line {}".format
    local = importnames.local_modules(path) if os.path.exists(path) else ()
    found = infer.infer(whole, path, local=local, installed=importnames.installed_distributions(), where=where)
    warn_all(path, found.problems, lambda problem: f"{path}: {problem}")
    if found.unknown:
        log.warning("%s: no package known for: %s (add them with reprorun add)", path, names(found.unknown))
    return found


def show_block(text: str, path: str) -> None:
    """Print the script's block on stdout (LF line endings), for --dry-run."""
    block = metadata.parse(text, path).block
    assert block is not None
    sys.stdout.write(re.sub(r"\r\n?", "\n", text[block.start : block.end]) + "\n")

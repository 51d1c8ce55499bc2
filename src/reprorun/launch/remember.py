"""What the full path leaves for the next start of a script: the warm index entry and its kept code.

The warm start (reprorun/warm.py) reads both and writes neither (its one write is its use record); a run
that builds or checks the env, `sync`, and `submit` (for the snapshot its tasks run) write them
here. Not on the warm path: imported by the commands only.
"""

from __future__ import annotations

import os

from reprorun.envs import layout
from reprorun.warm import block_text, code_cache, config_text, fingerprint, runs_here


def eligible(ns: object) -> bool:
    """Whether a command line could have taken the warm path (no package-source options on it).

    Sources from the config file are fine: its text is part of the fingerprint. The installer
    does not matter: pip and uv build the same env, so either may fill the index.
    """
    sources = ("index_url", "extra_index_url", "find_links", "no_index", "bundle")
    return not any(getattr(ns, name, None) for name in sources)


def record(root: os.PathLike[str] | str, text: str, script: str, python_request: str | None,
           key: str, interpreter: str) -> None:  # fmt: skip
    """Write the index entry that lets the next run of this script take the warm path."""
    block = block_text(text)
    if block is None:
        return
    path = layout.index_entry(os.fspath(root), fingerprint(block, script, python_request, config_text()))
    info = os.stat(interpreter)
    content = f"{key}\n{interpreter}\n{info.st_size}\n{info.st_mtime_ns}\n"
    try:
        if layout.read_lines(path) != content.splitlines():
            os.makedirs(os.path.dirname(path), exist_ok=True)
            layout.write_atomic(path, content, durable=False)
    except OSError:
        pass  # only the next start's speed depends on it
    _write_code(os.fspath(root), key, script)


def _write_code(root: str, key: str, script: str) -> None:
    """Compile the script and keep its code where the in-process start reads it, when that start
    will apply (the env's Python is the one running reprorun) and the kept code is not current."""
    build = layout.published(root, key)
    if build is None or script.endswith(".ipynb"):
        return  # a notebook is run by the runner or a kernel, never by the in-process launch
    env = layout.env_dir(root, build)
    if not runs_here(layout.env_python(env)):
        return  # such a start execs the env's Python, which compiles the script itself
    try:
        with open(script, "rb") as handle:
            data = handle.read()
        file, header = code_cache(root, env, script, data)
        try:
            with open(file, "rb") as handle:
                if handle.read(len(header)) == header:
                    return
        except FileNotFoundError:
            pass
        import marshal

        code = compile(data, os.path.abspath(script), "exec", dont_inherit=True)
        layout.write_atomic(file, header + marshal.dumps(code), durable=False)
    except (OSError, SyntaxError, ValueError):
        pass  # only the next start's speed depends on it; a script that does not compile fails when run

"""The cache's layout contract: every name and path under the cache root, in one place.

Standard library only. The names and paths a start reads (and the config file, the small reads
and the atomic write) are defined in `reprorun.cachefiles`, which the warm start imports before
anything else, and are part of this module's API as they were: import them from here. Nothing
else spells a cache path. docs/cache.md describes the same layout for people.

    CACHEDIR.TAG
    envs/<key20>-<build>/      one environment; never modified once published
        reprorun-key.json      the key document it was built from
        reprorun-complete      written last inside the env: the build finished
    keys/<key20>               names the published build of a key, written atomically after
                               `reprorun-complete`: this is the publication
    locks/<key20>.lock         one builder per key (REPRORUN_LOCK=mkdir: locks/<key20>.lock.d/)
    locks/<build>.use          shared by every run of the env, exclusive for a pruner
    locks/<build>.use.d/       mkdir mode: a pruner's announced intent
    index/<fingerprint>        warm-path shortcut: block fingerprint -> key
    used/<build>               its mtime is the env's last use
    used/<build>.scripts       the scripts that used it, one absolute path per line
    used/<build>.code-<hash>   a script's compiled code, kept by the in-process launch
    used/<build>.<host>.<pid>  mkdir mode only: a run of that process uses the env
    interpreters/*.json        what each interpreter file is (by path, size and mtime)
    virtualenv/                virtualenv's app data
    pip/<wheel name>/          virtualenv's embedded pip wheel, unpacked once
    store/                     the content store (files shared between pip-built envs)
    stdin/<sha>.py             scripts read from standard input
    snapshots/                 reprorun submit: content-addressed snapshots and batch scripts
    tmp/<host>.<pid>.<start>.<r>/  a build's or freeze's temporary folder (the installers' TMPDIR)
    bundles/<sha>/             `--bundle ARCHIVE`: the archive extracted once
    readers/                   sticky, world-writable: use records of users who cannot write the rest
"""

from __future__ import annotations

import os

# What every start needs (the warm start imports it before anything else) lives in cachefiles.py.
from reprorun.cachefiles import (
    COMPLETE,
    ENVS,
    INDEX,
    KEYS,
    LOCKS,
    READERS,
    SHORT,
    USED,
    config_path,
    config_text,
    default_root,
    env_bin,
    env_dir,
    env_python,
    forget_config,
    index_entry,
    last_use,
    looks_complete,
    pointer,
    prune_intent,
    published,
    read_lines,
    reader_marker,
    reader_use,
    record_use,
    touch,
    use_lock,
    use_marker,
    write_atomic,
)

__all__ = [  # the names above are this module's API as much as those below
    "COMPLETE", "ENVS", "INDEX", "KEYS", "LOCKS", "READERS", "SHORT", "USED", "config_path", "config_text",
    "default_root", "env_bin", "env_dir", "env_python", "forget_config", "index_entry", "last_use", "looks_complete",
    "pointer", "prune_intent", "published", "read_lines", "reader_marker", "reader_use", "record_use", "touch",
    "use_lock", "use_marker", "write_atomic",
]  # fmt: skip
KEY_FILE = "reprorun-key.json"
TAG_NAME = "CACHEDIR.TAG"
TAG = """Signature: 8a477f597d28d172789f06886806bc55
# This file is a cache directory tag created by reprorun.
# For information about cache directory tags see https://bford.info/cachedir/
"""
INTERPRETERS, APP_DATA, PIP, STORE, STDIN = "interpreters", "virtualenv", "pip", "store", "stdin"
SNAPSHOTS = "snapshots"  # reprorun submit's default snapshot root
TMP = "tmp"
BUNDLES = "bundles"  # `reprorun --bundle ARCHIVE`: each archive extracted once, by its sha256
FOLDERS = (ENVS, KEYS, LOCKS, INDEX, USED)  # created with the root; the others on first use

# --- names ---------------------------------------------------------------------------------------


def build_lock(root: str, key: str) -> str:
    """The lock that admits one builder per key."""
    return os.path.join(root, LOCKS, key[:SHORT] + ".lock")


def scripts_file(root: str, build: str) -> str:
    """The list of scripts that used an env."""
    return os.path.join(root, USED, build + ".scripts")


# --- reading and writing -------------------------------------------------------------------------


def prepare_root(root: str) -> None:
    """Create the cache root and its folders, tagged so backup tools skip it (before a build)."""
    for name in FOLDERS:
        os.makedirs(os.path.join(root, name), exist_ok=True)
    readers = os.path.join(root, READERS)
    if not os.path.isdir(readers):  # sticky and world-writable, like /tmp: see docs/cache.md, "Sharing"
        try:  # noqa: SIM105 - contextlib is not loaded at start-up
            os.mkdir(readers)
        except FileExistsError:
            pass
        os.chmod(readers, 0o1777)  # noqa: S103 - sticky: each user may remove only their own files
    tag = os.path.join(root, TAG_NAME)
    if not os.path.exists(tag):
        write_atomic(tag, TAG)


def remember_script(root: str, build: str, script: str) -> None:
    """Note which script used an env (for `cache list`); cheap, append-only, best effort."""
    if script == "-":
        return
    line = os.path.abspath(script) + "\n"
    try:
        with open(scripts_file(root, build), "a+", encoding="utf-8") as handle:
            handle.seek(0)
            if line not in handle.read().splitlines(keepends=True):
                handle.write(line)
    except OSError:
        pass

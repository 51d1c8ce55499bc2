"""The files a run created or changed under its `--outputs` paths, with their size and sha256.

Before the run each path is walked once for (size, mtime) of every file, which costs a stat per
file and no reading; after it, a file that is new or whose size or mtime moved is hashed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

try:  # the builtin sha256 costs far less to import than hashlib's OpenSSL binding (as the warm start once did)
    from _sha2 import sha256  # type: ignore[import-not-found]  # Python >= 3.12
except ImportError:  # pragma: no cover - depends on the Python version
    try:
        from _sha256 import sha256  # type: ignore[import-not-found,no-redef,unused-ignore]
    except ImportError:
        from hashlib import sha256  # type: ignore[assignment,unused-ignore]

Snapshot = dict[str, tuple[int, int]]


def snapshot(paths: Iterable[str]) -> Snapshot:
    """(size, mtime_ns) of every file under the paths (a file, a folder, or nothing yet)."""
    found: Snapshot = {}
    for path in _files(paths):
        try:
            info = os.stat(path)
        except OSError:
            continue
        found[path] = (info.st_size, info.st_mtime_ns)
    return found


def changed(before: Snapshot, paths: Iterable[str]) -> list[dict[str, object]]:
    """The files under the paths created or changed since `before`: path, size, sha256."""
    after = snapshot(paths)
    result: list[dict[str, object]] = []
    for path, stamp in sorted(after.items()):
        if before.get(path) == stamp:
            continue
        try:
            digest = sha256_of(path)
        except OSError:
            continue  # removed again meanwhile
        result.append({"path": path, "size": stamp[0], "sha256": digest})
    return result


def sha256_of(path: str) -> str:
    """The sha256 of a file's bytes, read in blocks."""
    digest = sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return str(digest.hexdigest())


def sha256_of_bytes(data: bytes) -> str:
    """The sha256 of bytes in memory."""
    return str(sha256(data).hexdigest())


def _files(paths: Iterable[str]) -> Iterator[str]:
    for path in paths:
        root = os.path.abspath(path)
        if os.path.isfile(root):
            yield root
        elif os.path.isdir(root):
            for folder, dirs, names in os.walk(root):
                dirs.sort()
                for name in sorted(names):
                    yield os.path.join(folder, name)

"""Content-addressed snapshots: the script (and `--include` paths) as submitted, for queued tasks.

A snapshot is a folder `<root>/<digest>/` whose `src/` holds the script and the included files
at their places relative to the script's folder, so `import helpers` and `Path(__file__).parent`
work as they did. The digest is a sha256 over every file's relative path, executable bit and
bytes: the same files give the same folder, whoever submits them and however often. A snapshot is
written in a temporary folder and renamed into place in one step; its files are made read-only.
The batch scripts and the task logs live beside `src/`, in the same folder.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reprorun import processes
from reprorun.errors import UsageError

SKIPPED = {"__pycache__", ".git", ".hg", ".svn", ".ipynb_checkpoints"}
DIGEST = 16  # hex digits of the digest in the folder name (64 bits)


@dataclass(frozen=True)
class Snapshot:
    """Where a snapshot lives (or will) and what it holds."""

    folder: Path
    script: Path  # the script's copy: folder/src/<name>
    files: tuple[tuple[str, bytes, bool], ...]  # (path relative to src/, bytes, executable)

    @property
    def digest(self) -> str:
        """The folder's name: the digest of its files."""
        return self.folder.name


def collect(script: str, data: bytes, includes: Sequence[str]) -> list[tuple[str, bytes, bool]]:
    """The files of a snapshot: the script's bytes as read, then every included file."""
    base = os.path.dirname(os.path.abspath(script))
    name = os.path.basename(script)
    files = {name: (data, os.access(script, os.X_OK))}
    for include in includes:
        path = os.path.abspath(include)
        relative = os.path.relpath(path, base)
        if relative == os.curdir or relative.startswith(os.pardir + os.sep) or relative == os.pardir:
            raise UsageError(
                f"--include {include}: not inside the script's folder ({base})",
                hint="the snapshot keeps included paths where they are relative to the script",
            )
        if os.path.isdir(path):
            for folder, dirs, names in os.walk(path, followlinks=True):
                dirs[:] = sorted(d for d in dirs if d not in SKIPPED)
                for entry in sorted(names):
                    if not entry.endswith((".pyc", ".pyo")):
                        full = os.path.join(folder, entry)
                        files[os.path.relpath(full, base)] = _read(full, include)
        elif os.path.exists(path):
            files[relative] = _read(path, include)
        else:
            raise UsageError(f"--include {include}: no such file or folder")
    return [(rel, content, executable) for rel, (content, executable) in sorted(files.items())]


def _read(path: str, include: str) -> tuple[bytes, bool]:
    try:
        with open(path, "rb") as handle:
            return handle.read(), os.access(path, os.X_OK)
    except OSError as exc:
        raise UsageError(f"--include {include}: cannot read {path}: {exc.strerror}") from None


def locate(root: str, script: str, files: list[tuple[str, bytes, bool]]) -> Snapshot:
    """The snapshot of these files under root (it may not exist yet)."""
    digest = hashlib.sha256()
    for relative, content, executable in files:
        digest.update(f"{relative}\0{int(executable)}\0{len(content)}\0".encode("utf-8", "surrogateescape"))
        digest.update(content)
    folder = Path(os.path.abspath(root)) / digest.hexdigest()[:DIGEST]
    return Snapshot(folder, folder / "src" / os.path.basename(script), tuple(files))


def writable(root: str) -> str | None:
    """Why snapshots cannot be written under root, or None (nothing is created to find out)."""
    path = os.path.abspath(root)
    while not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    if not os.path.isdir(path):
        return f"{path} is not a folder"
    if not os.access(path, os.W_OK | os.X_OK):
        return f"{path} is not writable"
    return None


def create(snapshot: Snapshot, python: str | None = None) -> bool:
    """Write the snapshot unless it exists; True if this call wrote it.

    With `python`, its modules are compiled to bytecode for that interpreter first, so that a
    thousand tasks importing an included module read one `.pyc` instead of each writing one.
    """
    if (snapshot.folder / "src").is_dir():
        return False
    snapshot.folder.parent.mkdir(parents=True, exist_ok=True)
    temp = snapshot.folder.parent / f".tmp-{snapshot.digest}-{secrets.token_hex(4)}"
    try:
        for relative, content, executable in snapshot.files:
            target = temp / "src" / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            target.chmod(0o555 if executable else 0o444)
        if python is not None:
            # Best effort: a module that does not compile fails in the task, with its traceback.
            processes.run([python, "-m", "compileall", "-q", "-j", "1", str(temp / "src")])
        (temp / "logs").mkdir()
        try:
            os.rename(temp, snapshot.folder)
        except OSError:
            if (snapshot.folder / "src").is_dir():
                return False  # another submission of the same files won the race
            raise
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return True


def write_file(path: Path, text: str) -> None:
    """Write a small text file atomically (a reader sees all of it or nothing)."""
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)

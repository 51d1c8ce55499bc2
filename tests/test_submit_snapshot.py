"""cluster/snapshot.py: the content-addressed copy of a script and its --include paths."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from reprorun.cluster import snapshot
from reprorun.errors import UsageError


def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "data" / "__pycache__").mkdir(parents=True)
    (root / "analysis.py").write_text("import helpers\n")
    (root / "helpers.py").write_text("X = 1\n")
    (root / "data" / "a.csv").write_text("x\n1\n")
    (root / "data" / "__pycache__" / "junk.pyc").write_bytes(b"junk")
    (root / "data" / "stale.pyc").write_bytes(b"junk")
    return root


def files_of(root: Path, *includes: str) -> list[tuple[str, bytes, bool]]:
    script = root / "analysis.py"
    return snapshot.collect(str(script), script.read_bytes(), [str(root / i) for i in includes])


def test_collect_keeps_paths_relative_to_the_script_and_skips_caches(tmp_path: Path) -> None:
    root = project(tmp_path)
    files = files_of(root, "helpers.py", "data")
    assert [name for name, _, _ in files] == ["analysis.py", "data/a.csv", "helpers.py"]
    assert dict((n, c) for n, c, _ in files)["helpers.py"] == b"X = 1\n"


def test_collect_uses_the_bytes_given_for_the_script(tmp_path: Path) -> None:
    root = project(tmp_path)
    files = snapshot.collect(str(root / "analysis.py"), b"as parsed\n", [])
    assert files == [("analysis.py", b"as parsed\n", False)]


def test_includes_outside_the_script_folder_or_missing_are_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: E501
    root = project(tmp_path)
    (tmp_path / "outside.py").write_text("")
    monkeypatch.chdir(root)
    with pytest.raises(UsageError, match=r"--include \.\./outside\.py: not inside the script's folder"):
        snapshot.collect("analysis.py", b"", ["../outside.py"])
    with pytest.raises(UsageError, match=r"--include \.: not inside the script's folder"):
        snapshot.collect("analysis.py", b"", ["."])
    with pytest.raises(UsageError, match=r"--include nope: no such file or folder"):
        snapshot.collect("analysis.py", b"", ["nope"])


def test_digest_depends_on_names_bytes_and_mode_only(tmp_path: Path) -> None:
    root = project(tmp_path)
    base = snapshot.locate(str(tmp_path / "snaps"), str(root / "analysis.py"), files_of(root, "helpers.py"))
    again = snapshot.locate(str(tmp_path / "snaps"), str(root / "analysis.py"), files_of(root, "helpers.py"))
    assert base.folder == again.folder and len(base.digest) == 16
    assert base.script == base.folder / "src" / "analysis.py"
    (root / "helpers.py").write_text("X = 2\n")
    changed = snapshot.locate(str(tmp_path / "snaps"), str(root / "analysis.py"), files_of(root, "helpers.py"))
    assert changed.digest != base.digest
    (root / "helpers.py").write_text("X = 1\n")
    (root / "helpers.py").chmod(0o755)
    executable = snapshot.locate(str(tmp_path / "snaps"), str(root / "analysis.py"), files_of(root, "helpers.py"))
    assert executable.digest not in (base.digest, changed.digest)
    moved = project(tmp_path / "elsewhere")
    same_files = snapshot.locate(str(tmp_path / "snaps"), str(moved / "analysis.py"), files_of(moved, "helpers.py"))
    assert same_files.digest == base.digest  # where the files came from does not matter


def test_create_writes_read_only_files_once(tmp_path: Path) -> None:
    root = project(tmp_path)
    snap = snapshot.locate(str(tmp_path / "snaps"), str(root / "analysis.py"), files_of(root, "helpers.py", "data"))
    assert snapshot.create(snap, python=sys.executable) is True
    assert (snap.folder / "src" / "data" / "a.csv").read_text() == "x\n1\n"
    assert snap.script.read_text() == "import helpers\n"
    assert stat.S_IMODE(snap.script.stat().st_mode) == 0o444
    assert (snap.folder / "logs").is_dir()
    tag = sys.implementation.cache_tag
    assert (snap.folder / "src" / "__pycache__" / f"helpers.{tag}.pyc").is_file()  # compiled once, here
    assert not [p for p in (tmp_path / "snaps").iterdir() if p.name.startswith(".tmp-")]
    (root / "analysis.py").write_text("edited\n")
    assert snapshot.create(snap) is False  # it exists: nothing is rewritten
    assert snap.script.read_text() == "import helpers\n"


def test_create_loses_a_race_gracefully(tmp_path: Path) -> None:
    root = project(tmp_path)
    snap = snapshot.locate(str(tmp_path / "snaps"), str(root / "analysis.py"), files_of(root))
    (snap.folder / "src").mkdir(parents=True)  # another submission got there first
    assert snapshot.create(snap) is False


def test_writable_reports_without_creating(tmp_path: Path) -> None:
    assert snapshot.writable(str(tmp_path / "a" / "b")) is None
    assert not (tmp_path / "a").exists()
    (tmp_path / "file").write_text("")
    assert snapshot.writable(str(tmp_path / "file" / "snaps")) == f"{tmp_path / 'file'} is not a folder"
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        assert snapshot.writable(str(locked / "x")) == f"{locked} is not writable"


def test_write_file_is_atomic_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "batch.sh"
    snapshot.write_file(target, "one\n")
    snapshot.write_file(target, "two\n")
    assert target.read_text() == "two\n"
    assert os.listdir(tmp_path) == ["batch.sh"]

"""pip builds' bytecode shared between envs through the content store (issue 17): `_compile.py --store`.

A module's `.pyc` is stored under what decides it (the source's RECORD sha256, the magic number,
the source's mtime and size); a later env with the same source gets a hard link instead of
compiling. These tests run `_compile.py` as a build does (the env's interpreter, `-S`), on
folders laid out like a site-packages with real RECORD files; tests/test_bytecode.py builds real
pip envs. (uv builds share their `__pycache__` folders instead: tests/test_pycache_shared.py.)
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from reprorun.envs import _compile, store
from reprorun.envs.installers.pip import COMPILE_HELPER

TAG = sys.implementation.cache_tag
MTIME = 1_700_000_000  # every tree's sources get this mtime, as uv's links (or the store's) give them one


def _record_digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def site(root: Path, files: dict[str, str], recorded: bool = True, mtime: int = MTIME) -> Path:
    """A site-packages folder with these files and a dist whose RECORD lists them (with `recorded`)."""
    rows = []
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
        os.utime(path, (mtime, mtime))
        rows.append(f"{name},{_record_digest(text.encode())},{len(text.encode())}")
    if recorded:
        dist = root / "pkg-1.0.dist-info"
        dist.mkdir(parents=True, exist_ok=True)
        (dist / "RECORD").write_text("\n".join([*rows, "pkg-1.0.dist-info/RECORD,,"]) + "\n", "utf-8")
    return root


def compile_with_store(shelf: Path | None, *roots: Path) -> subprocess.CompletedProcess[str]:
    """What a build runs: the (here: this) interpreter with -S, the store, the site-packages."""
    shared = [] if shelf is None else ["--store", str(shelf)]
    return subprocess.run([sys.executable, "-S", COMPILE_HELPER, *shared, *map(str, roots)],
                          capture_output=True, text=True, check=False, timeout=120)  # fmt: skip


def pyc(source: Path) -> Path:
    return source.parent / "__pycache__" / f"{source.stem}.{TAG}.pyc"


def imported(root: Path, code: str) -> str:
    """Run code with root on sys.path, bytecode writing allowed; its stdout."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True,
                          check=True)  # fmt: skip
    return done.stdout


FILES = {
    "pkg/__init__.py": "",
    "pkg/core.py": "def value():\n    return 42\n",
    "pkg/deep/mod.py": "NAME = 'deep'\n",
    "pkg/tests/test_core.py": "def test():\n    pass\n",  # left as source: no bytecode, none stored
    "pkg/broken.py": "def (:\n",  # does not compile: stays source, nothing stored
}


def test_the_first_tree_fills_the_store_and_the_second_links_every_pyc(tmp_path: Path):
    shelf = tmp_path / "store"
    shelf.mkdir()
    one, two = site(tmp_path / "one", FILES), site(tmp_path / "two", FILES)
    assert compile_with_store(shelf, one).stderr == ""
    stored = sorted(path.name for path in shelf.iterdir())
    assert len(stored) == 3 and all(name.startswith("pyc-") for name in stored), stored  # __init__, core, deep.mod
    assert compile_with_store(shelf, two).stderr == ""
    for name in ("pkg/__init__.py", "pkg/core.py", "pkg/deep/mod.py"):
        first, second = pyc(one / name), pyc(two / name)
        assert first.stat().st_ino == second.stat().st_ino, name  # one file: both trees and the store
        assert second.stat().st_nlink == 3
    assert not pyc(two / "pkg/broken.py").exists()
    assert not (two / "pkg/tests/__pycache__").exists()
    assert sorted(path.name for path in shelf.iterdir()) == stored  # nothing new to keep
    # the linked bytecode is valid for the second tree's sources: Python uses it, writes nothing
    before = {p: p.stat().st_ino for p in two.rglob("*.pyc")}
    assert imported(two, "import pkg.core, pkg.deep.mod; print(pkg.core.value(), pkg.core.__cached__)") == (
        f"42 {pyc(two / 'pkg/core.py')}\n"
    )
    assert {p: p.stat().st_ino for p in two.rglob("*.pyc")} == before


def test_a_pyc_in_the_store_names_its_source_digest_magic_mtime_and_size(tmp_path: Path):
    shelf = tmp_path / "store"
    shelf.mkdir()
    one = site(tmp_path / "one", {"pkg/core.py": FILES["pkg/core.py"]})
    compile_with_store(shelf, one)
    (stored,) = shelf.iterdir()
    digest = _record_digest(FILES["pkg/core.py"].encode())[len("sha256=") :]
    magic = importlib_magic()
    size = len(FILES["pkg/core.py"])
    assert stored.name == f"pyc-{magic}-{digest}-{MTIME:x}-{size:x}"
    assert stored.read_bytes()[:4] == bytes.fromhex(magic)
    assert int.from_bytes(stored.read_bytes()[8:12], "little") == MTIME  # what Python checks at import


def importlib_magic() -> str:
    import importlib.util

    return importlib.util.MAGIC_NUMBER.hex()


def test_a_source_with_another_mtime_or_content_is_compiled_not_linked(tmp_path: Path):
    """The store's bytecode must never stand for a source it was not compiled from."""
    shelf = tmp_path / "store"
    shelf.mkdir()
    compile_with_store(shelf, site(tmp_path / "one", FILES))
    later = site(tmp_path / "later", FILES, mtime=MTIME + 60)  # same content, unpacked at another time
    compile_with_store(shelf, later)
    assert pyc(later / "pkg/core.py").stat().st_ino != pyc(tmp_path / "one/pkg/core.py").stat().st_ino
    assert len(list(shelf.iterdir())) == 6  # both mtimes kept now
    # an installed file edited before the bytecode is written: RECORD's digest is the old one,
    # but its mtime and size are new: compiled from what is there
    edited = site(tmp_path / "edited", FILES)
    (edited / "pkg/core.py").write_text("def value():\n    return 'edited'\n", "utf-8")
    compile_with_store(shelf, edited)
    assert pyc(edited / "pkg/core.py").stat().st_nlink == 2  # its own, kept under its new key
    assert imported(edited, "import pkg.core; print(pkg.core.value())") == "edited\n"


def test_modules_no_record_names_are_compiled_and_not_stored(tmp_path: Path):
    shelf = tmp_path / "store"
    shelf.mkdir()
    bare = site(tmp_path / "bare", FILES, recorded=False)  # e.g. virtualenv's own _virtualenv.py
    assert compile_with_store(shelf, bare).stderr == ""
    assert pyc(bare / "pkg/core.py").exists()
    assert list(shelf.iterdir()) == []


def test_without_a_usable_store_everything_is_compiled_as_before(tmp_path: Path):
    not_a_folder = tmp_path / "store"
    not_a_folder.write_text("")  # links into it fail; so would a store on another file system
    tree = site(tmp_path / "one", FILES)
    done = compile_with_store(not_a_folder, tree)
    assert (done.returncode, done.stderr) == (0, "")
    assert [pyc(tree / name).exists() for name in FILES] == [True, True, True, False, False]
    missing = site(tmp_path / "two", FILES)
    assert compile_with_store(tmp_path / "nowhere", missing).returncode == 0
    assert pyc(missing / "pkg/deep/mod.py").exists()
    assert not (tmp_path / "nowhere").exists()


def test_bytecode_already_there_is_left_alone(tmp_path: Path):
    """What a first run (or submit's compile) wrote stays: only modules without bytecode are done."""
    shelf = tmp_path / "store"
    shelf.mkdir()
    tree = site(tmp_path / "one", FILES)
    imported(tree, "import pkg.core")
    written = pyc(tree / "pkg/core.py").stat().st_ino
    compile_with_store(shelf, tree)
    assert pyc(tree / "pkg/core.py").stat().st_ino == written
    assert pyc(tree / "pkg/deep/mod.py").exists()
    assert len(list(shelf.iterdir())) == 1  # deep.mod's: the import wrote pkg's and core's


def test_concurrent_builds_share_one_store(tmp_path: Path):
    """Builds of other keys run at once: each tree ends with valid bytecode whoever stored first."""
    shelf = tmp_path / "store"
    shelf.mkdir()
    many = {f"pkg/m{i:03d}.py": f"VALUE = {i}\n" for i in range(200)}
    trees = [site(tmp_path / f"t{i}", many) for i in range(4)]
    workers = [subprocess.Popen([sys.executable, "-S", COMPILE_HELPER, "--store", str(shelf), str(tree)])
               for tree in trees]  # fmt: skip
    assert [worker.wait(timeout=120) for worker in workers] == [0] * 4
    assert len(list(shelf.iterdir())) == 200
    for tree in trees:
        assert all(pyc(tree / name).exists() for name in many)
        assert imported(tree, "import pkg.m199; print(pkg.m199.VALUE)") == "199\n"


def test_sweep_removes_stored_bytecode_no_env_links_to(tmp_path: Path):
    shelf = tmp_path / "store"
    shelf.mkdir()
    one, two = site(tmp_path / "one", FILES), site(tmp_path / "two", {"pkg/other.py": "X = 1\n"})
    compile_with_store(shelf, one)
    compile_with_store(shelf, two)
    assert len(list(shelf.iterdir())) == 4
    shutil.rmtree(one)
    assert store.sweep(shelf) == 3
    assert [path.name.startswith("pyc-") for path in shelf.iterdir()] == [True]
    shutil.rmtree(two)
    assert store.sweep(shelf) == 1


def test_recorded_digests_reads_quoted_rows_and_ignores_other_files(tmp_path: Path):
    root = tmp_path / "site"
    dist = root / "odd-1.0.dist-info"
    dist.mkdir(parents=True)
    digest = _record_digest(b"X = 1\n")
    (dist / "RECORD").write_text(textwrap.dedent(f"""\
        "odd/a, b.py",{digest},6
        odd/data.txt,{digest},6
        ../../../bin/tool.py,{digest},6
        odd/nohash.py,,
        odd/md5.py,md5=abc,6
        odd/evil.py,sha256=../../x,6
    """))
    found = _compile.recorded_digests(str(root))
    assert found == {
        os.path.normpath(root / "odd/a, b.py"): digest[7:],
        os.path.normpath(root / "../../../bin/tool.py"): digest[7:],
    }
    assert _compile.recorded_digests(str(tmp_path / "absent")) == {}

"""Envs share each package folder's `__pycache__` through the store (pycache.py, issue 17).

uv and pip builds alike. The bytecode a first run writes is there for the next env of the same
sources; tracebacks, `inspect` and coverage still name each env's own files; `cache prune`
removes a shared folder with the last env that used it. The unit tests lay out envs by hand (a
site-packages with RECORD files, sources with fixed mtimes, as uv's links into its cache and the
store's links have); the last ones build real envs (pip's: tests/test_bytecode_store.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest

from reprorun.envs import pycache, store
from test_bytecode_store import FILES, MTIME, manymods, site

TAG = sys.implementation.cache_tag
# lib/python3.X/site-packages
SITE = Path(sysconfig.get_path("purelib", vars={"base": "", "platbase": ""}).lstrip(os.sep))


def env(root: Path, files: dict[str, str] = FILES, mtime: int = MTIME, recorded: bool = True) -> Path:
    """An env folder whose site-packages holds these files (and RECORD)."""
    site(root / SITE, files, recorded=recorded, mtime=mtime)
    return root


def run_in(env_root: Path, code: str, write: bool = True) -> subprocess.CompletedProcess[str]:
    """This interpreter with the env's site-packages first on sys.path (as the env's python has it)."""
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if not write:
        environ["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(env_root / SITE)!r})\n{code}"],
                          env=environ, capture_output=True, text=True, check=False)  # fmt: skip


def test_each_package_folder_gets_a_pycache_in_the_store(tmp_path: Path):
    shelf = tmp_path / "store"
    one = env(tmp_path / "one")
    assert pycache.share(shelf, one) == 3  # the folders with modules (site-packages itself has none)
    links = sorted(str(p.relative_to(one / SITE)) for p in (one / SITE).rglob("__pycache__"))
    assert links == ["pkg/__pycache__", "pkg/deep/__pycache__", "pkg/tests/__pycache__"]
    assert len(list((one / pycache.REFS).iterdir())) == 3
    for link in links:
        full = one / SITE / link
        assert full.is_symlink() and not os.path.isabs(os.readlink(full))  # relative: a moved cache still works
        assert full.resolve().parent == (shelf / pycache.FOLDER).resolve()
        assert (full / pycache.USERS).stat().st_nlink == 2  # the store's name and this env's reference


def test_a_second_env_of_the_same_sources_uses_the_bytecode_the_first_one_wrote(tmp_path: Path):
    shelf = tmp_path / "store"
    one, two = env(tmp_path / "one"), env(tmp_path / "two")
    pycache.share(shelf, one)
    pycache.share(shelf, two)
    assert (one / SITE / "pkg/__pycache__").resolve() == (two / SITE / "pkg/__pycache__").resolve()
    assert run_in(one, "import pkg.core, pkg.deep.mod").returncode == 0  # a first run compiles, as with uv
    written = two / SITE / "pkg/__pycache__" / f"core.{TAG}.pyc"
    assert written.exists()  # ... into the store, so the second env has it
    inode = written.stat().st_ino
    done = run_in(two, "import pkg.core as c; print(c.__cached__); print(c.value.__code__.co_filename)")
    assert done.stdout.splitlines() == [str(written), str(two / SITE / "pkg/core.py")]  # names its own file
    assert written.stat().st_ino == inode  # used as it was: not stale for the second env, not rewritten


def test_a_traceback_in_the_second_env_names_its_own_file(tmp_path: Path):
    files = {"pkg/__init__.py": "", "pkg/fail.py": "def inner():\n    raise ValueError('boom')\n"}
    shelf = tmp_path / "store"
    one, two = env(tmp_path / "one", files), env(tmp_path / "two", files)
    pycache.share(shelf, one)
    pycache.share(shelf, two)
    run_in(one, "import pkg.fail")
    done = run_in(two, "import inspect, pkg.fail as f\nprint(inspect.getsourcefile(f.inner))\nf.inner()", write=False)
    source = two / SITE / "pkg/fail.py"
    assert done.stdout == f"{source}\n"
    assert f'File "{source}", line 2, in inner' in done.stderr
    assert str(one) not in done.stderr


def test_other_mtimes_or_contents_get_other_folders(tmp_path: Path):
    shelf = tmp_path / "store"
    envs = [env(tmp_path / "one"), env(tmp_path / "later", mtime=MTIME + 60),
            env(tmp_path / "edited", {**FILES, "pkg/core.py": "def value():\n    return 43\n"})]  # fmt: skip
    for root in envs:
        pycache.share(shelf, root)
    targets = [(root / SITE / "pkg/__pycache__").resolve() for root in envs]
    assert len(set(targets)) == 3
    deep = {(root / SITE / "pkg/deep/__pycache__").resolve() for root in envs}
    assert len(deep) == 2  # pkg/deep is the same in `one` and `edited`: shared


def test_a_file_no_record_lists_counts_by_its_mtime(tmp_path: Path):
    """virtualenv's `_virtualenv.py` is written anew for each env: its folder is shared with none."""
    shelf = tmp_path / "store"
    one = env(tmp_path / "one", recorded=False)
    two = env(tmp_path / "two", recorded=False, mtime=MTIME + 1)
    three = env(tmp_path / "three", recorded=False)
    for root in (one, two, three):
        pycache.share(shelf, root)
    resolved = [(root / SITE / "pkg/__pycache__").resolve() for root in (one, two, three)]
    assert resolved[0] != resolved[1] and resolved[0] == resolved[2]


def test_a_folder_with_its_own_pycache_keeps_it(tmp_path: Path):
    shelf = tmp_path / "store"
    one = env(tmp_path / "one")
    run_in(one, "import pkg.core")
    own = one / SITE / "pkg/__pycache__"
    assert own.is_dir() and not own.is_symlink()
    pycache.share(shelf, one)
    assert not own.is_symlink()
    assert (one / SITE / "pkg/deep/__pycache__").is_symlink()


def test_without_a_usable_store_nothing_changes(tmp_path: Path):
    not_a_folder = tmp_path / "store"
    not_a_folder.write_text("")
    one = env(tmp_path / "one")
    assert pycache.share(not_a_folder, one) == 0
    assert list((one / SITE).rglob("__pycache__")) == []
    assert run_in(one, "import pkg.core; print(pkg.core.value())").stdout == "42\n"


def test_a_store_on_another_file_system_shares_nothing(tmp_path: Path):
    """Hard links (the count of a folder's users) cannot cross file systems: the env keeps its own."""
    shm = Path("/dev/shm")
    one = env(tmp_path / "one")
    if not shm.is_dir() or shm.stat().st_dev == one.stat().st_dev:
        pytest.skip("no other file system at /dev/shm")
    with tempfile.TemporaryDirectory(dir=shm) as other:
        assert pycache.share(Path(other) / "store", one) == 0
        assert list((one / SITE).rglob("__pycache__")) == []
        assert run_in(one, "import pkg.core; print(pkg.core.value())").stdout == "42\n"
        assert (one / SITE / "pkg/__pycache__").is_dir()  # Python's own, in the env


def test_sweep_removes_a_shared_folder_with_its_last_env(tmp_path: Path):
    shelf = tmp_path / "store"
    one = env(tmp_path / "one")
    two = env(tmp_path / "two", {"pkg/__init__.py": "", "pkg/core.py": FILES["pkg/core.py"]})
    pycache.share(shelf, one)
    pycache.share(shelf, two)
    run_in(one, "import pkg.core")
    folders = set((shelf / pycache.FOLDER).iterdir())
    assert store.sweep(shelf) == 0
    shutil.rmtree(one)  # removes its links, never what they point to
    assert set((shelf / pycache.FOLDER).iterdir()) == folders
    assert store.sweep(shelf) == len(folders) - 1  # all but the one `two` uses
    assert run_in(two, "import pkg.core; print(pkg.core.value())").stdout == "42\n"
    shutil.rmtree(two)
    assert store.sweep(shelf) == 1
    assert list((shelf / pycache.FOLDER).iterdir()) == []


def test_release_removes_only_the_failed_builds_folders(tmp_path: Path):
    shelf = tmp_path / "store"
    kept = env(tmp_path / "kept", {"pkg/__init__.py": "", "pkg/a.py": "A = 1\n"})
    failed = env(tmp_path / "failed", {"pkg/__init__.py": "", "pkg/a.py": "A = 2\n"})
    pycache.share(shelf, kept)
    pycache.share(shelf, failed)
    shutil.rmtree(kept)  # unused now, but not this build's: a prune's job, not release's
    inodes = store.linked_inodes(failed)
    shutil.rmtree(failed)
    assert store.release(shelf, inodes) == 1
    assert len(list((shelf / pycache.FOLDER).iterdir())) == 1
    assert store.sweep(shelf) == 1


def test_a_moved_cache_keeps_its_shared_bytecode(tmp_path: Path):
    cache = tmp_path / "cache"
    one = env(cache / "envs" / "one")
    pycache.share(cache / "store", one)
    run_in(one, "import pkg.core")
    cache.rename(tmp_path / "moved")
    moved = tmp_path / "moved" / "envs" / "one" / SITE / "pkg/__pycache__" / f"core.{TAG}.pyc"
    assert moved.exists()


@pytest.mark.slow
def test_a_second_uv_env_starts_with_the_bytecode_of_the_first_ones_run(run_reprorun, tmp_path: Path,
                                                                        cache_dir: Path):  # fmt: skip
    """uv writes no bytecode; the first run writes what it imports, into the store; the next env
    of the same packages starts with it; prune removes it with the last env that used it."""
    links, script = manymods(tmp_path)
    for extra in ((), ("--refresh",)):
        result = run_reprorun("--installer", "uv", "--python", sys.executable, "--find-links", links, *extra, script,
                              env={"PYTHONDONTWRITEBYTECODE": ""})  # fmt: skip
        assert (result.returncode, result.stdout) == (0, "99\n"), result.stderr
    envs = sorted((cache_dir / "envs").iterdir(), key=lambda env: env.stat().st_mtime)
    assert len(envs) == 2
    caches = [next(env.glob("lib/python*/site-packages/manymods/__pycache__")) for env in envs]
    assert all(path.is_symlink() for path in caches) and caches[0].resolve() == caches[1].resolve()
    assert sorted(p.name for p in caches[1].iterdir()) == sorted([f"__init__.{TAG}.pyc", f"m099.{TAG}.pyc",
                                                                 pycache.USERS])  # what the first run imported
    assert run_reprorun("cache", "prune", "--older-than", "0d").returncode == 0
    assert [env for env in envs if env.exists()] == []
    assert list((cache_dir / "store" / pycache.FOLDER).iterdir()) == []

"""The content store: envs share identical files through hard links (issue 6)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reprorun.envs import store


def tree(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def test_identical_files_become_one_inode_and_sweep_removes_orphans(tmp_path: Path):
    big = os.urandom(4096)
    one = tree(tmp_path / "one", {"pkg/a.py": big, "pkg/small.py": b"x = 1\n", "pkg/only_one.bin": os.urandom(2048)})
    two = tree(tmp_path / "two", {"pkg/a.py": big, "pkg/small.py": b"x = 1\n"})
    shelf = tmp_path / "store"
    assert store.share(shelf, one) == (0, 0)  # the first tree fills the store
    shared, saved = store.share(shelf, two)
    assert (shared, saved) == (2, 4096 + 6)
    assert os.stat(one / "pkg/a.py").st_ino == os.stat(two / "pkg/a.py").st_ino
    assert (two / "pkg/a.py").read_bytes() == big
    assert os.stat(two / "pkg/small.py").st_nlink == 3  # two envs and the store
    assert store.share(shelf, two) == (0, 0)  # sharing again changes nothing
    import shutil

    shutil.rmtree(one)
    assert store.sweep(shelf) == 1  # only_one.bin: no env links to it any more
    shutil.rmtree(two)
    assert store.sweep(shelf) == 2
    assert list(shelf.iterdir()) == []


def test_files_with_another_mode_are_not_merged(tmp_path: Path):
    data = os.urandom(2048)
    one = tree(tmp_path / "one", {"tool": data})
    two = tree(tmp_path / "two", {"tool": data})
    (two / "tool").chmod(0o755)
    shelf = tmp_path / "store"
    store.share(shelf, one)
    assert store.share(shelf, two) == (0, 0)
    assert os.stat(two / "tool").st_mode & 0o777 == 0o755


@pytest.mark.slow
def test_two_pip_envs_of_the_same_packages_share_their_files(run_reprorun, tmp_path: Path, cache_dir: Path):
    path = tmp_path / "s.py"
    path.write_text("# /// script\n# dependencies = ['gamma', 'foo-bar']\n# ///\nimport sys\nprint(sys.prefix)\n")
    first = run_reprorun("--installer", "pip", path).stdout.strip()
    second = run_reprorun("--installer", "pip", "--refresh", path).stdout.strip()
    assert first != second
    site = next(Path(second).glob("lib/python*/site-packages"))
    twin = Path(first) / site.relative_to(second)
    for name in ("beta/__init__.py", "gamma/__init__.py", "foo_bar/__init__.py"):
        assert (site / name).stat().st_ino == (twin / name).stat().st_ino, name
    shared = [p for p in site.rglob("*") if p.is_file() and (twin / p.relative_to(site)).exists()
              and p.stat().st_ino == (twin / p.relative_to(site)).stat().st_ino]  # fmt: skip
    assert len(shared) >= 6  # sources and metadata; bytecode embeds each copy's mtime and differs


def test_empty_files_get_one_mtime_in_every_env(tmp_path: Path):
    """Empty files are not linked (they take no disk), but get the same mtime in every env, as a
    link would give them: the bytecode of an empty `__init__.py` is then valid in each env that
    shares it (pycache.py names a shared `__pycache__` folder by its sources' mtimes)."""
    one = tree(tmp_path / "one", {"pkg/__init__.py": b"", "pkg/a.py": b"A = 1\n"})
    two = tree(tmp_path / "two", {"pkg/__init__.py": b"", "pkg/a.py": b"A = 1\n"})
    os.utime(two / "pkg/__init__.py", (1_800_000_000, 1_800_000_000))
    shelf = tmp_path / "store"
    store.share(shelf, one)
    store.share(shelf, two)
    mtimes = {os.stat(root / "pkg/__init__.py").st_mtime for root in (one, two)}
    assert mtimes == {store.EMPTY_MTIME}
    assert os.stat(two / "pkg/__init__.py").st_nlink == 1  # not linked: no block to save
    assert len(list(shelf.iterdir())) == 1  # a.py only

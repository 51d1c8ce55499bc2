"""pip builds share bytecode through the store's `__pycache__` folders, as uv builds do (issue 17).

No build compiles: pip installs with `--no-compile`, the content store links the env's files
(store.py), then each package folder's `__pycache__` becomes a folder of the store (pycache.py).
An env's first run writes what it imports there, a later env of the same packages starts with it,
and `submit` compiles the rest once (`compile_env`, `_compile.py`) so that an array's tasks write
nothing. The helpers here lay out site-packages folders with real RECORD files and fixed mtimes
(tests/test_pycache_shared.py uses them too); the last tests build real pip envs.
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from reprorun.envs import _compile, pycache
from reprorun.envs.installers.pip import COMPILE_HELPER, compile_env, compile_once
from reprorun.envs.installers.venv import env_python
from wheelhouse import Spec, build_wheel

TAG = sys.implementation.cache_tag
# lib/python3.X/site-packages, as pycache.share finds it in an env
SITE = Path(sysconfig.get_path("purelib", vars={"base": "", "platbase": ""}).lstrip(os.sep))
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


def compile_tree(*roots: Path) -> subprocess.CompletedProcess[str]:
    """What `compile_env` runs: the (here: this) interpreter with -S, the site-packages folders."""
    return subprocess.run([sys.executable, "-S", COMPILE_HELPER, *map(str, roots)],
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
    "pkg/tests/test_core.py": "def test():\n    pass\n",  # left as source: no bytecode
    "pkg/broken.py": "def (:\n",  # does not compile: stays source
}


def test_compiling_fills_the_shared_folders_for_every_env_of_the_same_sources(tmp_path: Path):
    """What `submit` compiles in one env is there, valid, for the other, which then writes nothing."""
    shelf = tmp_path / "store"
    one, two = (tmp_path / "one", tmp_path / "two")
    sites = [site(tree / SITE, FILES) for tree in (one, two)]
    assert [pycache.share(shelf, tree) for tree in (one, two)] == [3, 3]  # pkg, pkg/deep, pkg/tests
    assert compile_tree(sites[0]).stderr == ""
    for name in ("pkg/__init__.py", "pkg/core.py", "pkg/deep/mod.py"):
        assert pyc(sites[0] / name).stat().st_ino == pyc(sites[1] / name).stat().st_ino, name  # one file
    assert not pyc(sites[1] / "pkg/broken.py").exists()
    assert not pyc(sites[1] / "pkg/tests/test_core.py").exists()
    before = {p: p.stat().st_mtime_ns for p in (shelf / pycache.FOLDER).rglob("*")}
    assert imported(sites[1], "import pkg.core, pkg.deep.mod; print(pkg.core.value(), pkg.core.__cached__)") == (
        f"42 {pyc(sites[1] / 'pkg/core.py')}\n"
    )
    assert compile_tree(sites[1]).stderr == ""  # a second submit finds everything compiled
    assert {p: p.stat().st_mtime_ns for p in (shelf / pycache.FOLDER).rglob("*")} == before


def test_bytecode_already_there_is_left_alone(tmp_path: Path):
    """What a first run wrote stays: only modules without bytecode are compiled."""
    tree = site(tmp_path / "one", FILES)
    imported(tree, "import pkg.core")
    written = pyc(tree / "pkg/core.py").stat()
    assert compile_tree(tree).returncode == 0
    assert pyc(tree / "pkg/core.py").stat().st_ino == written.st_ino
    assert pyc(tree / "pkg/core.py").stat().st_mtime_ns == written.st_mtime_ns
    assert pyc(tree / "pkg/deep/mod.py").exists()


def test_concurrent_compiles_into_one_shared_folder(tmp_path: Path):
    """Submits of envs of the same packages at once: each ends with valid bytecode, whoever wrote it."""
    shelf = tmp_path / "store"
    many = {f"pkg/m{i:03d}.py": f"VALUE = {i}\n" for i in range(200)}
    trees = [tmp_path / f"t{i}" for i in range(4)]
    sites = [site(tree / SITE, many) for tree in trees]
    for tree in trees:
        pycache.share(shelf, tree)
    workers = [subprocess.Popen([sys.executable, "-S", COMPILE_HELPER, str(root)]) for root in sites]
    assert [worker.wait(timeout=120) for worker in workers] == [0] * 4
    (folder,) = (shelf / pycache.FOLDER).iterdir()
    assert len(list(folder.glob("*.pyc"))) == 200
    for root in sites:
        assert imported(root, "import pkg.m199; print(pkg.m199.VALUE, pkg.m199.__cached__)") == (
            f"199 {pyc(root / 'pkg/m199.py')}\n"
        )


def test_the_compiled_name_is_the_modules_path_inside_the_env(tmp_path: Path):
    """The same source gives the same `.pyc` whichever env compiles it (Python names the env's
    own file when it loads it: tests/test_bytecode.py)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    (root,) = venv.glob("lib/python*/site-packages")
    site(root, {"pkg/__init__.py": "", "pkg/core.py": FILES["pkg/core.py"]})
    compile_env(venv)
    compiled = str(pyc(root / "pkg/core.py"))
    read = f"import marshal; print(marshal.loads(open({compiled!r}, 'rb').read()[16:]).co_filename)"
    named = subprocess.run([str(env_python(venv)), "-c", read], capture_output=True, text=True, check=True)
    assert named.stdout.strip() == str((root / "pkg/core.py").relative_to(venv.resolve()))


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
    found = pycache.recorded_digests(str(root))
    assert found == {
        os.path.normpath(root / "odd/a, b.py"): digest[7:],
        os.path.normpath(root / "../../../bin/tool.py"): digest[7:],
    }
    assert pycache.recorded_digests(str(tmp_path / "absent")) == {}
    assert not hasattr(_compile, "recorded_digests")  # the env's compiler needs no RECORD any more


def manymods(tmp_path: Path) -> tuple[Path, Path]:
    """A wheel of a package of 100 modules (in `links`) and a script importing one of them."""
    links = tmp_path / "links"
    files = tuple((f"manymods/m{i:03d}.py", f"VALUE = {i}\n") for i in range(100))
    build_wheel(Spec("manymods", "1.0", "manymods", extra_files=files), links)
    script = tmp_path / "s.py"
    script.write_text("# /// script\n# dependencies = ['manymods']\n# ///\nimport manymods.m099\n"
                      "print(manymods.m099.VALUE)\n")  # fmt: skip
    return links, script


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every file and link under root (not following links): its size and mtime."""
    found = {}
    for folder, _dirs, names in os.walk(root):
        for name in names:
            info = os.lstat(os.path.join(folder, name))
            found[os.path.relpath(os.path.join(folder, name), root)] = (info.st_size, info.st_mtime_ns)
    return found


@pytest.mark.slow
def test_a_pip_env_compiled_by_submit_writes_nothing_when_it_runs(run_reprorun, tmp_path: Path, cache_dir: Path):
    """A pip build writes no bytecode; `submit` compiles the env once, into the store's folders,
    and marks it; a task's run then writes nothing into the cache (tests/test_submit_slurm.py
    checks it with a real array); a later env of the same packages starts compiled; prune removes
    the shared folders with the last env."""
    links, script = manymods(tmp_path)
    argv = ("--installer", "pip", "--python", sys.executable, "--find-links", links)
    writing = {"PYTHONDONTWRITEBYTECODE": ""}
    # A first run whose user forbids bytecode writes none (the build compiles nothing either).
    result = run_reprorun(*argv, script, env={"PYTHONDONTWRITEBYTECODE": "1"})
    assert (result.returncode, result.stdout) == (0, "99\n"), result.stderr
    (first,) = (cache_dir / "envs").iterdir()
    (package,) = first.glob("lib/python*/site-packages/manymods")
    assert (package / "__pycache__").is_symlink()
    assert list((cache_dir / "store" / pycache.FOLDER).rglob("*.pyc")) == []  # nothing compiled at build
    compile_once(first)
    assert (first / "reprorun-bytecode").exists()
    assert len(list((package / "__pycache__").glob("*.pyc"))) == 101
    before = _tree(cache_dir)
    compile_once(first)  # once only
    result = run_reprorun(*argv, script, env=writing)
    assert (result.returncode, result.stdout) == (0, "99\n"), result.stderr
    after = _tree(cache_dir)
    changed = sorted(path for path in set(before) | set(after) if before.get(path) != after.get(path))
    assert all(path.startswith("used/") for path in changed), changed  # the run's use marker, nothing else
    # A later env of the same packages: its folder is the same, compiled already.
    assert run_reprorun(*argv, "--refresh", script, env=writing).returncode == 0
    (second,) = [env for env in (cache_dir / "envs").iterdir() if env != first]
    (other,) = second.glob("lib/python*/site-packages/manymods/__pycache__")
    assert other.resolve() == (package / "__pycache__").resolve()
    assert run_reprorun("cache", "prune", "--older-than", "0d").returncode == 0
    assert list((cache_dir / "store" / pycache.FOLDER).iterdir()) == []

"""Bytecode: no build compiles; a run writes what it imports into `__pycache__` folders shared
between envs through the store (issue 17; tests/test_bytecode_store.py, tests/test_pycache_shared.py);
`_compile.py` compiles an env whole on every core (issue 7), for `submit`."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reprorun.envs import _compile
from reprorun.envs.installers.pip import compile_env
from reprorun.envs.installers.venv import env_python
from wheelhouse import Spec, build_wheel

MODULES = 150  # above FILES_PER_WORKER twice over: the work is shared out when there are 2+ CPUs


def _many_modules_wheel(folder: Path) -> Path:
    files = [(f"manymods/m{i:03d}.py", f"VALUE = {i}\n" + "X = 1\n" * (i % 40)) for i in range(MODULES)]
    files.append(("manymods/broken_syntax.py", "def (:\n"))  # pip leaves such a file as source too
    spec = Spec("manymods", "1.0", "manymods", extra_files=tuple(files))
    return build_wheel(spec, folder)


def _pyc_header(pyc: Path) -> tuple[bytes, int]:
    data = pyc.read_bytes()
    return data[:4], int.from_bytes(data[4:8], "little")


def _stale(pyc: Path, source: Path) -> bool:
    """True if Python would not use this timestamp `.pyc` for the source (mtime or size differ)."""
    data = pyc.read_bytes()[:16]
    info = source.stat()
    return (int.from_bytes(data[8:12], "little"), int.from_bytes(data[12:16], "little")) != (
        int(info.st_mtime) & 0xFFFFFFFF,
        info.st_size & 0xFFFFFFFF,
    )


@pytest.mark.slow
@pytest.mark.parametrize("version", ["this", "3.10"])
def test_pip_builds_share_valid_bytecode_as_pip_would_write_it(
    run_reprorun, tmp_path: Path, cache_dir: Path, version: str
):
    python = sys.executable if version == "this" else version  # reprorun finds 3.10 on PATH or in pyenv
    links = tmp_path / "links"
    _many_modules_wheel(links)
    script = tmp_path / "s.py"
    script.write_text(textwrap.dedent("""\
        # /// script
        # dependencies = ["manymods"]
        # ///
        import manymods.m149
        print(manymods.m149.VALUE)
    """))
    # Twice: the second env's sources become links to the store's copies (with their mtimes), and
    # its `__pycache__` is the first env's. The build compiles nothing: the first run writes what
    # it imports (the user allows it here), into the store.
    for extra in ((), ("--refresh",)):
        result = run_reprorun("--installer", "pip", "--python", python, "--find-links", links, *extra, script,
                              env={"PYTHONDONTWRITEBYTECODE": ""})  # fmt: skip
        if version != "this" and "no Python" in result.stderr:
            pytest.skip(f"no Python {version} here")
        assert (result.returncode, result.stdout) == (0, "149\n"), result.stderr
    envs = sorted((cache_dir / "envs").iterdir(), key=lambda env: env.stat().st_mtime)
    assert len(envs) == 2
    first, second = (next(env.glob("lib/python*/site-packages/manymods/m100.py")) for env in envs)
    assert first.stat().st_ino == second.stat().st_ino  # the sources are shared through the store
    caches = [first.parent / "__pycache__", second.parent / "__pycache__"]  # ... and so is their bytecode
    assert all(path.is_symlink() for path in caches) and caches[0].resolve() == caches[1].resolve()
    tag = subprocess.run([str(env_python(envs[0])), "-c", "import sys; print(sys.implementation.cache_tag)"],
                         capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    assert sorted(p.name for p in caches[0].glob("*.pyc")) == [f"__init__.{tag}.pyc", f"m149.{tag}.pyc"]
    # What `submit` runs before an array's tasks: every module compiled once, valid for both envs.
    compile_env(envs[1])
    for env in envs:
        (package,) = env.glob("lib/python*/site-packages/manymods")
        sources = sorted(package.glob("*.py"))
        assert len(sources) == MODULES + 2  # __init__, the modules, the one that does not compile
        state = {}
        for source in sources:
            pyc = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
            state[source.name] = "missing" if not pyc.exists() else "stale" if _stale(pyc, source) else "ok"
            if pyc.exists():
                assert int.from_bytes(pyc.read_bytes()[4:8], "little") == 0  # checked by mtime, as pip writes it
        assert state.pop("broken_syntax.py") == "missing"
        assert set(state.values()) == {"ok"}, {name: s for name, s in state.items() if s != "ok"}
    pyc100 = caches[0] / f"m100.{tag}.pyc"
    read = f"import marshal; print(marshal.loads(open({str(pyc100)!r}, 'rb').read()[16:]).co_filename)"
    named = subprocess.run([str(env_python(envs[0])), "-c", read], capture_output=True, text=True, check=True)
    assert named.stdout.strip() == str(second.relative_to(envs[1]))  # lib/python3.X/site-packages/manymods/m100.py


def test_split_shares_bytes_evenly_largest_first():
    files = [(100, "a"), (10, "b"), (90, "c"), (20, "d"), (5, "e")]
    shares = _compile._split(files, 2)
    assert shares == [["a", "b", "e"], ["c", "d"]]  # each file also weighs 2048 bytes of overhead
    assert _compile._split(files, 1) == [["a", "c", "d", "b", "e"]]
    assert _compile._split([(1, "only")], 3) == [["only"]]  # never an empty worker


def test_a_compile_worker_compiles_the_files_it_is_sent(tmp_path: Path):
    names = []
    for index, text in enumerate(["A = 1\n", "def (:\n", "B = 'é'\n"]):
        path = tmp_path / f"name with space {index}.py"
        path.write_text(text, "utf-8")
        names.append(str(path))
    worker = _compile._start_worker(names)
    assert worker.wait(timeout=60) == 0
    made = [os.path.exists(importlib.util.cache_from_source(name)) for name in names]
    assert made == [True, False, True]


TRACED = """\
import inspect
import traceback

def inner():
    raise ValueError("boom")

def outer():
    return inner()

class Shape:
    def area(self):
        return 1
"""


@pytest.mark.slow
@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_tracebacks_inspect_and_coverage_name_the_env_files(
    run_reprorun, tmp_path: Path, cache_dir: Path, installer: str
):
    """Bytecode shared between envs (pip and uv alike: written by the first env's run into a
    `__pycache__` in the store): tracebacks and tools still name each env's own files."""
    links = tmp_path / "links"
    build_wheel(Spec("traced", "1.0", "traced", extra_files=(("traced/mod.py", TRACED),)), links)
    script = tmp_path / "s.py"
    script.write_text(textwrap.dedent("""\
        # /// script
        # dependencies = ["traced"]
        # ///
        import inspect, traceback, traced.mod as mod
        print(mod.__cached__)
        print(mod.inner.__code__.co_filename)
        print(inspect.getsource(mod.Shape.area).strip())
        try:
            mod.outer()
        except ValueError:
            traceback.print_exc()
    """))
    for extra in ((), ("--refresh",)):
        # the first run writes the bytecode it imports into the store (pycache.py): let it write
        result = run_reprorun("--installer", installer, "--python", sys.executable, "--find-links", links, *extra,
                              script, env={"PYTHONDONTWRITEBYTECODE": ""})  # fmt: skip
        assert result.returncode == 0, result.stderr
    envs = sorted((cache_dir / "envs").iterdir(), key=lambda env: env.stat().st_mtime)
    assert len(envs) == 2
    second = envs[-1]
    (source,) = second.glob("lib/python*/site-packages/traced/mod.py")
    cached, filename, getsource = result.stdout.splitlines()[:3]
    pycs = [next(env.glob("lib/python*/site-packages/traced/__pycache__/mod.*.pyc")) for env in envs]
    assert pycs[0].stat().st_ino == pycs[1].stat().st_ino  # one .pyc for both envs ...
    assert cached == str(pycs[1])  # ... and it is what the import used
    assert filename == str(source)  # ... yet the code names this env's file
    assert getsource == "def area(self):\n        return 1".splitlines()[0]
    assert f'File "{source}", line 5, in inner' in result.stderr
    assert f'File "{source}", line 8, in outer' in result.stderr
    assert "site-packages/traced/mod.py" not in result.stderr.replace(str(source), "")

    # coverage.py, run by the env's interpreter on the shared bytecode, reports the env's file
    measured = tmp_path / "measured.py"
    measured.write_text("import traced.mod as mod\nmod.Shape().area()\n")
    data = tmp_path / ".coverage"
    spec = importlib.util.find_spec("coverage")
    assert spec is not None and spec.origin is not None
    coverage_path = Path(spec.origin).parent.parent
    environ = {**os.environ, "PYTHONPATH": str(coverage_path), "COVERAGE_FILE": str(data)}
    python = str(env_python(second))
    subprocess.run([python, "-m", "coverage", "run", "--source=traced", str(measured)], env=environ, check=True,
                   cwd=tmp_path, capture_output=True)  # fmt: skip
    report = tmp_path / "coverage.json"
    subprocess.run([python, "-m", "coverage", "json", "-o", str(report)], env=environ, check=True, cwd=tmp_path,
                   capture_output=True)  # fmt: skip
    files = json.loads(report.read_text())["files"]
    assert sorted(files) == [str(source.parent / "__init__.py"), str(source)], list(files)
    assert files[str(source)]["executed_lines"] == [1, 2, 4, 7, 10, 11, 12]


def test_compile_folders_leaves_test_suites_as_source(tmp_path: Path):
    """A package's `tests/` folder stays source (issue 17: most of the bytecode nobody imports);
    everything else compiles, `testing` modules included (a public API in numpy and pandas)."""
    site = tmp_path / "site-packages"
    for name in ("pkg/__init__.py", "pkg/core.py", "pkg/testing/__init__.py", "pkg/tests/test_core.py",
                 "pkg/tests/unit/test_deep.py", "pkg/sub/tests/test_sub.py", "pkg/sub/mod.py"):  # fmt: skip
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text("X = 1\n")
    _compile.compile_folders([str(site)])
    compiled = sorted(str(p.parent.parent.relative_to(site) / p.name.split(".")[0]) for p in site.rglob("*.pyc"))
    assert compiled == ["pkg/__init__", "pkg/core", "pkg/sub/mod", "pkg/testing/__init__"]
    assert "tests" in _compile.SKIPPED

"""pip builds: pip installs without compiling, `_install.py` compiles on every core (issue 7)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reprorun import _install, installers
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


@pytest.mark.slow
def test_a_pip_build_leaves_bytecode_for_every_module_as_pip_would(run_reprorun, tmp_path: Path, cache_dir: Path):
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
    # A user's PYTHONDONTWRITEBYTECODE does not stop it, as it does not stop pip's own compiling.
    result = run_reprorun("--installer", "pip", "--python", sys.executable, "--find-links", links, script,
                          env={"PYTHONDONTWRITEBYTECODE": "1"})  # fmt: skip
    assert (result.returncode, result.stdout) == (0, "149\n"), result.stderr
    assert "could not compile" not in result.stderr
    (env,) = (cache_dir / "envs").iterdir()
    (package,) = env.glob("lib/python*/site-packages/manymods")
    sources = sorted(package.glob("*.py"))
    assert len(sources) == MODULES + 2  # __init__, the modules, the one that does not compile
    magic = importlib.util.MAGIC_NUMBER
    compiled = {}
    for source in sources:
        pyc = Path(importlib.util.cache_from_source(str(source)))
        compiled[source.name] = pyc.exists()
        if pyc.exists():
            # --python: the magic is this interpreter's; flags 0: checked by mtime, as pip writes them
            assert _pyc_header(pyc) == (magic, 0), source
    assert compiled.pop("broken_syntax.py") is False
    assert all(compiled.values()), [name for name, done in compiled.items() if not done]


def test_split_shares_bytes_evenly_largest_first():
    files = [(100, "a"), (10, "b"), (90, "c"), (20, "d"), (5, "e")]
    shares = _install._split(files, 2)
    assert shares == [["a", "b", "e"], ["c", "d"]]  # each file also weighs 2048 bytes of overhead
    assert _install._split(files, 1) == [["a", "c", "d", "b", "e"]]
    assert _install._split([(1, "only")], 3) == [["only"]]  # never an empty worker


def test_a_compile_worker_compiles_the_files_it_is_sent(tmp_path: Path):
    names = []
    for index, text in enumerate(["A = 1\n", "def (:\n", "B = 'é'\n"]):
        path = tmp_path / f"name with space {index}.py"
        path.write_text(text, "utf-8")
        names.append(str(path))
    worker = _install._start_worker(names)
    assert worker.wait(timeout=60) == 0
    made = [os.path.exists(importlib.util.cache_from_source(name)) for name in names]
    assert made == [True, False, True]


def test_the_helper_runs_pip_and_passes_its_exit_status_through(tmp_path: Path):
    location = installers.pip_location(f"{sys.version_info[0]}.{sys.version_info[1]}", tmp_path / "pip")
    helper = [sys.executable, installers.INSTALL_HELPER, location]
    version = subprocess.run([*helper, "--version"], capture_output=True, text=True, check=False)
    assert version.returncode == 0 and version.stdout.startswith("pip "), version.stderr
    assert os.path.realpath(location) in version.stdout  # pip ran from the location given
    wrong = subprocess.run([*helper, "no-such-command"], capture_output=True, text=True, check=False)
    assert wrong.returncode == 1 and "unknown command" in wrong.stderr
    usage = subprocess.run([sys.executable, installers.INSTALL_HELPER], capture_output=True, text=True, check=False)
    assert usage.returncode == 2 and "usage" in usage.stderr

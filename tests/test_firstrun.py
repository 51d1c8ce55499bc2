"""The lean first run (launch/firstrun.py) makes the very env the full path makes (issue 17).

A first run of a script without requirements, with the uv backend, is built before the command
line is imported. These tests run each such script twice, in two caches that know the same
interpreters: once as a user does (the lean build), once with REPRORUN_WARM=0 (the full path);
the two caches must hold the same key, files, markers, index entry, use records and listing, and
every later command must treat the two envs alike. A run is known to be lean by what it imports
(`-X importtime`: firstrun, never argparse).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from multiuser import remount, tmpfs
from reprorun.envs import interpreters, layout

FORMS = {
    "no block": "",
    "empty dependencies": "# /// script\n# dependencies = []\n# ///\n",
    "requires-python": '# /// script\n# requires-python = ">=3.8"\n# dependencies = []\n# ///\n',
    "requires-python alone": "# /// script\n# requires-python = '>=3.9,<4'  # any 3\n# ///\n",
}
BODY = "import sys\nprint(sys.prefix != sys.base_prefix, sys.version_info[:2], sys.argv[1:])\n"


def _know_interpreters(cache: Path) -> None:
    """What a cache has after any earlier run: the interpreters described (the lean build probes none)."""
    interpreters.discover(cache / layout.INTERPRETERS)


def _run(reprorun_exe: Path, *args: str | os.PathLike[str], env: dict[str, str] | None = None,
         cwd: Path | None = None) -> tuple[subprocess.CompletedProcess[str], set[str]]:  # fmt: skip
    """Run reprorun with -X importtime: the result (its stderr without the import lines) and what it imported."""
    result = subprocess.run([sys.executable, "-X", "importtime", str(reprorun_exe), *map(str, args)],
                            env={**os.environ, **(env or {})}, cwd=cwd, capture_output=True, text=True,
                            timeout=300, check=False)  # fmt: skip
    lines = result.stderr.splitlines()
    imported = {line.rsplit("|", 1)[-1].strip() for line in lines if line.startswith("import time:")}
    result.stderr = "".join(line + "\n" for line in lines if not line.startswith("import time:"))
    return result, imported


def _lean(imported: set[str]) -> bool:
    return "reprorun.launch.firstrun" in imported and "argparse" not in imported


def _tree(cache: Path) -> dict[str, str]:
    """Every file of the cache but the interpreter records: relative path (the build's random part
    and the cache's path replaced) -> what it holds (a link's target, a file's normalized text)."""
    envs = cache / layout.ENVS
    builds = {p.name for p in envs.iterdir()} if envs.is_dir() else set()
    found: dict[str, str] = {}
    for path in sorted(cache.rglob("*")):
        relative = str(path.relative_to(cache))
        if relative.startswith(layout.INTERPRETERS) or relative.startswith(layout.TMP + "/"):
            continue
        if path.is_symlink():
            content = "-> " + os.readlink(path)
        elif path.is_file():
            content = path.read_bytes().decode("utf-8", "replace").replace(str(cache), "CACHE")
            content = re.sub(r'"created": "[^"]*"|"seconds": [0-9.]+', "TIME", content)
        else:
            content = "folder"
        for build in builds:
            relative, content = relative.replace(build, "BUILD"), content.replace(build, "BUILD")
        found[relative] = content
    return found


@pytest.fixture
def caches(tmp_path: Path) -> tuple[Path, Path]:
    lean, full = tmp_path / "lean cache", tmp_path / "full cache"
    for cache in (lean, full):
        _know_interpreters(cache)
    return lean, full


@pytest.mark.parametrize("form", list(FORMS))
def test_the_lean_build_makes_the_env_the_full_path_makes(form, caches, reprorun_exe, tmp_path):
    lean, full = caches
    script = tmp_path / "s.py"
    script.write_text(FORMS[form] + BODY)
    first, imported = _run(reprorun_exe, script, "a b", env={"REPRORUN_CACHE_DIR": str(lean)})
    assert first.returncode == 0, first.stderr
    assert _lean(imported), sorted(imported)
    other, imported = _run(reprorun_exe, script, "a b", env={"REPRORUN_CACHE_DIR": str(full), "REPRORUN_WARM": "0"})
    assert other.returncode == 0, other.stderr
    assert "argparse" in imported
    assert first.stdout == other.stdout == f"True {tuple(sys.version_info[:2])} ['a b']\n"
    assert first.stderr == other.stderr  # the one progress line
    lean_tree, full_tree = _tree(lean), _tree(full)
    assert lean_tree == full_tree
    assert len(list((lean / layout.ENVS).iterdir())) == 1
    assert [p.name for p in (lean / layout.KEYS).iterdir()] == [p.name for p in (full / layout.KEYS).iterdir()]
    assert [p.name for p in (lean / layout.INDEX).iterdir()] == [p.name for p in (full / layout.INDEX).iterdir()]
    info = json.loads(next((lean / layout.ENVS).glob("*/reprorun-complete")).read_text())
    assert info["installer"] == "uv" and info["packages"] == 0 and info["built-from-source"] == []
    # The next start is warm, in both caches alike.
    for cache in (lean, full):
        again, imported = _run(reprorun_exe, script, env={"REPRORUN_CACHE_DIR": str(cache)})
        assert again.returncode == 0 and again.stderr == "", again.stderr
        assert "reprorun.launch.firstrun" not in imported and "argparse" not in imported


def _normalized(text: str, cache: Path) -> str:
    build = next((cache / layout.ENVS).iterdir()).name
    text = text.replace(str(cache), "CACHE").replace(build, "BUILD")
    return re.sub(
        r"\b\d+(\.\d+)? ?(s|ms|KiB|MiB|B|seconds?|minutes?|hours?|days?)\b|\d{4}-\d\d-\d\d[T ][\d:]+", "T", text
    )


@pytest.mark.parametrize("command", [["sync"], ["env"], ["env", "--json"], ["check"], ["cache", "list"],
                                     ["--offline"], ["--refresh", "-q"]])  # fmt: skip
def test_every_later_command_treats_the_lean_env_as_the_full_paths(command, caches, reprorun_exe, tmp_path,
                                                                     run_reprorun):  # fmt: skip
    lean, full = caches
    script = tmp_path / "s.py"
    script.write_text(FORMS["requires-python"] + BODY)
    assert _lean(_run(reprorun_exe, script, env={"REPRORUN_CACHE_DIR": str(lean)})[1])
    assert run_reprorun(script, env={"REPRORUN_CACHE_DIR": str(full), "REPRORUN_WARM": "0"}).returncode == 0
    argv = [*command, script] if command[0] != "cache" else command
    said = [run_reprorun(*argv, env={"REPRORUN_CACHE_DIR": str(cache), "REPRORUN_WARM": "0"}) for cache in caches]
    assert said[0].returncode == said[1].returncode, (said[0].stderr, said[1].stderr)
    assert _normalized(said[0].stdout, lean) == _normalized(said[1].stdout, full)
    assert _normalized(said[0].stderr, lean) == _normalized(said[1].stderr, full)


def test_prune_removes_a_lean_env_as_it_removes_a_full_one(caches, tmp_path, reprorun_exe, run_reprorun):
    script = tmp_path / "s.py"
    script.write_text(FORMS["empty dependencies"] + BODY)
    lean, full = caches
    _run(reprorun_exe, script, env={"REPRORUN_CACHE_DIR": str(lean)})
    run_reprorun(script, env={"REPRORUN_CACHE_DIR": str(full), "REPRORUN_WARM": "0"})
    for cache in caches:
        pruned = run_reprorun("cache", "prune", "--older-than", "0s", env={"REPRORUN_CACHE_DIR": str(cache)})
        assert pruned.returncode == 0, pruned.stderr
    assert _tree(lean) == _tree(full)
    assert not list((lean / layout.ENVS).iterdir())


def test_a_refresh_builds_a_new_env_lean(caches, tmp_path, reprorun_exe):
    lean, _ = caches
    script = tmp_path / "s.py"
    script.write_text(FORMS["no block"] + BODY)
    env = {"REPRORUN_CACHE_DIR": str(lean)}
    assert _run(reprorun_exe, script, env=env)[0].returncode == 0
    first = next((lean / layout.ENVS).iterdir()).name
    again, imported = _run(reprorun_exe, "--refresh", "--installer", "uv", "--python", sys.executable, script, env=env)
    assert again.returncode == 0 and _lean(imported), again.stderr
    assert (lean / layout.KEYS / first[: layout.SHORT]).read_text().strip() != first
    assert len(list((lean / layout.ENVS).iterdir())) == 2


def test_many_first_runs_at_once_build_one_env_and_all_succeed(caches, tmp_path, reprorun_exe):
    lean, _ = caches
    script = tmp_path / "s.py"
    script.write_text(FORMS["empty dependencies"] + BODY)
    env = {**os.environ, "REPRORUN_CACHE_DIR": str(lean)}

    def start(task: int) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(reprorun_exe), script, str(task)], env=env, capture_output=True, text=True,
                              timeout=300, check=False)  # fmt: skip

    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(start, range(40)))
    for task, result in enumerate(results):
        assert result.returncode == 0, result.stderr
        assert result.stdout.endswith(f"['{task}']\n")
    assert len(list((lean / layout.ENVS).iterdir())) == 1
    assert not list((lean / layout.TMP).iterdir())


SCRIPTS_FOR_THE_FULL_PATH = {
    "an option of the full path": (["--index-url", "https://x.example/simple"], FORMS["empty dependencies"], {}),
    "REPRORUN_PYTHON": ([], FORMS["no block"], {"REPRORUN_PYTHON": sys.executable}),
    "the pip backend": (["--installer", "pip"], FORMS["no block"], {}),
    "an unfitting requires-python": ([], '# /// script\n# requires-python = "<3"\n# ///\n', {}),
    "a specifier it cannot decide": ([], '# /// script\n# requires-python = ">=3.8.*"\n# ///\n', {}),
    "requirements": ([], "# /// script\n# dependencies = ['alpha']\n# ///\n", {}),
    "install lines": ([], "# %pip install alpha\n", {}),
    "a version request": (["--python", f"{sys.version_info[0]}.{sys.version_info[1]}"], FORMS["no block"], {}),
    "a pip setting uv cannot take": ([], FORMS["no block"], {"PIP_USE_FEATURE": "truststore"}),
    "mkdir locks": ([], FORMS["no block"], {"REPRORUN_LOCK": "mkdir"}),
    "REPRORUN_CONFIG naming no file": ([], FORMS["no block"], {"REPRORUN_CONFIG": "/nonexistent/config.toml"}),
    "offline": (["--offline"], FORMS["no block"], {}),
}


@pytest.mark.parametrize("name", list(SCRIPTS_FOR_THE_FULL_PATH))
def test_at_the_first_doubt_the_full_path_builds(name, caches, tmp_path, reprorun_exe):
    lean, full = caches
    options, header, extra = SCRIPTS_FOR_THE_FULL_PATH[name]
    script = tmp_path / "s.py"
    script.write_text(header + BODY)
    first, imported = _run(reprorun_exe, *options, script, env={"REPRORUN_CACHE_DIR": str(lean), **extra})
    assert "argparse" in imported, name
    other, _ = _run(reprorun_exe, *options, script, env={"REPRORUN_CACHE_DIR": str(full), "REPRORUN_WARM": "0",
                                                         **extra})  # fmt: skip
    timeless = [re.sub(r"\d+\.\d+s\b", "Ts", result.stderr) for result in (first, other)]
    assert (first.returncode, first.stdout, timeless[0]) == (other.returncode, other.stdout, timeless[1])


@pytest.mark.parametrize("config", ['installer = "uv"\ncache-dir = "{cache}"\n', f'python = "{sys.executable}"\n',
                                    'installer = "pip"\n', 'prune-older-than = "30d"\n'])  # fmt: skip
def test_a_config_file_is_read_lean_only_when_it_says_where_the_cache_is_and_which_installer(
    config, caches, tmp_path, reprorun_exe, monkeypatch
):
    monkeypatch.delenv("REPRORUN_CACHE_DIR")  # the file's cache-dir, else this
    lean, full = caches
    script = tmp_path / "s.py"
    script.write_text(FORMS["no block"] + BODY)
    results = []
    for cache, warm in ((lean, "1"), (full, "0")):
        file = tmp_path / (f"config-{warm}.toml" if "cache-dir" in config else "config.toml")
        file.write_text(config.format(cache=cache))
        env = {"REPRORUN_CONFIG": str(file), "REPRORUN_WARM": warm}
        if "cache-dir" not in config:
            env["REPRORUN_CACHE_DIR"] = str(cache)
        results.append(_run(reprorun_exe, script, env=env))
    (first, imported), (other, _) = results
    assert _lean(imported) is config.startswith('installer = "uv"'), sorted(imported)
    assert (first.returncode, first.stdout, first.stderr) == (other.returncode, other.stdout, other.stderr)
    if "cache-dir" in config:  # two files, so two fingerprints: the index entries' names differ
        trees = [{k: v for k, v in _tree(c).items() if not k.startswith(layout.INDEX + "/")} for c in caches]
        assert trees[0] == trees[1]
        assert len(list((lean / layout.INDEX).iterdir())) == len(list((full / layout.INDEX).iterdir())) == 1
    else:
        assert _tree(lean) == _tree(full)


def test_a_cache_that_knows_no_interpreter_yet_is_left_to_the_full_path(tmp_path, reprorun_exe):
    script = tmp_path / "s.py"
    script.write_text(FORMS["no block"] + BODY)
    result, imported = _run(reprorun_exe, script, env={"REPRORUN_CACHE_DIR": str(tmp_path / "new")})
    assert result.returncode == 0 and "argparse" in imported, result.stderr
    assert list((tmp_path / "new" / layout.INTERPRETERS).iterdir())  # the full path described them


@pytest.mark.parametrize("block", ["# /// script\n# dependencies = [\n# ///\n",
                                   "# /// script\n# requires-python = 3\n# ///\n",
                                   "# /// script\n# requires-python = '>=3.x'\n# ///\n"])  # fmt: skip
def test_a_bad_block_gets_the_full_paths_one_line_error_and_the_cache_is_untouched(block, caches, tmp_path,
                                                                                   reprorun_exe):  # fmt: skip
    lean, _ = caches
    script = tmp_path / "s.py"
    script.write_text(block + BODY)
    before = _tree(lean)
    result, imported = _run(reprorun_exe, script, env={"REPRORUN_CACHE_DIR": str(lean)})
    assert result.returncode == 2 and "argparse" in imported
    assert result.stderr.startswith(f"reprorun: error: {script}:"), result.stderr
    assert _tree(lean) == before


def test_a_read_only_cache_falls_back_to_the_full_paths_error(tmp_path, reprorun_exe):
    script = tmp_path / "s.py"
    script.write_text(FORMS["empty dependencies"] + BODY)
    with tmpfs("16m") as disk:
        cache = disk / "cache"
        _know_interpreters(cache)
        layout.prepare_root(str(cache))
        remount(disk, "ro")
        try:
            result, imported = _run(reprorun_exe, script, env={"REPRORUN_CACHE_DIR": str(cache)})
        finally:
            remount(disk, "rw")
        assert result.returncode == 1 and "argparse" in imported
        assert result.stderr.startswith("reprorun: error:") and "not writable" in result.stderr, result.stderr
        assert not list((cache / layout.ENVS).iterdir())


def test_a_build_lock_held_by_another_leaves_the_wait_to_the_full_path(caches, tmp_path, reprorun_exe):
    from reprorun.envs import locks
    from reprorun.envs.leankey import digest, document, interpreter, sources

    lean, _ = caches
    script = tmp_path / "s.py"
    script.write_text(FORMS["no block"] + BODY)
    described = interpreter(str(lean), sys.executable)
    assert described is not None
    key = digest(document(described, sources() or {}))
    layout.prepare_root(str(lean))
    fd = locks.flock_exclusive(layout.build_lock(str(lean), key), blocking=False)
    assert fd is not None
    process = subprocess.Popen([sys.executable, "-X", "importtime", str(reprorun_exe), script],
                               env={**os.environ, "REPRORUN_CACHE_DIR": str(lean)}, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        waited = process.stderr.readline() if process.stderr else ""
        while waited.startswith("import time:"):
            waited = process.stderr.readline() if process.stderr else ""
        assert "waiting for another reprorun" in waited  # the full path's message: the lean build gave way
    finally:
        os.close(fd)
    out, _ = process.communicate(timeout=300)
    assert process.returncode == 0 and out.startswith("True")
    assert len(list((lean / layout.ENVS).iterdir())) == 1


def test_a_warm_start_never_imports_the_lean_build(caches, tmp_path, reprorun_exe):
    lean, _ = caches
    script = tmp_path / "s.py"
    script.write_text(FORMS["no block"] + BODY)
    _run(reprorun_exe, script, env={"REPRORUN_CACHE_DIR": str(lean)})
    again, imported = _run(reprorun_exe, script, env={"REPRORUN_CACHE_DIR": str(lean)})
    assert again.returncode == 0
    assert not {name for name in imported if "lean" in name or "firstrun" in name}


PROBE = '''\
"""The probe's docstring."""
import json, os, site, sys, sysconfig
main = sys.modules["__main__"]
print(json.dumps({
    "executable": sys.executable, "prefix": sys.prefix, "exec_prefix": sys.exec_prefix,
    "base_prefix": sys.base_prefix, "base_executable": getattr(sys, "_base_executable", None),
    "path": sys.path, "site": site.getsitepackages(), "user_site": site.ENABLE_USER_SITE,
    "argv": sys.argv, "orig_argv": sys.orig_argv, "flags": str(sys.flags),
    "venv": os.environ.get("VIRTUAL_ENV"), "path_head": os.environ["PATH"].split(os.pathsep)[0],
    "main_attrs": sorted(vars(main)), "name": __name__, "file": __file__, "doc": __doc__,
    "package": __package__, "spec": repr(__spec__), "cached": main.__cached__,
    "loader": type(__loader__).__name__, "purelib": sysconfig.get_paths()["purelib"],
    "meta_path": [type(f).__name__ for f in sys.meta_path],
    "non_stdlib": sorted(n for n in sys.modules if n.partition(".")[0] not in sys.stdlib_module_names),
}, indent=1))
'''


@pytest.fixture(scope="module")
def plain_launcher(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv seeing reprorun through a `.pth`, with uv beside its Python (as pipx and `uv tool
    install` make it; tests/test_inprocess.py's "plain" launcher): no editable-install hook, so
    the in-process launch applies (this suite's own venv has one)."""
    import sysconfig

    import reprorun

    venv = tmp_path_factory.mktemp("launcher") / "venv"
    base = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    subprocess.run([base, "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = Path(subprocess.run([str(venv / "bin" / "python"), "-c",
                                   "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  check=True, capture_output=True, text=True).stdout.strip())  # fmt: skip
    source = Path(reprorun.__file__).resolve().parent.parent
    (purelib / "reprorun-test.pth").write_text(f"{source}\n{sysconfig.get_paths()['purelib']}\n")
    (venv / "bin" / "uv").symlink_to(Path(sys.prefix, "bin", "uv"))
    return venv / "bin" / "python"


def test_the_script_sees_what_it_sees_when_the_full_path_execs_it(plain_launcher, tmp_path):
    script = tmp_path / "probe.py"
    script.write_text(FORMS["requires-python"] + PROBE + "print(open('/proc/self/cmdline').read().split(chr(0))[1])\n")
    caches = tmp_path / "lean cache", tmp_path / "full cache"
    said = []
    for cache, warm in zip(caches, ("1", "0"), strict=True):
        interpreters.inspect(str(plain_launcher), cache / layout.INTERPRETERS)  # as any earlier run leaves it
        said.append(subprocess.run([str(plain_launcher), "-m", "reprorun", "--python", str(plain_launcher), script,
                                    "arg one", "\u00fc"], env={**os.environ, "REPRORUN_CACHE_DIR": str(cache),
                                    "REPRORUN_WARM": warm}, cwd=tmp_path, capture_output=True, text=True,
                                   timeout=300, check=False))  # fmt: skip
    first, other = said
    assert first.returncode == other.returncode == 0, first.stderr + other.stderr
    assert first.stderr == other.stderr
    (lean_seen, lean_process), (full_seen, full_process) = (
        _normalized(result.stdout, cache).rsplit("\n", 2)[:2] for result, cache in zip(said, caches, strict=True)
    )
    assert lean_process == "-m"  # still the process that started as `python -m reprorun`: lean, in-process
    assert full_process == str(script)  # ENV/bin/python probe.py
    assert json.loads(lean_seen) == json.loads(full_seen)
    assert _tree(caches[0]) == _tree(caches[1])

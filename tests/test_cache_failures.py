"""A cache that cannot be written (another user's, a read-only mount, a full disk) is one clear error.

Every such failure is one `reprorun: error:` naming the cache, a hint of what to do, exit 1, no
traceback; and what the failed command began is gone: no env, no store entry, no temporary folder.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from multiuser import Shared, fill, remount, shared_folder, tmpfs
from wheelhouse import Spec, build_wheel

pytestmark = pytest.mark.slow

SCRIPT = '# /// script\n# dependencies = ["{req}"]\n# ///\nimport sys\nprint("ran in", sys.prefix)\n'


def tree(root: Path) -> dict[str, tuple[int, float]]:
    """Every path under root with its size and mtime: to prove a failed command changed nothing."""
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            path = Path(folder, name)
            info = path.lstat()
            found[str(path.relative_to(root))] = (info.st_size if not path.is_dir() else 0, info.st_mtime)
    return found


def assert_clear_cache_error(result, cache: Path) -> None:
    """Exit 1, one error line naming the cache, a hint, and no traceback or internal error."""
    assert result.returncode == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("reprorun: error:")]
    assert len(errors) == 1, result.stderr
    assert str(cache) in errors[0], result.stderr
    assert "\nhint: " in "\n" + result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr


@pytest.fixture
def shared(wheelhouse: Path):
    with shared_folder() as folder:
        folder.offer_wheels(wheelhouse)
        yield folder


def _env(shared: Shared) -> dict[str, str]:
    return dict(shared.extra)


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_another_users_cache_is_read_but_never_written(shared: Shared, installer: str) -> None:
    ready = shared.script("ready.py", SCRIPT.format(req="alpha"))
    cold = shared.script("cold.py", SCRIPT.format(req="beta"))
    env = {**_env(shared), "REPRORUN_INSTALLER": installer}
    built = shared.run("--python", shared.python, "sync", ready, user=False, env=env)
    assert built.returncode == 0, built.stderr
    before = tree(shared.cache)

    # The reader runs what the owner prepared, from the owner's cache.
    ran = shared.run("--python", shared.python, ready, user=True, env=env)
    assert ran.returncode == 0, ran.stderr
    assert f"ran in {shared.cache}" in ran.stdout

    # ... but every command that would write it is one clear error, and nothing changes.
    for argv in (["--python", shared.python, cold], ["--python", shared.python, "sync", cold],
                 ["--python", shared.python, "--refresh", ready], ["cache", "prune"],
                 ["cache", "prune", "--older-than", "0s"], ["cache", "clear", "--yes"]):  # fmt: skip
        result = shared.run(*argv, user=True, env=env)
        assert_clear_cache_error(result, shared.cache)
        if argv[0] == "cache":
            assert "owner" in result.stderr
        else:
            assert "reprorun sync" in result.stderr
    after = tree(shared.cache)
    changed = {path for path in before if path in after and before[path] != after[path]}
    # A reader's use is recorded only under readers/ (docs/cache.md, "Sharing a cache").
    assert set(after) - set(before) <= {p for p in after if p.startswith("readers")}, set(after) - set(before)
    assert not {p for p in changed if not p.startswith(("readers", "used"))}, changed


def test_a_read_only_mount_is_used_but_never_written(tmp_path: Path, run_reprorun) -> None:
    with tmpfs("64m") as disk:
        cache = disk / "cache"
        env = {"REPRORUN_CACHE_DIR": str(cache)}
        ready, cold = tmp_path / "ready.py", tmp_path / "cold.py"
        ready.write_text(SCRIPT.format(req="alpha"))
        cold.write_text(SCRIPT.format(req="beta"))
        assert run_reprorun("--installer", "pip", ready, env=env).returncode == 0
        remount(disk, "ro")
        try:
            ran = run_reprorun(ready, env=env)
            assert ran.returncode == 0, ran.stderr
            for argv in ([cold], ["sync", cold], ["--refresh", ready], ["cache", "prune", "--older-than", "0s"],
                         ["cache", "clear", "--yes"]):  # fmt: skip
                result = run_reprorun(*argv, env=env)
                assert_clear_cache_error(result, cache)
                assert "not writable" in result.stderr or "Read-only" in result.stderr
        finally:
            remount(disk, "rw")


def _bulky_wheel(folder: Path) -> None:
    """A wheel of 40 modules of 17 KB whose bytecode is three times their size (complex constants),
    so that installing and compiling each need space of their own."""
    body = "VALUES = (" + ",".join(f"{k}j" for k in range(100, 3100)) + ")\n"
    files = tuple((f"bulky/m{i}.py", body) for i in range(40))
    build_wheel(Spec("bulky", "1.0", "bulky", requires=("alpha",), extra_files=files), folder)


def _bulky_setup(tmp_path: Path, wheelhouse: Path) -> tuple[Path, Path, Path]:
    """Wheels with the bulky one; a script needing alpha (a first, small build) and one needing bulky."""
    wheels = tmp_path / "wheels"
    shutil.copytree(wheelhouse, wheels)
    _bulky_wheel(wheels)
    warm, script = tmp_path / "warm.py", tmp_path / "bulky.py"
    warm.write_text(SCRIPT.format(req="alpha"))
    script.write_text(SCRIPT.format(req="bulky"))
    return wheels, warm, script


def test_a_disk_that_fills_at_any_step_of_a_pip_build(tmp_path: Path, wheelhouse: Path, run_reprorun) -> None:
    # A coarse scan of the space left, then a bisection down to a page between the last failure
    # and the first success. No step after pip needs space that pip's install did not free (the
    # store and the shared `__pycache__` folders are links, the publication a few small files:
    # no build compiles bytecode any more), so the failures are while creating and in pip.
    wheels, warm, script = _bulky_setup(tmp_path, wheelhouse)
    steps: set[str] = set()
    with tmpfs("48m") as disk:
        cache = disk / "cache"
        env = {"REPRORUN_CACHE_DIR": str(cache), "PIP_FIND_LINKS": str(wheels), "REPRORUN_INSTALLER": "pip"}
        # A first build unpacks pip into the cache and puts alpha's files in the store.
        assert run_reprorun(warm, env=env).returncode == 0
        before = _contents(cache)

        def build_with(leave: int) -> bool:
            nonlocal before
            ballast = fill(disk, leave)
            result = run_reprorun("-v", "--refresh", script, env=env, timeout=120)  # a new build each time
            ballast.unlink()
            if result.returncode == 0:
                steps.add("succeeded")
                before = _contents(cache)
                return True
            assert_clear_cache_error(result, cache)
            assert "is full" in result.stderr
            steps.add(_last_step(result.stderr))
            # Everything the failed build wrote is gone: its env, its store entries, its temporaries.
            assert _contents(cache) == before, (leave, result.stderr)
            assert os.listdir(cache / "tmp") == []
            return False

        _scan_free_space(build_with, (0, 40, 300, 600, 1100, 1700, 2600, 4000), steps)
    # The scan met the disk's end at each step that writes, then a build that fit.
    assert {"creating", "pip install", "succeeded"} <= steps, steps


def test_a_disk_that_fills_at_any_step_of_a_uv_build(tmp_path: Path, wheelhouse: Path, run_reprorun) -> None:
    # The same scan with uv as the installer (the real uv: `uv sync --script`, or `uv venv` and
    # `uv pip install`). uv's own cache stays on another file system (the session's), so uv copies
    # every file into the env on the small disk instead of hard-linking it. A coarse scan of the
    # space left, then a bisection down to a page between the last failure and the first success:
    # there the build fails at its last write, after uv (the publication).
    wheels, warm, script = _bulky_setup(tmp_path, wheelhouse)
    steps: list[str] = []
    with tmpfs("48m") as disk:
        cache = disk / "cache"
        env = {"REPRORUN_CACHE_DIR": str(cache), "PIP_FIND_LINKS": str(wheels), "REPRORUN_INSTALLER": "uv"}
        assert run_reprorun(warm, env=env).returncode == 0
        before = _contents(cache)

        def build_with(leave: int) -> bool:
            nonlocal before
            ballast = fill(disk, leave)
            result = run_reprorun("-v", "--refresh", script, env=env, timeout=120)  # a new build each time
            ballast.unlink()
            if result.returncode == 0:
                assert "ran in" in result.stdout
                before = _contents(cache)
                return True
            assert_clear_cache_error(result, cache)
            assert "is full" in result.stderr
            steps.append(_last_uv_step(result.stderr))
            # Nothing of the failed build is left: no env, no pointer, no store entry, no temporary.
            assert _contents(cache) == before, (leave, result.stderr)
            assert os.listdir(cache / "tmp") == []
            return False

        _scan_free_space(build_with, (0, 8, 24, 64, 160, 320, 640, 1000, 1500, 2600, 4000, 8000), steps)
    assert {"before uv", "uv creating the env", "uv installing"} <= set(steps), steps
    assert "after uv (the publication)" in steps, steps


def _contents(cache: Path) -> dict[str, list[str]]:
    """What the cache holds for envs: env folders, pointers, store entries, use records, index."""
    return {name: sorted(os.listdir(cache / name)) for name in ("envs", "keys", "store", "used", "index")
            if (cache / name).is_dir()}  # fmt: skip


def _last_uv_step(stderr: str) -> str:
    """Which step of a uv build met the full disk (from -v's command lines and uv's own words)."""
    if not any(line.startswith("reprorun: $ ") for line in stderr.splitlines()):
        return "before uv"
    if "Failed to install" in stderr:
        return "uv installing"
    if "os error 28" in stderr:
        return "uv creating the env"
    return "after uv (the publication)"  # uv said it installed; reprorun's own writes met the end


def _last_step(stderr: str) -> str:
    """Which step of the build ran last before the error (from -v's command lines)."""
    commands = [line for line in stderr.splitlines() if line.startswith("reprorun: $ ")]
    if not commands:
        return "creating"
    last = commands[-1]
    if re.search(r"/pip install ", last):
        return "pip install" if "installed" not in stderr else "store"
    return "other"


def _scan_free_space(build_with: Callable[[int], bool], leaves_kb: tuple[int, ...], steps: object) -> None:
    """Build with each free space of `leaves_kb` until one fits, then halve the gap between the
    last that failed and the first that fit down to one page: each step that writes meets the end."""
    failed, fits = 0, 0
    for leave_kb in leaves_kb:
        if build_with(leave_kb * 1024):
            fits = leave_kb * 1024
            break
        failed = leave_kb * 1024
    assert fits, steps
    while fits - failed > 4096:
        middle = (failed + fits) // 2
        if build_with(middle):
            fits = middle
        else:
            failed = middle

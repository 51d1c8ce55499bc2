"""The portability commands at the edges: bad input, dry runs, hand edits, warnings, other platforms."""

from __future__ import annotations

from pathlib import Path

import pytest

from portable_wheels import CP, PY, build
from reprorun.script import metadata

SCRIPT = '# /// script\n# dependencies = ["app"]\n# ///\nimport app\napp.main()\n'


@pytest.fixture(scope="module")
def platform_wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The portability wheelhouse (tests/portable_wheels.py)."""
    return build(tmp_path_factory.mktemp("platform-wheels"))


def _freeze(run_reprorun, wheels: Path, script: Path, *more: str):
    return run_reprorun("--python", PY, "--find-links", wheels, "--freeze", *more, script)


def test_an_unknown_target_writes_nothing_and_exits_2(run_reprorun, tmp_path: Path, platform_wheels: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text(SCRIPT)
    done = _freeze(run_reprorun, platform_wheels, script, "--for", "solaris-sparc")
    assert done.returncode == 2
    assert done.stderr.startswith("reprorun: error: unknown target 'solaris-sparc'\nhint: targets are linux-x86_64,")
    assert script.read_text() == SCRIPT


def test_dry_run_prints_the_multi_platform_block_and_writes_nothing(run_reprorun, tmp_path: Path,
                                                                    platform_wheels: Path) -> None:  # fmt: skip
    script = tmp_path / "s.py"
    script.write_text(SCRIPT)
    two = ("--for", "linux-x86_64", "--for", "windows-x86_64")
    done = _freeze(run_reprorun, platform_wheels, script, "--dry-run", *two)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "# /// script"
    assert "#     \"winshim==1.0; sys_platform == 'win32'\",  # via app" in done.stdout
    assert f'# frozen-for = "{CP}-linux-x86_64, {CP}-windows-x86_64"' in done.stdout
    assert script.read_text() == SCRIPT


def test_editing_the_targets_by_hand_makes_the_block_stale(run_reprorun, tmp_path: Path,
                                                           platform_wheels: Path) -> None:  # fmt: skip
    script = tmp_path / "s.py"
    script.write_text(SCRIPT)
    assert _freeze(run_reprorun, platform_wheels, script, "--for", "linux-x86_64").returncode == 0
    edited = 'targets = ["linux-x86_64", "windows-x86_64"]'
    script.write_text(script.read_text().replace('targets = ["linux-x86_64"]', edited))
    check = _freeze(run_reprorun, platform_wheels, script, "--check")
    assert check.returncode == 1
    assert "targets linux-x86_64, windows-x86_64" in check.stderr
    again = _freeze(run_reprorun, platform_wheels, script)
    assert again.returncode == 0, again.stderr
    meta = metadata.parse(script.read_text())
    assert meta.settings.frozen_for == f"{CP}-linux-x86_64, {CP}-windows-x86_64"
    assert "winshim==1.0; sys_platform == 'win32'" in meta.dependencies


def test_add_keeps_the_targets_of_a_multi_platform_block(run_reprorun, tmp_path: Path, platform_wheels: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text('# /// script\n# dependencies = ["pure"]\n# ///\n')
    two = ("--for", "linux-x86_64", "--for", "linux-aarch64")
    assert _freeze(run_reprorun, platform_wheels, script, *two).returncode == 0
    done = run_reprorun("--python", PY, "--find-links", platform_wheels, "add", script, "app")
    assert done.returncode == 0, done.stderr
    meta = metadata.parse(script.read_text())
    assert meta.settings.targets == ("linux-x86_64", "linux-aarch64")
    assert "native==1.0; sys_platform == 'linux' and platform_machine == 'aarch64'" in meta.dependencies
    assert "native==2.0; sys_platform == 'linux' and platform_machine == 'x86_64'" in meta.dependencies


def test_a_single_platform_freeze_is_as_before(run_reprorun, tmp_path: Path, platform_wheels: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text(SCRIPT)
    done = _freeze(run_reprorun, platform_wheels, script)
    assert done.returncode == 0, done.stderr
    meta = metadata.parse(script.read_text())
    assert meta.settings.targets == ()
    assert meta.settings.frozen_for is not None and meta.settings.frozen_for.startswith(f"cpython-{PY}.")
    assert "targets" not in script.read_text()
    assert meta.dependencies == ("app==1.0", "native==2.0", "pure==1.0")


def test_running_a_block_frozen_for_other_platforms_warns(run_reprorun, tmp_path: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text(
        '# /// script\n# dependencies = ["alpha==1.0"]\n#\n# [tool.reprorun]\n# requested = ["alpha"]\n'
        f'# targets = ["windows-x86_64"]\n# frozen-for = "{CP}-windows-x86_64"\n# ///\nprint("ran")\n'
    )
    done = run_reprorun("--python", PY, script)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "ran\n"
    assert f"the pins were frozen for {CP}-windows-x86_64, but this is cpython-{PY}." in done.stderr


def test_check_for_a_block_that_is_not_frozen_names_the_loose_requirements(run_reprorun, tmp_path: Path,
                                                                           platform_wheels: Path) -> None:  # fmt: skip
    script = tmp_path / "s.py"
    script.write_text(SCRIPT)
    done = run_reprorun("check", "--python", PY, "--find-links", platform_wheels, "--for", "linux-x86_64", script)
    assert done.returncode == 1
    line = f"FAIL  complete {CP}-linux-x86_64: needs native 2.0, pure 1.0, which the block does not pin there"
    assert line in done.stdout


def test_bundle_refuses_an_existing_output_and_a_script_without_block(run_reprorun, tmp_path: Path,
                                                                      platform_wheels: Path) -> None:  # fmt: skip
    script = tmp_path / "s.py"
    script.write_text(SCRIPT)
    taken = tmp_path / "taken"
    taken.mkdir()
    done = run_reprorun("--python", PY, "--find-links", platform_wheels, "bundle", "-o", taken, script)
    assert done.returncode == 2 and f"{taken} exists; a bundle needs a new name" in done.stderr
    bare = tmp_path / "bare.py"
    bare.write_text("print(1)\n")
    done = run_reprorun("bundle", "-o", tmp_path / "b", bare)
    assert done.returncode == 2 and "no '# /// script' block to bundle" in done.stderr
    assert not (tmp_path / "b").exists()


def test_run_with_a_bundle_that_does_not_exist(run_reprorun, tmp_path: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text(SCRIPT)
    done = run_reprorun("--bundle", tmp_path / "nowhere", script)
    assert done.returncode == 2
    assert done.stderr == f"reprorun: error: --bundle {tmp_path / 'nowhere'}: no such folder or file\n"


def test_a_bundle_for_other_platforms_only_says_so(run_reprorun, tmp_path: Path, platform_wheels: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text(SCRIPT)
    out = tmp_path / "b"
    done = run_reprorun("--python", PY, "--find-links", platform_wheels, "bundle", "--for", "windows-x86_64",
                        "-o", out, script)  # fmt: skip
    assert done.returncode == 0, done.stderr
    ran = run_reprorun("--bundle", out, script)
    assert ran.returncode == 1
    assert ran.stderr.startswith(f"reprorun: error: {out} holds wheels for {CP}-windows-x86_64, not for this platform")

"""Portability commands on real wheels, at their edges: hashes that do not match, other targets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from portable_wheels import CP, PY, build

SCRIPT = '# /// script\n# dependencies = ["app"]\n# ///\nimport app\napp.main()\n'


@pytest.fixture(scope="module")
def platform_wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The portability wheelhouse (tests/portable_wheels.py)."""
    return build(tmp_path_factory.mktemp("platform-wheels"))


def _in(wheels: Path, *args: str | Path) -> tuple[str | Path, ...]:
    return ("--python", PY, "--find-links", wheels, *args)


def test_export_pylock_refuses_a_wheel_whose_hash_the_block_does_not_record(run_reprorun, tmp_path: Path,
                                                                            platform_wheels: Path) -> None:  # fmt: skip
    script = tmp_path / "s.py"
    script.write_text(SCRIPT)
    assert run_reprorun(*_in(platform_wheels, "--freeze", "--hashes", "--for", "linux-x86_64", script)).returncode == 0
    text = script.read_text()
    start = text.index('# pure = ["sha256:') + len('# pure = ["sha256:')
    script.write_text(text[:start] + "f" * 64 + text[start + 64 :])
    done = run_reprorun(*_in(platform_wheels, "export", "-f", "pylock", script))
    assert done.returncode == 1
    assert done.stderr.startswith(f"reprorun: error: pure-1.0-py3-none-any.whl (for {CP}-linux-x86_64) has sha256:")
    assert "which the block does not record for pure" in done.stderr
    assert not (tmp_path / "pylock.s.toml").exists()


def test_export_pylock_of_pins_without_a_wheel_there_names_them(run_reprorun, tmp_path: Path,
                                                                platform_wheels: Path) -> None:  # fmt: skip
    script = tmp_path / "s.py"
    script.write_text(
        '# /// script\n# dependencies = ["onlylinux==1.0"]\n#\n# [tool.reprorun]\n# requested = ["onlylinux"]\n'
        f'# targets = ["linux-x86_64", "windows-x86_64"]\n# frozen-for = "{CP}-linux-x86_64, {CP}-windows-x86_64"\n'
        "# ///\n"
    )
    done = run_reprorun(*_in(platform_wheels, "export", "-f", "pylock", "-o", "-", script))
    assert done.returncode == 1
    assert f"the pins cannot be installed on {CP}-windows-x86_64 from wheels" in done.stderr
    assert "onlylinux 1.0 has no wheel for windows-x86_64" in done.stderr and "nearest version" in done.stderr
    assert done.stdout == ""


def test_check_several_targets_at_once_as_json(run_reprorun, tmp_path: Path, platform_wheels: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text(SCRIPT)
    assert run_reprorun(*_in(platform_wheels, "--freeze", "--for", "linux-x86_64", script)).returncode == 0
    done = run_reprorun(*_in(platform_wheels, "check", "--json", "--for", "linux-x86_64", "--for", "windows-x86_64",
                             "--for", "linux-aarch64", script))  # fmt: skip
    assert done.returncode == 1
    checks = {c["name"]: c for c in json.loads(done.stdout)["checks"]}
    assert checks[f"wheels {CP}-linux-x86_64"]["ok"] and checks[f"complete {CP}-linux-x86_64"]["ok"]
    assert checks[f"wheels {CP}-windows-x86_64"]["ok"]
    assert not checks[f"complete {CP}-windows-x86_64"]["ok"]
    assert "winshim 1.0" in checks[f"complete {CP}-windows-x86_64"]["detail"]
    assert not checks[f"wheels {CP}-linux-aarch64"]["ok"]


def test_environment_yml_and_requirements_of_a_multi_platform_block_keep_the_markers(
    run_reprorun, tmp_path: Path, platform_wheels: Path
) -> None:
    import yaml

    script = tmp_path / "s.py"
    script.write_text(SCRIPT)
    done = run_reprorun(*_in(platform_wheels, "--freeze", "--for", "linux-x86_64", "--for", "windows-x86_64", script))
    assert done.returncode == 0, done.stderr
    env = yaml.safe_load(run_reprorun(*_in(platform_wheels, "export", "-f", "environment.yml", script)).stdout)
    assert env["dependencies"][2]["pip"] == ["app==1.0", "native==2.0", "pure==1.0",
                                             "winshim==1.0; sys_platform == 'win32'"]  # fmt: skip
    out = tmp_path / "req" / "requirements.txt"
    out.parent.mkdir()
    done = run_reprorun(*_in(platform_wheels, "export", "-f", "requirements", "-o", out, script))
    assert done.returncode == 0 and done.stdout == ""
    assert out.read_text().splitlines()[1:] == ["app==1.0", "native==2.0", "pure==1.0",
                                                "winshim==1.0; sys_platform == 'win32'"]  # fmt: skip


def test_bundle_for_other_targets_than_the_blocks_resolves_them_in_memory(run_reprorun, tmp_path: Path,
                                                                          platform_wheels: Path) -> None:  # fmt: skip
    script = tmp_path / "s.py"
    script.write_text(SCRIPT)
    assert run_reprorun(*_in(platform_wheels, "--freeze", "--for", "linux-x86_64", script)).returncode == 0
    frozen = script.read_text()
    out = tmp_path / "b"
    done = run_reprorun(*_in(platform_wheels, "bundle", "--for", "linux-aarch64", "-o", out, script))
    assert done.returncode == 0, done.stderr
    assert f"the block is frozen for {CP}-linux-x86_64, not linux-aarch64" in done.stderr
    assert "the bundle holds pins the script does not" in done.stderr
    assert sorted(p.name for p in (out / "wheels").iterdir()) == [
        "app-1.0-py3-none-any.whl", f"native-1.0-{CP}-{CP}-manylinux_2_17_aarch64.whl", "pure-1.0-py3-none-any.whl"]
    assert json.loads((out / "bundle.json").read_text())["targets"] == [f"{CP}-linux-aarch64"]
    assert script.read_text() == frozen


def test_a_script_run_from_a_bundle_it_differs_from_is_told(run_reprorun, tmp_path: Path,
                                                            platform_wheels: Path) -> None:  # fmt: skip
    script = tmp_path / "s.py"
    script.write_text(SCRIPT)
    assert run_reprorun(*_in(platform_wheels, "--freeze", "--for", "linux-x86_64", script)).returncode == 0
    out = tmp_path / "b"
    assert run_reprorun(*_in(platform_wheels, "bundle", "-o", out, script)).returncode == 0
    script.write_text(script.read_text() + "print('edited')\n")
    done = run_reprorun("--bundle", out, script)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "app 2.0\nedited\n"
    assert f"{script} differs from the copy in the bundle" in done.stderr

"""`reprorun check --for TARGET`: wheels for every pin there, recorded hashes, nothing unpinned needed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from portable_wheels import PY, build

FROZEN_HERE = """\
# /// script
# dependencies = [
#     "app==1.0",
#     "native==2.0",  # via app
#     "onlylinux==1.0",
#     "pure==1.0",  # via app
# ]
#
# [tool.reprorun]
# requested = ["app", "onlylinux"]
# frozen-for = "cpython-3.11.7-manylinux_2_36_x86_64"
# ///
"""


@pytest.fixture(scope="module")
def platform_wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The portability wheelhouse (tests/portable_wheels.py)."""
    return build(tmp_path_factory.mktemp("platform-wheels"))


def _check(run_reprorun, wheels: Path, script: Path, *names: str, json_out: bool = False):
    targets = [arg for name in names for arg in ("--for", name)]
    return run_reprorun("check", "--python", PY, "--no-index", "--find-links", wheels, *targets,
                        *(["--json"] if json_out else []), script)  # fmt: skip


def test_check_for_the_platform_it_was_frozen_for(run_reprorun, tmp_path: Path, platform_wheels: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text(FROZEN_HERE)
    done = _check(run_reprorun, platform_wheels, script, "linux-x86_64")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"ok    wheels cp{PY.replace('.', '')}-linux-x86_64: all 4 pins that apply there have wheels" in done.stdout
    assert "ok    complete" in done.stdout


def test_check_names_every_pin_without_a_wheel_and_the_nearest(run_reprorun, tmp_path: Path,
                                                               platform_wheels: Path) -> None:  # fmt: skip
    script = tmp_path / "s.py"
    script.write_text(FROZEN_HERE.replace('"native==2.0"', '"native==2.0",\n#     "winshim==1.0"'))
    done = _check(run_reprorun, platform_wheels, script, "linux-aarch64", json_out=True)
    assert done.returncode == 1
    result = json.loads(done.stdout)
    assert result["ok"] is False
    (wheels,) = [c for c in result["checks"] if c["name"].startswith("wheels")]
    assert wheels["detail"] == (
        f"native 2.0 has no wheel for linux-aarch64 (Python {PY}); nearest version with a wheel there: 1.0; "
        f"winshim 1.0 has no wheel for linux-aarch64 (Python {PY}); no version of winshim has one"
    )


def test_check_finds_a_dependency_the_block_lacks_on_the_target(run_reprorun, tmp_path: Path,
                                                                platform_wheels: Path) -> None:  # fmt: skip
    """Frozen on Linux, the block lacks app's Windows-only dependency: check --for windows says so."""
    script = tmp_path / "s.py"
    script.write_text(FROZEN_HERE.replace('#     "onlylinux==1.0",\n', "").replace(', "onlylinux"', ""))
    done = _check(run_reprorun, platform_wheels, script, "windows-x86_64")
    assert done.returncode == 1
    assert "FAIL  complete" in done.stdout
    assert "needs winshim 1.0, which the block does not pin there" in done.stdout
    assert "(reprorun --freeze --for windows-x86_64)" in done.stdout


def test_check_compares_each_wheel_with_the_recorded_hashes(run_reprorun, tmp_path: Path,
                                                            platform_wheels: Path) -> None:  # fmt: skip
    def sha(name: str) -> str:
        (path,) = platform_wheels.glob(name)
        return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()

    hashes = {"app": sha("app-1.0-*"), "native": sha("native-2.0-*x86_64*"), "pure": sha("pure-1.0-*")}
    table = "".join(f'# {n} = ["{h}"]\n' for n, h in hashes.items())
    text = FROZEN_HERE.replace('#     "onlylinux==1.0",\n', "").replace(', "onlylinux"', "")
    text = text.replace("# ///\n", f"#\n# [tool.reprorun.hashes]\n{table}# ///\n")
    script = tmp_path / "s.py"
    script.write_text(text)
    good = _check(run_reprorun, platform_wheels, script, "linux-x86_64")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "ok    hashes" in good.stdout
    # macOS installs another wheel of native 2.0, whose hash the block does not record
    other = _check(run_reprorun, platform_wheels, script, "macos-arm64")
    assert other.returncode == 1
    cp = f"cp{PY.replace('.', '')}"
    assert f"native-2.0-{cp}-{cp}-macosx_11_0_arm64.whl has sha256:" in other.stdout
    assert "which is not recorded for native" in other.stdout


def test_check_for_an_unknown_target_is_a_usage_error(run_reprorun, tmp_path: Path, platform_wheels: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text(FROZEN_HERE)
    done = _check(run_reprorun, platform_wheels, script, "linux-sparc")
    assert done.returncode == 2
    assert done.stderr.startswith("reprorun: error: unknown target 'linux-sparc'")
    assert done.stdout == ""

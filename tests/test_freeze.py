"""`reprorun --freeze`: the pure planning and pin logic, then the real command on the wheelhouse."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from reprorun.envs import frozenfor
from reprorun.freeze import pins, resolve
from reprorun.script import metadata

FROZEN = """\
# /// script
# dependencies = [
#     "alpha==2.0",  # via beta
#     "beta==1.0",
# ]
#
# [tool.reprorun]
# requested = ["beta"]
# frozen-for = "cpython-3.11.7-manylinux_2_36_x86_64"
# ///
"""


def _meta(text: str) -> metadata.Metadata:
    return metadata.parse(text)


# --- pure ----------------------------------------------------------------------------------------


def test_from_report_via_markers_extras_and_hashes() -> None:
    def item(
        name: str, requires: list[str], requested: bool = False, extras: list[str] | None = None
    ) -> dict[str, Any]:
        found: dict[str, Any] = {"metadata": {"name": name, "version": "1.0", "requires_dist": requires},
                 "requested": requested, "download_info": {"url": f"{name}.whl",
                 "archive_info": {"hashes": {"sha256": "ab" * 32}}}}  # fmt: skip
        if extras:
            found["requested_extras"] = extras
        return found

    report = {
        "install": [
            item("Top", ["mid", 'never; python_version < "3"', 'opt; extra == "x"'], True, ["x"]),
            item("mid", ["leaf"]),
            item("leaf", []),
            item("opt", ["leaf"]),
        ],
        "environment": {"python_version": "3.11", "sys_platform": "linux"},
    }
    resolution = resolve.from_report(report, ["top[x]>=1", 'gone; sys_platform == "win32"'])
    pins = {p.name: p for p in resolution.pins}
    assert [p.requirement for p in resolution.pins] == ["leaf==1.0", "mid==1.0", "opt==1.0", "top[x]==1.0"]
    assert pins["leaf"].via == ("mid", "opt")
    assert pins["mid"].via == ("top",)
    assert pins["opt"].via == ("top",)
    assert pins["top"].via == ()
    assert pins["top"].hashes == ("sha256:" + "ab" * 32,)
    assert resolution.kept == ('gone; sys_platform == "win32"',)


def test_a_requested_marker_is_kept_on_its_pin() -> None:
    report = {"install": [{"metadata": {"name": "a", "version": "2"}, "requested": True,
                           "download_info": {"url": "a.whl"}}]}  # fmt: skip
    (pin,) = resolve.from_report(report, ['a>=1; python_version >= "3.8"']).pins
    assert pin.requirement == "a==2; python_version >= '3.8'"


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda t: t.replace('requested = ["beta"]', 'requested = ["beta", "gamma"]'), "'gamma' has no pin"),
        (lambda t: t.replace('requested = ["beta"]', 'requested = ["beta>=2"]'), "does not match the pin"),
        (lambda t: t.replace('"beta==1.0",', '"beta==1.0",\n#     "delta",'), "'delta' in dependencies is not pinned"),
        (lambda t: t.replace('frozen-for = "cpython-3.11.7-manylinux_2_36_x86_64"\n', ""), "not frozen"),
        (lambda t: t.replace("# ///\n", '#\n# [tool.reprorun.hashes]\n# beta = ["sha256:' + "0" * 64 + '"]\n# ///\n')
         if t.count("# ///") else t, "no hash recorded for alpha"),
    ],
)  # fmt: skip
def test_staleness_reasons(edit: object, reason: str) -> None:
    text = edit(FROZEN)  # type: ignore[operator]
    reasons = pins.staleness(_meta(text))
    assert any(reason in r for r in reasons), reasons


def test_a_current_block_needs_no_resolution() -> None:
    assert pins.staleness(_meta(FROZEN)) == []
    assert not pins.plan(_meta(FROZEN)).needed


def test_plan_constraints() -> None:
    meta = _meta(FROZEN)
    assert pins.plan(meta, upgrade=True).constraints == ()
    assert pins.plan(meta, upgrade_packages=["Alpha"]).constraints == ("beta==1.0",)
    assert pins.plan(meta, force="x").constraints == ("alpha==2.0", "beta==1.0")
    # A requirement added to a frozen block by hand joins `requested`.
    hand = _meta(FROZEN.replace('"beta==1.0",', '"beta==1.0",\n#     "gamma",'))
    assert pins.plan(hand).requested == ("beta", "gamma")
    # A pin that no longer meets `requested` is released, not kept as a constraint.
    moved = _meta(FROZEN.replace('requested = ["beta"]', 'requested = ["beta", "alpha<2"]'))
    assert pins.plan(moved).constraints == ("beta==1.0",)


def test_hashes_and_exclude_newer_are_reasons_to_resolve() -> None:
    assert pins.plan(_meta(FROZEN), hashes=True).reasons == ("--hashes",)
    assert pins.plan(_meta(FROZEN), exclude_newer="2024-06-01").reasons == ("--exclude-newer 2024-06-01",)
    assert pins.check_timestamp("2024-06-01") == "2024-06-01T00:00:00Z"
    assert pins.check_timestamp("2024-06-01T02:00:00+02:00") == "2024-06-01T00:00:00Z"


@pytest.mark.parametrize(
    ("running", "warns"),
    [
        ("cpython-3.11.7-manylinux_2_36_x86_64", False),
        ("cpython-3.11.9-manylinux_2_39_x86_64", False),
        ("cpython-3.12.1-manylinux_2_36_x86_64", True),
        ("cpython-3.11.7-macosx_14_0_arm64", True),
        ("pypy-3.11.7-manylinux_2_36_x86_64", True),
    ],
)
def test_frozen_for_mismatch(running: str, warns: bool) -> None:
    warning = frozenfor.frozen_for_mismatch("cpython-3.11.7-manylinux_2_36_x86_64", running)
    assert (warning is not None) == warns


# --- the real command ------------------------------------------------------------------------------

SCRIPT = """\
#!/usr/bin/env reprorun
# /// script
# dependencies = ["gamma"]
# ///
import importlib.metadata as md

for name in ("alpha", "beta", "epsilon", "gamma", "delta"):
    try:
        print(name, md.version(name))
    except md.PackageNotFoundError:
        print(name, "-")
"""


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "analysis.py"
    path.write_text(SCRIPT)
    return path


def _pins(path: Path) -> dict[str, str]:
    return dict(re.findall(r'"([a-z-]+)==([^"]+)"', path.read_text()))


def test_freeze_pins_the_whole_environment(run_reprorun, script: Path) -> None:
    result = run_reprorun("--freeze", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert _pins(script) == {"alpha": "2.0", "beta": "1.0", "epsilon": "1.0", "gamma": "1.0"}
    meta = metadata.parse(script.read_text())
    assert meta.settings.requested == ("gamma",)
    assert meta.settings.frozen_for and meta.settings.frozen_for.startswith("cpython-")
    assert "4 added" in result.stderr
    assert script.read_text().endswith(SCRIPT.split("# ///\n", 1)[1])


def test_second_freeze_changes_no_byte_and_does_not_resolve(run_reprorun, script: Path) -> None:
    assert run_reprorun("--freeze", script).returncode == 0
    frozen = script.read_bytes()
    stat = script.stat()
    again = run_reprorun("-v", "--freeze", script)
    assert again.returncode == 0, again.stderr
    assert script.read_bytes() == frozen
    assert script.stat().st_mtime_ns == stat.st_mtime_ns
    assert "--dry-run" not in again.stderr  # pip was not run
    upgraded = run_reprorun("--freeze", "--upgrade", script)
    assert upgraded.returncode == 0, upgraded.stderr
    assert script.read_bytes() == frozen


def test_dry_run_prints_the_block_and_writes_nothing(run_reprorun, script: Path) -> None:
    result = run_reprorun("--freeze", "--dry-run", script)
    assert result.returncode == 0, result.stderr
    assert script.read_text() == SCRIPT
    assert result.stdout.startswith("# /// script\n") and result.stdout.endswith("# ///\n")
    assert '"gamma==1.0",' in result.stdout


def test_check(run_reprorun, script: Path) -> None:
    unfrozen = run_reprorun("--freeze", "--check", script)
    assert unfrozen.returncode == 1
    assert "not frozen" in unfrozen.stderr
    assert run_reprorun("--freeze", script).returncode == 0
    assert run_reprorun("--freeze", "--check", script).returncode == 0
    script.write_text(script.read_text().replace('requested = ["gamma"]', 'requested = ["gamma", "alpha<2"]'))
    stale = run_reprorun("--freeze", "--check", script)
    assert stale.returncode == 1
    assert "alpha<2" in stale.stderr


def test_check_warns_when_frozen_for_another_platform(run_reprorun, script: Path) -> None:
    assert run_reprorun("--freeze", script).returncode == 0
    text = re.sub(r'frozen-for = "[^"]*"', 'frozen-for = "cpython-3.11.7-macosx_14_0_arm64"', script.read_text())
    script.write_text(text)
    result = run_reprorun("--freeze", "--check", script)
    assert result.returncode == 0
    assert "frozen for cpython-3.11.7-macosx_14_0_arm64" in result.stderr


def test_upgrade_package_moves_only_that_one(run_reprorun, script: Path) -> None:
    script.write_text(SCRIPT.replace('["gamma"]', '["gamma", "alpha<2"]'))
    assert run_reprorun("--freeze", script).returncode == 0
    assert _pins(script)["alpha"] == "1.0"
    # Loosen the request by hand; without --upgrade-package the pin stays where it is.
    script.write_text(script.read_text().replace('"alpha<2"]', '"alpha"]'))
    assert run_reprorun("--freeze", script).returncode == 0
    assert _pins(script)["alpha"] == "1.0"
    assert run_reprorun("--freeze", "--upgrade-package", "alpha", script).returncode == 0
    assert _pins(script) == {"alpha": "2.0", "beta": "1.0", "epsilon": "1.0", "gamma": "1.0"}


def test_exclude_newer_is_recorded_and_given_to_pip(run_reprorun, script: Path) -> None:
    result = run_reprorun("-v", "--freeze", "--exclude-newer", "2024-06-01", script)
    assert result.returncode == 0, result.stderr
    assert "--uploaded-prior-to 2024-06-01T00:00:00Z" in result.stderr
    assert metadata.parse(script.read_text()).settings.exclude_newer == "2024-06-01"
    bad = run_reprorun("--freeze", "--exclude-newer", "yesterday", script)
    assert bad.returncode == 2


def test_failed_resolution_writes_nothing(run_reprorun, script: Path) -> None:
    script.write_text(SCRIPT.replace('["gamma"]', '["gamma", "nonexistent-package"]'))
    os.chmod(script, 0o640)
    before = script.read_bytes()
    result = run_reprorun("--freeze", script)
    assert result.returncode == 1
    assert "could not resolve" in result.stderr and "nothing was written" in result.stderr
    assert script.read_bytes() == before
    assert list(script.parent.iterdir()) == [script]  # no temporary file left behind


def test_mode_and_symlink_are_kept(run_reprorun, script: Path) -> None:
    os.chmod(script, 0o751)
    link = script.parent / "link.py"
    link.symlink_to(script.name)
    assert run_reprorun("--freeze", link).returncode == 0
    assert link.is_symlink()
    assert (script.stat().st_mode & 0o7777) == 0o751
    assert "gamma==1.0" in script.read_text()


@pytest.mark.slow
def test_hashes_are_verified_on_install(run_reprorun, script: Path) -> None:
    assert run_reprorun("--freeze", "--hashes", script).returncode == 0
    text = script.read_text()
    assert re.search(r'gamma = \["sha256:[0-9a-f]{64}"\]', text)
    ok = run_reprorun(script)
    assert ok.returncode == 0, ok.stderr
    assert "gamma 1.0" in ok.stdout
    tampered = re.sub(r'(beta = \["sha256:)([0-9a-f])', lambda m: m.group(1) + ("1" if m.group(2) == "0" else "0"),
                      text)  # fmt: skip
    assert tampered != text
    script.write_text(tampered)
    failed = run_reprorun(script)
    assert failed.returncode == 1
    assert "hash" in failed.stderr.lower()
    assert "Traceback" not in failed.stderr


@pytest.mark.slow
def test_uv_installs_the_same_pins(run_reprorun, script: Path, wheelhouse: Path, tmp_path: Path) -> None:
    uv = shutil.which("uv", path=os.path.dirname(sys.executable)) or shutil.which("uv")
    if uv is None:
        pytest.fail("uv is part of the test extra")
    script.write_text(SCRIPT.replace('["gamma"]', '["gamma", "alpha<2"]'))
    assert run_reprorun("--freeze", script).returncode == 0
    pins = _pins(script)
    assert pins == {"alpha": "1.0", "beta": "1.0", "epsilon": "1.0", "gamma": "1.0"}
    # uv reads only the standard `dependencies`; make `requested` say something else to prove it.
    script.write_text(script.read_text().replace('requested = ["gamma", "alpha<2"]', 'requested = ["gamma"]'))
    env = {**os.environ, "UV_CACHE_DIR": str(tmp_path / "uv-cache"), "UV_PYTHON": sys.executable,
           "UV_PYTHON_DOWNLOADS": "never"}  # fmt: skip
    result = subprocess.run(
        [uv, "run", "--no-config", "--script", "--no-index", "--find-links", str(wheelhouse), "--offline", str(script)],
        capture_output=True, text=True, env=env, check=False, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    installed = dict(line.split() for line in result.stdout.splitlines())
    assert installed == {**pins, "delta": "-"}

"""`--freeze --for TARGET`: targets, merging, and real pip and uv resolutions on platform wheels."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement

from portable_wheels import CP, PY, build
from reprorun.errors import MetadataError, UsageError
from reprorun.freeze.pins import Pin, Resolution
from reprorun.portable import merge, targets, uv
from reprorun.portable.resolve import Missing, nearest, parse_missing
from reprorun.script import metadata

FOUR = ("linux-x86_64", "linux-aarch64", "windows-x86_64", "macos-arm64")


@pytest.fixture(scope="module")
def platform_wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The portability wheelhouse (tests/portable_wheels.py)."""
    return build(tmp_path_factory.mktemp("platform-wheels"))


# --- targets (pure) --------------------------------------------------------------------------------


def test_targets_parse_with_and_without_python() -> None:
    assert targets.parse("linux-x86_64") == targets.Target("linux", "x86_64")
    assert targets.parse("cp311-macos-arm64") == targets.Target("macos", "arm64", "3.11")
    assert targets.parse("CP312-Windows-X86_64").name == "cp312-windows-x86_64"
    assert [t.name for t in targets.parse_all(["linux-x86_64", "linux-x86_64", "macos-x86_64"])] == [
        "linux-x86_64", "macos-x86_64"]  # fmt: skip


@pytest.mark.parametrize("bad", ["linux", "solaris-sparc", "linux-ppc64le", "cp2-linux-x86_64", ""])
def test_an_unknown_target_is_a_usage_error_listing_the_known_ones(bad: str) -> None:
    with pytest.raises(UsageError) as caught:
        targets.parse(bad)
    assert "linux-aarch64" in (caught.value.hint or "")


def test_pip_and_uv_options_of_a_target() -> None:
    linux = targets.parse("cp311-linux-aarch64")
    args = linux.pip_args()
    assert args[:7] == ["--only-binary=:all:", "--implementation", "cp", "--python-version", "3.11", "--abi", "cp311"]
    platforms = [args[i + 1] for i, a in enumerate(args) if a == "--platform"]
    assert platforms[0] == "manylinux_2_28_aarch64" and "manylinux_2_17_aarch64" in platforms
    assert "manylinux2014_aarch64" in platforms and "manylinux_2_29_aarch64" not in platforms
    assert "--python-platform" in linux.uv_args() and "aarch64-manylinux_2_28" in linux.uv_args()
    mac = targets.parse("cp312-macos-arm64").platform_tags()
    assert mac[0] == "macosx_12_0_arm64" and "macosx_11_0_arm64" in mac and "macosx_11_0_universal2" in mac
    assert targets.parse("cp312-windows-x86_64").platform_tags() == ["win_amd64"]


def test_marker_values_of_each_target() -> None:
    env = targets.parse("cp311-windows-x86_64").environment()
    assert (env["sys_platform"], env["platform_machine"], env["os_name"]) == ("win32", "AMD64", "nt")
    env = targets.parse("cp310-macos-arm64").environment()
    assert (env["sys_platform"], env["platform_machine"], env["python_version"]) == ("darwin", "arm64", "3.10")


def test_target_of_an_interpreter_tag_and_frozen_for_round_trip() -> None:
    here = targets.from_tag("cpython-3.11.7-manylinux_2_36_x86_64")
    assert here == targets.Target("linux", "x86_64", "3.11", (2, 36))
    assert here is not None and here.platform_tags()[0] == "manylinux_2_36_x86_64"
    assert targets.from_tag("cpython-3.12.1-macosx_14_0_arm64") == targets.Target("macos", "arm64", "3.12", (14, 0))
    assert targets.from_tag("pypy-3.10.0-manylinux_2_36_x86_64") is None
    chosen = [targets.parse("cp311-linux-x86_64"), targets.parse("cp311-macos-arm64")]
    written = targets.frozen_for(chosen)
    assert written == "cp311-linux-x86_64, cp311-macos-arm64"
    assert targets.from_frozen_for(written) == chosen
    assert targets.from_frozen_for("cpython-3.11.7-manylinux_2_36_x86_64") is None


def test_frozen_for_a_list_warns_only_off_its_targets() -> None:
    from reprorun.envs.frozenfor import frozen_for_mismatch

    value = "cp311-linux-x86_64, cp311-macos-arm64"
    assert frozen_for_mismatch(value, "cpython-3.11.7-manylinux_2_36_x86_64") is None
    assert frozen_for_mismatch(value, "cpython-3.11.2-macosx_14_0_arm64") is None
    warning = frozen_for_mismatch(value, "cpython-3.12.1-manylinux_2_36_x86_64")
    assert warning is not None and "--for" in warning
    assert frozen_for_mismatch(value, "cpython-3.11.7-manylinux_2_36_aarch64") is not None


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [
        (["linux-x86_64"], "sys_platform == 'linux' and platform_machine == 'x86_64'"),
        (["linux-x86_64", "linux-aarch64"], "sys_platform == 'linux'"),
        (["windows-x86_64"], "sys_platform == 'win32'"),
        (["windows-x86_64", "macos-arm64"], "sys_platform == 'win32' or sys_platform == 'darwin'"),
    ],
)
def test_a_marker_is_true_exactly_on_the_chosen_targets(chosen: list[str], expected: str) -> None:
    every = [targets.parse(f"cp311-{t}") for t in FOUR]
    picked = [t for t in every if t.platform in chosen]
    text = targets.marker_for(picked, every)
    assert text == expected
    for target in every:
        assert Marker(text).evaluate(target.environment()) == (target in picked)


def test_python_version_enters_the_marker_only_when_targets_differ_in_python() -> None:
    every = [targets.parse("cp311-linux-x86_64"), targets.parse("cp312-linux-x86_64")]
    text = targets.marker_for(every[:1], every)
    assert "python_version == '3.11'" in text
    assert not Marker(text).evaluate(every[1].environment())


# --- merging (pure) --------------------------------------------------------------------------------


def _resolution(*pins: Pin, kept: tuple[str, ...] = ()) -> Resolution:
    return Resolution(pins, kept)


def test_merge_keeps_agreeing_pins_plain_and_marks_differing_ones() -> None:
    linux, windows = targets.parse("cp311-linux-x86_64"), targets.parse("cp311-windows-x86_64")
    h1, h2 = "sha256:" + "1" * 64, "sha256:" + "2" * 64
    merged = merge.merge([
        (linux, _resolution(Pin("app", "1.0"), Pin("native", "2.0", via=("app",), hashes=(h1,)))),
        (windows, _resolution(Pin("app", "1.0"), Pin("native", "1.0", via=("app",), hashes=(h2,)),
                              Pin("winshim", "1.0", via=("app",)))),
    ])  # fmt: skip
    assert [p.requirement for p in merged.pins] == [
        "app==1.0",
        "native==1.0; sys_platform == 'win32'",
        "native==2.0; sys_platform == 'linux'",
        "winshim==1.0; sys_platform == 'win32'",
    ]
    assert all(p.hashes == (h1, h2) for p in merged.pins if p.name == "native")
    assert merged.pins[1].via == ("app",)


def test_merge_keeps_a_users_own_marker_when_it_says_where_the_package_applies() -> None:
    linux, windows = targets.parse("cp311-linux-x86_64"), targets.parse("cp311-windows-x86_64")
    own = 'sys_platform == "win32"'
    merged = merge.merge([
        (linux, _resolution(Pin("app", "1.0"), kept=(f"colorama; {own}",))),
        (windows, _resolution(Pin("app", "1.0"), Pin("colorama", "0.4", marker=own))),
    ])  # fmt: skip
    assert [p.requirement for p in merged.pins] == ["app==1.0", "colorama==0.4; sys_platform == 'win32'"]
    assert merged.kept == ()


def test_constraints_of_a_target_are_the_pins_that_apply_there() -> None:
    deps = ("app==1.0", "native==1.0; sys_platform == 'win32'", "native==2.0; sys_platform == 'linux'")
    linux = targets.parse("cp311-linux-x86_64")
    assert merge.constraints_for(deps, ["app==1.0", "native==2.0"], linux) == ["app==1.0", "native==2.0"]
    windows = targets.parse("cp311-windows-x86_64")
    assert merge.constraints_for(deps, ["native==2.0"], windows) == ["native==1.0"]


def test_parse_missing_and_the_nearest_version() -> None:
    out = "ERROR: Could not find a version that satisfies the requirement onlylinux==1.0 (from versions: 0.9, 1.1)"
    assert parse_missing(out, {}) == Missing("onlylinux", "1.0", ("0.9", "1.1"))
    out = "ERROR: Could not find a version that satisfies the requirement native (from app) (from versions: none)"
    assert parse_missing(out, {"native": "2.0"}) == Missing("native", "2.0", ())
    assert parse_missing("ERROR: ResolutionImpossible", {}) is None
    assert nearest("2.0", ["1.0", "1.9", "3.0"]) == "1.9"
    assert nearest("2.0", ["1.0", "3.0"]) == "1.0"  # a tie goes to the lower one
    assert nearest("2.0", ["2.1", "5"]) == "2.1"
    assert nearest(None, ["1.0", "3.0"]) == "3.0"
    assert nearest("1.0", []) is None


def test_uv_compile_output_is_read_into_pins() -> None:
    text = (
        "app==1.0 \\\n    --hash=sha256:" + "a" * 64 + "\n    # via -r requested.txt\n"
        "native==2.0\n    # via\n    #   app\n    #   other\n"
        "other==1.0  # via app\n"
    )
    resolution = uv.read_compiled(text, ["app", "gone; sys_platform == 'win32'"])
    assert [(p.name, p.version, p.via) for p in resolution.pins] == [
        ("app", "1.0", ()), ("native", "2.0", ("app", "other")), ("other", "1.0", ("app",))]  # fmt: skip
    assert resolution.pins[0].hashes == ("sha256:" + "a" * 64,)
    assert resolution.kept == ("gone; sys_platform == 'win32'",)


def test_targets_in_the_block_must_be_an_array_of_strings() -> None:
    meta = metadata.parse('# /// script\n# [tool.reprorun]\n# targets = ["linux-x86_64"]\n# ///\n')
    assert meta.settings.targets == ("linux-x86_64",)
    with pytest.raises(MetadataError, match="'targets' must be an array of strings"):
        metadata.parse('# /// script\n# [tool.reprorun]\n# targets = "linux-x86_64"\n# ///\n')


# --- the real command --------------------------------------------------------------------------------

SCRIPT = '# /// script\n# dependencies = ["app"]\n# ///\nimport app\napp.main()\n'
FROZEN = f"""\
# /// script
# dependencies = [
#     "app==1.0",
#     "native==1.0; sys_platform == 'linux' and platform_machine == 'aarch64'",  # via app
#     "native==2.0; (sys_platform == 'linux' and platform_machine == 'x86_64') or sys_platform == 'win32' or sys_platform == 'darwin'",  # via app
#     "pure==1.0",  # via app
#     "winshim==1.0; sys_platform == 'win32'",  # via app
# ]
#
# [tool.reprorun]
# requested = ["app"]
# targets = ["linux-x86_64", "linux-aarch64", "windows-x86_64", "macos-arm64"]
# frozen-for = "{CP}-linux-x86_64, {CP}-linux-aarch64, {CP}-windows-x86_64, {CP}-macos-arm64"
# ///
import app
app.main()
"""  # noqa: E501


def _for(*names: str) -> list[str]:
    return [arg for name in names for arg in ("--for", name)]


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_freeze_for_four_targets(run_reprorun, tmp_path: Path, platform_wheels: Path, installer: str) -> None:
    script = tmp_path / "s.py"
    script.write_text(SCRIPT)
    done = run_reprorun("--installer", installer, "--python", PY, "--find-links", platform_wheels,
                        "--freeze", *_for(*FOUR), script)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert script.read_text() == FROZEN
    assert done.stdout == ""
    again = run_reprorun("--installer", installer, "--python", PY, "--freeze", script)
    assert again.returncode == 0 and "current; nothing to do" in again.stderr
    assert script.read_text() == FROZEN
    check = run_reprorun("--python", PY, "--freeze", "--check", script)
    assert check.returncode == 0, check.stderr


def test_each_target_installs_exactly_its_pins(tmp_path: Path, platform_wheels: Path) -> None:
    """uv, told each target, installs the frozen pins that apply there and nothing else."""
    from reprorun.envs.installers.uv import find_uv

    pins = [line.split('"')[1] for line in FROZEN.splitlines() if line.startswith('#     "')]
    requirements = tmp_path / "pins.txt"
    requirements.write_text("\n".join(pins) + "\n")
    expected = {
        "linux-x86_64": {"app==1.0", "native==2.0", "pure==1.0"},
        "linux-aarch64": {"app==1.0", "native==1.0", "pure==1.0"},
        "windows-x86_64": {"app==1.0", "native==2.0", "pure==1.0", "winshim==1.0"},
        "macos-arm64": {"app==1.0", "native==2.0", "pure==1.0"},
    }
    for name, wanted in expected.items():
        target = targets.parse(name).with_python(PY)
        done = subprocess.run([str(find_uv()), "pip", "compile", "--no-config", "--offline", "--no-index",
                               "--find-links", str(platform_wheels), str(requirements), "--no-header",
                               "--no-annotate", "--quiet", *target.uv_args()],
                              capture_output=True, text=True, check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert set(done.stdout.split()) == wanted, name


def test_the_frozen_block_runs_here(run_reprorun, tmp_path: Path, platform_wheels: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text(FROZEN)
    for installer in ("pip", "uv"):
        done = run_reprorun("--installer", installer, "--python", PY, "--refresh", "--find-links", platform_wheels,
                            script)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert done.stdout == "app 2.0\n"


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_a_target_without_wheels_names_package_version_target_and_nearest(
    run_reprorun, tmp_path: Path, platform_wheels: Path, installer: str
) -> None:
    script = tmp_path / "s.py"
    text = '# /// script\n# dependencies = ["onlylinux>=1"]\n# ///\n'
    script.write_text(text)
    done = run_reprorun("--installer", installer, "--python", PY, "--find-links", platform_wheels, "--freeze",
                        *_for("linux-x86_64", "windows-x86_64", "macos-arm64"), script)  # fmt: skip
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    head = f"reprorun: error: the block cannot be installed from wheels on {CP}-windows-x86_64, {CP}-macos-arm64:"
    assert head in lines
    assert (f"  onlylinux 1.0 has no wheel for windows-x86_64 (Python {PY}); "
            "nearest version with a wheel there: 0.9") in lines  # fmt: skip
    assert f"  onlylinux 1.0 has no wheel for macos-arm64 (Python {PY}); no version of onlylinux has one" in lines
    assert script.read_text() == text


def test_a_frozen_pin_missing_on_a_new_target_is_resolved_again_there(
    run_reprorun, tmp_path: Path, platform_wheels: Path
) -> None:
    """Adding linux-aarch64 to a block frozen here: native==2.0 has no wheel there, so it gets 1.0."""
    script = tmp_path / "s.py"
    script.write_text(SCRIPT)
    first = run_reprorun("--python", PY, "--find-links", platform_wheels, "--freeze", *_for("linux-x86_64"), script)
    assert first.returncode == 0, first.stderr
    assert '"native==2.0",  # via app' in script.read_text()
    assert f'frozen-for = "{CP}-linux-x86_64"' in script.read_text()
    second = run_reprorun("--python", PY, "--find-links", platform_wheels, "--freeze",
                          *_for("linux-x86_64", "linux-aarch64"), script)  # fmt: skip
    assert second.returncode == 0, second.stderr
    text = script.read_text()
    assert "\"native==1.0; sys_platform == 'linux' and platform_machine == 'aarch64'\"" in text
    assert "\"native==2.0; sys_platform == 'linux' and platform_machine == 'x86_64'\"" in text
    assert 'targets = ["linux-x86_64", "linux-aarch64"]' in text
    meta = metadata.parse(text)
    assert {str(Requirement(d).name) for d in meta.dependencies} == {"app", "native", "pure"}


def test_hashes_cover_every_targets_wheel(run_reprorun, tmp_path: Path, platform_wheels: Path) -> None:
    import hashlib

    script = tmp_path / "s.py"
    script.write_text(SCRIPT)
    done = run_reprorun("--python", PY, "--find-links", platform_wheels, "--freeze", "--hashes",
                        *_for("linux-x86_64", "windows-x86_64"), script)  # fmt: skip
    assert done.returncode == 0, done.stderr
    hashes = metadata.parse(script.read_text()).settings.hashes
    native = {f"sha256:{hashlib.sha256(p.read_bytes()).hexdigest()}" for p in platform_wheels.glob("native-2.0-*")
              if "x86_64" in p.name or "win_amd64" in p.name}  # fmt: skip
    assert set(hashes["native"]) == native and len(native) == 2
    assert len(hashes["winshim"]) == 1

"""Pure parts of portability at their edges: targets, merging, uv's output, bundles' archives."""

from __future__ import annotations

import io
import json
import logging
import tarfile
from pathlib import Path

import pytest
from packaging.markers import Marker

from reprorun.errors import BundleError
from reprorun.freeze.pins import Pin, Resolution
from reprorun.options import Options
from reprorun.portable import merge, targets, uv
from reprorun.portable.resolve import Missing, nearest
from reprorun.portable.targets import Target, parse
from reprorun.portable.unbundle import _extract, _this_platform, for_run, sha256_of

ALL = ("linux-x86_64", "linux-aarch64", "macos-arm64", "macos-x86_64", "windows-x86_64")


# --- targets ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_every_target_round_trips_and_has_tags_markers_and_a_uv_platform(name: str) -> None:
    target = parse(f"cp312-{name}")
    assert target.name == f"cp312-{name}" and target.platform == name
    assert parse(target.name) == target
    assert target.platform_tags()
    env = target.environment()
    assert env["python_version"] == "3.12" and env["python_full_version"] == "3.12.0"
    assert Marker(targets.marker_for([target], [target])).evaluate(env)
    uv_args = target.uv_args()
    assert uv_args[uv_args.index("--python-version") + 1] == "3.12"


def test_macos_intel_takes_intel_and_universal_wheels_back_to_10_9() -> None:
    tags = parse("cp311-macos-x86_64").platform_tags()
    assert tags[:3] == ["macosx_12_0_x86_64", "macosx_12_0_intel", "macosx_12_0_universal2"]
    assert "macosx_10_9_x86_64" in tags and "macosx_10_8_x86_64" not in tags
    assert not [t for t in tags if "arm64" in t]


def test_the_machines_own_glibc_and_macos_version_widen_the_tags() -> None:
    here = Target("linux", "x86_64", "3.11", (2, 36))
    assert here.platform_tags()[0] == "manylinux_2_36_x86_64"
    assert "manylinux_2_17_x86_64" in here.platform_tags() and "manylinux1_x86_64" in here.platform_tags()
    assert "x86_64-manylinux_2_36" in here.uv_args()
    old = Target("linux", "aarch64", "3.11", (2, 17))
    assert old.platform_tags() == ["manylinux_2_17_aarch64", "manylinux2014_aarch64"]
    assert "aarch64-manylinux_2_17" in old.uv_args()
    mac = Target("macos", "arm64", "3.11", (14, 2))
    assert mac.platform_tags()[0] == "macosx_14_0_arm64"


def test_a_target_without_python_gets_the_resolvers_and_keeps_its_own() -> None:
    assert parse("linux-x86_64").with_python("3.12").python == "3.12"
    assert parse("cp310-linux-x86_64").with_python("3.12").python == "3.10"
    with pytest.raises(AssertionError):
        parse("linux-x86_64").pip_args()


@pytest.mark.parametrize("value", [None, "", "cpython-3.11.7-manylinux_2_36_x86_64", "cp311-linux-x86_64, nonsense",
                                   "cp311-beos-x86_64"])  # fmt: skip
def test_frozen_for_values_that_are_no_target_list(value: str | None) -> None:
    assert targets.from_frozen_for(value) is None


def test_unknown_interpreter_tags_have_no_target() -> None:
    assert targets.from_tag("cpython-3.11.7-linux_riscv64") is None
    assert targets.from_tag("cpython-3.11.7-manylinux_2_36_ppc64le") is None
    assert targets.from_tag("nonsense") is None
    assert targets.from_tag("cpython-3.11.7-win_amd64") == Target("windows", "x86_64", "3.11")


def test_markers_over_three_machines_of_two_systems() -> None:
    every = [parse(f"cp311-{n}") for n in ("linux-x86_64", "linux-aarch64", "macos-arm64")]
    text = targets.marker_for([every[0], every[2]], every)
    assert text == "(sys_platform == 'linux' and platform_machine == 'x86_64') or sys_platform == 'darwin'"
    assert [Marker(text).evaluate(t.environment()) for t in every] == [True, False, True]


# --- merging ------------------------------------------------------------------------------------------


def test_three_versions_over_three_targets_each_get_their_marker() -> None:
    every = [parse(f"cp311-{n}") for n in ("linux-x86_64", "macos-arm64", "windows-x86_64")]
    merged = merge.merge([(t, Resolution((Pin("x", v),))) for t, v in zip(every, ("1", "2", "3"), strict=True)])
    assert [p.requirement for p in merged.pins] == [
        "x==1; sys_platform == 'linux'", "x==2; sys_platform == 'darwin'", "x==3; sys_platform == 'win32'"]
    for pin, target in zip(merged.pins, every, strict=True):
        assert [Marker(p.marker or "").evaluate(target.environment()) for p in merged.pins].count(True) == 1
        assert Marker(pin.marker or "").evaluate(target.environment())


def test_versions_are_ordered_as_versions_not_as_text() -> None:
    every = [parse("cp311-linux-x86_64"), parse("cp311-macos-arm64")]
    merged = merge.merge([(every[0], Resolution((Pin("x", "10.0"),))), (every[1], Resolution((Pin("x", "9.0"),)))])
    assert [p.version for p in merged.pins] == ["9.0", "10.0"]


def test_a_users_marker_that_does_not_say_where_is_combined_with_the_targets() -> None:
    every = [parse("cp311-linux-x86_64"), parse("cp311-macos-arm64")]
    own = 'python_version >= "3.8"'
    merged = merge.merge([(every[0], Resolution((Pin("x", "1", marker=own),))),
                          (every[1], Resolution((Pin("x", "2", marker=own),)))])  # fmt: skip
    assert [p.marker for p in merged.pins] == [
        'python_version >= "3.8" and sys_platform == "linux"', 'python_version >= "3.8" and sys_platform == "darwin"']


def test_extras_and_direct_references_keep_their_form() -> None:
    every = [parse("cp311-linux-x86_64"), parse("cp311-macos-arm64")]
    pins = (Pin("a", "1", extras=("fast",)), Pin("b", "1", url="https://example.org/b-1-py3-none-any.whl"))
    merged = merge.merge([(t, Resolution(pins)) for t in every])
    assert [p.requirement for p in merged.pins] == ["a[fast]==1", "b @ https://example.org/b-1-py3-none-any.whl"]


def test_requirements_kept_as_written_only_when_no_target_resolved_them() -> None:
    every = [parse("cp311-linux-x86_64"), parse("cp311-windows-x86_64")]
    merged = merge.merge([(every[0], Resolution((), ("w; sys_platform == 'win32'", "z; python_version < '3'"))),
                          (every[1], Resolution((Pin("w", "1"),), ("z; python_version < '3'",)))])  # fmt: skip
    assert merged.kept == ("z; python_version < '3'",)
    assert merge.merge([]) == Resolution((), ())


def test_pins_for_a_target_and_the_versions_others_chose() -> None:
    deps = ("a==1", "b==2; sys_platform == 'win32'", "c>=1", "d @ https://example.org/d.whl")
    assert merge.pins_for(deps, parse("cp311-linux-x86_64")) == {"a": "1"}
    assert merge.pins_for(deps, parse("cp311-windows-x86_64")) == {"a": "1", "b": "2"}
    linux = parse("cp311-linux-x86_64")
    assert merge.versions([(linux, Resolution((Pin("a", "3"),)))], {"a": "1", "z": "9"}) == {"a": "3", "z": "9"}


# --- nearest versions, uv's output -------------------------------------------------------------------


@pytest.mark.parametrize(("wanted", "available", "expected"), [
    ("2.0", ["1.26.4", "2.1.0"], "2.1.0"),
    ("1.26.4", ["1.26.3", "1.26.5", "2.0"], "1.26.3"),
    ("3.0", ["not-a-version", "2.9"], "2.9"),
    ("weird", ["1.0", "2.0"], "2.0"),
])  # fmt: skip
def test_nearest_version(wanted: str, available: list[str], expected: str) -> None:
    assert nearest(wanted, available) == expected


def test_a_missing_pin_describes_itself() -> None:
    target = parse("cp311-linux-aarch64")
    assert Missing("x", None, ("1.0",)).describe(target) == (
        "x has no wheel for linux-aarch64 (Python 3.11); nearest version with a wheel there: 1.0")


def test_uv_output_with_extras_constraints_and_several_hashes() -> None:
    text = (
        "withextra[fancy]==1.0 \\\n    --hash=sha256:" + "a" * 64 + " \\\n    --hash=sha256:" + "b" * 64 + "\n"
        "    # via -r requested.txt\n"
        "delta==1.0\n    # via\n    #   -c constraints.txt\n    #   withextra\n"
    )
    resolution = uv.read_compiled(text, ["withextra[fancy]"])
    (delta, extra) = resolution.pins
    assert extra.requirement == "withextra[fancy]==1.0"
    assert extra.hashes == ("sha256:" + "a" * 64, "sha256:" + "b" * 64)
    assert delta.via == ("withextra",)


# --- bundles: archives and the platform here -------------------------------------------------------


def _archive(path: Path, members: dict[str, bytes], symlink: str | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if symlink:
            info = tarfile.TarInfo(symlink)
            info.type = tarfile.SYMTYPE
            info.linkname = "/etc/passwd"
            tar.addfile(info)
    return path


def test_an_archive_is_extracted_once_by_its_sha256(tmp_path: Path) -> None:
    archive = _archive(tmp_path / "b.tar.gz", {"SHA256SUMS": b"", "job.py": b"print(1)\n"})
    first = _extract(archive, tmp_path / "root")
    assert first.name == sha256_of(archive)[:32]
    assert (first / "job.py").read_bytes() == b"print(1)\n"
    (first / "job.py").write_bytes(b"print(2)\n")  # a second call does not extract again
    assert _extract(archive, tmp_path / "root") == first
    assert (first / "job.py").read_bytes() == b"print(2)\n"
    assert [p.name for p in (tmp_path / "root").iterdir()] == [first.name]


def test_an_archive_with_a_link_or_garbage_is_refused(tmp_path: Path) -> None:
    linked = _archive(tmp_path / "l.tar.gz", {"job.py": b""}, symlink="wheels/evil.whl")
    with pytest.raises(BundleError, match=r"unsafe member 'wheels/evil\.whl'"):
        _extract(linked, tmp_path / "root")
    garbage = tmp_path / "g.tar.gz"
    garbage.write_bytes(b"not an archive")
    with pytest.raises(BundleError, match="not a readable bundle archive"):
        _extract(garbage, tmp_path / "root")
    assert not [p for p in (tmp_path / "root").iterdir()]


def _folder_bundle(root: Path, targets_: list[str]) -> Path:
    import hashlib

    root.mkdir()
    (root / "wheels").mkdir()
    files = {"job.py": b"print(1)\n", "pylock.toml": b'lock-version = "1.0"\n',
             "bundle.json": json.dumps({"script": "job.py", "targets": targets_}).encode()}  # fmt: skip
    for name, data in files.items():
        (root / name).write_bytes(data)
    (root / "SHA256SUMS").write_text("".join(f"{hashlib.sha256(d).hexdigest()}  {n}\n" for n, d in files.items()))
    return root


def test_for_run_picks_the_bundled_script_and_the_bundles_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    here = _this_platform()
    bundle = _folder_bundle(tmp_path / "b", [f"cp310-{here}", "cp311-windows-x86_64"])
    monkeypatch.chdir(tmp_path)
    opened, script, options = for_run(str(bundle), "job.py", Options(), tmp_path / "cache")
    assert script == str(bundle / "job.py") and options.python == "3.10"
    assert opened.requirements == () and opened.targets == (f"cp310-{here}", "cp311-windows-x86_64")
    (tmp_path / "job.py").write_text("print('edited')\n")
    logger = logging.getLogger("reprorun")
    logger.addHandler(caplog.handler)  # the CLI may have stopped its propagation in this process
    try:
        _, script, options = for_run(str(bundle), "job.py", Options(python="3.12"), tmp_path / "cache")
    finally:
        logger.removeHandler(caplog.handler)
    assert script == "job.py" and options.python == "3.12"
    assert "job.py differs from the copy in the bundle" in caplog.text

"""freeze/resolve.from_report on pip's report edge cases, and writeback.verify/verify_edit refusing a
broken render as a bug (InternalError) before anything is written."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from reprorun.errors import InternalError, ReprorunError
from reprorun.freeze import resolve, writeback
from reprorun.freeze.pins import Pin, Resolution
from reprorun.script import metadata
from reprorun.script.blocks import Block

SHA = "cd" * 32


def item(name: str, version: str = "1.0", requires: list[str] | None = None, *, requested: bool = False,
         extras: list[str] | None = None, sha256: str | None = SHA, direct: bool = False) -> dict[str, Any]:
    """One entry of pip's `install --report` list."""
    found: dict[str, Any] = {
        "metadata": {"name": name, "version": version, "requires_dist": requires},
        "requested": requested,
        "download_info": {"url": f"https://files.invalid/{name}-{version}.whl", "archive_info": {}},
    }
    if sha256:
        found["download_info"]["archive_info"]["hashes"] = {"sha256": sha256}
    if extras:
        found["requested_extras"] = extras
    if direct:
        found["is_direct"] = True
    return found


def report(*items: dict[str, Any], environment: dict[str, str] | None = None) -> dict[str, Any]:
    return {"install": list(items), "environment": environment}


def by_name(resolution: Resolution) -> dict[str, Pin]:
    return {p.name: p for p in resolution.pins}


# --- from_report -------------------------------------------------------------------------------------


def test_an_empty_report_keeps_every_requested_requirement() -> None:
    assert resolve.from_report({}, ["alpha", "beta>=1"]) == Resolution((), ("alpha", "beta>=1"))
    assert resolve.from_report({"install": [], "environment": {}}, []) == Resolution((), ())


def test_names_are_canonical_and_pins_sorted() -> None:
    resolution = resolve.from_report(report(item("Zeta_Pkg", requested=True), item("Alpha.X", requested=True)),
                                     ["zeta-pkg", "alpha-x"])  # fmt: skip
    assert [p.name for p in resolution.pins] == ["alpha-x", "zeta-pkg"]
    assert resolution.kept == ()


def test_a_requested_name_in_another_spelling_is_not_kept() -> None:
    resolution = resolve.from_report(report(item("my_pkg", requested=True)), ["My.Pkg>=1"])
    assert resolution.kept == ()
    assert resolution.pins[0].via == ()


def test_hashes_come_from_the_archive_info() -> None:
    resolution = resolve.from_report(report(item("a", requested=True), item("b", sha256=None, requested=True)),
                                     ["a", "b"])  # fmt: skip
    pins = by_name(resolution)
    assert pins["a"].hashes == (f"sha256:{SHA}",)
    assert pins["b"].hashes == ()


def test_a_report_without_download_info_has_no_hash() -> None:
    entry = item("a", requested=True)
    entry["download_info"] = {"url": "x", "dir_info": {}}
    assert resolve.from_report(report(entry), ["a"]).pins[0].hashes == ()


def test_a_direct_reference_keeps_its_url() -> None:
    entry = item("a", direct=True, requested=True)
    (pin,) = resolve.from_report(report(entry), ["a @ https://files.invalid/a-1.0.whl"]).pins
    assert pin.url == "https://files.invalid/a-1.0.whl"
    assert pin.requirement == "a @ https://files.invalid/a-1.0.whl"


def test_via_names_every_parent_and_ignores_self_dependencies() -> None:
    resolution = resolve.from_report(report(
        item("top", requires=["mid", "leaf", "top"], requested=True),
        item("mid", requires=["leaf>=1", "not-installed"]),
        item("leaf"),
    ), ["top"])  # fmt: skip
    pins = by_name(resolution)
    assert pins["top"].via == ()
    assert pins["mid"].via == ("top",)
    assert pins["leaf"].via == ("mid", "top")


def test_a_marker_false_for_the_environment_is_not_a_parent() -> None:
    resolution = resolve.from_report(report(
        item("top", requires=['win; sys_platform == "win32"', 'nix; sys_platform == "linux"'], requested=True),
        item("win"), item("nix"),
    environment={"sys_platform": "linux"}), ["top"])  # fmt: skip
    pins = by_name(resolution)
    assert pins["nix"].via == ("top",)
    assert pins["win"].via == ()


def test_an_extra_dependency_counts_only_for_a_requested_extra() -> None:
    rep = report(
        item("top", requires=['opt; extra == "fast"', 'other; extra == "slow"'], requested=True, extras=["fast"]),
        item("opt"), item("other"), environment={"sys_platform": "linux"},
    )  # fmt: skip
    pins = by_name(resolve.from_report(rep, ["top[fast]"]))
    assert pins["opt"].via == ("top",)
    assert pins["other"].via == ()
    assert pins["top"].extras == ("fast",)


def test_extras_of_every_direct_requirement_are_merged_and_canonical() -> None:
    pins = by_name(resolve.from_report(report(item("top", requested=True)), ["top[B_x]", "top[a]>=1"]))
    assert pins["top"].extras == ("a", "b-x")


def test_one_shared_marker_of_direct_requirements_is_kept() -> None:
    marker = 'python_version >= "3.8"'
    pins = by_name(resolve.from_report(report(item("a", requested=True)), [f"a; {marker}"]))
    assert pins["a"].marker == marker
    assert pins["a"].requirement == "a==1.0; python_version >= '3.8'"


def test_different_markers_or_an_unmarked_requirement_drop_the_marker() -> None:
    rep = report(item("a", requested=True))
    two = ['a; python_version >= "3.8"', 'a; sys_platform == "linux"']
    assert by_name(resolve.from_report(rep, two))["a"].marker is None
    mixed = ['a; python_version >= "3.8"', "a>=1"]
    assert by_name(resolve.from_report(rep, mixed))["a"].marker is None


def test_a_package_requested_by_pip_but_not_by_the_block_has_no_via() -> None:
    rep = report(item("top", requires=["dep"], requested=True), item("dep", requested=True))
    assert by_name(resolve.from_report(rep, ["top"]))["dep"].via == ()


def test_requires_dist_none_and_environment_none() -> None:
    rep = {"install": [item("a", requires=None, requested=True)], "environment": None}
    assert resolve.from_report(rep, ["a"]).pins == (Pin("a", "1.0", hashes=(f"sha256:{SHA}",)),)


def test_kept_requirements_keep_their_text_and_order() -> None:
    requested = ['win>=1; sys_platform == "win32"', "a", "Old_Name==2"]
    resolution = resolve.from_report(report(item("a", requested=True)), requested)
    assert resolution.kept == ('win>=1; sys_platform == "win32"', "Old_Name==2")


def test_versions_come_from_the_metadata() -> None:
    pins = by_name(resolve.from_report(report(item("a", "2.0.post3", requested=True)), ["a"]))
    assert pins["a"].version == "2.0.post3"


# --- verify_edit and verify ------------------------------------------------------------------------

OLD = '#!/usr/bin/env python\n# /// script\n# dependencies = ["beta"]\n# ///\nprint("hi")\n'
GOOD = ('#!/usr/bin/env python\n# /// script\n# dependencies = [\n#     "alpha==2.0",  # via beta\n'
        '#     "beta==1.0",\n# ]\n#\n# [tool.reprorun]\n# requested = ["beta"]\n'
        '# frozen-for = "cpython-3.11.7-manylinux_2_36_x86_64"\n# ///\nprint("hi")\n')  # fmt: skip


def old_block() -> Block:
    block = metadata.parse(OLD, "s.py").block
    assert block is not None
    return block


def test_verify_accepts_a_good_render() -> None:
    meta = writeback.verify(OLD, old_block(), GOOD, "s.py")
    assert meta.dependencies == ("alpha==2.0", "beta==1.0")


def test_verify_edit_of_a_block_that_would_not_parse_is_an_internal_error() -> None:
    broken = GOOD.replace('"beta==1.0",', '"beta==1.0" "oops",')
    with pytest.raises(InternalError, match="the new block would not parse") as info:
        writeback.verify_edit(OLD, old_block(), broken, "s.py")
    assert "nothing was written" in info.value.message


def test_verify_edit_of_an_invalid_requirement_is_an_internal_error() -> None:
    broken = GOOD.replace('"beta==1.0"', '"beta >> 1"')
    with pytest.raises(InternalError, match="would not parse"):
        writeback.verify_edit(OLD, old_block(), broken, "s.py")


def test_verify_edit_of_a_change_before_the_block_is_an_internal_error() -> None:
    changed = GOOD.replace("#!/usr/bin/env python", "#!/usr/bin/python3")
    with pytest.raises(InternalError, match="differs outside the block"):
        writeback.verify_edit(OLD, old_block(), changed, "s.py")


def test_verify_edit_of_a_change_after_the_block_is_an_internal_error() -> None:
    changed = GOOD.replace('print("hi")', 'print("bye")')
    with pytest.raises(InternalError, match="differs outside the block"):
        writeback.verify_edit(OLD, old_block(), changed, "s.py")


def test_verify_edit_of_a_lost_block_is_an_internal_error() -> None:
    with pytest.raises(InternalError, match="differs outside the block"):
        writeback.verify_edit(OLD, old_block(), 'print("hi")\n', "s.py")


def test_verify_of_a_block_that_is_not_current_is_an_internal_error() -> None:
    stale = GOOD.replace('"alpha==2.0",  # via beta', '"alpha>=2",')
    with pytest.raises(InternalError, match=r"not current .*'alpha>=2' in dependencies is not pinned"):
        writeback.verify(OLD, old_block(), stale, "s.py")


def test_verify_of_an_unfrozen_render_is_an_internal_error() -> None:
    unfrozen = GOOD.replace('# frozen-for = "cpython-3.11.7-manylinux_2_36_x86_64"\n', "")
    with pytest.raises(InternalError, match="the block is not frozen"):
        writeback.verify(OLD, old_block(), unfrozen, "s.py")


def test_verify_only_warns_about_a_missing_hash(caplog: pytest.LogCaptureFixture) -> None:
    hashed = GOOD.replace("# ///\nprint", f'#\n# [tool.reprorun.hashes]\n# beta = ["sha256:{SHA}"]\n# ///\nprint')
    with caplog.at_level(logging.WARNING, logger="reprorun"):
        meta = writeback.verify(OLD, old_block(), hashed, "s.py")
    assert dict(meta.settings.hashes) == {"beta": (f"sha256:{SHA}",)}
    (record,) = caplog.records
    assert record.getMessage().startswith("s.py: no hash recorded for alpha")


def test_an_internal_error_is_a_reprorun_error_with_the_bug_hint() -> None:
    with pytest.raises(ReprorunError) as info:
        writeback.verify_edit(OLD, old_block(), "", "s.py")
    assert info.value.exit_code == 1
    assert info.value.render().startswith("reprorun: internal error: ")
    assert "this is a bug in reprorun" in info.value.render()


def test_render_then_verify_round_trip_keeps_every_other_byte() -> None:
    meta = metadata.parse(OLD, "s.py")
    from reprorun.freeze import pins

    plan = pins.plan(meta)
    resolution = Resolution((Pin("alpha", "2.0", via=("beta",)), Pin("beta", "1.0")))
    new_text = writeback.render(OLD, meta, plan, resolution, "cpython-3.11.7-manylinux_2_36_x86_64")
    assert new_text == GOOD
    assert writeback.verify(OLD, old_block(), new_text, "s.py").settings.requested == ("beta",)

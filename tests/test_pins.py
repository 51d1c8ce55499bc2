"""freeze/pins.py: the pure part of freezing — pins, the one "frozen and current" rule, the plan,
the rendered `dependencies` lines and the summary. No disk, no pip."""

from __future__ import annotations

import logging

import pytest

from reprorun.errors import UsageError
from reprorun.freeze import pins
from reprorun.freeze.pins import Pin, Problem, Resolution
from reprorun.script import metadata, tomlrender

FOR = "cpython-3.11.7-manylinux_2_36_x86_64"


def block(dependencies: list[str], requested: list[str] | None = None, frozen_for: str | None = FOR,
          hashes: dict[str, list[str]] | None = None, exclude_newer: str | None = None) -> metadata.Metadata:
    """A script whose block has these dependencies and `[tool.reprorun]` settings, parsed."""
    lines = ["# /// script", "# dependencies = ["]
    lines += [f'#     "{d}",' if '"' not in d else f"#     '{d}'," for d in dependencies]
    lines.append("# ]")
    tool = []
    if requested is not None:
        tool.append("# requested = [" + ", ".join(f'"{r}"' if '"' not in r else f"'{r}'" for r in requested) + "]")
    if requested is not None and frozen_for is not None:
        tool.append(f'# frozen-for = "{frozen_for}"')
    if exclude_newer is not None:
        tool.append(f'# exclude-newer = "{exclude_newer}"')
    if hashes is not None:
        tool.append("# [tool.reprorun.hashes]")
        tool += [f'# {name} = [{", ".join(repr(h).replace(chr(39), chr(34)) for h in values)}]'
                 for name, values in hashes.items()]  # fmt: skip
    if tool:
        lines += ["#", "# [tool.reprorun]", *[t for t in tool if "hashes]" not in t and " = [\"sha" not in t]]
        lines += [t for t in tool if "hashes]" in t or " = [\"sha" in t]
    lines.append("# ///")
    return metadata.parse("\n".join(lines) + "\n", "s.py")


H = "sha256:" + "ab" * 32


def kinds(meta: metadata.Metadata) -> list[str]:
    return [p.kind for p in pins.problems(meta)]


# --- Pin -------------------------------------------------------------------------------------------


def test_pin_requirement_plain() -> None:
    assert Pin("alpha", "1.0").requirement == "alpha==1.0"


def test_pin_requirement_with_extras_and_marker() -> None:
    pin = Pin("alpha", "1.0", extras=("a", "b"), marker='python_version < "3.12"')
    assert pin.requirement == "alpha[a,b]==1.0; python_version < '3.12'"


def test_pin_marker_with_a_single_quote_keeps_double_quotes() -> None:
    pin = Pin("alpha", "1.0", marker="platform_release == \"it's\"")
    assert pin.requirement == "alpha==1.0; platform_release == \"it's\""


def test_pin_direct_reference_is_kept_as_one() -> None:
    pin = Pin("alpha", "1.0", extras=("x",), url="https://example.invalid/alpha-1.0.whl")
    assert pin.requirement == "alpha[x] @ https://example.invalid/alpha-1.0.whl"


def test_pin_requirement_parses_back() -> None:
    from reprorun.script.requirements import exact_version, parse

    pin = Pin("my-pkg", "2.0.post1", extras=("cli",), marker='sys_platform == "linux"')
    parsed = parse(pin.requirement)
    assert exact_version(parsed) == "2.0.post1"
    assert parsed.extras == {"cli"}
    assert str(parsed.marker) == 'sys_platform == "linux"'


# --- pins_of ---------------------------------------------------------------------------------------


def test_pins_of_takes_exact_pins_only() -> None:
    meta = block(["Alpha_X==1.0", "beta>=1", "gamma===2.0", "delta==1.*", "eps @ https://example.invalid/e.whl"])
    assert pins.pins_of(meta) == {"alpha-x": "1.0", "gamma": "2.0"}


def test_pins_of_without_dependencies() -> None:
    assert pins.pins_of(block([])) == {}


# --- problems, every kind ----------------------------------------------------------------------------


def test_a_current_block_has_no_problems() -> None:
    meta = block(["alpha==2.0", "beta==1.0"], requested=["beta"])
    assert pins.problems(meta) == []
    assert pins.stale(meta) == []
    assert pins.staleness(meta) == []


def test_not_frozen_without_requested() -> None:
    (problem,) = pins.problems(block(["alpha==1.0"]))
    assert problem == Problem("not-frozen", "the block is not frozen")
    assert str(problem) == "the block is not frozen"


def test_loose_dependency_not_requested() -> None:
    meta = block(["alpha==2.0", "beta==1.0", "gamma>=1"], requested=["beta"])
    (problem,) = pins.problems(meta)
    assert problem.kind == "loose"
    assert problem.pin == "gamma>=1"
    assert problem.requested is None
    assert problem.message == "'gamma>=1' in dependencies is not pinned"


def test_a_requested_requirement_kept_as_written_is_not_loose() -> None:
    # A requirement that does not apply to the interpreter is kept verbatim, marker and all.
    kept = 'winonly>=1; sys_platform == "win32"'
    meta = block(["alpha==2.0", kept], requested=["alpha", kept])
    assert pins.problems(meta) == []


def test_a_requested_requirement_kept_with_other_spaces_is_not_loose() -> None:
    meta = block(["alpha==2.0", "win-only >= 1"], requested=["alpha", "win-only>=1"])
    assert pins.problems(meta) == []


def test_no_pin_for_a_requested_package() -> None:
    meta = block(["alpha==2.0"], requested=["alpha", "beta>=1"])
    (problem,) = pins.problems(meta)
    assert problem.kind == "no-pin"
    assert problem.requested == "beta>=1"
    assert problem.pin is None
    assert problem.message == "requested 'beta>=1' has no pin"


def test_mismatch_between_requested_and_pin() -> None:
    meta = block(["alpha==1.0"], requested=["alpha>=2"])
    (problem,) = pins.problems(meta)
    assert problem.kind == "mismatch"
    assert problem.pin == "alpha==1.0"
    assert problem.requested == "alpha>=2"
    assert problem.message == "requested 'alpha>=2' does not match the pin alpha==1.0"


def test_a_prerelease_pin_meets_a_plain_specifier() -> None:
    meta = block(["alpha==2.0rc1"], requested=["alpha>=1"])
    assert pins.problems(meta) == []


def test_requested_names_match_canonically() -> None:
    meta = block(["my-pkg==1.0"], requested=["My_Pkg>=1"])
    assert pins.problems(meta) == []


def test_extras_the_pin_lacks() -> None:
    meta = block(["alpha==1.0"], requested=["alpha[Fast]"])
    (problem,) = pins.problems(meta)
    assert problem.kind == "extras"
    assert problem.message == "requested 'alpha[Fast]' needs extras the pin alpha==1.0 lacks"


def test_extras_compared_canonically() -> None:
    meta = block(["alpha[fast-io]==1.0"], requested=["alpha[Fast_IO]"])
    assert pins.problems(meta) == []


def test_a_direct_reference_pin_meets_any_specifier() -> None:
    meta = block(["alpha @ https://example.invalid/alpha-1.0.whl"], requested=["alpha>=5"])
    assert pins.problems(meta) == []


def test_no_hash_for_a_pin_when_hashes_are_recorded() -> None:
    meta = block(["alpha==2.0", "beta==1.0"], requested=["beta"], hashes={"beta": [H]})
    (problem,) = pins.problems(meta)
    assert problem.kind == "no-hash"
    assert problem.pin == "alpha"
    assert problem.message == "no hash recorded for alpha"


def test_hash_names_match_canonically() -> None:
    meta = block(["my-pkg==1.0"], requested=["my-pkg"], hashes={"My_Pkg": [H]})
    assert pins.problems(meta) == []


def test_every_problem_is_reported_in_order() -> None:
    meta = block(["alpha==1.0", "loose>=1", "gamma==1.0"],
                 requested=["alpha>=2", "beta", "gamma[x]"], hashes={"alpha": [H]})  # fmt: skip
    # dependencies first, then requested in its order, then hashes
    assert kinds(meta) == ["loose", "mismatch", "no-pin", "extras", "no-hash"]
    assert pins.problems(meta)[-1].pin == "gamma"


def test_problems_do_not_need_frozen_for_but_stale_does() -> None:
    meta = block(["alpha==2.0", "beta==1.0"], requested=["beta"], frozen_for=None)
    assert meta.settings.frozen_for is None
    assert pins.problems(meta) == []
    assert [p.kind for p in pins.stale(meta)] == ["not-frozen"]
    assert pins.staleness(meta) == ["the block is not frozen"]


def test_staleness_is_the_messages_of_stale() -> None:
    meta = block(["alpha==1.0", "loose>=1"], requested=["alpha>=2"])
    assert pins.staleness(meta) == [p.message for p in pins.stale(meta)]
    assert len(pins.staleness(meta)) == 2


# --- plan ----------------------------------------------------------------------------------------


def test_plan_of_a_current_block_needs_nothing() -> None:
    plan = pins.plan(block(["alpha==2.0", "beta==1.0"], requested=["beta"]))
    assert not plan.needed
    assert plan.reasons == ()
    assert plan.requested == ("beta",)
    assert plan.constraints == ("alpha==2.0", "beta==1.0")
    assert plan.hashes is False
    assert plan.exclude_newer is None


def test_plan_of_an_unfrozen_block_requests_its_dependencies() -> None:
    plan = pins.plan(block(["beta>=1", "delta", "beta>=1"]))
    assert plan.needed
    assert plan.reasons == ("the block is not frozen",)
    assert plan.requested == ("beta>=1", "delta")  # each once, in order
    assert plan.constraints == ()


def test_plan_keeps_the_pins_of_an_unfrozen_block_as_constraints() -> None:
    plan = pins.plan(block(["alpha==1.0", "beta>=1"]))
    assert plan.requested == ("alpha==1.0", "beta>=1")
    assert plan.constraints == ("alpha==1.0",)


def test_plan_upgrade_drops_every_constraint() -> None:
    plan = pins.plan(block(["alpha==2.0", "beta==1.0"], requested=["beta"]), upgrade=True)
    assert plan.reasons == ("--upgrade",)
    assert plan.constraints == ()


def test_plan_upgrade_package_moves_just_that_one(caplog: pytest.LogCaptureFixture) -> None:
    meta = block(["alpha==2.0", "beta==1.0"], requested=["beta"])
    with caplog.at_level(logging.WARNING, logger="reprorun"):
        plan = pins.plan(meta, upgrade_packages=["Alpha"])
    assert plan.reasons == ("--upgrade-package alpha",)
    assert plan.constraints == ("beta==1.0",)
    assert caplog.records == []


def test_plan_upgrade_package_not_pinned_warns(caplog: pytest.LogCaptureFixture) -> None:
    meta = block(["alpha==2.0", "beta==1.0"], requested=["beta"])
    with caplog.at_level(logging.WARNING, logger="reprorun"):
        plan = pins.plan(meta, upgrade_packages=["zeta", "alpha"])
    assert plan.reasons == ("--upgrade-package alpha, zeta",)
    assert [r.getMessage() for r in caplog.records] == ["--upgrade-package zeta: zeta is not pinned in the block"]


def test_plan_drops_a_pin_that_no_longer_meets_requested() -> None:
    meta = block(["alpha==1.0", "beta==1.0"], requested=["alpha>=2", "beta"])
    plan = pins.plan(meta)
    assert plan.reasons == ("requested 'alpha>=2' does not match the pin alpha==1.0",)
    assert plan.constraints == ("beta==1.0",)


def test_plan_takes_requirements_added_by_hand_to_a_frozen_block() -> None:
    meta = block(["alpha==2.0", "beta==1.0", "delta>=1"], requested=["beta"])
    plan = pins.plan(meta)
    assert plan.requested == ("beta", "delta>=1")
    assert plan.reasons == ("'delta>=1' in dependencies is not pinned",)


def test_plan_hashes_asked_for_the_first_time() -> None:
    plan = pins.plan(block(["alpha==2.0", "beta==1.0"], requested=["beta"]), hashes=True)
    assert plan.reasons == ("--hashes",)
    assert plan.hashes is True


def test_plan_hashes_already_recorded_need_nothing() -> None:
    meta = block(["alpha==2.0", "beta==1.0"], requested=["beta"], hashes={"alpha": [H], "beta": [H]})
    plan = pins.plan(meta, hashes=True)
    assert not plan.needed
    assert plan.hashes is True
    assert pins.plan(meta).hashes is True  # recorded hashes stay recorded


def test_plan_hashes_of_an_empty_block_need_nothing() -> None:
    plan = pins.plan(block([], requested=[]), hashes=True)
    assert plan.reasons == ()
    assert plan.requested == ()


def test_plan_exclude_newer_new_value() -> None:
    plan = pins.plan(block(["alpha==2.0", "beta==1.0"], requested=["beta"]), exclude_newer="2024-06-01")
    assert plan.reasons == ("--exclude-newer 2024-06-01",)
    assert plan.exclude_newer == "2024-06-01"


def test_plan_exclude_newer_same_value_needs_nothing() -> None:
    meta = block(["alpha==2.0", "beta==1.0"], requested=["beta"], exclude_newer="2024-06-01")
    assert not pins.plan(meta, exclude_newer="2024-06-01").needed
    assert pins.plan(meta).exclude_newer == "2024-06-01"


def test_plan_exclude_newer_invalid_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="not an RFC 3339") as info:
        pins.plan(block(["alpha"]), exclude_newer="last tuesday")
    assert info.value.exit_code == 2
    assert info.value.hint is not None and "2024-06-01" in info.value.hint


def test_plan_force_adds_a_reason() -> None:
    plan = pins.plan(block(["alpha==2.0", "beta==1.0"], requested=["beta"]), force="add delta")
    assert plan.reasons == ("add delta",)


def test_plan_reasons_are_each_once_in_order() -> None:
    meta = block(["alpha==1.0"], requested=["alpha>=2"])
    plan = pins.plan(meta, upgrade=True, hashes=True, exclude_newer="2024-01-01", force="--upgrade")
    assert plan.reasons == ("requested 'alpha>=2' does not match the pin alpha==1.0", "--upgrade", "--hashes",
                            "--exclude-newer 2024-01-01")  # fmt: skip


@pytest.mark.parametrize(
    ("value", "utc"),
    [
        ("2024-06-01", "2024-06-01T00:00:00Z"),
        ("2024-06-01T12:30:00Z", "2024-06-01T12:30:00Z"),
        ("2024-06-01T12:30:00+02:00", "2024-06-01T10:30:00Z"),
        ("2024-06-01T00:30:00-01:00", "2024-06-01T01:30:00Z"),
    ],
)
def test_check_timestamp_is_utc(value: str, utc: str) -> None:
    assert pins.check_timestamp(value) == utc


@pytest.mark.parametrize("value", ["", "yesterday", "2024-13-01", "01/06/2024"])
def test_check_timestamp_refuses(value: str) -> None:
    with pytest.raises(UsageError):
        pins.check_timestamp(value)


# --- dependency_lines ---------------------------------------------------------------------------------


def comments(by_item: tuple[tuple[str, str], ...] = (), standalone: tuple[str, ...] = ()) -> tomlrender.ItemComments:
    return tomlrender.ItemComments(by_item, standalone)


def test_dependency_lines_sorted_with_via() -> None:
    resolution = Resolution((Pin("beta", "1.0"), Pin("alpha", "2.0", via=("beta",)),
                             Pin("leaf", "1.0", via=("alpha", "beta"))))  # fmt: skip
    lines = pins.dependency_lines(resolution, comments(), frozen=False)
    assert lines == [
        tomlrender.Line("alpha==2.0", "via beta"),
        tomlrender.Line("beta==1.0", None),
        tomlrender.Line("leaf==1.0", "via alpha, beta"),
    ]


def test_dependency_lines_carry_the_users_comments() -> None:
    resolution = Resolution((Pin("alpha", "2.0", via=("beta",)), Pin("beta", "1.0")))
    found = comments(by_item=(("Beta>=1", "the main one"),), standalone=("pinned for the paper",))
    lines = pins.dependency_lines(resolution, found, frozen=False)
    assert lines == [
        tomlrender.Line("", "pinned for the paper"),
        tomlrender.Line("alpha==2.0", "via beta"),
        tomlrender.Line("beta==1.0", "the main one"),
    ]


def test_dependency_lines_of_a_frozen_block_drop_the_old_via() -> None:
    resolution = Resolution((Pin("alpha", "2.0", via=("gamma",)), Pin("gamma", "1.0")))
    found = comments(by_item=(("alpha==1.0", "via beta; keep me"), ("gamma==1.0", "via nothing")))
    lines = pins.dependency_lines(resolution, found, frozen=True)
    assert lines == [tomlrender.Line("alpha==2.0", "via gamma; keep me"), tomlrender.Line("gamma==1.0", None)]


def test_dependency_lines_of_an_unfrozen_block_keep_a_comment_starting_with_via() -> None:
    resolution = Resolution((Pin("alpha", "2.0"),))
    found = comments(by_item=(("alpha", "via the lab's cluster"),))
    lines = pins.dependency_lines(resolution, found, frozen=False)
    assert lines == [tomlrender.Line("alpha==2.0", "via the lab's cluster")]


def test_dependency_lines_keep_a_comment_of_a_package_that_left() -> None:
    resolution = Resolution((Pin("alpha", "2.0"),))
    found = comments(by_item=(("gone>=1", "why we had it"),))
    lines = pins.dependency_lines(resolution, found, frozen=False)
    assert lines == [tomlrender.Line("", "gone: why we had it"), tomlrender.Line("alpha==2.0", None)]


def test_dependency_lines_place_kept_requirements_by_name() -> None:
    kept = 'winonly>=1; sys_platform == "win32"'
    resolution = Resolution((Pin("alpha", "2.0"), Pin("zeta", "1.0")), kept=(kept,))
    found = comments(by_item=((kept, "windows only"),))
    lines = pins.dependency_lines(resolution, found, frozen=False)
    assert [line.requirement for line in lines] == ["alpha==2.0", kept, "zeta==1.0"]
    assert lines[1].comment == "windows only"


def test_dependency_lines_a_pin_sorts_before_a_kept_requirement_of_the_same_name() -> None:
    resolution = Resolution((Pin("alpha", "2.0"),), kept=('alpha>=3; sys_platform == "win32"',))
    lines = pins.dependency_lines(resolution, comments(), frozen=False)
    assert [line.requirement for line in lines] == ["alpha==2.0", 'alpha>=3; sys_platform == "win32"']


def test_dependency_lines_empty() -> None:
    assert pins.dependency_lines(Resolution(()), comments(), frozen=True) == []


# --- summary ---------------------------------------------------------------------------------------


def test_summary_sorts_every_kind_of_change() -> None:
    before = {"alpha": "1.0", "beta": "1.0", "gone": "3.0"}
    after = [Pin("beta", "1.0"), Pin("alpha", "2.0"), Pin("new", "0.1")]
    added, changed, removed, unchanged = pins.summary(before, after)
    assert added == ["new 0.1"]
    assert changed == ["alpha 1.0 -> 2.0"]
    assert removed == ["gone 3.0"]
    assert unchanged == ["beta 1.0"]


def test_summary_of_a_first_freeze() -> None:
    assert pins.summary({}, [Pin("b", "1"), Pin("a", "2")]) == (["a 2", "b 1"], [], [], [])


def test_summary_of_nothing() -> None:
    assert pins.summary({}, []) == ([], [], [], [])


# --- a round trip: render a resolution, and the result is current ---------------------------------


def test_a_rendered_resolution_is_frozen_and_current() -> None:
    from reprorun.freeze import writeback

    text = '# /// script\n# dependencies = ["beta>=1"]  # needed\n# ///\nprint(1)\n'
    meta = metadata.parse(text, "s.py")
    plan = pins.plan(meta, hashes=True)
    resolution = Resolution((Pin("alpha", "2.0", via=("beta",), hashes=(H,)), Pin("beta", "1.0", hashes=(H,))))
    new_text = writeback.render(text, meta, plan, resolution, FOR)
    frozen = writeback.verify(text, meta.block, new_text, "s.py")  # type: ignore[arg-type]
    assert pins.stale(frozen) == []
    assert frozen.settings.requested == ("beta>=1",)
    assert frozen.settings.frozen_for == FOR
    assert dict(frozen.settings.hashes) == {"alpha": (H,), "beta": (H,)}
    assert new_text.endswith("# ///\nprint(1)\n")
    assert not pins.plan(frozen).needed

"""Block rendering and editing as pure text functions, against golden before/after files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reprorun.freeze import pins, resolve, writeback
from reprorun.script import blockedit, blocks, metadata, tomledit, tomlrender

GOLDEN = Path(__file__).parent / "golden"
FROZEN_FOR = "cpython-3.11.7-manylinux_2_36_x86_64"
HASHES = {"extras", "comments_tools", "second_freeze"}
CASES = sorted(p.name for p in GOLDEN.iterdir() if p.is_dir())


def _case(name: str) -> tuple[str, str, dict[str, Any]]:
    folder = GOLDEN / name
    before = (folder / "before.txt").read_bytes().decode("utf-8")
    after = (folder / "after.txt").read_bytes().decode("utf-8")
    return before, after, json.loads((folder / "report.json").read_text("utf-8"))


def _freeze(text: str, report: dict[str, Any], hashes: bool, force: str | None = None) -> str:
    meta = metadata.parse(text)
    plan = pins.plan(meta, hashes=hashes, force=force)
    if not plan.needed:
        return text
    return writeback.render(text, meta, plan, resolve.from_report(report, plan.requested), FROZEN_FOR)


def test_golden_cases_are_all_there() -> None:
    assert set(CASES) >= {"plain", "comments_tools", "crlf", "bom", "cells", "shebang_no_newline",
                          "markers", "extras", "second_freeze"}  # fmt: skip


@pytest.mark.parametrize("name", CASES)
def test_golden_freeze(name: str) -> None:
    before, after, report = _case(name)
    assert _freeze(before, report, hashes=name in HASHES) == after


@pytest.mark.parametrize("name", CASES)
def test_golden_result_is_frozen_current_and_stable(name: str) -> None:
    _, after, report = _case(name)
    meta = metadata.parse(after)
    assert pins.staleness(meta) == []
    assert not pins.plan(meta).needed
    # Re-resolving to the same pins (as --upgrade does) changes no byte either.
    assert _freeze(after, report, hashes=False, force="test") == after


@pytest.mark.parametrize("name", CASES)
def test_golden_only_the_block_changes(name: str) -> None:
    before, after, _ = _case(name)
    old = metadata.parse(before).block
    new = metadata.parse(after).block
    assert old is not None and new is not None
    assert after[: new.start] == before[: old.start]
    assert after[new.end :] == before[old.end :]


def test_second_freeze_is_byte_identical() -> None:
    before, after, report = _case("second_freeze")
    assert before == after
    assert _freeze(before, report, hashes=True) == before


def test_crlf_block_keeps_crlf_and_no_lone_lf() -> None:
    _, after, _ = _case("crlf")
    assert "\n" not in after.replace("\r\n", "")


def test_bom_and_missing_final_newline_are_kept() -> None:
    assert _case("bom")[1].startswith("\ufeff# /// script")
    assert not _case("shebang_no_newline")[1].endswith("\n")


def test_unchanged_lines_keep_their_exact_bytes() -> None:
    text = "# /// script\n# requires-python = '>=3.10'   \n# \n# dependencies = ['a']\n# ///\n"
    block = blocks.scan(text).blocks[0]
    content = block.content.replace("['a']", "['b']")
    new = blockedit.replace_block(text, block, content)
    assert new == "# /// script\n# requires-python = '>=3.10'   \n# \n# dependencies = ['b']\n# ///\n"


_OUTSIDE = st.text(alphabet=st.sampled_from(list("ab #\r\n\t\ufeffé")), max_size=40).filter(
    lambda t: "# ///" not in t
)


@given(before=_OUTSIDE, after=_OUTSIDE, newline=st.sampled_from(["\n", "\r\n"]))
def test_replace_block_never_touches_text_outside(before: str, after: str, newline: str) -> None:
    prefix = before + newline if before and not before.endswith(("\n", "\r")) else before
    block_text = newline.join(["# /// script", "# dependencies = []", "# ///"])
    text = prefix + block_text + (newline + after if after else "")
    found = blocks.scan(text).of_type("script")
    if len(found) != 1:
        return
    block = found[0]
    new = blockedit.replace_block(text, block, 'dependencies = [\n    "x==1",\n]\n')
    assert new[: block.start] == text[: block.start]
    assert new.endswith(text[block.end :])
    assert metadata.parse(new).dependencies == ("x==1",)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "# /// script\n# dependencies = []\n# ///\n"),
        ("import x\n", "# /// script\n# dependencies = []\n# ///\n\nimport x\n"),
        ("\nimport x\n", "# /// script\n# dependencies = []\n# ///\n\nimport x\n"),
        ("#!/usr/bin/env python3\nimport x\n",
         "#!/usr/bin/env python3\n# /// script\n# dependencies = []\n# ///\n\nimport x\n"),
        ("#!/usr/bin/env python3",
         "#!/usr/bin/env python3\n# /// script\n# dependencies = []\n# ///"),
        ("#!/usr/bin/env python3\n# -*- coding: utf-8 -*-\nx = 1\n",
         "#!/usr/bin/env python3\n# -*- coding: utf-8 -*-\n# /// script\n# dependencies = []\n# ///\n\nx = 1\n"),
        ("# coding: latin-1\nx = 1\n", "# coding: latin-1\n# /// script\n# dependencies = []\n# ///\n\nx = 1\n"),
        ("\ufeffimport x\r\n", "\ufeff# /// script\r\n# dependencies = []\r\n# ///\r\n\r\nimport x\r\n"),
        ("# ---\n# jupyter:\n#   kernel: x\n# ---\n\n# %%\nimport x\n",
         "# ---\n# jupyter:\n#   kernel: x\n# ---\n\n# /// script\n# dependencies = []\n# ///\n\n# %%\nimport x\n"),
        ("# ---\n# a: 1\n# ---\n# %%\nx\n",
         "# ---\n# a: 1\n# ---\n\n# /// script\n# dependencies = []\n# ///\n\n# %%\nx\n"),
    ],
)  # fmt: skip
def test_insert_block_places_it_after_the_header(text: str, expected: str) -> None:
    assert blockedit.insert_block(text, tomledit.new_content([])) == expected


def test_new_content_one_requirement_per_line() -> None:
    content = tomledit.new_content(["pandas>=2", 'colorama; sys_platform == "win32"'], ">=3.10")
    assert content == (
        'requires-python = ">=3.10"\ndependencies = [\n    "pandas>=2",\n'
        "    'colorama; sys_platform == \"win32\"',\n]\n"
    )


def test_add_keeps_comments_and_format_and_replaces_same_name() -> None:
    content = 'dependencies = [\n  # numerics\n  "numpy",   # fast\n  "pandas",\n]  # end\n'
    new = tomledit.add_requirements(content, ["scipy", "pandas>=2"], ["dependencies"])
    assert new == 'dependencies = [\n  # numerics\n  "numpy",   # fast\n  "pandas>=2",\n  "scipy",\n]  # end\n'


def test_add_to_requested_creates_the_table() -> None:
    new = tomledit.add_requirements('dependencies = ["a==1"]\n', ["b"], ["tool", "reprorun", "requested"])
    assert new == 'dependencies = ["a==1"]\n\n[tool.reprorun]\nrequested = [\n    "b",\n]\n'


def test_remove_by_canonical_name_takes_its_comment() -> None:
    content = 'dependencies = [\n  "Foo_Bar>=1",  # old\n  "numpy",\n]\n'
    new, removed = tomledit.remove_requirements(content, ["foo-bar"], ["dependencies"])
    assert (new, removed) == ('dependencies = [\n  "numpy",\n]\n', ["Foo_Bar>=1"])


def test_array_comments() -> None:
    content = 'dependencies = [\n  # head\n  "a",  # on a\n  "b # not a comment", "c",  # on c\n]\n'
    found = tomlrender.array_comments(content)
    assert found.by_item == (("a", "on a"), ("c", "on c"))
    assert found.standalone == ("head",)
    assert found.user_part("via beta; mine") == "mine"
    assert found.user_part("via beta") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("a>=1", '"a>=1"'), ('a; b == "c"', "'a; b == \"c\"'"), ("a'\"", '"a\'\\""')],
)
def test_toml_string(value: str, expected: str) -> None:
    assert tomlrender.toml_string(value) == expected

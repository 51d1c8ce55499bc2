"""Conformance table for PEP 723 comment blocks: `blocks.scan` and `metadata.parse` on edge cases.

The cases follow the specification text (packaging.python.org, "Inline script metadata") where
it is stricter than its example regex: a block opens at a line that is exactly `# /// TYPE`,
every following line must be `#` alone or start with `# `, and among those lines the last `# ///`
closes the block; an unclosed block is ignored; two blocks of one TYPE are an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from reprorun.errors import MetadataError
from reprorun.script import blocks, metadata


def lines(*text: str, end: str = "\n") -> str:
    """The lines joined by `end`, with a final `end`."""
    return "".join(line + end for line in text)


SPEC_SCRIPT = lines(
    "# /// script",
    '# requires-python = ">=3.11"',
    "# dependencies = [",
    '#   "requests<3",',
    '#   "rich",',
    "# ]",
    "# ///",
    "",
    "import requests",
)

# The specification's own example of "precedence for the ending line": the `# ///` lines inside a
# multi-line string do not close the block, only the last one of the comment run does.
SPEC_SOME_TOML = lines(
    "# /// some-toml",
    '# embedded-csharp = """',
    "# /// <summary>",
    "# /// text",
    "# ///",
    "# /// </summary>",
    "# public class MyClass { }",
    '# """',
    "# ///",
)


# --- blocks.scan ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """Expected scan: closed blocks as (type, first line, last line, content), unclosed openers."""

    blocks: tuple[tuple[str, int, int, str], ...] = ()
    unclosed: tuple[tuple[str, int], ...] = ()


def one(block_type: str, start: int, end: int, content: str) -> Found:
    """A scan that finds exactly one closed block."""
    return Found(((block_type, start, end, content),))


NOTHING = Found()

SCAN_CASES: list[tuple[str, str, Found]] = [
    ("empty-text", "", NOTHING),
    ("no-comments", "print('hi')\n", NOTHING),
    (
        "spec-script-example",
        SPEC_SCRIPT,
        one(
            "script",
            1,
            7,
            'requires-python = ">=3.11"\ndependencies = [\n  "requests<3",\n  "rich",\n]\n',
        ),
    ),
    (
        "spec-precedence-example",
        SPEC_SOME_TOML,
        one(
            "some-toml",
            1,
            9,
            'embedded-csharp = """\n/// <summary>\n/// text\n///\n/// </summary>\n'
            'public class MyClass { }\n"""\n',
        ),
    ),
    ("empty-block", lines("# /// script", "# ///"), one("script", 1, 2, "")),
    ("block-of-one-bare-hash", lines("# /// script", "#", "# ///"), one("script", 1, 3, "\n")),
    (
        "bare-hash-is-an-empty-line",
        lines("# /// script", "# a = 1", "#", "# b = 2", "# ///"),
        one("script", 1, 5, "a = 1\n\nb = 2\n"),
    ),
    ("unclosed", lines("# /// script", "# a = 1"), Found(unclosed=(("script", 1),))),
    (
        "unclosed-then-code",
        lines("# /// script", "# a = 1", "x = 1", "# ///"),
        Found(unclosed=(("script", 1),)),
    ),
    ("opener-alone-at-eof", "# /// script", Found(unclosed=(("script", 1),))),
    (
        "closer-after-blank-line-is-not-a-closer",
        lines("# /// script", "# a = 1", "", "# ///"),
        Found(unclosed=(("script", 1),)),
    ),
    (
        "closer-with-trailing-space-is-content",
        lines("# /// script", "# a = 1", "# /// "),
        Found(unclosed=(("script", 1),)),
    ),
    (
        "closer-with-two-spaces-is-content",
        lines("# /// script", "#  ///"),
        Found(unclosed=(("script", 1),)),
    ),
    ("four-slashes-is-content", lines("# /// script", "# ////"), Found(unclosed=(("script", 1),))),
    (
        "last-closer-of-the-run-wins",
        lines("# /// script", "# a = 1", "# ///", "# b = 2", "# ///"),
        one("script", 1, 5, "a = 1\n///\nb = 2\n"),
    ),
    (
        "earlier-closer-when-no-later-one",
        lines("# /// script", "# a = 1", "# ///", "# just a comment", "x = 1"),
        one("script", 1, 3, "a = 1\n"),
    ),
    (
        "closer-then-code",
        lines("# /// script", "# a = 1", "# ///", "import os"),
        one("script", 1, 3, "a = 1\n"),
    ),
    (
        "toml-multiline-string-holds-a-closer",
        lines("# /// script", '# x = """', "# ///", '# """', "# ///"),
        one("script", 1, 5, 'x = """\n///\n"""\n'),
    ),
    (
        "hash-x-ends-the-run",
        lines("# /// script", "# a = 1", "#x", "# ///"),
        Found(unclosed=(("script", 1),)),
    ),
    (
        "hash-tab-ends-the-run",
        lines("# /// script", "#\ta = 1", "# ///"),
        Found(unclosed=(("script", 1),)),
    ),
    (
        "indented-comment-ends-the-run",
        lines("# /// script", "  # a = 1", "# ///"),
        Found(unclosed=(("script", 1),)),
    ),
    ("no-space-before-slashes", lines("#/// script", "# ///"), NOTHING),
    ("no-space-before-type", lines("# ///script", "# ///"), NOTHING),
    ("two-spaces-before-type", lines("# ///  script", "# ///"), NOTHING),
    ("indented-opener", lines("    # /// script", "    # ///"), NOTHING),
    ("tab-indented-opener", lines("\t# /// script", "# ///"), NOTHING),
    ("trailing-space-after-type", lines("# /// script ", "# ///"), NOTHING),
    ("trailing-tab-after-type", lines("# /// script\t", "# ///"), NOTHING),
    ("type-with-underscore", lines("# /// my_type", "# ///"), NOTHING),
    ("type-with-dot", lines("# /// script.v2", "# ///"), NOTHING),
    ("type-non-ascii", lines("# /// scrïpt", "# ///"), NOTHING),
    (
        "type-with-digits-and-hyphens",
        lines("# /// tool-config-2", "# a = 1", "# ///"),
        one("tool-config-2", 1, 3, "a = 1\n"),
    ),
    ("type-is-case-sensitive", lines("# /// Script", "# ///"), one("Script", 1, 2, "")),
    (
        "other-type-alone",
        lines("# /// pyproject", "# a = 1", "# ///"),
        one("pyproject", 1, 3, "a = 1\n"),
    ),
    (
        "two-types-in-order",
        lines("# /// other", "# a = 1", "# ///", "", "# /// script", "# b = 2", "# ///"),
        Found((("other", 1, 3, "a = 1\n"), ("script", 5, 7, "b = 2\n"))),
    ),
    (
        "two-script-blocks-both-found",
        lines("# /// script", "# ///", "x = 1", "# /// script", "# ///"),
        Found((("script", 1, 2, ""), ("script", 4, 5, ""))),
    ),
    (
        "opener-inside-a-run-is-content",
        lines("# /// script", "# /// other", "# ///"),
        one("script", 1, 3, "/// other\n"),
    ),
    (
        "unclosed-then-closed",
        lines("# /// script", "# a = 1", "", "# /// script", "# b = 2", "# ///"),
        Found((("script", 4, 6, "b = 2\n"),), (("script", 1),)),
    ),
    (
        "after-shebang",
        lines("#!/usr/bin/env reprorun", "# /// script", "# ///"),
        one("script", 2, 3, ""),
    ),
    (
        "after-code",
        lines("import os", "", "# /// script", "# a = 1", "# ///", "print(os)"),
        one("script", 3, 5, "a = 1\n"),
    ),
    (
        "closer-at-eof-without-newline",
        "# /// script\n# a = 1\n# ///",
        one("script", 1, 3, "a = 1\n"),
    ),
    ("bom", "\ufeff" + lines("# /// script", "# a = 1", "# ///"), one("script", 1, 3, "a = 1\n")),
    ("bom-on-a-later-line-is-not-skipped", lines("x = 1", "\ufeff# /// script", "# ///"), NOTHING),
    ("crlf", lines("# /// script", "# a = 1", "# ///", end="\r\n"), one("script", 1, 3, "a = 1\n")),
    (
        "lone-cr",
        lines("# /// script", "# a = 1", "# ///", end="\r"),
        one("script", 1, 3, "a = 1\n"),
    ),
    (
        "mixed-endings",
        "# /// script\r\n# a = 1\n# b = 2\r# ///\r\nx = 1\n",
        one("script", 1, 4, "a = 1\nb = 2\n"),
    ),
    ("crlf-without-final-newline", "# /// script\r\n# ///", one("script", 1, 2, "")),
    (
        # Python's tokenizer breaks lines only at LF, CRLF and CR; str.splitlines() would also
        # break at these, which would shift every line number after them.
        "other-unicode-breaks-are-not-line-breaks",
        lines("# /// script", "# x = 'a\u2028b\x85c\x0cd'", "# ///"),
        one("script", 1, 3, "x = 'a\u2028b\x85c\x0cd'\n"),
    ),
    ("form-feed-after-type", lines("# /// script\x0c", "# ///"), NOTHING),
    (
        "content-keeps-trailing-spaces",
        lines("# /// script", "# a = 1   ", "# ///"),
        one("script", 1, 3, "a = 1   \n"),
    ),
    (
        "content-keeps-extra-indent",
        lines("# /// script", "#   a = 1", "# ///"),
        one("script", 1, 3, "  a = 1\n"),
    ),
    (
        "content-unicode",
        lines("# /// script", "# name = 'Grüße ✓'", "# ///"),
        one("script", 1, 3, "name = 'Grüße ✓'\n"),
    ),
    (
        "block-in-a-later-cell",
        lines("# %%", "import os", "", "# %% Setup", "# /// script", "# a = 1", "# ///", "x = 1"),
        one("script", 5, 7, "a = 1\n"),
    ),
    (
        # Like the specification's reference regex, the scanner does not tokenize Python.
        "inside-a-python-string-still-found",
        lines('DOC = """', "# /// script", "# ///", '"""'),
        one("script", 2, 3, ""),
    ),
]


@pytest.mark.parametrize(("text", "expected"), [pytest.param(t, e, id=i) for i, t, e in SCAN_CASES])
def test_scan(text: str, expected: Found) -> None:
    result = blocks.scan(text)
    got = tuple((b.type, b.start_line, b.end_line, b.content) for b in result.blocks)
    assert got == expected.blocks
    assert tuple((u.type, u.line) for u in result.unclosed) == expected.unclosed


@pytest.mark.parametrize(("text", "expected"), [pytest.param(t, e, id=i) for i, t, e in SCAN_CASES])
def test_scan_offsets_point_at_the_block(text: str, expected: Found) -> None:
    for block in blocks.scan(text).blocks:
        assert text[block.start :].startswith(f"# /// {block.type}")
        assert text[: block.end].endswith("# ///")
        numbered = blocks.split_lines(text)
        assert numbered[block.start_line - 1][0] <= block.start
        assert numbered[block.end_line - 1][1] == "# ///"


def test_split_lines_numbers_like_python() -> None:
    text = "a\r\nb\rc\nd\u2028e"
    assert [line for _, line in blocks.split_lines(text)] == ["a", "b", "c", "d\u2028e"]
    assert [offset for offset, _ in blocks.split_lines(text)] == [0, 3, 5, 7]


# --- metadata.parse ------------------------------------------------------------------------


@dataclass(frozen=True)
class Parsed:
    """Expected: a block (or the PEP 722 comment) read as this JSON, with notices on these lines."""

    json: dict[str, Any]
    source: str = "pep723"
    notices: tuple[int, ...] = ()


@dataclass(frozen=True)
class NoBlock:
    """Expected: no `script` block, with notices on these lines."""

    notices: tuple[int, ...] = ()


@dataclass(frozen=True)
class Invalid:
    """Expected: a `MetadataError` on this line whose message matches `match`."""

    line: int
    match: str
    hint: str | None = field(default=None)


PARSE_CASES: list[tuple[str, str, Parsed | NoBlock | Invalid]] = [
    ("no-block", "import os\n", NoBlock()),
    (
        "spec-example",
        SPEC_SCRIPT,
        Parsed({"requires-python": ">=3.11", "dependencies": ["requests<3", "rich"]}),
    ),
    ("spec-precedence-example-is-another-type", SPEC_SOME_TOML, NoBlock()),
    ("empty-block-is-valid", lines("# /// script", "# ///"), Parsed({})),
    ("only-bare-hashes", lines("# /// script", "#", "#", "# ///"), Parsed({})),
    (
        "unclosed-is-ignored-with-a-notice",
        lines("# /// script", '# dependencies = ["a"]'),
        NoBlock(notices=(1,)),
    ),
    (
        "two-script-blocks-are-an-error",
        lines("# /// script", "# ///", "", "# /// script", "# ///"),
        Invalid(4, r"second 'script' block \(the first is at line 1\)"),
    ),
    ("other-type-is-ignored", lines("# /// pyproject", "# [project]", "# ///"), NoBlock()),
    (
        "other-type-beside-script",
        lines(
            "# /// other",
            "# not toml at all",
            "# ///",
            "x = 1",
            "# /// script",
            '# dependencies = ["a"]',
            "# ///",
        ),
        Parsed({"dependencies": ["a"]}),
    ),
    (
        "closer-inside-multiline-string",
        lines(
            "# /// script",
            '# dependencies = ["a"]',
            "# [tool.other]",
            '# doc = """',
            "# ///",
            '# """',
            "# ///",
        ),
        Parsed({"dependencies": ["a"], "tool": {"other": {"doc": "///\n"}}}),
    ),
    (
        "stray-closer-in-one-comment-run",
        lines("# /// script", "# a = 1", "# ///", "# some comment", "# ///"),
        Invalid(3, "invalid TOML", hint="follow it with a blank line"),
    ),
    (
        "bom-and-crlf",
        "\ufeff" + lines("# /// script", '# dependencies = ["a"]', "# ///", end="\r\n"),
        Parsed({"dependencies": ["a"]}),
    ),
    (
        "mixed-endings",
        '# /// script\r\n# dependencies = [\r#  "a",\n# ]\r\n# ///\n',
        Parsed({"dependencies": ["a"]}),
    ),
    # Near misses open nothing, but each is named with its fix (issue 12, tests/test_script_reading.py).
    ("opener-without-space", lines("#/// script", '# dependencies = ["a"]', "# ///"), NoBlock(notices=(1,))),
    ("opener-indented", lines("    # /// script", "    # ///"), NoBlock(notices=(1, 2))),
    ("opener-trailing-space", lines("# /// script ", "# ///"), NoBlock(notices=(1,))),
    (
        "tool-tables-are-kept",
        lines("# /// script", "# [tool.uv]", "# exclude-newer = 2024-01-01T00:00:00Z", "# ///"),
        Parsed({"tool": {"uv": {"exclude-newer": "2024-01-01T00:00:00+00:00"}}}, notices=(2,)),  # ignored: said
    ),
    (
        "dates-become-iso-strings",
        lines(
            "# /// script",
            "# [tool.x]",
            "# d = 2024-06-01",
            "# t = 12:30:00",
            "# l = 2024-06-01T12:00:00",
            "# ///",
        ),
        Parsed({"tool": {"x": {"d": "2024-06-01", "t": "12:30:00", "l": "2024-06-01T12:00:00"}}}),
    ),
    (
        "unknown-top-level-field-is-a-notice",
        lines("# /// script", "# name = 'x'", "# ///"),
        Parsed({"name": "x"}, notices=(2,)),
    ),
    (
        "block-in-a-later-cell",
        lines(
            "# %% [markdown]",
            "# # Title",
            "",
            "# %%",
            "# /// script",
            '# dependencies = ["a"]',
            "# ///",
        ),
        Parsed({"dependencies": ["a"]}),
    ),
    (
        "pep722-fallback",
        lines("# Script Dependencies:", "#   requests  # for HTTP", "#   rich", "", "import rich"),
        Parsed({"dependencies": ["requests", "rich"]}, source="pep722", notices=(1,)),
    ),
    (
        "script-block-wins-over-pep722",
        lines("# Script Dependencies:", "#   requests", "", "# /// script", "# ///"),
        Parsed({}),
    ),
    ("invalid-toml", lines("# /// script", "# a = ", "# ///"), Invalid(2, "invalid TOML")),
]


@pytest.mark.parametrize(
    ("text", "expected"), [pytest.param(t, e, id=i) for i, t, e in PARSE_CASES]
)
def test_parse(text: str, expected: Parsed | NoBlock | Invalid) -> None:
    if isinstance(expected, Invalid):
        with pytest.raises(MetadataError, match=expected.match) as caught:
            metadata.parse(text, "case.py")
        assert caught.value.line == expected.line
        assert caught.value.message.startswith(f"case.py:{expected.line}: ")
        if expected.hint:
            assert expected.hint in (caught.value.hint or "")
        return
    result = metadata.parse(text, "case.py")
    if isinstance(expected, NoBlock):
        assert result.source == "none"
        assert result.to_json() == {}
    else:
        assert result.source == expected.source
        assert result.to_json() == expected.json
    assert tuple(n.line for n in result.notices) == expected.notices


def test_table_is_large_enough() -> None:
    assert len(SCAN_CASES) + len(PARSE_CASES) >= 60

"""Validation of the `script` block: every error names the file's line and shows it."""

from __future__ import annotations

import datetime as dt

import pytest

from reprorun.errors import MetadataError
from reprorun.script import fields, metadata, timestamps

HEAD = ["#!/usr/bin/env reprorun", "", "# /// script"]  # the block opens at line 3
OFFSET = len(HEAD)  # content line k stands on file line k + OFFSET
HASH = "sha256:" + "0123456789abcdef" * 4


def script(*content: str) -> str:
    """A script whose block holds these content lines (each written after "# ")."""
    body = [f"# {line}" if line else "#" for line in content]
    return "\n".join([*HEAD, *body, "# ///", "", "print('hi')", ""])


def error_of(*content: str) -> MetadataError:
    """The error that parsing a block of these lines raises."""
    with pytest.raises(MetadataError) as caught:
        metadata.parse(script(*content), "dir/s.py")
    return caught.value


# (id, content lines, content line of the error (1-based), a fragment of the message)
ERRORS: list[tuple[str, list[str], int, str]] = [
    ("invalid-toml", ["a = 1", "b = "], 2, "invalid TOML in the script block: Invalid value"),
    ("invalid-toml-key", ["a = 1", "what is this"], 2, "invalid TOML"),
    ("toml-duplicate-key", ['dependencies = ["a"]', 'dependencies = ["b"]'], 2, "invalid TOML"),
    ("toml-unclosed-array", ['requires-python = ">=3.10"', 'dependencies = ["a"'], 2, "Unclosed"),
    ("toml-at-end-of-document", ["a = 1", 'dependencies = ["a",'], 2, "at end of document"),
    ("toml-unclosed-array-over-lines", ["dependencies = [", '  "a",'], 2, "invalid TOML"),
    ("requires-python-not-a-string", ["requires-python = 3.10"], 1, "must be a string"),
    ("requires-python-invalid", ['requires-python = ">=three"'], 1, "not a valid version spec"),
    ("requires-python-bad-operator", ['requires-python = "=>3.10"'], 1, "not a valid version"),
    ("dependencies-not-an-array", ['dependencies = "requests"'], 1, "must be an array of strings"),
    ("dependency-not-a-string", ["dependencies = [1]"], 1, "holds an integer, not a string: 1"),
    ("dependency-table", ['dependencies = [{name = "a"}]'], 1, "holds a table, not a string"),
    ("dependency-bool", ["dependencies = [true]"], 1, "holds a boolean"),
    (
        "dependency-invalid",
        ["dependencies = [", '  "requests",', '  "bad req!",', "]"],
        3,
        "invalid requirement 'bad req!'",
    ),
    ("dependency-bad-specifier", ['dependencies = ["a =! 1"]'], 1, "invalid requirement 'a =! 1'"),
    ("dependency-bad-marker", ['dependencies = ["a; os_nam == 1"]'], 1, "invalid requirement"),
    ("tool-not-a-table", ["tool = 1"], 1, "'tool' must be a table"),
    ("reprorun-not-a-table", ["[tool]", "reprorun = 1"], 2, "'[tool.reprorun]' must be a table"),
    ("requested-not-an-array", ["[tool.reprorun]", 'requested = "a"'], 2, "'requested' must be"),
    ("requested-not-strings", ["[tool.reprorun]", "requested = [1.5]"], 2, "holds a float"),
    ("requested-invalid", ["[tool.reprorun]", 'requested = ["a>>1"]'], 2, "invalid requirement"),
    ("frozen-for-not-a-string", ["[tool.reprorun]", "frozen-for = 3"], 2, "'frozen-for' must be"),
    ("index-url-not-a-string", ["[tool.reprorun]", "index-url = []"], 2, "'index-url' must be"),
    (
        "extra-index-urls-not-an-array",
        ["[tool.reprorun]", 'extra-index-urls = "https://x"'],
        2,
        "'extra-index-urls' must be an array of strings",
    ),
    ("extra-index-urls-not-strings", ["[tool.reprorun]", "extra-index-urls = [1]"], 2, "must be"),
    ("find-links-not-an-array", ["[tool.reprorun]", 'find-links = "x"'], 2, "'find-links' must"),
    ("find-links-not-strings", ["[tool.reprorun]", "find-links = [true]"], 2, "'find-links' must"),
    ("exclude-newer-words", ["[tool.reprorun]", 'exclude-newer = "last week"'], 2, "'last week'"),
    ("exclude-newer-bad-date", ["[tool.reprorun]", 'exclude-newer = "2024-02-30"'], 2, "RFC 3339"),
    ("exclude-newer-integer", ["[tool.reprorun]", "exclude-newer = 2024"], 2, "not an integer"),
    ("exclude-newer-time", ["[tool.reprorun]", "exclude-newer = 10:00:00"], 2, "a time of day"),
    ("hashes-not-a-table", ["[tool.reprorun]", 'hashes = ["x"]'], 2, "'hashes' must be a table"),
    (
        "hashes-not-an-array",
        ["[tool.reprorun]", "requested = []", "", "[tool.reprorun.hashes]", f'a = "{HASH}"'],
        5,
        "hashes of 'a' must be an array of strings",
    ),
    (
        "hashes-inline-table",
        ["[tool.reprorun]", 'hashes = {a = "x"}'],
        2,
        "hashes of 'a' must be an array",
    ),
    (
        "hash-not-sha256",
        ["[tool.reprorun.hashes]", f'a = ["{HASH}"]', 'b = ["md5:abc"]'],
        3,
        "hash of 'b' is not 'sha256:' and 64 hex digits: 'md5:abc'",
    ),
    ("hash-uppercase", ["[tool.reprorun.hashes]", f'a = ["{HASH.upper()}"]'], 2, "hash of 'a'"),
    ("hash-short", ["[tool.reprorun]", 'hashes.a = ["sha256:00"]'], 2, "hash of 'a'"),
]


@pytest.mark.parametrize(("content", "line", "fragment"), [pytest.param(c, n, f, id=i) for i, c, n, f in ERRORS])
def test_error_names_the_line_and_shows_it(content: list[str], line: int, fragment: str) -> None:
    error = error_of(*content)
    file_line = line + OFFSET
    assert error.line == file_line
    assert error.path == "dir/s.py"
    assert error.message.startswith(f"dir/s.py:{file_line}: ")
    assert fragment in error.message
    assert error.exit_code == 2
    shown = error.excerpt().splitlines()
    assert shown[0].strip() == f"# {content[line - 1]}".strip()
    assert set(shown[1].strip()) <= {"^", "~"}


def test_column_marker_points_at_the_bad_requirement() -> None:
    error = error_of('dependencies = ["ok", "bad req!"]')
    source, marker = error.excerpt().splitlines()
    assert source[marker.index("^") :].startswith("bad req!")


def test_column_marker_points_at_the_toml_error() -> None:
    error = error_of("a = 1", "b = ?")
    source, marker = error.excerpt().splitlines()
    assert source[marker.index("^")] == "?"


def test_needle_is_found_after_its_key() -> None:
    # "x>" appears in a comment above `dependencies`; the error names the entry itself.
    error = error_of('requires-python = ">=3.10"  # x>', 'dependencies = ["x>"]')
    assert error.line == 2 + OFFSET


def test_key_lookup_skips_longer_keys() -> None:
    error = error_of("[tool.other]", "my-dependencies = 1", "[tool.reprorun]", "requested = [1]")
    assert error.line == 4 + OFFSET


def test_stray_closer_gets_a_hint() -> None:
    text = "# /// script\n# a = 1\n# ///\n# a comment\n# ///\n"
    with pytest.raises(MetadataError) as caught:
        metadata.parse(text, "s.py")
    assert caught.value.line == 3
    assert "blank line" in (caught.value.hint or "")


def test_requires_python_error_has_a_hint() -> None:
    assert ">=3.10" in (error_of('requires-python = "3.10+"').hint or "")


def test_second_block_error_shows_its_opener() -> None:
    text = "# /// script\n# ///\n\n# /// script\n# ///\n"
    with pytest.raises(MetadataError) as caught:
        metadata.parse(text, "s.py")
    assert caught.value.line == 4
    assert caught.value.excerpt().splitlines()[0].strip() == "# /// script"


def test_valid_block_fills_every_field() -> None:
    meta = metadata.parse(
        script(
            'requires-python = ">=3.10"',
            'dependencies = ["alpha==2.0", "beta>=1; python_version >= \'3\'"]',
            "",
            "[tool.reprorun]",
            'requested = ["alpha", "beta"]',
            'frozen-for = "cpython-3.11.7-manylinux_2_36_x86_64"',
            "exclude-newer = 2024-06-01T00:00:00Z",
            'index-url = "https://example.org/simple"',
            'extra-index-urls = ["https://a.example/simple"]',
            'find-links = ["./wheels"]',
            "",
            "[tool.reprorun.hashes]",
            f'alpha = ["{HASH}"]',
        ),
        "s.py",
    )
    assert meta.source == "pep723"
    assert meta.requires_python == ">=3.10"
    assert meta.dependencies == ("alpha==2.0", "beta>=1; python_version >= '3'")
    settings = meta.settings
    assert settings.requested == ("alpha", "beta")
    assert settings.frozen_for == "cpython-3.11.7-manylinux_2_36_x86_64"
    assert settings.exclude_newer == "2024-06-01T00:00:00+00:00"
    assert settings.index_url == "https://example.org/simple"
    assert settings.extra_index_urls == ("https://a.example/simple",)
    assert settings.find_links == ("./wheels",)
    assert dict(settings.hashes) == {"alpha": (HASH,)}
    assert meta.notices == ()
    assert meta.block is not None
    assert meta.block.start_line == OFFSET
    assert meta.to_json()["tool"]["reprorun"]["exclude-newer"] == "2024-06-01T00:00:00+00:00"


def test_absent_settings_are_defaults() -> None:
    meta = metadata.parse(script('dependencies = ["a"]'))
    assert meta.settings == fields.Settings()
    assert meta.settings.requested is None
    assert meta.requires_python is None


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ('"2024-06-01"', "2024-06-01"),
        ('"2024-06-01T10:00:00Z"', "2024-06-01T10:00:00Z"),
        ('"2024-06-01T10:00:00+02:00"', "2024-06-01T10:00:00+02:00"),
        ("2024-06-01", "2024-06-01"),
        ("2024-06-01T10:00:00", "2024-06-01T10:00:00"),
        ("2024-06-01 10:00:00.5-03:00", "2024-06-01T10:00:00.500000-03:00"),
    ],
)
def test_exclude_newer_accepts_dates_and_date_times(written: str, kept: str) -> None:
    meta = metadata.parse(script("[tool.reprorun]", f"exclude-newer = {written}"))
    assert meta.settings.exclude_newer == kept
    timestamps.parse_timestamp(kept)  # whatever is kept can be read back


def test_parse_timestamp() -> None:
    utc = dt.timezone.utc
    assert timestamps.parse_timestamp("2024-06-01") == dt.datetime(2024, 6, 1, tzinfo=utc)
    assert timestamps.parse_timestamp("2024-06-01T10:00:00") == dt.datetime(2024, 6, 1, 10, tzinfo=utc)
    assert timestamps.parse_timestamp("2024-06-01t10:00:00z").tzinfo is not None
    shifted = timestamps.parse_timestamp("2024-06-01T10:00:00+02:00")
    assert shifted == dt.datetime(2024, 6, 1, 8, tzinfo=utc)
    for bad in ("2024-6-1", "yesterday", "2024-06-01T10:00", "2024-13-01", ""):
        with pytest.raises(ValueError, match=r"RFC 3339|month|Invalid"):
            timestamps.parse_timestamp(bad)


def test_unknown_reprorun_key_is_a_notice_on_its_line() -> None:
    meta = metadata.parse(script("[tool.other]", "colour = 1", "[tool.reprorun]", "colour = 'blue'"), "s.py")
    (notice,) = meta.notices
    assert notice.line == 4 + OFFSET
    assert "unknown key 'colour' in [tool.reprorun]" in notice.message
    assert notice.hint
    assert meta.to_json()["tool"]["reprorun"] == {"colour": "blue"}


def test_unknown_top_level_field_is_a_notice() -> None:
    meta = metadata.parse(script('dependencies = ["a"]', "name = 'x'"))
    assert [(n.line, n.message) for n in meta.notices] == [(2 + OFFSET, "unknown field 'name' ignored")]


def test_other_tool_tables_are_kept_untouched() -> None:
    meta = metadata.parse(
        script(
            "[tool.uv]",
            "exclude-newer = 2024-01-01T00:00:00Z",
            "[tool.uv.sources]",
            "x = { path = '../x' }",
            "[tool.ruff]",
            "line-length = [1, 'mixed', true]",
        )
    )
    # Kept, and uv's install settings are named once: reprorun does not follow them (issue 12).
    assert [n.message for n in meta.notices] == [
        "[tool.uv] exclude-newer, sources ignored: reprorun does not read uv's settings"
    ]
    assert meta.to_json()["tool"] == {
        "uv": {"exclude-newer": "2024-01-01T00:00:00+00:00", "sources": {"x": {"path": "../x"}}},
        "ruff": {"line-length": [1, "mixed", True]},
    }


def test_dates_become_iso_strings_everywhere() -> None:
    meta = metadata.parse(
        script(
            "[tool.x]",
            "when = [1979-05-27, 07:32:00, 1979-05-27T07:32:00-08:00]",
            "nested = { at = 1979-05-27T00:32:00.999999 }",
        )
    )
    assert meta.to_json()["tool"]["x"] == {
        "when": ["1979-05-27", "07:32:00", "1979-05-27T07:32:00-08:00"],
        "nested": {"at": "1979-05-27T00:32:00.999999"},
    }


def test_unclosed_block_is_a_notice() -> None:
    meta = metadata.parse("x = 1\n# /// script\n# a = 1\n", "s.py")
    assert meta.source == "none"
    (notice,) = meta.notices
    assert notice.line == 2
    assert "unclosed '# /// script' block ignored" in notice.message


# --- PEP 722 fallback -------------------------------------------------------------------------


def test_pep722_fallback_reads_the_comment() -> None:
    text = "\n".join(
        [
            "#!/usr/bin/env python",
            "# Script Dependencies:",
            "#    requests[security] >= 2  # for the web",
            "#    rich",
            "#",
            "#    not-this",
            "import rich",
        ]
    )
    meta = metadata.parse(text, "old.py")
    assert meta.source == "pep722"
    assert meta.dependencies == ("requests[security] >= 2", "rich")
    assert meta.to_json() == {"dependencies": ["requests[security] >= 2", "rich"]}
    (notice,) = meta.notices
    assert notice.line == 2
    assert "PEP 722" in notice.message
    assert notice.hint == "convert it to a PEP 723 block with: reprorun init --infer old.py"


@pytest.mark.parametrize(
    ("text", "dependencies"),
    [
        ("# Script Dependencies:\n#  a\nimport b\n#  c\n", ("a",)),  # ends at code
        ("# Script Dependencies:\n#  a\n#   \n#  c\n", ("a",)),  # ends at a blank comment
        ("# script   DEPENDENCIES:  \n#  a\n", ("a",)),  # marker is case-insensitive
        ("#\tScript Dependencies:\n#  a\n", ("a",)),  # any whitespace after '#'
        ("# Script Dependencies:\n", ()),  # an empty list
        ("# Script Dependencies:\n#  a # a comment\n", ("a",)),  # ' # ' starts a comment
        ("# Script Dependencies:\n#  p @ https://x.org/p.zip#frag\n", ("p @ https://x.org/p.zip#frag",)),
        ("# Script Dependencies:\r\n#  a\r\n#  b\r\n", ("a", "b")),
    ],
)
def test_pep722_rules(text: str, dependencies: tuple[str, ...]) -> None:
    meta = metadata.parse(text)
    assert meta.source == "pep722"
    assert meta.dependencies == dependencies


def test_pep722_marker_must_stand_alone() -> None:
    for text in ("# Script Dependencies: a\n#  b\n", "#Script Dependencies:\n#  a\n"):
        assert metadata.parse(text).source == "none"


def test_pep722_list_ends_at_a_line_that_is_not_a_requirement() -> None:
    # Not an error (issue 12): public scripts follow the list with prose; the warning names the line.
    meta = metadata.parse("x = 1\n# Script Dependencies:\n#   ok\n#   bad!\n", "s.py")
    assert meta.dependencies == ("ok",)
    assert [(n.line, n.message) for n in meta.notices][1] == (
        4, "the 'Script Dependencies' list ends before this line: '#   bad!' is not a requirement"
    )

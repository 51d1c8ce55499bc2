"""Property tests: text around a block never changes it, and no input breaks the parser."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reprorun.errors import MetadataError
from reprorun.script import blocks, metadata

BOUNDED = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])

VALID_BLOCKS = [
    ["# /// script", "# ///"],
    ["# /// script", '# dependencies = ["alpha>=1", "beta"]', "# ///"],
    [
        "# /// script",
        '# requires-python = ">=3.10"',
        "# dependencies = [",
        '#     "gamma==1.0",  # via nothing',
        "# ]",
        "#",
        "# [tool.reprorun]",
        '# requested = ["gamma"]',
        "# exclude-newer = 2024-06-01",
        "# ///",
    ],
    ["# /// script", '# x = """', "# ///", '# """', "# [tool.other]", "# y = [1, 2]", "# ///"],
]
ENDINGS = ["\n", "\r\n", "\r"]

# A line that cannot continue or open a comment block: it does not start with '#'.
plain_line = st.text(st.characters(blacklist_characters="\r\n"), max_size=40).filter(
    lambda s: not s.startswith("#")
)
# Any text at all, as long as it holds no '# ///' of its own (which could open or close a block).
free_text = st.text(max_size=200).filter(lambda s: "# ///" not in s)


def _block(lines: list[str], ending: str) -> str:
    return "".join(line + ending for line in lines)


def _parsed(text: str) -> tuple[object, ...]:
    meta = metadata.parse(text)
    return meta.source, meta.to_json(), meta.dependencies, meta.requires_python, meta.settings


@BOUNDED
@given(
    st.sampled_from(VALID_BLOCKS),
    st.sampled_from(ENDINGS),
    st.lists(plain_line, max_size=6),
    st.lists(plain_line, max_size=6),
)
def test_plain_lines_around_a_block_change_nothing(
    block: list[str], ending: str, before: list[str], after: list[str]
) -> None:
    text = _block(block, ending)
    expected = _parsed(text)
    surrounded = "".join(f"{line}\n" for line in before) + text + "\n".join(after)
    assert _parsed(surrounded) == expected
    found = metadata.parse(surrounded).block
    assert found is not None
    assert found.start_line == len(before) + 1


@BOUNDED
@given(
    st.sampled_from(VALID_BLOCKS),
    st.sampled_from(ENDINGS),
    free_text,
    free_text,
)
def test_arbitrary_text_around_a_block_changes_nothing(
    block: list[str], ending: str, before: str, after: str
) -> None:
    text = _block(block, ending)
    # The text before ends with a line break so the opener starts a line; what follows the
    # closer's line is free to be anything, comments included.
    surrounded = before + "\n" + text + after
    assert _parsed(surrounded)[1:] == _parsed(text)[1:]


FRAGMENTS = [
    "# /// script",
    "# /// other",
    "# ///",
    "#",
    "# ",
    "#x",
    "",
    "x = 1",
    "    # /// script",
    "# Script Dependencies:",
    "#   requests",
    "#   bad req!",
    '# dependencies = ["a", 1]',
    "# dependencies = [",
    '#   "b>=1",',
    '#   "c; os_name ==',
    "# ]",
    '# requires-python = ">=3.10"',
    "# requires-python = 3",
    "# [tool.reprorun]",
    "# [tool.reprorun.hashes]",
    '# a = ["sha256:00"]',
    "# hashes = 1",
    "# exclude-newer = 10:00:00",
    '# exclude-newer = "soon"',
    "# requested = [true]",
    "# tool = 1",
    '# x = """',
    '# """',
    "# %%",
    "\ufeff",
]


@BOUNDED
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=14), st.sampled_from(ENDINGS))
def test_block_like_text_raises_only_metadata_error(parts: list[str], ending: str) -> None:
    _parse_or_metadata_error(ending.join(parts))


@BOUNDED
@given(st.text(max_size=300))
def test_any_text_raises_only_metadata_error(text: str) -> None:
    _parse_or_metadata_error(text)
    _parse_or_metadata_error("# /// script\n" + text + "\n# ///\n")


def _parse_or_metadata_error(text: str) -> None:
    try:
        meta = metadata.parse(text, "p.py")
    except MetadataError as exc:
        assert exc.line >= 1
        assert exc.message.startswith(f"p.py:{exc.line}: ")
        exc.excerpt()
        return
    assert meta.source in ("pep723", "pep722", "none")
    meta.to_json()


@BOUNDED
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=14), st.sampled_from(ENDINGS))
def test_scan_invariants(parts: list[str], ending: str) -> None:
    text = ending.join(parts)
    result = blocks.scan(text)
    previous_end = 0
    for block in result.blocks:
        assert block.start_line > previous_end  # in file order, never overlapping
        assert block.content.count("\n") == block.end_line - block.start_line - 1
        assert text[block.start :].startswith(f"# /// {block.type}")
        previous_end = block.end_line

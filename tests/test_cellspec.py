"""`--cells SPEC` resolution against a script's cells."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from reprorun.errors import UsageError
from reprorun.script import cells, cellspec

SCRIPT = """\
# /// script
# dependencies = []
# ///
import sys
# %% Load data
data = [1, 2, 3]
# %% [markdown]
# Some words
# %% Plot
print(data)
# %% plot, again
print(2)
# %% Summary
print(sum(data))
"""


@pytest.fixture
def found() -> tuple[cells.Cell, ...]:
    return cells.split(SCRIPT)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("1", [0, 1]),
        ("3", [0, 3]),
        ("2:4", [0, 3, 4]),  # inclusive; the markdown cell 2 is skipped
        (":3", [0, 1, 3]),
        ("4:", [0, 4, 5]),
        (":", [0, 1, 3, 4, 5]),
        ("5,1", [0, 1, 5]),  # file order, not SPEC order
        ("1,1,1:1", [0, 1]),
        ("Load data", [0, 1]),
        ("load DATA", [0, 1]),
        ("Plot", [0, 3]),
        ("plot", [0, 3]),  # case-insensitive fallback finds only 'Plot'
        ('"plot, again"', [0, 4]),
        ("'plot, again', Summary", [0, 4, 5]),
        (" 1 , 3 ", [0, 1, 3]),
        ("0,1", [0, 1]),
    ],
)
def test_select(found, spec, expected):
    assert cellspec.select(spec, found) == expected


def test_exact_title_wins_over_case_insensitive():
    text = "# %% plot\nx = 1\n# %% Plot\ny = 2\n# %% PLOT\nz = 3\n"
    assert cellspec.select("Plot", cells.split(text)) == [2]
    with pytest.raises(UsageError, match="several cells"):
        cellspec.select("pLoT", cells.split(text))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("9", "there is no cell 9"),
        ("2:9", "there is no cell 9"),
        ("4:2", "reversed"),
        ("Nothing here", "no cell is titled 'Nothing here'"),
        ("", "empty"),
        (" , ", "empty"),
        ("2", "selects no code cell"),
    ],
)
def test_errors_list_the_cells(found, spec, message):
    with pytest.raises(UsageError, match=message) as info:
        cellspec.select(spec, found)
    if "reversed" not in message:
        assert info.value.hint is not None
        assert "0: (preamble)" in info.value.hint
        assert "1: Load data" in info.value.hint
        assert "2: (untitled) [markdown]" in info.value.hint
    assert info.value.exit_code == 2


def test_no_preamble():
    text = "# %% A\nx = 1\n# %% B\ny = 2\n"
    assert cellspec.select("B", cells.split(text)) == [2]


def test_works_with_any_cell_like_objects():
    @dataclass(frozen=True)
    class Fake:
        index: int
        title: str
        kind: str

    fakes = [Fake(1, "intro", "markdown"), Fake(2, "", "code"), Fake(3, "fit", "code")]
    assert cellspec.select("1:3", fakes) == [2, 3]
    assert cellspec.select("fit", fakes) == [3]


def test_line_ranges_merge_adjacent_cells(found):
    assert cellspec.line_ranges(found, [0, 1]) == [(1, 6)]
    assert cellspec.line_ranges(found, [0, 1, 3, 5]) == [(1, 6), (9, 10), (13, 14)]
    assert cellspec.format_lines([(1, 6), (9, 10)]) == "1-6,9-10"

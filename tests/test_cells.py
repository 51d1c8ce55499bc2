"""Splitting `# %%` cell scripts (VS Code, Spyder, jupytext percent format) into cells."""

from __future__ import annotations

import pytest

from reprorun.script import cells, metadata
from reprorun.script.cells import Cell

JUPYTEXT = """\
# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     name: python3
# ---

# %% [markdown]
# # An analysis
#
# With prose.

# %%
# /// script
# dependencies = ["alpha"]
# ///
import alpha

# %% Plot it tags=["hide-input", "slow"]
print(alpha.__version__)
"""


def test_jupytext_file() -> None:
    assert cells.split(JUPYTEXT) == (
        Cell(0, "", "code", 1, 10),
        Cell(1, "", "markdown", 11, 15),
        Cell(2, "", "code", 16, 21),
        Cell(3, "Plot it", "code", 22, 23),
    )
    # The block in cell 2 parses like any other.
    meta = metadata.parse(JUPYTEXT)
    assert meta.dependencies == ("alpha",)
    assert meta.block is not None
    assert meta.block.start_line == 17


@pytest.mark.parametrize(
    ("marker", "title", "kind"),
    [
        ("# %%", "", "code"),
        ("#%%", "", "code"),
        ("# %% Load the data", "Load the data", "code"),
        ("#%% Load", "Load", "code"),
        ("# %% [markdown]", "", "markdown"),
        ("# %% [md]", "", "markdown"),
        ("# %% [raw]", "", "raw"),
        ("# %% [markdown] Notes", "Notes", "markdown"),
        ("# %% Notes [markdown]", "Notes", "markdown"),
        ('# %% tags=["parameters"]', "", "code"),
        ('# %% Fit tags=["a", "b"] key="v w"', "Fit", "code"),
        ("# %% [unknown] Odd", "[unknown] Odd", "code"),
    ],
)
def test_marker_title_and_kind(marker: str, title: str, kind: str) -> None:
    (cell,) = cells.split(marker + "\nx = 1\n")
    assert (cell.index, cell.title, cell.kind, cell.first_line, cell.last_line) == (
        1,
        title,
        kind,
        1,
        2,
    )


@pytest.mark.parametrize("line", ["# %%%", "#  %%", "    # %%", "x = 1  # %%", "## %%"])
def test_not_a_marker(line: str) -> None:
    assert cells.split(line + "\n") == (Cell(0, "", "code", 1, 1),)
    assert not cells.is_cell_script(line + "\n")


def test_preamble_is_cell_zero() -> None:
    text = "#!/usr/bin/env reprorun\nimport os\n# %% One\na = 1\n# %% Two\nb = 2\n"
    assert cells.split(text) == (
        Cell(0, "", "code", 1, 2),
        Cell(1, "One", "code", 3, 4),
        Cell(2, "Two", "code", 5, 6),
    )


def test_no_preamble_when_the_first_line_is_a_marker() -> None:
    assert [c.index for c in cells.split("# %%\na\n# %%\nb\n")] == [1, 2]


def test_no_markers_is_one_preamble_cell() -> None:
    assert cells.split("a = 1\nb = 2\n") == (Cell(0, "", "code", 1, 2),)
    assert not cells.is_cell_script("a = 1\n")


def test_empty_text_has_no_cells() -> None:
    assert cells.split("") == ()


def test_last_cell_without_final_newline() -> None:
    assert cells.split("# %%\na") == (Cell(1, "", "code", 1, 2),)


def test_line_endings_and_bom() -> None:
    text = "\ufeff# %% A\r\na\r\n# %% B\rb\r"
    assert cells.split(text) == (Cell(1, "A", "code", 1, 2), Cell(2, "B", "code", 3, 4))
    assert cells.is_cell_script(text)


def test_empty_cells_keep_their_lines() -> None:
    assert cells.split("# %%\n# %%\n# %%\n") == (
        Cell(1, "", "code", 1, 1),
        Cell(2, "", "code", 2, 2),
        Cell(3, "", "code", 3, 3),
    )

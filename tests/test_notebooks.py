"""Reading notebooks and editing their first code cell while keeping every other byte."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reprorun.errors import UsageError
from reprorun.script import cellspec, infer, installlines, metadata, notebooks

# Written as Jupyter (nbformat 4.5) writes it: indent=1, sorted keys, non-ASCII kept, a final newline.
JUPYTER = r"""{
 "cells": [
  {
   "cell_type": "markdown",
   "id": "0f1e2d3c",
   "metadata": {},
   "source": [
    "# Température study\n",
    "Some *words*."
   ]
  },
  {
   "cell_type": "code",
   "execution_count": 1,
   "id": "a1b2c3d4",
   "metadata": {
    "tags": [
     "parameters"
    ]
   },
   "outputs": [
    {
     "name": "stdout",
     "output_type": "stream",
     "text": [
      "ok\n"
     ]
    }
   ],
   "source": [
    "# /// script\n",
    "# dependencies = [\"numpy\"]\n",
    "# ///\n",
    "import numpy as np\n",
    "print(\"ok\")"
   ]
  },
  {
   "cell_type": "code",
   "execution_count": null,
   "id": "e5f6a7b8",
   "metadata": {
    "title": "Fit"
   },
   "outputs": [],
   "source": [
    "!pip install -q pandas\n",
    "import pandas as pd"
   ]
  },
  {
   "cell_type": "raw",
   "id": "deadbeef",
   "metadata": {},
   "source": []
  }
 ],
 "metadata": {
  "kernelspec": {
   "display_name": "Python 3 (ipykernel)",
   "language": "python",
   "name": "python3"
  },
  "language_info": {
   "name": "python",
   "version": "3.12.1"
  }
 },
 "nbformat": 4,
 "nbformat_minor": 5
}
"""

NEW_SOURCE = (
    '# /// script\n# requires-python = ">=3.10"\n# dependencies = ["numpy", "pandas"]\n# ///\n'
    'import numpy as np\nprint("ok")'
)


def jupyter_dumps(data: dict[str, Any]) -> str:
    # What nbformat.writes does: sorted keys, indent=1, ensure_ascii=False, and a newline.
    return json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def test_fixture_is_what_jupyter_writes():
    assert jupyter_dumps(json.loads(JUPYTER)) == JUPYTER


def test_cells_are_numbered_from_one_over_all_cells():
    found = notebooks.cells_of_notebook(JUPYTER)
    assert [(c.index, c.kind, c.title, c.id) for c in found] == [
        (1, "markdown", "Température study", "0f1e2d3c"),
        (2, "code", "", "a1b2c3d4"),
        (3, "code", "Fit", "e5f6a7b8"),
        (4, "raw", "", "deadbeef"),
    ]
    assert found[2].first_line == "!pip install -q pandas"
    assert cellspec.select("Fit", found) == [3]
    assert cellspec.select("1:4", found) == [2, 3]


def test_the_block_is_read_from_the_first_code_cell():
    source = notebooks.first_code_cell_source(JUPYTER)
    assert source.startswith("# /// script\n")
    assert metadata.parse(source, "study.ipynb").dependencies == ("numpy",)


def test_replace_first_code_cell_keeps_every_other_byte():
    edited = notebooks.replace_first_code_cell_source(JUPYTER, NEW_SOURCE)
    expected = JUPYTER.replace(
        '    "# dependencies = [\\"numpy\\"]\\n",\n',
        '    "# requires-python = \\">=3.10\\"\\n",\n'
        '    "# dependencies = [\\"numpy\\", \\"pandas\\"]\\n",\n',
    )
    assert edited == expected
    data = json.loads(edited)
    assert data["cells"][1]["source"][-1] == 'print("ok")'  # the last line has no newline
    assert notebooks.first_code_cell_source(edited) == NEW_SOURCE


def test_replace_matches_a_jupyter_rewrite_of_the_same_change():
    data = json.loads(JUPYTER)
    data["cells"][1]["source"] = NEW_SOURCE.splitlines(keepends=True)
    jupyter_text = jupyter_dumps(data)
    ours = notebooks.replace_first_code_cell_source(JUPYTER, NEW_SOURCE)
    assert ours == jupyter_text


@pytest.mark.parametrize("indent", [None, 2, 4])
def test_other_indentations_are_kept(indent):
    data = json.loads(JUPYTER)
    raw = json.dumps(data, indent=indent, ensure_ascii=False)
    edited = notebooks.replace_first_code_cell_source(raw, "x = 1\ny = 2\n")
    data["cells"][1]["source"] = ["x = 1\n", "y = 2\n"]
    assert edited == json.dumps(data, indent=indent, ensure_ascii=False)


def test_string_source_stays_a_string_and_key_order_is_kept():
    raw = '{"nbformat": 4, "cells": [{"source": "a = 1", "cell_type": "code", "outputs": []}], "metadata": {}}'
    edited = notebooks.replace_first_code_cell_source(raw, "b = 2\n")
    assert edited == raw.replace('"a = 1"', '"b = 2\\n"')


def test_empty_source_and_crlf_file():
    raw = JUPYTER.replace("\n", "\r\n")
    edited = notebooks.replace_first_code_cell_source(raw, "")
    assert json.loads(edited)["cells"][1]["source"] == []
    assert edited.count("\r\n") > 10


def test_map_code_cells_comments_out_pip_lines_everywhere():
    edited = notebooks.map_code_cells(JUPYTER, installlines.comment_out_pip_lines)
    cells = json.loads(edited)["cells"]
    assert cells[2]["source"][0] == "# reprorun: adopted into the script block: !pip install -q pandas\n"
    assert cells[1]["source"] == json.loads(JUPYTER)["cells"][1]["source"]
    assert notebooks.map_code_cells(JUPYTER, lambda s: s) == JUPYTER


def test_code_text_for_inference():
    text = notebooks.code_text(JUPYTER)
    assert text.startswith("# %% cell 2\n# /// script\n")
    found = infer.infer(text, "study.ipynb", where=notebooks.locator(JUPYTER))
    assert found.requirements == ("numpy", "pandas")
    assert found.reasons["pandas"] == "'!pip install' (cell 3, line 1)"
    assert found.reasons["numpy"] == "already in the script block"
    assert notebooks.locator(JUPYTER)(1) == "line 1"  # the marker line of the first cell


def test_foreign_cell_magics_are_commented_in_code_text():
    raw = json.dumps({"nbformat": 4, "metadata": {}, "cells": [
        {"cell_type": "code", "source": "%%bash\nimport this is not python\n"},
    ]})
    assert "# import this is not python" in notebooks.code_text(raw)


def test_not_a_notebook_and_no_code_cell():
    with pytest.raises(UsageError, match="invalid JSON"):
        notebooks.cells_of_notebook("{")
    with pytest.raises(UsageError, match="no 'cells' list"):
        notebooks.cells_of_notebook("[]")
    no_code = '{"nbformat": 4, "cells": [{"cell_type": "markdown", "source": "hi"}], "metadata": {}}'
    assert notebooks.first_code_cell(no_code) is None
    with pytest.raises(UsageError, match="no code cell"):
        notebooks.replace_first_code_cell_source(no_code, "x")

"""Cells and notebooks through the `reprorun` command: --cells, .ipynb runs, cells, init --infer (issue 5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CELL_SCRIPT = """\
# /// script
# dependencies = ["alpha"]
# ///
import alpha
x = 1
# %% Load data
print("load", x, alpha.__version__)
# %% Compute
y = x + 1
print("compute", y)
# %% [markdown]
# Some notes
# %% Fail
def boom():
    raise ValueError("bad")
boom()
"""


def notebook(cells: list[tuple[str, str]]) -> str:
    """A notebook as Jupyter writes it (one-space indent, sources as lists of lines)."""

    def source(text: str) -> list[str]:
        return text.splitlines(keepends=True)

    doc = {
        "cells": [
            {
                "cell_type": kind,
                "metadata": {},
                "source": source(text),
                **({"execution_count": None, "outputs": []} if kind == "code" else {}),
            }
            for kind, text in cells
        ],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(doc, indent=1) + "\n"


def test_cells_by_title_number_and_range(run_reprorun, tmp_path: Path):
    path = tmp_path / "cells.py"
    path.write_text(CELL_SCRIPT)
    listing = run_reprorun("cells", path)
    assert listing.returncode == 0
    assert "Load data" in listing.stdout and "markdown" in listing.stdout
    assert run_reprorun("--cells", "Load data", path).stdout == "load 1 2.0\n"
    assert run_reprorun("--cells", "1,2", path).stdout == "load 1 2.0\ncompute 2\n"
    failing = run_reprorun("--cells", "2:4", path)
    assert failing.returncode == 1
    assert failing.stdout == "compute 2\n"
    assert f'File "{path}", line 16, in <module>' in failing.stderr  # the real file and line
    assert "_runner" not in failing.stderr
    unknown = run_reprorun("--cells", "9", path)
    assert unknown.returncode == 2
    assert "there is no cell 9" in unknown.stderr and "Load data" in unknown.stderr


def test_notebook_runs_headless_in_its_block_env(run_reprorun, tmp_path: Path):
    path = tmp_path / "analysis.ipynb"
    path.write_text(
        notebook(
            [
                (
                    "code",
                    "# /// script\n# dependencies = ['alpha']\n# ///\n"
                    "%matplotlib inline\n!pip install alpha\nimport alpha",
                ),
                ("markdown", "# Title"),
                ("code", "print('alpha', alpha.__version__)"),
                ("code", "%time z = 6 * 7\nprint(z)"),
            ]
        )
    )
    result = run_reprorun(path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["alpha 2.0", "42"]
    only = run_reprorun("--cells", "1,3", path)
    assert (only.returncode, only.stdout) == (0, "alpha 2.0\n"), only.stderr
    listing = run_reprorun("cells", path)
    assert [line.split()[1] for line in listing.stdout.splitlines()[1:]] == ["code", "markdown", "code", "code"]
    meta = run_reprorun("meta", path)
    assert json.loads(meta.stdout) == {"dependencies": ["alpha"]}


def test_notebook_error_names_the_cell(run_reprorun, tmp_path: Path):
    path = tmp_path / "bad.ipynb"
    path.write_text(notebook([("code", "x = 1"), ("code", "raise RuntimeError('in cell two')")]))
    result = run_reprorun(path)
    assert result.returncode == 1
    assert "cell 2" in result.stderr and "RuntimeError: in cell two" in result.stderr


def test_notebook_without_block_runs_with_infer(run_reprorun, tmp_path: Path):
    path = tmp_path / "inferred.ipynb"
    path.write_text(notebook([("code", "%pip install 'alpha==1.0'\nimport alpha\nprint(alpha.__version__)")]))
    result = run_reprorun("--infer", path)
    assert (result.returncode, result.stdout) == (0, "1.0\n"), result.stderr
    assert "inferred alpha==1.0" in result.stderr


def test_init_infer_asks_unless_yes_and_edits_only_the_first_cell(run_reprorun, tmp_path: Path):
    path = tmp_path / "nb.ipynb"
    original = notebook([("code", "!pip install beta\nimport beta"), ("code", "print(beta.__name__)")])
    path.write_text(original)
    refused = run_reprorun("init", "--infer", path, input="")
    assert refused.returncode == 2
    assert "--yes" in refused.stderr
    assert path.read_text() == original
    done = run_reprorun("init", "--infer", "--yes", path)
    assert done.returncode == 0, done.stderr
    doc = json.loads(path.read_text())
    first = "".join(doc["cells"][0]["source"])
    assert first.startswith('# /// script\n# dependencies = [\n#     "beta",\n# ]\n# ///\n')
    assert doc["cells"][1] == json.loads(original)["cells"][1]
    assert path.read_text().startswith('{\n "cells": [\n  {\n')  # Jupyter's own layout kept
    assert run_reprorun(path).stdout == "beta\n"


def test_init_infer_on_a_script_comments_out_pip_lines(run_reprorun, tmp_path: Path):
    path = tmp_path / "s.py"
    path.write_text("# %pip install alpha\nimport alpha\nimport os\nprint(alpha.__version__)\n")
    done = run_reprorun("init", "--infer", "--yes", path)
    assert done.returncode == 0, done.stderr
    text = path.read_text()
    assert '#     "alpha",' in text
    assert "reprorun: adopted into the script block" in text
    assert run_reprorun(path).stdout == "2.0\n"


def test_freeze_a_notebook(run_reprorun, tmp_path: Path):
    path = tmp_path / "f.ipynb"
    path.write_text(notebook([("code", "# /// script\n# dependencies = ['beta']\n# ///\nimport beta"),
                              ("code", "print('ok')")]))  # fmt: skip
    result = run_reprorun("--freeze", path)
    assert result.returncode == 0, result.stderr
    meta = json.loads(run_reprorun("meta", path).stdout)
    assert meta["dependencies"] == ["alpha==2.0", "beta==1.0"]
    assert meta["tool"]["reprorun"]["requested"] == ["beta"]
    assert run_reprorun(path).stdout == "ok\n"

"""The README's example scripts and notebook, run as a user runs them: `reprorun` builds their env.

The envs come from real wheels (pandas, seaborn, scikit-image, IPython, matplotlib and what they
need), downloaded before the tests by `tests/fetch_wheels.py` into `.test-wheels/`; the tests never
reach the network. Without those wheels the tests skip, saying why, except in CI, where that fails.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from jupyter_support import Run

EXAMPLES = Path(__file__).resolve().parent.parent / "scripts-examples"
NEEDED = ("pandas", "seaborn", "scikit_image", "ipython")


@pytest.fixture
def examples_run(nb_run: Run, jupyter_wheels: Path) -> Run:
    """`reprorun` with the downloaded wheels, once they hold what the examples import."""
    missing = [name for name in NEEDED if not any(jupyter_wheels.glob(f"{name}-*.whl"))]
    if missing:
        reason = f"no wheels of {', '.join(missing)} in {jupyter_wheels}: run python tests/fetch_wheels.py"
        if os.environ.get("CI"):
            pytest.fail(f"CI: {reason}", pytrace=False)
        pytest.skip(reason)
    return nb_run


def test_pandas_example_summarises_the_bundled_table(examples_run: Run) -> None:
    result = examples_run(EXAMPLES / "pandas_summary.py")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("penguins_small.csv: ")
    assert "heaviest: a male Gentoo" in result.stdout


def test_histogram_example_runs_only_the_chosen_cells_then_all(examples_run: Run, tmp_path: Path) -> None:
    script = EXAMPLES / "histogram_matching.py"
    chosen = examples_run("--cells", "Load images,Match", script, cwd=tmp_path)
    assert chosen.returncode == 0, chosen.stderr
    assert "reference (400, 600, 3)" in chosen.stdout
    assert list(tmp_path.iterdir()) == []  # the Plot cell did not run: no figure anywhere
    whole = examples_run(script, tmp_path / "fig.png", cwd=tmp_path)
    assert whole.returncode == 0, whole.stderr
    assert whole.stdout.splitlines()[-1] == f"wrote {tmp_path / 'fig.png'}"
    assert (tmp_path / "fig.png").stat().st_size > 10_000


def test_notebook_with_pip_lines_adopted_then_run_headless(examples_run: Run, tmp_path: Path) -> None:
    work = tmp_path / "examples"
    shutil.copytree(EXAMPLES, work)
    notebook = work / "adopt_pip_lines.ipynb"
    adopted = examples_run("init", "--infer", "--yes", notebook)  # as the notebook's own text says
    assert adopted.returncode == 0, adopted.stderr
    first = "".join(json.loads(notebook.read_text())["cells"][0]["source"])
    assert first.startswith("# /// script\n")
    for wanted in ('"matplotlib"', '"pandas"', '"seaborn>=0.13"'):
        assert wanted in first
    result = examples_run(notebook, cwd=work)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["18 data/penguins_small.csv", "wrote penguins.png"]
    assert (work / "penguins.png").stat().st_size > 10_000


def test_a_notebook_whose_env_has_ipython_runs_every_magic(examples_run: Run, tmp_path: Path) -> None:
    cells = ['# /// script\n# dependencies = ["ipython", "matplotlib"]\n# ///\n'
             "%pip install nothing-at-all\n%matplotlib inline\nx = %who_ls\nprint(x)\n", "1 / 0\n"]  # fmt: skip
    notebook = tmp_path / "n.ipynb"
    notebook.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "id": f"c{i}", "metadata": {}, "execution_count": None, "outputs": [],
         "source": text.splitlines(keepends=True)} for i, text in enumerate(cells)]}))  # fmt: skip
    result = examples_run(notebook)
    assert result.returncode == 1
    assert result.stdout == "[]\n"  # %who_ls ran through IPython; the %pip line was skipped
    assert "Cell In[2]" in result.stderr and "ZeroDivisionError" in result.stderr
    assert "reprorun: error: n.ipynb cell 2 failed" in result.stderr

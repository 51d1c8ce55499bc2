"""Executed notebooks do not run `!pip install` lines: they would change whatever pip is first on
PATH (the user's own environment), never the script's env, which comes from the block."""

from __future__ import annotations

import os

import pytest

from jupyter_support import notebook, outputs, read, text

pytestmark = pytest.mark.slow

BLOCK = '# /// script\n# dependencies = ["alpha==1.0"]\n# ///\n'


def test_install_lines_are_not_run_but_kept_and_told(nb_run, tmp_path):
    spy = tmp_path / "bin"
    spy.mkdir()
    marker = tmp_path / "pip-was-run"
    for name in ("pip", "pip3", "conda"):  # a pip first on PATH that would betray any call
        (spy / name).write_text(f"#!/bin/sh\necho \"$0 $*\" >> {marker}\n")
        (spy / name).chmod(0o755)
    path = tmp_path / "installs.ipynb"
    path.write_text(notebook(
        ("code", BLOCK + "!pip install alpha", []),
        ("code", "if True:\n    %pip install -q beta\nimport alpha\nprint('alpha', alpha.__name__)", []),
        ("code", "!conda install -y numpy\n!python -m pip uninstall -y alpha\n"
                 "!pip list > /dev/null\nprint('done')", []),
    ))  # fmt: skip
    done = nb_run("--output", tmp_path / "out.ipynb", path, env={"PATH": f"{spy}{os.pathsep}{os.environ['PATH']}"})
    assert done.returncode == 0, done.stderr
    nb = read(tmp_path / "out.ipynb")
    first, second, third = nb["cells"]
    assert "".join(first["source"]).endswith("!pip install alpha")  # the saved notebook keeps the lines
    assert "%pip install -q beta" in "".join(second["source"])
    (note,) = outputs(first, "stream")
    assert note["name"] == "stderr" and "not run: !pip install alpha" in text(first)
    assert "alpha alpha" in text(second)
    assert "done" in text(third) and "not run: !conda install -y numpy" in text(third)
    assert "not run: !python -m pip uninstall -y alpha" in text(third)
    # only `pip list`, which reads, reached the pip on PATH
    assert marker.read_text().split() == [str(spy / "pip"), "list"]

"""`_runner.py` run as it is in production: a real interpreter in a subprocess, stdlib only."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import reprorun
from reprorun.script import cells, cellspec

RUNNER = Path(reprorun.__file__).parent / "launch" / "_runner.py"

SCRIPT = '''\
# /// script
# dependencies = []
# ///
import inspect
import sys
import warnings
print("preamble", sys.argv[1:], __name__, __file__ == {path!r}, sys.path[0] == {folder!r})
# %% Define
def helper():
    return "from helper"
print(inspect.getsource(helper).splitlines()[0])
# %% Warn
warnings.warn("look here")
# %% Fail
def explode():
    raise ValueError("boom")
explode()
# %% Exit
sys.exit(int(sys.argv[1]) if sys.argv[1:] else 0)
'''


def run(*args: str, cwd: Path | None = None, python: str = sys.executable, env=None, flags=()):
    return subprocess.run(
        [python, *flags, str(RUNNER), *args],
        capture_output=True, text=True, cwd=cwd, env=env, check=False,
    )


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "analysis.py"
    path.write_text(SCRIPT.format(path=str(path), folder=str(tmp_path)))
    return path


def lines_for(script: Path, spec: str) -> str:
    found = cells.split(script.read_text())
    return cellspec.format_lines(cellspec.line_ranges(found, cellspec.select(spec, found)))


def test_selected_cells_run_with_script_identity(script):
    result = run("cells", "--lines", lines_for(script, "Define"), "--", str(script), "a", "b")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "preamble ['a', 'b'] __main__ True True",
        "def helper():",  # inspect reads the real file at the real line
    ]
    assert result.stderr == ""


def test_warnings_point_at_the_real_line(script):
    result = run("cells", "--lines", lines_for(script, "Warn"), "--", str(script))
    assert result.returncode == 0
    assert f"{script}:13: UserWarning: look here" in result.stderr


def test_traceback_names_real_lines_without_runner_frames(script):
    result = run("cells", "--lines", lines_for(script, "Fail"), "--", str(script))
    assert result.returncode == 1
    assert "_runner.py" not in result.stderr
    frames = [ln.strip() for ln in result.stderr.splitlines() if ln.strip().startswith("File ")]
    assert frames == [
        f'File "{script}", line 17, in <module>',
        f'File "{script}", line 16, in explode',
    ]
    assert result.stderr.startswith("Traceback (most recent call last):")
    assert "    raise ValueError(\"boom\")" in result.stderr
    assert result.stderr.rstrip().endswith("ValueError: boom")


def test_traceback_matches_plain_python(script, tmp_path):
    # The same failure, run whole by python and as cells by the runner, reads the same.
    whole = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=False)
    ours = run("cells", "--lines", lines_for(script, "Fail"), "--", str(script))
    def traceback_of(stderr: str) -> str:
        return stderr[stderr.index("Traceback"):]

    assert traceback_of(ours.stderr) == traceback_of(whole.stderr)
    assert ours.returncode == whole.returncode == 1


def test_system_exit_passes_the_status(script):
    result = run("cells", "--lines", lines_for(script, "Exit"), "--", str(script), "7")
    assert result.returncode == 7
    assert result.stderr == ""
    message = run("cells", "--lines", "1-1", "--", "-", cwd=script.parent)
    assert message.returncode == 2  # no file named '-'


def test_syntax_error_is_reported_like_python(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text("# %% A\nx = 1\n# %% B\ny = (\n")
    result = run("cells", "--lines", "3-4", "--", str(path))
    assert result.returncode == 1
    assert f'File "{path}", line 4' in result.stderr
    assert "SyntaxError" in result.stderr
    assert "Traceback" not in result.stderr


def test_runner_folder_is_not_on_the_path(tmp_path):
    # The package folder holds modules named 'cells', 'errors'...: the user must not import them.
    path = tmp_path / "s.py"
    path.write_text("import sys\nprint(sys.path[0])\nimport cells\n")
    result = run("cells", "--lines", "1-3", "--", str(path))
    assert result.stdout.splitlines()[0] == str(tmp_path)
    assert "ModuleNotFoundError: No module named 'cells'" in result.stderr
    # With -I (safe path) python puts no folder first; neither does the runner.
    isolated = run("cells", "--lines", "1-2", "--", str(path), flags=["-I"])
    assert isolated.stdout.splitlines()[0] not in (str(tmp_path), str(RUNNER.parent))


def test_future_import_of_the_runner_does_not_leak(tmp_path):
    path = tmp_path / "s.py"
    path.write_text("def f(x: int): pass\nprint(f.__annotations__)\n")
    result = run("cells", "--lines", "1-2", "--", str(path))
    assert result.stdout == "{'x': <class 'int'>}\n"


def test_pickle_and_dataclasses_see_the_fresh_main(tmp_path):
    path = tmp_path / "s.py"
    path.write_text(textwrap.dedent("""\
        import dataclasses, pickle
        @dataclasses.dataclass
        class Point:
            x: int
        print(pickle.loads(pickle.dumps(Point(3))))
    """))
    result = run("cells", "--lines", "1-5", "--", str(path))
    assert result.stdout == "Point(x=3)\n", result.stderr


@pytest.mark.skipif(os.name != "posix", reason="signal exit status is POSIX")
def test_keyboard_interrupt_ends_as_python_does(tmp_path):
    path = tmp_path / "s.py"
    path.write_text("raise KeyboardInterrupt\n")
    result = run("cells", "--lines", "1-1", "--", str(path))
    assert result.returncode == -signal.SIGINT
    assert "KeyboardInterrupt" in result.stderr
    assert "_runner.py" not in result.stderr


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["cells", "--", "x.py"],
        ["cells", "--lines", "4-2", "--", "x.py"],
        ["cells", "--lines", "a", "--", "x.py"],
        ["cells", "--lines", "1-2"],
        ["notebook", "--cells", "x", "--", "n.ipynb"],
        ["other", "--", "x.py"],
    ],
)
def test_bad_arguments_exit_2(argv, tmp_path):
    result = run(*argv, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("reprorun: error:")


def test_runner_imports_only_the_standard_library():
    source = RUNNER.read_text()
    assert "reprorun" not in [
        line.split()[1].split(".")[0]
        for line in source.splitlines()
        if line.startswith(("import ", "from "))
    ]


@pytest.mark.skipif(not Path("/root/.pyenv/versions/3.8.18/bin/python").exists(), reason="no 3.8")
def test_runs_on_python_3_8(script):
    result = run(
        "cells", "--lines", lines_for(script, "Fail"), "--", str(script),
        python="/root/.pyenv/versions/3.8.18/bin/python",
    )
    assert result.returncode == 1
    assert f'File "{script}", line 16, in explode' in result.stderr


# --- notebooks ------------------------------------------------------------------------------


def notebook(path: Path, *cells: tuple[str, str]) -> Path:
    data = {
        "cells": [
            {"cell_type": kind, "metadata": {}, "source": text.splitlines(keepends=True)}
            | ({"execution_count": None, "outputs": []} if kind == "code" else {})
            for kind, text in cells
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(data, indent=1))
    return path


def without_ipython() -> dict[str, str]:
    # The test interpreter may have IPython; the plain mode is what these tests check.
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)
    env["REPRORUN_NO_IPYTHON"] = "1"
    return env


def test_notebook_runs_code_cells_in_order_with_magics(tmp_path):
    nb = notebook(
        tmp_path / "study.ipynb",
        ("code", '# /// script\n# dependencies = []\n# ///\n%pip install -q numpy\n!pip install pandas\n'
                 "%matplotlib inline\n%config InlineBackend.figure_format = 'retina'\n"
                 "%load_ext autoreload\n%autoreload 2\nimport os, sys\nx = 41\n"),
        ("markdown", "# Results\n%not code"),
        ("code", "%time y = x + 1\n!echo shell {y} $y\nfound = !echo one; echo two\nprint(found)\n"),
        ("code", "for i in range(2):\n    !echo loop {i}\ns = '''\n%kept in a string\n'''\nprint(repr(s))\n"),
        ("code", "%%time\nprint('timed', y)\n"),
        ("code", "print(sys.argv, os.getcwd() == os.path.dirname(sys.argv[0]), os.environ['MPLBACKEND'])\n"),
    )
    result = run("notebook", "--", str(nb), "arg", cwd=Path("/"), env=without_ipython())
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "shell 42 42",
        "['one', 'two']",
        "loop 0",
        "loop 1",
        "'\\n%kept in a string\\n'",
        "timed 42",
        f"[{str(nb)!r}, 'arg'] True Agg",
    ]
    assert "%time: CPU time" in result.stderr
    assert "%%time: CPU time" in result.stderr


def test_notebook_selected_cells(tmp_path):
    nb = notebook(
        tmp_path / "n.ipynb",
        ("code", "print('one')\n"),
        ("markdown", "text"),
        ("code", "print('three')\n"),
        ("code", "print('four')\n"),
    )
    result = run("notebook", "--cells", "2,4", "--", str(nb), env=without_ipython())
    assert result.stdout == "four\n"
    missing = run("notebook", "--cells", "9", "--", str(nb), env=without_ipython())
    assert missing.returncode == 2
    assert "there is no cell 9" in missing.stderr


def test_notebook_traceback_names_the_cell_and_shows_its_lines(tmp_path):
    nb = notebook(
        tmp_path / "n.ipynb",
        ("code", "x = 1\n"),
        ("code", "def f():\n    return 1 / 0\nf()\n"),
        ("code", "print('never')\n"),
    )
    result = run("notebook", "--", str(nb), env=without_ipython())
    assert result.returncode == 1
    assert result.stdout == ""
    assert '  File "<n.ipynb cell 2>", line 3, in <module>\n    f()\n' in result.stderr
    assert '  File "<n.ipynb cell 2>", line 2, in f\n    return 1 / 0\n' in result.stderr
    assert "_runner.py" not in result.stderr
    assert "During handling" not in result.stderr


def test_unknown_magic_fails_before_anything_runs(tmp_path):
    nb = notebook(
        tmp_path / "n.ipynb",
        ("code", "print('side effect')\n"),
        ("code", "x = 1\n%load_ext sql\n"),
    )
    result = run("notebook", "--", str(nb), env=without_ipython())
    assert result.returncode == 1
    assert result.stdout == ""
    assert "reprorun: error: n.ipynb cell 2, line 2: the magic '%load_ext sql'" in result.stderr
    assert "hint: add 'ipython'" in result.stderr
    cell_magic = notebook(tmp_path / "c.ipynb", ("code", "%%writefile x.txt\nhello\n"))
    result = run("notebook", "--", str(cell_magic), env=without_ipython())
    assert "the cell magic '%%writefile'" in result.stderr


def test_shell_cell_magic_and_failed_shell_lines(tmp_path):
    nb = notebook(
        tmp_path / "n.ipynb",
        ("code", "%%bash\necho from bash\n"),
        ("code", "!exit 3\nprint('continues, as in IPython')\n"),
    )
    result = run("notebook", "--", str(nb), env=without_ipython())
    assert result.returncode == 0
    assert result.stdout == "from bash\ncontinues, as in IPython\n"


def test_notebook_system_exit(tmp_path):
    nb = notebook(tmp_path / "n.ipynb", ("code", "raise SystemExit(4)\n"))
    assert run("notebook", "--", str(nb), env=without_ipython()).returncode == 4


def test_not_a_notebook(tmp_path):
    path = tmp_path / "n.ipynb"
    path.write_text("{not json")
    result = run("notebook", "--", str(path))
    assert result.returncode == 2
    assert "not a notebook" in result.stderr


# --- the examples ---------------------------------------------------------------------------

EXAMPLES = Path(__file__).parent.parent / "scripts-examples"


def test_examples_have_valid_blocks_and_documented_usage():
    from reprorun.script import metadata

    for name in ("hello.py", "histogram_matching.py", "pandas_summary.py"):
        text = (EXAMPLES / name).read_text()
        meta = metadata.parse(text, name)
        assert meta.source == "pep723", name
        assert "How to run it" in text, name
    found = cells.split((EXAMPLES / "histogram_matching.py").read_text())
    assert [c.title for c in found] == ["", "Load images", "Match", "Plot"]
    skimage = metadata.parse((EXAMPLES / "histogram_matching.py").read_text())
    assert set(skimage.dependencies) == {"scikit-image", "matplotlib", "numpy"}
    assert skimage.requires_python == ">=3.10"


def test_hello_example_runs(tmp_path):
    result = run("cells", "--lines", "1-99", "--", str(EXAMPLES / "hello.py"), "tester")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["hello, tester", sys.executable]

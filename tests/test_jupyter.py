"""Executed notebooks with a real Jupyter kernel (ipykernel driven by nbclient in the script's env):
outputs, errors, parameters, --each rows, --cells and --timeout, and the layered kernel env."""

from __future__ import annotations

import json
import os
import re

import pytest

from jupyter_support import notebook, outputs, read, text

pytestmark = pytest.mark.slow

BLOCK = '# /// script\n# dependencies = ["alpha==1.0"]\n# ///\n'


def test_a_cell_script_is_saved_with_text_and_a_matplotlib_png(nb_run, tmp_path):
    script = tmp_path / "plot.py"
    script.write_text(
        '# /// script\n# dependencies = ["matplotlib"]\n# ///\n'
        "# %% Setup\nimport matplotlib.pyplot as plt\n"
        "# %% [markdown]\n# A *plot*.\n"
        '# %% Draw\nprint("drawing", 6 * 7)\nplt.plot([1, 3, 2])\nplt.show()\n'
    )
    done = nb_run("--output", "out/plot.ipynb", script, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""  # stdout belongs to the script; the kernel's output is in the notebook
    nb = read(tmp_path / "out" / "plot.ipynb")
    kinds = [c["cell_type"] for c in nb["cells"]]
    assert kinds == ["code", "code", "markdown", "code"]  # the preamble with the block is cell 0
    assert "".join(nb["cells"][2]["source"]) == "A *plot*."
    draw = nb["cells"][3]
    assert text(draw) == "drawing 42\n"
    (image,) = outputs(draw, "display_data")
    assert "image/png" in image["data"]
    assert nb["metadata"]["language_info"]["name"] == "python"
    assert draw["execution_count"] == 3


def test_a_failing_cell_is_saved_with_its_traceback_and_the_exit_status_is_1(nb_run, tmp_path):
    path = tmp_path / "fails.ipynb"
    original = notebook(("code", BLOCK + "import alpha\nx = 1", []), ("markdown", "# Title", []),
                        ("code", "print('before')\ndef f():\n    return x / 0\nf()", []),
                        ("code", "print('never')", []))  # fmt: skip
    path.write_text(original)
    done = nb_run("--output", tmp_path / "out.ipynb", path)
    assert done.returncode == 1, done.stderr
    assert "fails.ipynb: cell 3 failed: ZeroDivisionError: division by zero" in done.stderr
    assert "out.ipynb" in done.stderr
    nb = read(tmp_path / "out.ipynb")
    failed = nb["cells"][2]
    assert text(failed) == "before\n"
    (error,) = outputs(failed, "error")
    assert error["ename"] == "ZeroDivisionError"
    plain = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(error["traceback"]))  # Jupyter's tracebacks are coloured
    assert "return x / 0" in plain and "ZeroDivisionError" in plain
    assert nb["cells"][3]["outputs"] == [] and nb["cells"][3]["execution_count"] is None
    assert path.read_text() == original  # the notebook itself is untouched


PARAMETERISED = notebook(
    ("code", BLOCK + "import alpha", []),
    ("code", "n = 1\nlabel = 'default'\nitems = []", ["parameters"]),
    ("code", "print(repr(n), repr(label), repr(items), alpha.__version__)", []),
)


def test_parameters_are_injected_after_the_parameters_cell_as_literals(nb_run, tmp_path):
    path = tmp_path / "params.ipynb"
    path.write_text(PARAMETERISED)
    done = nb_run("-p", "n", "3", "-p", "label", "run one", "-p", "items", "[1, 'b']", "-p", "extra", "2.5",
                  "--output", tmp_path / "out.ipynb", path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "the parameters cell does not define: extra" in done.stderr
    nb = read(tmp_path / "out.ipynb")
    injected = nb["cells"][2]
    assert injected["metadata"]["tags"] == ["injected-parameters"]
    assert "".join(injected["source"]) == "# Parameters\nn = 3\nlabel = 'run one'\nitems = [1, 'b']\nextra = 2.5\n"
    assert text(nb["cells"][3]) == "3 'run one' [1, 'b'] 1.0\n"
    # Run again on the executed notebook: the old injected cell is replaced, not stacked.
    again = nb_run("-p", "n", "4", "--output", tmp_path / "again.ipynb", tmp_path / "out.ipynb")
    assert again.returncode == 0, again.stderr
    cells = read(tmp_path / "again.ipynb")["cells"]
    assert [c["metadata"].get("tags") for c in cells].count(["injected-parameters"]) == 1
    assert text(cells[3]).startswith("4 'default'")


def test_params_from_json_and_yaml_files_and_p_wins(nb_run, tmp_path):
    path = tmp_path / "params.ipynb"
    path.write_text(PARAMETERISED)
    (tmp_path / "p.json").write_text(json.dumps({"n": 5, "label": "json", "items": [True, None]}))
    (tmp_path / "p.yaml").write_text("n: 6\nlabel: yaml\nitems:\n  - 1.5\n")
    done = nb_run("--params", tmp_path / "p.json", "--output", tmp_path / "j.ipynb", path)
    assert done.returncode == 0, done.stderr
    assert text(read(tmp_path / "j.ipynb")["cells"][3]) == "5 'json' [True, None] 1.0\n"
    done = nb_run("--params", tmp_path / "p.yaml", "-p", "n", "7", "--output", tmp_path / "y.ipynb", path)
    assert done.returncode == 0, done.stderr
    assert text(read(tmp_path / "y.ipynb")["cells"][3]) == "7 'yaml' [1.5] 1.0\n"


def test_a_cell_script_parameters_cell_and_no_parameters_cell(nb_run, tmp_path):
    script = tmp_path / "cells.py"
    script.write_text(BLOCK + '# %% tags=["parameters"]\nn = 1\n# %% Use\nprint("n =", n)\n')
    done = nb_run("-p", "n", "9", "--output", tmp_path / "out.ipynb", script)
    assert done.returncode == 0, done.stderr
    cells = read(tmp_path / "out.ipynb")["cells"]
    assert cells[1]["metadata"]["tags"] == ["parameters"]
    assert cells[2]["metadata"]["tags"] == ["injected-parameters"]
    assert text(cells[3]) == "n = 9\n"
    bare = tmp_path / "bare.py"
    bare.write_text(BLOCK + '# %%\nprint("n =", n)\n')
    done = nb_run("-p", "n", "2", "--output", tmp_path / "bare.ipynb", bare)
    assert done.returncode == 0, done.stderr
    assert "no cell is tagged 'parameters'; the parameters are injected at the top" in done.stderr
    cells = read(tmp_path / "bare.ipynb")["cells"]
    assert cells[0]["metadata"]["tags"] == ["injected-parameters"] and text(cells[2]) == "n = 2\n"


def test_each_row_runs_two_at_a_time_and_a_failing_row_is_named(nb_run, tmp_path):
    path = tmp_path / "div.ipynb"
    path.write_text(notebook(("code", BLOCK + "import os", []), ("code", "n = 1\nname = 'x'", ["parameters"]),
                             ("code", "print(name, 12 // (n - 3), os.getpid())", [])))  # fmt: skip
    (tmp_path / "rows.csv").write_text("name,n\nfour,4\nthree,3\nfive,5\n")
    done = nb_run("--each", tmp_path / "rows.csv", "-j", "2", "--output", "out/{name}-{task}.ipynb", path,
                  cwd=tmp_path)  # fmt: skip
    assert done.returncode == 1
    assert "1 of 3 rows failed" in done.stderr
    assert "row 2 (name=three, n=3): cell 3 failed: ZeroDivisionError" in done.stderr
    assert sorted(os.listdir(tmp_path / "out")) == ["five-2.ipynb", "four-0.ipynb", "three-1.ipynb"]
    four = text(read(tmp_path / "out" / "four-0.ipynb")["cells"][3]).split()
    five = text(read(tmp_path / "out" / "five-2.ipynb")["cells"][3]).split()
    assert four[:2] == ["four", "12"] and five[:2] == ["five", "6"]
    assert four[2] != five[2]  # each row has its own kernel
    assert outputs(read(tmp_path / "out" / "three-1.ipynb")["cells"][3], "error")


def test_each_from_json_lines(nb_run, tmp_path):
    path = tmp_path / "div.ipynb"
    path.write_text(notebook(("code", BLOCK, []), ("code", "n = 1", ["parameters"]), ("code", "print(n * 2)", [])))
    (tmp_path / "rows.jsonl").write_text('{"n": 2}\n{"n": 10}\n')
    done = nb_run("--each", tmp_path / "rows.jsonl", "--output", tmp_path / "o{n}.ipynb", path)
    assert done.returncode == 0, done.stderr
    assert "2 of 2 rows ran without error" in done.stderr
    assert text(read(tmp_path / "o10.ipynb")["cells"][3]) == "20\n"


def test_cells_chooses_what_runs_and_timeout_interrupts(nb_run, tmp_path):
    path = tmp_path / "slow.ipynb"
    path.write_text(notebook(("code", BLOCK + "print('one')", []), ("code", "print('two')", []),
                             ("code", "import time\ntime.sleep(60)", [])))  # fmt: skip
    done = nb_run("--cells", "2", "--output", tmp_path / "two.ipynb", path)
    assert done.returncode == 0, done.stderr
    cells = read(tmp_path / "two.ipynb")["cells"]
    assert [text(c) for c in cells] == ["", "two\n", ""]
    assert cells[0]["execution_count"] is None and "tags" not in cells[0]["metadata"]
    done = nb_run("--timeout", "2", "--output", tmp_path / "slow-out.ipynb", path, timeout=60)
    assert done.returncode == 1
    assert f"reprorun: error: {path}: cell 3 ran longer than --timeout 2s and was interrupted\n" in done.stderr
    assert "Traceback" not in done.stderr and "ZMQError" not in done.stderr  # the kernel stopped before shutdown
    saved = read(tmp_path / "slow-out.ipynb")["cells"]
    assert text(saved[0]) == "one\n"
    assert [o.get("ename") for o in saved[2]["outputs"]] == ["KeyboardInterrupt"]  # where the cell was stopped
    stubborn = tmp_path / "stubborn.ipynb"  # a cell that ignores the interrupt is stopped one timeout later
    stubborn.write_text(notebook(("code", BLOCK + "import time\nwhile True:\n    try:\n        time.sleep(60)\n"
                                          "    except KeyboardInterrupt:\n        print('ignored')", [])))  # fmt: skip
    done = nb_run("--timeout", "2", "--output", tmp_path / "stubborn-out.ipynb", stubborn, timeout=60)
    assert done.returncode == 1
    assert f"reprorun: error: {stubborn}: cell 1 ran longer than --timeout 2s and was interrupted\n" in done.stderr
    assert "Traceback" not in done.stderr
    assert text(read(tmp_path / "stubborn-out.ipynb")["cells"][0]).startswith("ignored\n")  # interrupted, kept on


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", "n", "1"], "need --output OUT.ipynb"),
        (["--output", "o.ipynb", "-p", "1x", "2"], "parameter '1x' is not a valid Python variable name"),
        (["--output", "o.txt"], "saved as .ipynb"),
        (["--output", "nb.ipynb"], "is the notebook itself"),
        (["--each", "rows.csv", "--output", "same.ipynb"], "names one file for 2 rows"),
        (["--each", "rows.csv", "--output", "{nope}.ipynb"], "unknown placeholder {nope}"),
        (["--output", "o.ipynb", "--params", "p.json"], "expected a mapping"),
        (["--output", "o.ipynb", "-j", "2"], "give --each FILE"),
        (["--output", "o.ipynb", "--timeout", "0"], "positive number of seconds"),
    ],
)
def test_bad_input_is_one_clear_error_and_nothing_is_built(run_reprorun, tmp_path, cache_dir, args, message):
    (tmp_path / "nb.ipynb").write_text(notebook(("code", BLOCK, [])))
    (tmp_path / "rows.csv").write_text("a\n1\n2\n")
    (tmp_path / "p.json").write_text("[1]")
    done = run_reprorun(*args, "nb.ipynb", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("reprorun: error: ") and message in done.stderr
    assert not (cache_dir / "envs").exists()


def test_arguments_after_the_notebook_are_refused(run_reprorun, tmp_path):
    (tmp_path / "nb.ipynb").write_text(notebook(("code", BLOCK, [])))
    done = run_reprorun("--output", "o.ipynb", "nb.ipynb", "--flag", cwd=tmp_path)
    assert done.returncode == 2 and "takes no arguments (--flag)" in done.stderr
    assert "-p NAME VALUE" in done.stderr

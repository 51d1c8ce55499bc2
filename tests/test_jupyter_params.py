"""The pure parts of executed notebooks: literals, injection, cell scripts as notebooks, rows."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reprorun.cli import global_parser
from reprorun.commandline.argv import split_argv
from reprorun.errors import UsageError
from reprorun.jupyter import notebook, params
from reprorun.jupyter.run import Request, tasks


@pytest.mark.parametrize(
    ("typed", "value"),
    [("3", 3), ("-0.5", -0.5), ("True", True), ("None", None), ("[1, 'a']", [1, "a"]), ("{'k': (1,)}", {"k": (1,)}),
     ("'quoted'", "quoted"), ("hello world", "hello world"), ("data/x.csv", "data/x.csv"), ("1e3", 1000.0),
     ("__import__('os')", "__import__('os')"), ("", "")],
)  # fmt: skip
def test_a_value_is_a_python_literal_else_the_string(typed, value):
    assert params.literal(typed) == value


def test_rendered_cell_round_trips_every_value():
    values = {"n": 3, "s": "it's \"q\"", "xs": [1.5, None, True], "d": {"a": [1]}, "inf": float("inf")}
    namespace: dict[str, Any] = {}
    exec(params.render(values), namespace)
    assert {k: namespace[k] for k in values} == values
    assert params.render({"n": 3}) == "# Parameters\nn = 3\n"


def test_defined_names_of_a_parameters_cell():
    assert params.defined_names("a = 1\nb: int = 2\nc, (d, e) = 1, (2, 3)\nf += 1\nif x:\n    g = 1\n") == {
        "a", "b", "c", "d", "e", "f"}  # fmt: skip
    assert params.defined_names("a = (") is None


def _nb(*cells):
    return {"cells": [{"cell_type": "code", "metadata": {"tags": t} if t else {}, "source": s, "outputs": [],
                       "execution_count": None} for s, t in cells], "nbformat": 4, "nbformat_minor": 4}  # fmt: skip


def test_injection_after_the_parameters_cell_replaces_an_earlier_one_and_warns():
    nb = _nb(("import x", []), ("# Parameters\nold = 1\n", ["injected-parameters"]), ("a = 1", ["parameters"]),
             ("print(a)", []))  # fmt: skip
    done = params.inject(nb, {"a": 2, "zz": 0})
    assert [c["source"] for c in done.notebook["cells"]] == ["import x", "a = 1", "# Parameters\na = 2\nzz = 0\n",
                                                             "print(a)"]  # fmt: skip
    assert done.origin == [0, 2, None, 3]
    assert done.warnings == ("the parameters cell does not define: zz",)
    assert "id" not in done.notebook["cells"][2]  # nbformat 4.4 cells have no ids
    assert nb["cells"][1]["source"].startswith("# Parameters")  # the input is not modified


def test_injection_at_the_top_without_a_parameters_cell_and_ids_for_4_5():
    nb = {**_nb(("print(a)", [])), "nbformat_minor": 5}
    nb["cells"][0]["id"] = "injected-parameters"
    done = params.inject(nb, {"a": 1})
    assert done.origin == [None, 0]
    assert done.notebook["cells"][0]["id"] == "injected-parameters-1"
    assert done.warnings == ("no cell is tagged 'parameters'; the parameters are injected at the top",)
    assert params.inject(nb, {}).notebook is nb


def test_bad_parameter_names_and_files(tmp_path):
    with pytest.raises(UsageError, match="not a valid Python variable name"):
        params.inject(_nb(("x", [])), {"a-b": 1})
    with pytest.raises(UsageError, match="not a valid Python variable name"):
        params.check_names({"None": 1})
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(UsageError, match="invalid JSON"):
        params.read_file(str(tmp_path / "bad.json"))
    (tmp_path / "bad.yaml").write_text("a: [")
    with pytest.raises(UsageError, match="invalid YAML"):
        params.read_file(str(tmp_path / "bad.yaml"))
    with pytest.raises(UsageError, match="cannot read it"):
        params.read_file(str(tmp_path / "missing.json"))
    (tmp_path / "ok.yml").write_text("a: 1\nb: [x, 2]\n")
    assert params.read_file(str(tmp_path / "ok.yml")) == {"a": 1, "b": ["x", 2]}


def test_a_cell_script_becomes_a_valid_notebook_with_tags_and_markdown():
    import nbformat

    text = ('#!/usr/bin/env reprorun\n# /// script\n# dependencies = []\n# ///\nimport os\n\n'
            '# %% tags=["parameters", "x"]\nn = 1\n\n# %% [markdown]\n# # Title\n#\n# text\n'
            '# %% Plot title="ignored" tags=[\'a\']\nprint(n)\n')  # fmt: skip
    nb = notebook.from_cell_script(text, "s.py")
    nbformat.validate(nbformat.reads(json.dumps(nb), as_version=4))
    assert [c["cell_type"] for c in nb["cells"]] == ["code", "code", "markdown", "code"]
    assert nb["cells"][0]["source"].endswith("# ///\nimport os")
    assert nb["cells"][1] == {"cell_type": "code", "id": "cell-1", "metadata": {"tags": ["parameters", "x"]},
                              "source": "n = 1", "execution_count": None, "outputs": []}  # fmt: skip
    assert nb["cells"][2]["source"] == "# Title\n\ntext"
    assert nb["cells"][3]["metadata"] == {"tags": ["a"]}
    assert notebook.run_flags(nb, {0, 3}, 0) == [True, False, False, True]


def test_tasks_fill_outputs_from_rows_and_p_wins_over_a_row(tmp_path):
    (tmp_path / "rows.csv").write_text("name,n\na,1\nb,[2]\n")
    request = Request(str(tmp_path / "out/{name}-{task}.ipynb"), {"n": 0, "k": "file"}, {"k": "p"},
                      each=str(tmp_path / "rows.csv"))  # fmt: skip
    made = tasks(request, str(tmp_path / "nb.ipynb"))
    assert [t.output for t in made] == [str(tmp_path / "out/a-0.ipynb"), str(tmp_path / "out/b-1.ipynb")]
    assert [t.values for t in made] == [{"n": 1, "k": "p", "name": "a"}, {"n": [2], "k": "p", "name": "b"}]
    (tmp_path / "same.csv").write_text("n\n1\n1\n")
    with pytest.raises(UsageError, match="several rows would write the same file"):
        tasks(Request(str(tmp_path / "{n}.ipynb"), each=str(tmp_path / "same.csv")), "nb.ipynb")


def test_p_takes_two_values_before_the_script():
    parser = global_parser(add_help=False)
    assert split_argv(["-p", "n", "3", "--output", "o.ipynb", "nb.ipynb", "-p", "x"], parser) == (
        ["-p", "n", "3", "--output", "o.ipynb"], "nb.ipynb", ["-p", "x"])  # fmt: skip
    ns = parser.parse_args(["-p", "n", "3", "--parameter", "s", "a b", "-j", "2", "--timeout", "1.5"])
    assert ns.parameter == [["n", "3"], ["s", "a b"]] and ns.jobs == 2 and ns.timeout == 1.5

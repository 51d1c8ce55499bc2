"""Pure helpers of the Jupyter support: kernelspec files, marker tags, row summaries, outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reprorun.errors import UsageError
from reprorun.jupyter import kernelspec, notebook
from reprorun.jupyter import run as executed
from reprorun.jupyter.outputs import outputs


def test_spec_starts_the_env_python_with_ipykernel_and_activates_the_env(tmp_path):
    env = tmp_path / "envs" / "abc"
    content = kernelspec.spec("work/analysis.py", env, "k" * 64)
    assert content["argv"] == [str(env / "bin" / "python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    assert content["display_name"] == "analysis.py (reprorun)"
    assert content["env"] == {"VIRTUAL_ENV": str(env), "PATH": f"{env / 'bin'}:${{PATH}}"}
    assert content["metadata"]["reprorun"]["script"] == str(Path("work/analysis.py").absolute())


def test_installed_lists_only_reprorun_kernels_and_flags_a_removed_env(tmp_path):
    kernels = tmp_path / "share" / "jupyter" / "kernels"
    live = tmp_path / "env"
    (live / "bin").mkdir(parents=True)
    kernelspec.write(kernels / "a-live", kernelspec.spec("a.py", live, "k"))
    kernelspec.write(kernels / "b-gone", kernelspec.spec("b.py", tmp_path / "pruned", "k"))
    kernelspec.write(kernels / "python3", {"argv": ["python"], "display_name": "Python 3", "language": "python"})
    (kernels / "broken").mkdir()
    (kernels / "broken" / "kernel.json").write_text("{")
    found = kernelspec.installed(str(tmp_path))
    assert [(k.name, k.env_exists) for k in found] == [("a-live", True), ("b-gone", False)]
    assert not list(kernels.glob("*/.kernel.json.*"))  # the temporary file was renamed into place
    assert kernelspec.installed(str(tmp_path / "nothing")) == []


def test_list_command_flags_a_pruned_env(run_reprorun, tmp_path):
    kernelspec.write(tmp_path / "share" / "jupyter" / "kernels" / "gone", kernelspec.spec("g.py", tmp_path / "x", "k"))
    done = run_reprorun("kernel", "list", "--prefix", tmp_path)
    assert done.returncode == 0
    assert done.stdout == f"gone\t{Path('g.py').absolute()}  (env removed: run kernel install again)\n"


@pytest.mark.parametrize(
    ("marker", "tags"),
    [('# %% tags=["parameters"]', ["parameters"]), ("# %% Title tags=['a', 'b'] other=1", ["a", "b"]),
     ("# %% [markdown] tags=[]", []), ("# %% tags=[broken", []), ("# %% nothing", []), ("# %%tags=[1]", [])],
)  # fmt: skip
def test_tags_of_marker(marker, tags):
    assert notebook.tags_of_marker(marker) == tags


def test_tags_and_source_of_malformed_cells():
    assert notebook.tags({"metadata": {"tags": "x"}}) == []
    assert notebook.tags({"metadata": None}) == []
    assert notebook.source({"source": ["a\n", "b"]}) == "a\nb"
    assert notebook.run_flags({"cells": [{}, {}, {}]}, {2}, 1) == [False, True, False]
    assert notebook.run_flags({"cells": [{}]}, None, 0) == [True]


def test_a_script_without_markers_is_one_code_cell():
    nb = notebook.from_cell_script("import os\nprint(os.sep)\n", "s.py")
    assert [(c["cell_type"], c["source"]) for c in nb["cells"]] == [("code", "import os\nprint(os.sep)")]


def test_reason_of_a_failed_row():
    stderr = ("noise\nreprorun: error: nb.ipynb (row 2): cell 3 failed: KeyError: 'x'\n"
              "hint: the executed notebook ... is saved in out.ipynb\n")  # fmt: skip
    assert executed._reason(stderr) == "cell 3 failed: KeyError: 'x'"
    assert executed._reason("Traceback...\nSegmentation fault\n") == "Segmentation fault"
    assert executed._reason("") == "no message"
    assert executed._row_text({"a": "1", "b": "x y"}) == "a=1, b=x y"


def test_one_task_without_each_and_the_output_checks(tmp_path):
    (tmp_path / "nb.ipynb").write_text("{}")
    request = executed.Request(str(tmp_path / "o.ipynb"), {"a": 1, "b": 2}, {"b": 3})
    (task,) = executed.tasks(request, str(tmp_path / "nb.ipynb"))
    assert (task.row, task.values, task.output) == (None, {"a": 1, "b": 3}, str(tmp_path / "o.ipynb"))
    with pytest.raises(UsageError, match="is the notebook itself"):
        executed.tasks(executed.Request(str(tmp_path / "nb.ipynb")), str(tmp_path / "nb.ipynb"))
    with pytest.raises(UsageError, match=r"saved as \.ipynb"):
        executed.tasks(executed.Request(str(tmp_path / "o.json")), "nb.ipynb")


def test_one_output_rule_for_runs_here_and_submitted_tasks(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "nb.ipynb").write_text("{}")
    rows = [{"name": "a"}, {"name": "b"}]
    assert outputs("out/{name}-{task}.ipynb", rows, "nb.ipynb") == [
        str(tmp_path / "out" / "a-0.ipynb"), str(tmp_path / "out" / "b-1.ipynb")]  # fmt: skip
    assert outputs("o.ipynb", [{"name": "a"}], "nb.ipynb") == [str(tmp_path / "o.ipynb")]  # one row, no placeholder
    with pytest.raises(UsageError, match="names one file for 2 rows"):
        outputs("o.ipynb", rows, "nb.ipynb")
    with pytest.raises(UsageError, match="several rows would write the same file"):
        outputs("out/{name}.ipynb", [{"name": "a"}, {"name": "a"}], "nb.ipynb")
    with pytest.raises(UsageError, match="is the notebook itself"):
        outputs("{name}.ipynb", [{"name": "nb"}, {"name": "c"}], "nb.ipynb")
    with pytest.raises(UsageError, match=r"saved as \.ipynb"):
        outputs("{name}.json", rows, "nb.ipynb")
    assert not (tmp_path / "out").exists()  # checking writes nothing


def test_job_file_holds_the_injected_notebook_and_the_cell_names(tmp_path):
    script = tmp_path / "s.py"
    text = '# %% tags=["parameters"]\nn = 1\n# %% Use\nprint(n)\n'
    script.write_text(text)
    from reprorun.script.source import read

    base = executed.base_notebook(read(str(script)), str(script), "Use")
    assert base.run == [False, True] and base.names == ["cell 1 (line 1)", "cell 2 (line 3)"]
    task = executed.Task(0, None, {"n": 5}, str(tmp_path / "out" / "o.ipynb"))
    path = executed.job(base, task, str(script), 30.0)
    job = json.loads(Path(path).read_text())
    Path(path).unlink()
    assert job["run"] == [False, True, True] and job["timeout"] == 30.0 and job["cwd"] == str(tmp_path)
    assert job["names"] == ["cell 1 (line 1)", "the injected parameters cell", "cell 2 (line 3)"]
    assert job["notebook"]["cells"][1]["source"] == "# Parameters\nn = 5\n"
    assert (tmp_path / "out").is_dir()


def test_an_output_folder_that_cannot_be_made_is_a_usage_error(tmp_path):
    (tmp_path / "file").write_text("")
    base = executed.Base({"cells": []}, [], [])
    task = executed.Task(0, None, {}, str(tmp_path / "file" / "sub" / "o.ipynb"))
    with pytest.raises(UsageError, match="cannot create its folder"):
        executed.job(base, task, str(tmp_path / "nb.ipynb"), None)

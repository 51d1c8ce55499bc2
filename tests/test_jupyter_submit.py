"""`reprorun submit --output OUT.ipynb [--each FILE] NOTEBOOK`: executed notebooks as Slurm array tasks
(the batch script, then the session's real one-node Slurm of tests/slurm.py)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest

from jupyter_support import notebook, outputs, read, text
from reprorun.cluster import batch as batchmod
from reprorun.errors import UsageError
from reprorun.jupyter.submit import NotebookJob, fixed_options, task_options

BLOCK = '# /// script\n# dependencies = ["alpha==1.0"]\n# ///\n'
DIVIDE = notebook(("code", BLOCK + "import alpha", []), ("code", "n = 1\nname = 'x'\nk = 0", ["parameters"]),
                  ("code", "print(name, 12 // (n - 3), k, alpha.__version__)", []))  # fmt: skip
READS_BESIDE = notebook(
    ("code", BLOCK + "import alpha", []), ("code", "name = 'x'", ["parameters"]),
    ("code", "import helper\nprint(name, open('beside.txt').read().strip(), helper.X)", []),
)  # fmt: skip


def test_task_options_fill_the_output_and_pass_each_column(tmp_path):
    (tmp_path / "rows.csv").write_text("name,n,k\na b,4,1\nc,5,2\n")
    job = NotebookJob(str(tmp_path / "out/{name}-{task}.ipynb"), (("k", "9"),), None, 30.0, "/home/me/nbs")
    made = task_options(job, str(tmp_path / "rows.csv"), str(tmp_path / "nb.ipynb"))
    assert made == (("--output", str(tmp_path / "out/a b-0.ipynb"), "-p", "name", "a b", "-p", "n", "4"),
                    ("--output", str(tmp_path / "out/c-1.ipynb"), "-p", "name", "c", "-p", "n", "5"))  # fmt: skip
    assert fixed_options(job, "/snap/params-1.json") == ("--timeout", "30", "--cwd", "/home/me/nbs", "--params",
                                                         "/snap/params-1.json", "-p", "k", "9")  # fmt: skip
    (single,) = task_options(NotebookJob("o.ipynb"), None, "nb.ipynb")
    assert single == ("--output", str(Path("o.ipynb").absolute()))
    with pytest.raises(UsageError, match="names one file for 2 rows"):
        task_options(NotebookJob("same.ipynb"), str(tmp_path / "rows.csv"), "nb.ipynb")
    with pytest.raises(UsageError, match="saved as"):
        task_options(NotebookJob("o.txt"), None, "nb.ipynb")


def test_render_puts_the_options_before_the_snapshot():
    where: dict[str, Any] = {"source": "nb.ipynb", "snapshot": "/s/src/nb.ipynb", "folder": "/s", "cache_root": "/c",
                             "env_key": "k"}
    batch = batchmod.Batch(**where, command=("reprorun", "-p", "k", "1"), args=("--output", "/o/x y.ipynb"),
                           options_first=True)  # fmt: skip
    assert batchmod.render(batch).splitlines()[-1] == "exec reprorun -p k 1 --output '/o/x y.ipynb' /s/src/nb.ipynb"
    each = batchmod.Batch(**where, command=("reprorun",), task_args=(("--output", "/o/0.ipynb"),),
                          options=("--array=0-0",), options_first=True)  # fmt: skip
    lines = batchmod.render(each).splitlines()
    assert "  0) set -- --output /o/0.ipynb ;;" in lines
    assert lines[-1] == 'exec reprorun "$@" /s/src/nb.ipynb'


def test_dry_run_of_a_notebook_matrix(run_reprorun, tmp_path, cache_dir):
    (tmp_path / "nb.ipynb").write_text(DIVIDE)
    (tmp_path / "rows.csv").write_text("name,n\nfour,4\nthree,3\n")
    (tmp_path / "p.json").write_text('{"k": 5}')
    proc = run_reprorun("submit", "--dry-run", "--each", "rows.csv", "--output", "out/{name}.ipynb", "--params",
                        "p.json", "--timeout", "60", "nb.ipynb", cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert f"  1) set -- --output {tmp_path}/out/three.ipynb -p name three -p n 3 ;;" in lines
    words = shlex.split(lines[-1])
    assert words[-2] == "$@" and words[-1].endswith("/src/nb.ipynb")
    assert words[words.index("--timeout") + 1] == "60" and "/params-" in words[words.index("--params") + 1]
    assert not (cache_dir / "envs").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", "n", "1", "nb.ipynb"], "need --output OUT.ipynb"),
        (["--output", "o.ipynb", "nb.ipynb", "extra"], "takes no arguments (extra)"),
        (["--output", "o.ipynb", "--timeout", "-1", "nb.ipynb"], "positive number of seconds"),
        (["--output", "o.ipynb", "-p", "a-b", "1", "nb.ipynb"], "not a valid Python variable name"),
        (["--output", "o.ipynb", "--params", "bad.json", "nb.ipynb"], "expected a mapping"),
        (["--each", "rows.csv", "--output", "o.ipynb", "nb.ipynb"], "names one file for 2 rows"),
    ],
)
def test_submit_usage_errors(run_reprorun, tmp_path, cache_dir, args, message):
    (tmp_path / "nb.ipynb").write_text(DIVIDE)
    (tmp_path / "rows.csv").write_text("n\n1\n2\n")
    (tmp_path / "bad.json").write_text("[]")
    proc = run_reprorun("submit", "--dry-run", *args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("reprorun: error: ") and message in proc.stderr


@pytest.mark.slow
def test_submit_each_executes_the_notebook_in_every_task(slurm, nb_run, tmp_path):
    path = tmp_path / "divide.ipynb"
    path.write_text(DIVIDE)
    rows = ('{"name": "four", "n": 4}', '{"name": "three", "n": 3}', '{"name": "six", "n": 6}')
    (tmp_path / "rows.jsonl").write_text("\n".join(rows) + "\n")
    (tmp_path / "p.yaml").write_text("k: 7\n")
    proc = nb_run("submit", "--wait", "--each", "rows.jsonl", "--output", "out/{name}.ipynb", "--params", "p.yaml",
                  path, cwd=tmp_path, timeout=600)  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    job = proc.stdout.strip()
    assert f"reprorun: job {job}: task 1 FAILED" in proc.stderr
    four = read(tmp_path / "out" / "four.ipynb")["cells"]
    assert four[2]["metadata"]["tags"] == ["injected-parameters"]
    assert text(four[3]) == "four 12 7 1.0\n"
    assert text(read(tmp_path / "out" / "six.ipynb")["cells"][3]) == "six 4 7 1.0\n"
    assert (tmp_path / "out" / "three.ipynb").is_file(), proc.stderr  # saved, failed or not (the log is named)
    (error,) = outputs(read(tmp_path / "out" / "three.ipynb")["cells"][3], "error")
    assert error["ename"] == "ZeroDivisionError"


@pytest.mark.slow
def test_a_submitted_notebook_reads_the_files_beside_it_not_the_snapshots(slurm, nb_run, tmp_path):
    folder = tmp_path / "analysis"  # submitted from tmp_path: the kernel starts in the notebook's folder
    folder.mkdir()
    (folder / "reads.ipynb").write_text(READS_BESIDE)
    (folder / "beside.txt").write_text("the data beside the notebook\n")  # not --include'd: read where it is
    (folder / "helper.py").write_text("X = 'beside'\n")
    (tmp_path / "helper.py").write_text("X = 'where reprorun ran'\n")  # a kernel imports the notebook's first
    proc = nb_run("submit", "--wait", "--output", "out.ipynb", "-p", "name", "task", folder / "reads.ipynb",
                  cwd=tmp_path, timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert text(read(tmp_path / "out.ipynb")["cells"][3]) == "task the data beside the notebook beside\n"
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "beside.txt").write_text("the data in --cwd\n")
    here = nb_run("--output", "here.ipynb", "--cwd", tmp_path / "elsewhere", "-p", "name", "here",
                  folder / "reads.ipynb", cwd=tmp_path)  # fmt: skip
    assert here.returncode == 0, here.stderr
    assert text(read(tmp_path / "here.ipynb")["cells"][3]) == "here the data in --cwd beside\n"
    missing = nb_run("--output", "x.ipynb", "--cwd", tmp_path / "nowhere", folder / "reads.ipynb", cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.splitlines()[-1] == f"reprorun: error: --cwd {tmp_path / 'nowhere'}: no such folder"

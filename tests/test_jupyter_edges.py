"""Edge cases of executed notebooks and kernels: older notebook formats, cell scripts with
jupytext headers and CRLF, --cells on a script, the pip backend's sharing, a pin in the way of
`kernel install`, and the adopted-package rule of inference."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from jupyter_support import notebook, read, text
from reprorun.jupyter import notebook as nbmod
from reprorun.jupyter.layer import pins_of
from reprorun.script import infer
from wheelhouse import Spec, build_wheel

BLOCK = '# /// script\n# dependencies = ["alpha==1.0"]\n# ///\n'


def test_a_cell_script_with_a_jupytext_header_and_crlf_lines():
    text_ = ("# ---\r\n# jupyter:\r\n#   jupytext:\r\n#     text_representation: {}\r\n# ---\r\n"
             "# %% [markdown]\r\n# Hello\r\n# %% tags=[\"parameters\"]\r\nn = 1\r\n\r\n"
             "# %%\r\nprint(n)\r\n")  # fmt: skip
    nb = nbmod.from_cell_script(text_, "s.py")
    assert [c["cell_type"] for c in nb["cells"]] == ["code", "markdown", "code", "code"]
    assert nb["cells"][1]["source"] == "Hello"
    assert nb["cells"][2]["source"] == "n = 1" and nb["cells"][2]["metadata"] == {"tags": ["parameters"]}
    assert nb["cells"][3]["source"] == "print(n)"


@pytest.mark.slow
def test_an_nbformat_4_4_notebook_and_cells_of_a_script(nb_run, tmp_path):
    old = tmp_path / "old.ipynb"
    old.write_text(notebook(("code", BLOCK + "x = 6", []), ("code", "print(x * 7)", []), minor=4))
    done = nb_run("--output", tmp_path / "old-out.ipynb", old)
    assert done.returncode == 0, done.stderr
    saved = read(tmp_path / "old-out.ipynb")
    assert text(saved["cells"][1]) == "42\n"
    script = tmp_path / "cells.py"
    script.write_text(BLOCK + "import sys\n# %% One\nprint('one')\n# %% Two\nprint('two', sys.version_info[0])\n")
    done = nb_run("--cells", "Two", "--output", tmp_path / "two.ipynb", script)
    assert done.returncode == 0, done.stderr
    cells = read(tmp_path / "two.ipynb")["cells"]
    assert [text(c) for c in cells] == ["", "", "two 3\n"]  # the preamble ran (its import), cell One did not
    assert cells[0]["execution_count"] == 1 and cells[1]["execution_count"] is None


@pytest.mark.slow
def test_with_pip_the_kernel_env_shares_files_through_the_content_store(nb_run, tmp_path):
    script = tmp_path / "s.py"
    script.write_text('# /// script\n# dependencies = ["gamma"]\n# ///\nimport gamma\n')
    cache = tmp_path / "cache"
    done = nb_run("--installer", "pip", "--output", tmp_path / "o.ipynb", script, cache=cache, timeout=600)
    assert done.returncode == 0, done.stderr
    envs = [cache / "envs" / p.read_text().strip() for p in (cache / "keys").iterdir()]
    base = next(e for e in envs if "ipykernel" not in pins_of(e))
    kernel = next(e for e in envs if "ipykernel" in pins_of(e))
    for module in ("gamma", "beta", "alpha"):
        pattern = f"lib/python*/site-packages/{module}/__init__.py"
        first, second = (os.stat(next(env.glob(pattern))) for env in (base, kernel))
        assert first.st_ino == second.st_ino and first.st_nlink >= 3  # base, kernel env and the store


@pytest.mark.slow
def test_kernel_install_names_a_pin_in_the_way(nb_run, tmp_path):
    old = tmp_path / "old"
    build_wheel(Spec("tornado", "1.0", "tornado"), old)
    script = tmp_path / "s.py"
    script.write_text('# /// script\n# dependencies = ["tornado==1.0"]\n# ///\n')
    done = nb_run("kernel", "install", script, "--find-links", old, cache=tmp_path / "cache")
    assert done.returncode == 1
    assert "the Jupyter kernel packages (ipykernel) cannot be added" in done.stderr
    assert "without changing its pin tornado==1.0" in done.stderr
    assert not list(Path(os.environ["XDG_DATA_HOME"]).rglob("kernel.json"))


@pytest.mark.slow
def test_kernel_install_of_a_notebook(nb_run, tmp_path):
    path = tmp_path / "nb.ipynb"
    path.write_text(notebook(("code", BLOCK, [])))
    done = nb_run("kernel", "install", path, "--name", "nbk")
    assert done.returncode == 0, done.stderr
    kernel_json = Path(os.environ["XDG_DATA_HOME"]) / "jupyter" / "kernels" / "nbk" / "kernel.json"
    spec = json.loads(kernel_json.read_text())
    assert spec["display_name"] == "nb.ipynb (reprorun)"
    assert pins_of(Path(spec["metadata"]["reprorun"]["env"]))["alpha"] == "1.0"


@pytest.mark.parametrize(
    ("line", "module", "provided"),
    [
        ("tensorflow-serving-api", "tensorflow_serving.apis", True),
        ("python-dotenv", "dotenv", True),
        ("pyfoo", "foo", True),
        ("foo-client", "foo", True),
        ("foobar", "foo", False),
        ("numpy-financial", "numpy", False),  # numpy is in the table: numpy itself is added
    ],
)
def test_a_module_provided_by_an_adopted_package(line, module, provided):
    found = infer.infer(f"%pip install {line}\nimport {module}\n")
    top = module.split(".")[0]
    assert (top not in found.requirements and not found.guessed) == provided, found

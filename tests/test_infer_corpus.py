"""The inference misses of issue 16, each on a fixture shaped like the held-out notebook that showed
it (tests/data/inference/): %pip lines without a block, same-name imports, conda-only lines,
modules of an adopted package, and `# via` through another package's extra."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from reprorun.script import infer, installlines, notebooks
from wheelhouse import Spec, build_wheel

DATA = Path(__file__).parent / "data" / "inference"


def _infer(name: str) -> infer.Inference:
    text = (DATA / name).read_text()
    if name.endswith(".ipynb"):
        return infer.infer(notebooks.code_text(text, name), name, where=notebooks.locator(text, name))
    return infer.infer(text, name)


@pytest.fixture
def copy(tmp_path: Path):
    def made(name: str) -> Path:
        return Path(shutil.copy(DATA / name, tmp_path / name))

    return made


# 1. A notebook or cell script without a block that has %pip lines: one hint, before the import error.


@pytest.mark.parametrize("name", ["pip_lines_no_block.ipynb", "pip_lines_no_block.py"])
def test_running_without_a_block_hints_at_the_install_lines_first(run_reprorun, copy, name):
    path = copy(name)
    done = run_reprorun(path)
    assert done.returncode == 1  # the first import fails: the env is empty
    lines = done.stderr.splitlines()
    wanted = "pandas, seaborn, matplotlib" if name.endswith(".ipynb") else "requests, rich"
    (warning,) = [i for i, line in enumerate(lines) if "has no script block, but its install lines ask for" in line]
    assert lines[warning].endswith(f"ask for: {wanted}")
    hint = f"reprorun: warning: hint: adopt them into a script block with: reprorun init --infer {path}"
    if name.endswith(".ipynb"):
        hint += f" (or build from them once: reprorun --infer {path})"
    assert lines[warning + 1] == hint
    first_error = next(i for i, line in enumerate(lines) if "ModuleNotFoundError" in line)
    assert warning < first_error
    assert sum("hint:" in line for line in lines) == 1
    again = run_reprorun(path)  # a second (warm) run says it again: the script still has no block
    assert "has no script block" in again.stderr


def test_no_hint_with_a_block_or_without_install_lines(run_reprorun, tmp_path):
    plain = tmp_path / "plain.py"
    plain.write_text("print('hi')  # pip install nothing\n")
    assert "install lines" not in run_reprorun(plain).stderr
    blocked = tmp_path / "blocked.py"
    blocked.write_text("# /// script\n# dependencies = []\n# ///\n# %pip install requests\nprint('ok')\n")
    done = run_reprorun(blocked)
    assert done.stdout == "ok\n" and "install lines" not in done.stderr


def test_install_hint_is_pure_and_names_each_package_once():
    found = installlines.install_hint("%pip install a 'B_b>=1'\n!pip install a\n", "x.py")
    assert found is not None
    message, hint = found
    assert message == "x.py has no script block, but its install lines ask for: a, b-b"
    assert hint == "adopt them into a script block with: reprorun init --infer x.py"
    assert installlines.install_hint("import os\n", "x.py") is None
    assert installlines.install_hint("%pip install -r requirements.txt\n", "x.py") is None


# 2. A valid distribution name not in the table is proposed under its own name, marked guessed.


def test_same_name_imports_are_guessed_not_dropped():
    found = _infer("same_name_imports.py")
    assert found.requirements == ("kagglehub", "matplotlib-inline", "pytorch-lightning", "tf-keras", "torch",
                                  "torchmetrics")  # fmt: skip
    assert found.guessed == ("kagglehub", "matplotlib-inline", "pytorch-lightning", "tf-keras", "torchmetrics")
    assert found.unknown == ()
    assert found.reasons["pytorch-lightning"].startswith("guessed: same name: import pytorch_lightning (line 9)")
    assert found.reasons["torch"].endswith("a known distribution of the same name")


def test_init_infer_marks_guesses_in_the_confirmation(run_reprorun, copy):
    path = copy("same_name_imports.py")
    done = run_reprorun("init", "--infer", "--dry-run", path)
    assert done.returncode == 0, done.stderr
    assert re.search(r"kagglehub +\(guessed: same name: import kagglehub \(line 7\)", done.stderr)
    assert '"pytorch-lightning",' in done.stdout and '"tf-keras",' in done.stdout


def test_an_ambiguous_or_invalid_name_stays_unknown():
    found = infer.infer("import shared\nimport _private\n", installed={"shared": ["one", "two"]})
    assert found.requirements == () and found.unknown == ("shared", "_private")


# 3. conda lines from a non-default channel, or naming conda-only packages: reported, never adopted.


def test_conda_channel_and_conda_only_packages_are_reported_not_adopted():
    found = _infer("plotly_export.ipynb")
    assert found.requirements == ("numpy==1.26.*", "plotly")
    problems = "\n".join(found.problems)
    assert "'plotly-orca==1.3.1' comes from the conda channel 'plotly': conda-only, not adopted" in problems
    assert "'python-kaleido' comes from the conda channel 'plotly'" in problems
    assert "'cudatoolkit=11.8' is a conda-only package: not adopted" in problems
    assert "'samtools' comes from the conda channel 'bioconda'" in problems
    assert "cell 1, line 1" in problems
    assert found.reasons["plotly"].startswith("import plotly.express (cell 2, line 1)")


@pytest.mark.parametrize(
    ("line", "adopted"),
    [("!conda install -c conda-forge -y scikit-learn", ["scikit-learn"]), ("%conda install conda-forge::xarray",
     ["xarray"]), ("!conda install --channel=nvidia cuda-python", []), ("!mamba install r-ggplot2 pytorch", ["torch"])],
)  # fmt: skip
def test_default_channels_still_adopt(line, adopted):
    (found,) = installlines.pip_installs(line + "\n")
    assert list(found.requirements) == adopted


# 4. A module of a package adopted from a %pip line is not reported as unknown (nor guessed).


def test_a_module_of_an_adopted_package_is_not_unknown():
    found = _infer("tf_serving_client.ipynb")
    assert found.requirements == ("grpcio", "tensorflow", "tensorflow-serving-api==2.14.1")
    assert found.unknown == () and found.guessed == ()
    assert not any("tensorflow_serving" in p for p in found.problems)


# 5. --freeze writes `# via` for a pin reached through another package's extra.


def test_freeze_writes_via_for_a_pin_reached_through_an_extra(run_reprorun, tmp_path, wheelhouse):
    extra = tmp_path / "extra"
    build_wheel(Spec("needsfancy", "1.0", "needsfancy", requires=("withextra[fancy]",)), extra)
    script = tmp_path / "s.py"
    script.write_text('# /// script\n# dependencies = ["needsfancy"]\n# ///\n')
    done = run_reprorun("--find-links", wheelhouse, "--find-links", extra, "--freeze", script)
    assert done.returncode == 0, done.stderr
    text = script.read_text()
    assert '"delta==1.0",  # via withextra' in text
    assert '"withextra==1.0",  # via needsfancy' in text
    assert '"needsfancy==1.0",\n' in text


def test_from_report_follows_extras_asked_by_dependencies():
    from reprorun.freeze import resolve

    def item(name, requires, requested=False):
        return {"metadata": {"name": name, "version": "1", "requires_dist": requires}, "requested": requested,
                "download_info": {"url": f"{name}.whl"}}  # fmt: skip

    report = {"install": [item("top", ["mid[a]"], True), item("mid", ['low[b]; extra == "a"']),
                          item("low", ['leaf; extra == "b"']), item("leaf", [])],
              "environment": {"python_version": "3.11"}}  # fmt: skip
    pins = {p.name: p.via for p in resolve.from_report(report, ["top"]).pins}
    assert pins == {"top": (), "mid": ("top",), "low": ("mid",), "leaf": ("low",)}

"""Inferring requirements from install lines, imports and PEP 722; the import-name table."""

from __future__ import annotations

import re

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from reprorun.errors import MetadataError
from reprorun.script import importnames, infer, installlines


def reqs(text: str, **kwargs) -> tuple[str, ...]:
    return infer.infer(text, **kwargs).requirements


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("%pip install pandas", ["pandas"]),
        ("!pip install pandas", ["pandas"]),
        ("!pip3 install -q 'pandas>=2' numpy==1.26.4", ["pandas>=2", "numpy==1.26.4"]),
        ("# %pip install seaborn", ["seaborn"]),
        ("# !pip install seaborn", ["seaborn"]),
        ("#%pip install seaborn", ["seaborn"]),
        ("!python -m pip install requests", ["requests"]),
        ("!python3.11 -m pip install requests", ["requests"]),
        ("!{sys.executable} -m pip install requests", ["requests"]),
        ("!uv pip install requests", ["requests"]),
        ("    !pip install tqdm", ["tqdm"]),
        ("%pip install pandas>=2  # for groupby", ["pandas>=2"]),
        ('%pip install "dask[dataframe]>=2024.1"', ["dask[dataframe]>=2024.1"]),
        ("%pip install -U --quiet --no-cache-dir torch", ["torch"]),
        ("%conda install numpy=1.26 scipy", ["numpy==1.26.*", "scipy"]),
        ("!conda install -y -c conda-forge pytorch", ["torch"]),
        ("%pip install 'pkg @ https://example.org/pkg-1.0.whl'", ["pkg @ https://example.org/pkg-1.0.whl"]),
    ],
)
def test_install_lines(line, expected):
    (found,) = installlines.pip_installs(line + "\n")
    assert list(found.requirements) == expected
    assert found.line == 1


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("%pip install -r requirements.txt", "'-r requirements.txt' is not supported"),
        ("%pip install -e ./mypkg", "editable install"),
        ("%pip install --index-url https://idx/simple x", "set it as index-url under [tool.reprorun]"),
        ("%pip install -i https://idx/simple x", "set it as index-url"),
        ("%pip install --extra-index-url https://e x", "extra-index-urls"),
        ("%pip install --pre x", "pre-releases"),
        ("%pip install --frobnicate x", "option '--frobnicate' ignored"),
        ("%pip install git+https://github.com/a/b", "not a named requirement"),
        ("%pip install ./local", "not a named requirement"),
        ("%pip install {pkg}", "notebook variable"),
        ("%pip install 'bad name!'", "not a valid requirement"),
        ("!pip install a && pip install b", "after '&&' is ignored"),
        ("%conda install python=3.11", "conda-only"),
        ("%conda install -c bioconda x", "'x' comes from the conda channel 'bioconda': conda-only, not adopted"),
    ],
)
def test_install_line_problems_are_reported(line, problem):
    (found,) = installlines.pip_installs(line + "\n")
    assert any(problem in p for p in found.problems), found.problems


def test_not_install_lines():
    text = "%pip list\n!pip freeze\n# pip install x (prose)\nprint('%pip install y')\n"
    assert installlines.pip_installs(text) == []


def test_imports_mapped_stdlib_local_relative_and_future_left_out():
    text = (
        "from __future__ import annotations\n"
        "import os, sys, json\n"
        "import numpy as np\n"
        "import sklearn.linear_model\n"
        "from PIL import Image\n"
        "from . import sibling\n"
        "from .pkg import thing\n"
        "import helpers\n"
        "def load():\n"
        "    import yaml\n"
        "    from bs4 import BeautifulSoup\n"
    )
    found = infer.infer(text, local={"helpers"})
    assert found.requirements == ("beautifulsoup4", "numpy", "pillow", "pyyaml", "scikit-learn")
    assert found.reasons["scikit-learn"] == (
        "import sklearn.linear_model (line 4): reprorun's table: import sklearn comes from scikit-learn"
    )
    assert found.reasons["numpy"] == "import numpy (line 3): a known distribution of the same name"
    assert found.unknown == ()


def test_unmapped_imports_are_guessed_under_their_own_name():
    found = infer.infer("import numpy\nimport frobnitz\nimport frobnitz.sub\n")
    assert found.requirements == ("frobnitz", "numpy")
    assert found.unknown == () and found.guessed == ("frobnitz",)
    assert found.reasons["frobnitz"].startswith("guessed: same name: import frobnitz (line 2)")


def test_installed_distributions_are_consulted():
    installed = {"frobnitz": ["Frobnitz-Tools"], "shared": ["one", "two"]}
    found = infer.infer("import frobnitz\nimport shared\n", installed=installed)
    assert found.requirements == ("Frobnitz-Tools",)
    assert found.reasons["frobnitz-tools"].endswith("provided by an installed distribution")
    assert found.unknown == ("shared",)
    assert any("several installed distributions (one, two)" in p for p in found.problems)


def test_pip_specifiers_win_over_imports_and_alternatives_satisfy_imports():
    text = (
        "# %pip install 'pandas>=2' opencv-python-headless scikit-learn==1.5.2\n"
        "import pandas as pd\n"
        "import cv2\n"
        "from sklearn import svm\n"
    )
    found = infer.infer(text)
    assert found.requirements == ("opencv-python-headless", "pandas>=2", "scikit-learn==1.5.2")
    assert found.pip_lines == (1,)
    assert found.reasons["pandas"] == "'# %pip install' (line 1)"


def test_later_install_line_wins_with_a_note():
    found = infer.infer("%pip install numpy==1.0\n%pip install numpy==2.0\n")
    assert found.requirements == ("numpy==2.0",)
    assert any("replaces 'numpy==1.0'" in p for p in found.problems)


def test_dedupe_is_by_canonical_name():
    found = infer.infer("%pip install Scikit_Learn\nimport sklearn\n")
    assert found.requirements == ("Scikit_Learn",)


def test_optional_imports_are_left_out_with_a_note():
    text = "try:\n    import numba\nexcept ImportError:\n    numba = None\n"
    found = infer.infer(text)
    assert found.requirements == ()
    assert "line 2: 'import numba' is inside try/except ImportError: left out" in found.problems
    both = infer.infer(text + "import numba\n")
    assert both.requirements == ("numba",)
    assert both.problems == ()


def test_magics_are_tolerated_and_syntax_errors_fall_back_to_a_scan():
    text = "%matplotlib inline\nx = !ls\ndf?\nimport numpy\n%%time\nfor i in range(3):\n    !echo {i}\n"
    assert reqs(text) == ("numpy",)
    broken = infer.infer("import pandas\nthis is not python (\nfrom scipy import stats\n")
    assert broken.requirements == ("pandas", "scipy")
    assert any("not valid Python" in p for p in broken.problems)


def test_dotted_table_keys():
    text = "from google.cloud import storage\nimport google.protobuf\nfrom azure.identity import X\n"
    assert reqs(text) == ("azure-identity", "google-cloud-storage", "protobuf")


def test_pep722_comment_and_existing_block_are_kept():
    pep722 = "# Script Dependencies:\n#   rich>=13\n#   requests\n\nimport rich\nimport numpy\n"
    found = infer.infer(pep722)
    assert found.requirements == ("numpy", "requests", "rich>=13")
    assert found.reasons["rich"] == "already in the PEP 722 comment"
    block = '# /// script\n# dependencies = ["pandas<3"]\n# ///\n%pip install pandas==2.2\nimport pandas\n'
    found = infer.infer(block)
    assert found.requirements == ("pandas<3",)
    assert found.reasons["pandas"] == "already in the script block"


def test_an_invalid_block_is_an_error():
    with pytest.raises(MetadataError):
        infer.infer('# /// script\n# dependencies = [1]\n# ///\n', "x.py")


def test_comment_out_pip_lines_marks_never_deletes():
    text = (
        "%pip install -q pandas\r\n"
        "# !pip install seaborn\r\n"
        "if True:\n"
        "    !pip install tqdm\n"
        "# reprorun: adopted into the script block: %pip install numpy\n"
        "import pandas\n"
    )
    out = installlines.comment_out_pip_lines(text)
    assert out == (
        "# reprorun: adopted into the script block: %pip install -q pandas\r\n"
        "# reprorun: adopted into the script block: !pip install seaborn\r\n"
        "if True:\n"
        "    pass  # reprorun: adopted into the script block: !pip install tqdm\n"
        "# reprorun: adopted into the script block: %pip install numpy\n"
        "import pandas\n"
    )
    assert installlines.comment_out_pip_lines(out) == out
    assert installlines.comment_out_pip_lines(text, lines={1}).splitlines()[1] == "# !pip install seaborn"
    # adopted lines are still read, so the information is never lost
    assert infer.infer(out).requirements == ("numpy", "pandas", "seaborn", "tqdm")
    compile(installlines.comment_out_pip_lines("if True:\n    !pip install x\n"), "<t>", "exec")


def test_table_is_large_and_well_formed():
    real_mismatches = [
        k for k, v in importnames.MISMATCHES.items()
        if canonicalize_name(importnames.top_level(k)) != canonicalize_name(v)
    ]
    assert len(real_mismatches) >= 100
    for module, distribution in importnames.MISMATCHES.items():
        assert all(part.isidentifier() for part in module.split("."))
        assert Requirement(distribution).name == distribution
        assert not importnames.is_stdlib(module), module
    for name in importnames.SAME_NAME:
        assert name.isidentifier() and name not in importnames.MISMATCHES
    for required in ("sklearn", "cv2", "PIL", "yaml", "skimage", "bs4", "Bio"):
        assert required in importnames.MISMATCHES


def test_stdlib_detection():
    for name in ("os", "os.path", "tomllib", "__future__", "sys", "asyncio.tasks", "_thread"):
        assert importnames.is_stdlib(name)
    assert not importnames.is_stdlib("numpy")


def test_local_modules(tmp_path):
    (tmp_path / "script.py").write_text("")
    (tmp_path / "helpers.py").write_text("")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "table.csv").write_text("")
    assert importnames.local_modules(tmp_path / "script.py") == {"script", "helpers", "pkg"}


def test_installed_distributions_of_this_environment():
    mapping = importnames.installed_distributions()
    assert "packaging" in {canonicalize_name(d) for d in mapping.get("packaging", [])}


def test_reasons_name_every_requirement():
    found = infer.infer("%pip install rich\nimport numpy\nimport cv2\n")
    assert set(found.reasons) == {canonicalize_name(Requirement(r).name) for r in found.requirements}
    assert all(re.search(r"line \d", why) for why in found.reasons.values())

"""`reprorun init --from FILE SCRIPT`: requirements.txt, environment.yml, pyproject.toml, pylock.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from reprorun.errors import UsageError
from reprorun.script import adopt, metadata

REQUIREMENTS_TXT = """\
# the analysis
pandas>=2.1  # dataframes
numpy==1.26.4 \\
    --hash=sha256:aaaa
scikit-learn[alldeps] ; python_version >= "3.10"
-r dev.txt
--index-url https://mirror.example/simple
-e ./mylib
git+https://github.com/o/r.git
mypkg @ https://example.org/mypkg-1.0.tar.gz

"""

ENVIRONMENT_YML = """\
name: analysis
channels:
  - conda-forge
  - bioconda
dependencies:
  - python=3.11
  - numpy=1.26
  - pandas>=2
  - scikit-learn=1.5.2=py311h1
  - pytorch
  - cudatoolkit=11.8
  - samtools
  - bioconda::pysam
  - pip
  - pip:
      - kagglehub==0.3.1
      - "rich>=13"  # quoted
  - matplotlib
"""

PYPROJECT = """\
[project]
name = "analysis"
version = "0"
requires-python = ">=3.10"
dependencies = ["httpx>=0.27", "typer"]

[project.optional-dependencies]
plots = ["matplotlib"]
"""

PYLOCK = """\
lock-version = "1.0"
requires-python = ">=3.11"
created-by = "pip"

[[packages]]
name = "alpha"
version = "2.0"

[[packages]]
name = "colorama"
version = "0.4.6"
marker = "sys_platform == 'win32'"

[[packages]]
name = "local"
directory = { path = "./local" }
"""


def test_requirements_txt():
    found = adopt.adopt(REQUIREMENTS_TXT, "requirements.txt")
    assert found.requirements == ("pandas>=2.1", "numpy==1.26.4", 'scikit-learn[alldeps] ; python_version >= "3.10"',
                                  "mypkg @ https://example.org/mypkg-1.0.tar.gz")  # fmt: skip
    problems = "\n".join(found.problems)
    assert "line 6: '-r dev.txt' not adopted" in problems
    assert "line 7: '--index-url https://mirror.example/simple' not adopted: set it as index-url" in problems
    assert "line 8: '-e ./mylib' not adopted: a block cannot hold an editable install" in problems
    assert "line 9: 'git+https://github.com/o/r.git' is not a named requirement" in problems


def test_environment_yml_pip_section_and_known_conda_packages():
    found = adopt.adopt(ENVIRONMENT_YML, "environment.yml")
    assert found.requirements == ("numpy==1.26.*", "pandas>=2", "scikit-learn==1.5.2", "torch", "kagglehub==0.3.1",
                                  "rich>=13", "matplotlib")  # fmt: skip
    assert found.requires_python == ">=3.11"
    problems = "\n".join(found.problems)
    assert "line 11: 'cudatoolkit=11.8' is a conda package: not adopted" in problems
    assert "line 12: 'samtools': no known PyPI distribution of that name" in problems
    assert "line 13: 'bioconda::pysam' is a conda package" in problems
    assert "channels bioconda" in problems
    assert "'pip'" in problems  # conda's pip itself is not a requirement


def test_pyproject_and_pylock():
    found = adopt.adopt(PYPROJECT, "pyproject.toml")
    assert found.requirements == ("httpx>=0.27", "typer") and found.requires_python == ">=3.10"
    assert found.problems == ("optional dependencies (plots) not adopted: add the ones you need",)
    locked = adopt.adopt(PYLOCK, "pylock.toml")
    assert locked.requirements == ("alpha==2.0", "colorama==0.4.6 ; sys_platform == 'win32'")
    assert locked.requires_python == ">=3.11"
    assert locked.problems == ("package local: no version (a VCS or directory source): not adopted",)
    assert adopt.kind_of("pylock.analysis.toml") == "pylock"
    dynamic = adopt.adopt('[project]\nname = "x"\ndynamic = ["dependencies"]\n', "pyproject.toml")
    assert dynamic.requirements == () and "dynamic" in dynamic.problems[0]


def test_bad_files_are_usage_errors():
    with pytest.raises(UsageError, match="not a file reprorun can adopt"):
        adopt.kind_of("setup.cfg")
    with pytest.raises(UsageError, match="invalid TOML"):
        adopt.adopt("[project", "pyproject.toml")
    with pytest.raises(UsageError, match=r"environment.yml:2: not an environment file line"):
        adopt.adopt("name: x\nweird\n", "environment.yml")


@pytest.mark.parametrize(
    ("name", "content", "expected", "python"),
    [
        ("requirements.txt", "alpha==1.0\nbeta\n", ["alpha==1.0", "beta"], None),
        ("environment.yml", "dependencies:\n  - python=3.10\n  - pip:\n    - alpha==1.0\n", ["alpha==1.0"], ">=3.10"),
        ("pyproject.toml", PYPROJECT, ["httpx>=0.27", "typer"], ">=3.10"),
        ("pylock.toml", PYLOCK, ["alpha==2.0", "colorama==0.4.6 ; sys_platform == 'win32'"], ">=3.11"),
    ],
)
def test_init_from_writes_the_block(run_reprorun, tmp_path: Path, name, content, expected, python):
    (tmp_path / name).write_text(content)
    script = tmp_path / "s.py"
    script.write_text("print('x')\n")
    done = run_reprorun("init", "--from", tmp_path / name, script, "gamma")
    assert done.returncode == 0, done.stderr
    meta = metadata.parse(script.read_text())
    assert list(meta.dependencies) == [*expected, "gamma"]
    assert (str(meta.requires_python) if meta.requires_python else None) == python
    assert script.read_text().endswith("print('x')\n")


def test_init_from_a_missing_file_and_an_explicit_requires_python(run_reprorun, tmp_path: Path):
    (tmp_path / "requirements.txt").write_text("alpha\n")
    done = run_reprorun("init", "--from", tmp_path / "nope.txt", tmp_path / "s.py")
    assert done.returncode == 2 and "--from" in done.stderr and not (tmp_path / "s.py").exists()
    given = ("--from", tmp_path / "requirements.txt", "--requires-python", ">=3.12")
    done = run_reprorun("init", *given, tmp_path / "n.py")
    assert done.returncode == 0, done.stderr
    meta = metadata.parse((tmp_path / "n.py").read_text())
    assert list(meta.dependencies) == ["alpha"] and str(meta.requires_python) == ">=3.12"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("numpy=1.26", "numpy==1.26.*"),
        ("numpy>=1.26,<2", "numpy>=1.26,<2"),
        ("numpy 1.26.4", "numpy1.26.4"),  # conda's space form is not PEP 508: reported below
        ("scipy=1.11.4=py311h64a7726_0", "scipy==1.11.4"),
        ("pytorch=2.1", "torch==2.1.*"),
        ("conda-forge::pandas", None),
    ],
)
def test_conda_dependency_forms(line, expected):
    found = adopt.adopt(f"dependencies:\n  - {line}\n", "environment.yml")
    if expected in (None, "numpy1.26.4"):
        assert found.requirements == () and found.problems
    else:
        assert found.requirements == (expected,)


def test_environment_yml_comments_quotes_and_a_pip_list_at_the_same_indent():
    text = (
        "# made by conda env export\n"
        "name: x  # a name\n"
        "dependencies:\n"
        "- numpy  # same indent as the key, as conda writes it\n"
        "- pip:\n"
        "  - 'alpha==1.0'\n"
        "  - beta\n"
        "- matplotlib\n"
        "prefix: /opt/conda/envs/x\n"
    )
    found = adopt.adopt(text, "env.yaml")
    assert found.requirements == ("numpy", "alpha==1.0", "beta", "matplotlib")
    assert found.problems == ()


def test_requirements_txt_continuations_comments_and_options_with_equals():
    text = "alpha \\\n  >=1.0 \\\n  --hash=sha256:00\n# whole line\nbeta==2  # why\n--extra-index-url=https://e/simple\n"
    found = adopt.adopt(text, "reqs.in")
    assert found.requirements == ("alpha >=1.0", "beta==2")
    assert found.problems == (
        "line 6: '--extra-index-url=https://e/simple' not adopted: add it to extra-index-urls under [tool.reprorun]",
    )

"""Options that do not change the env keep a run on the warm path (issue 17).

`--installer`, `--offline`, `-q`, and `--python` and `--cache-dir` (which the fingerprint names)
used to send a cached script down the whole command line. A warm run is recognised by what it
imports (`-X importtime`): never argparse or the CLI.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from reprorun import warm

BODY = "import sys; print(sys.prefix != sys.base_prefix, sys.version_info[:2])\n"


def _script(folder: Path) -> Path:
    path = folder / "s.py"
    path.write_text(f"# /// script\n# dependencies = ['alpha']\n# ///\n{BODY}")
    return path


def _run(options: list[str], path: Path, cwd: Path) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """`python -X importtime -m reprorun OPTIONS SCRIPT`: the result and the modules it imported."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "reprorun", *options, str(path)],
                            capture_output=True, text=True, cwd=cwd, check=False, timeout=300)  # fmt: skip
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()
                if line.startswith("import time:")}  # fmt: skip
    return result, imported


def _own_stderr(result: subprocess.CompletedProcess[str]) -> str:
    return "\n".join(line for line in result.stderr.splitlines() if not line.startswith("import time:"))


OPTIONS = {
    "installer pip": ["--installer", "pip"],
    "installer=uv": ["--installer=uv"],
    "installer auto": ["--installer", "auto"],
    "offline": ["--offline"],
    "quiet": ["-q"],
    "quiet twice": ["-qq"],
    "long quiet": ["--quiet"],
    "python path": ["--python", sys.executable],
    "python=version": [f"--python={sys.version_info[0]}.{sys.version_info[1]}"],
    "cache dir": ["--cache-dir", "{other}"],
    "cache-dir=": ["--cache-dir={other}"],
    "all of them": ["-q", "--offline", "--installer", "pip", "--python", sys.executable, "--cache-dir", "{other}"],
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(OPTIONS))
def test_a_warm_run_with_options_that_keep_the_env_skips_the_command_line(tmp_path, name):
    other = tmp_path / "other cache"
    options = [arg.replace("{other}", str(other)) for arg in OPTIONS[name]]
    path = _script(tmp_path)
    building = [arg for arg in options if arg != "--offline"]  # --offline cannot build
    first, first_imports = _run(building, path, tmp_path)
    assert first.returncode == 0, first.stderr
    assert "reprorun.cli" in first_imports  # the first run built: the whole command line
    second, imported = _run(options, path, tmp_path)
    assert (second.returncode, second.stdout, _own_stderr(second)) == (0, first.stdout, "")
    assert second.stdout.startswith("True ")  # it ran in the env
    assert "reprorun.warm" in imported
    assert not imported & {"argparse", "reprorun.cli", "packaging", "virtualenv"}, name
    if "--cache-dir" in " ".join(options):
        assert (other / "envs").is_dir()


@pytest.mark.slow
def test_the_fingerprint_still_says_which_env(tmp_path, cache_dir):
    """Two --python values and two cache dirs: four envs, each run warm in its own."""
    path = _script(tmp_path)
    versions = ["3.10", f"{sys.version_info[0]}.{sys.version_info[1]}"]
    found = subprocess.run([sys.executable, "-m", "reprorun", "--python", "3.10", str(path)],
                           capture_output=True, text=True, cwd=tmp_path, check=False)  # fmt: skip
    if found.returncode != 0 and "3.10" in found.stderr and not os.environ.get("CI"):
        pytest.skip("no Python 3.10 here")
    other = tmp_path / "other"
    for root in (cache_dir, other):
        for version in versions:
            options = ["--python", version, "--cache-dir", str(root)]
            assert _run(options, path, tmp_path)[0].returncode == 0
            result, imported = _run(options, path, tmp_path)
            assert result.stdout == f"True ({version.replace('.', ', ')})\n", result.stderr
            assert "reprorun.cli" not in imported
        assert len(list((root / "envs").iterdir())) == 2


def test_an_invalid_installer_is_left_to_the_command_line(run_reprorun, tmp_path):
    path = _script(tmp_path)
    assert run_reprorun(path).returncode == 0
    result = run_reprorun("--installer", "conda", path)
    assert result.returncode == 2
    assert "invalid choice: 'conda'" in result.stderr


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["s.py", "-q"], (None, None, "s.py", ["-q"])),  # after the script: the script's
        (["-q", "--installer", "uv", "s.py"], (None, None, "s.py", [])),
        (["--installer=pip", "--python=3.12", "s.py", "a"], ("3.12", None, "s.py", ["a"])),
        (["--cache-dir=/c", "s.py"], (None, "/c", "s.py", [])),
        (["--python", "/usr/bin/python3", "-qqq", "s.py"], ("/usr/bin/python3", None, "s.py", [])),
        (["--installer", "conda", "s.py"], None),  # the full path says why not
        (["--installer"], None),
        (["--python"], None),
        (["--refresh", "s.py"], None),  # changes the env
        (["--find-links", "w", "s.py"], None),  # changes the sources
        (["-v", "s.py"], None),
        (["-qv", "s.py"], None),
        (["--offline=1", "s.py"], None),
        (["--offline"], None),
        (["--python", "3.12", "nb.ipynb"], None),
        (["cache", "list"], None),  # a command, not a script
    ],
)
def test_parse_takes_only_options_that_keep_the_env(argv, expected):
    assert warm._parse(argv) == expected

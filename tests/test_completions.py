"""`reprorun completions`, `--version` and `doctor` (issue 18), driven through the real command."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from reprorun.commands.doctor import mask

DRIVER = r"""
source "$1"
complete_words() {
    COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMPREPLY=(); _reprorun
    printf '%s\n' "${COMPREPLY[@]}"
}
shift
complete_words "$@"
"""


def _complete(script: Path, cwd: Path, *words: str) -> list[str]:
    """What the real bash completion offers for a command line ending in `words[-1]`."""
    driver = cwd / "driver.sh"
    driver.write_text(DRIVER)
    result = subprocess.run(["bash", str(driver), str(script), "reprorun", *words], cwd=cwd,
                            capture_output=True, text=True, check=True)  # fmt: skip
    return result.stdout.split()


@pytest.fixture
def bash_script(run_reprorun, tmp_path):
    result = run_reprorun("completions", "bash")
    assert result.returncode == 0, result.stderr
    path = tmp_path / "reprorun.bash"
    path.write_text(result.stdout)
    return path


def test_bash_script_is_valid_bash(bash_script):
    assert subprocess.run(["bash", "-n", str(bash_script)], check=False).returncode == 0


def test_completing_ca_offers_cache(bash_script, tmp_path):
    assert "cache" in _complete(bash_script, tmp_path, "ca")


def test_commands_options_choices_and_scripts(bash_script, tmp_path):
    (tmp_path / "analysis.py").write_text("print(1)\n")
    (tmp_path / "notes.txt").write_text("")
    (tmp_path / "nb.ipynb").write_text("{}")
    assert _complete(bash_script, tmp_path, "cache", "p") == ["prune"]
    assert _complete(bash_script, tmp_path, "--installer", "") == ["auto", "pip", "uv"]
    assert _complete(bash_script, tmp_path, "--ins") == ["--installer"]
    offered = _complete(bash_script, tmp_path, "")
    assert {"analysis.py", "nb.ipynb", "cache", "sync"} <= set(offered)
    assert "notes.txt" not in offered
    # a command after global options with values is still recognised
    assert _complete(bash_script, tmp_path, "--python", "3.11", "cache", "--js") == ["--json"]


def test_every_command_is_in_the_completion(run_reprorun, bash_script):
    help_text = run_reprorun("--help").stdout
    listed = help_text.split("commands:")[1].split("(")[0].replace(",", " ").split()
    text = bash_script.read_text()
    for command in listed:
        assert f"        {command})" in text, command


def test_zsh_and_fish_scripts(run_reprorun):
    zsh = run_reprorun("completions", "zsh")
    assert zsh.returncode == 0 and zsh.stdout.startswith("#compdef reprorun")
    assert "bashcompinit" in zsh.stdout and "complete -o filenames -F _reprorun reprorun" in zsh.stdout
    fish = run_reprorun("completions", "fish")
    assert fish.returncode == 0
    assert "complete -c reprorun -n __fish_use_subcommand -a cache" in fish.stdout
    assert "-l installer -r -a 'auto pip uv'" in fish.stdout
    if shutil.which("zsh"):
        assert subprocess.run(["zsh", "-n"], input=zsh.stdout, text=True, check=False).returncode == 0
    if shutil.which("fish"):
        assert subprocess.run(["fish", "-n"], input=fish.stdout, text=True, check=False).returncode == 0


def test_an_unknown_shell_is_a_usage_error(run_reprorun):
    result = run_reprorun("completions", "tcsh")
    assert result.returncode == 2 and "invalid choice" in result.stderr


def test_version_names_the_python(run_reprorun):
    result = run_reprorun("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("reprorun ") and "(Python 3." in result.stdout


def test_doctor_reports_what_a_bug_report_needs(run_reprorun, cache_dir):
    result = run_reprorun("doctor", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    for key in ("reprorun", "python", "cache", "cache size", "interpreters", "default interpreter",
                "installers", "package sources", "lock mode", "default lock works here"):
        assert key in report, key
    assert report["cache"] == str(cache_dir)
    assert report["lock mode"] == "flock" and report["default lock works here"] == "yes"
    assert report["installers"]["pip"].startswith("virtualenv's embedded pip-")
    text = run_reprorun("doctor")
    assert text.returncode == 0 and "default interpreter:" in text.stdout


def test_doctor_masks_secrets(run_reprorun):
    result = run_reprorun("doctor", "--json", "--index-url", "https://me:s3cret@pypi.example/simple",
                          env={"PIP_EXTRA_INDEX_URL": "https://token@mirror.example/simple"})
    assert result.returncode == 0, result.stderr
    assert "s3cret" not in result.stdout and "token@" not in result.stdout
    assert "https://me:***@pypi.example/simple" in result.stdout


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("https://user:pw@host/simple", "https://user:***@host/simple"),
        ("https://tok@host/simple", "https://***@host/simple"),
        ("https://host/simple", "https://host/simple"),
        ("/local/wheels", "/local/wheels"),
    ],
)
def test_mask(url, masked):
    assert mask(url) == masked

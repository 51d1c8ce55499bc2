"""docs/portability.md: every example command runs, in order, and prints what the page shows."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from portable_wheels import build

DOC = Path(__file__).resolve().parent.parent / "docs" / "portability.md"


def examples(text: str) -> list[tuple[list[str], list[str]]]:
    """(argv after `reprorun`, expected output lines) of each `$ reprorun ...` line of console blocks."""
    found: list[tuple[list[str], list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.DOTALL):
        for line in block.splitlines():
            if line.startswith("$ "):
                words = shlex.split(line[2:])
                assert words[0] == "reprorun", line
                found.append((words[1:], []))
            else:
                found[-1][1].append(line)
    return found


def test_the_page_has_examples_of_each_part() -> None:
    commands = [" ".join(argv) for argv, _ in examples(DOC.read_text())]
    assert any(c.startswith("--freeze --for") for c in commands)
    assert any(c.startswith("check --for") for c in commands)
    assert any(c.startswith("bundle") for c in commands)
    assert any(c.startswith("--bundle") for c in commands)
    assert sum(c.startswith("export") for c in commands) >= 3


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="the page's script asks for Python 3.11")
def test_every_example_command_of_the_page(reprorun_exe: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = DOC.read_text()
    wheels = build(tmp_path / "wheels")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    monkeypatch.setenv("UV_FIND_LINKS", str(wheels))
    work = tmp_path / "work"
    work.mkdir()
    example = re.search(r"```python\n(.*?)```", text, flags=re.DOTALL)
    assert example is not None
    (work / "analysis.py").write_text(example[1])
    for argv, expected in examples(text):
        done = subprocess.run([str(reprorun_exe), *argv], cwd=work, capture_output=True, text=True, check=False)
        output = (done.stdout + done.stderr).splitlines()
        failing = any(line.startswith(("FAIL", "reprorun: error")) for line in expected)
        assert (done.returncode != 0) == failing, (argv, done.stdout, done.stderr)
        for line in expected:
            assert line in output, (argv, line, output)
    assert (work / "pylock.analysis.toml").is_file()
    assert (work / "Dockerfile").is_file() and (work / "analysis.def").is_file()

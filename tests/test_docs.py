"""The documentation runs: every `console` block of the tutorial and how-to pages, and the site builds.

A `console` block holds commands (`$ ...`) each followed by the output the page shows. The test
runs the commands in order, in one folder per page (so a page's state carries from block to
block), offline against a local wheelhouse, and fails when a command fails (unless the page shows
a Python traceback for it) or when its output no longer matches the page in substance: every
non-blank line the page shows must appear in the real output, in order, where `...` stands for
anything (a whole line: any number of lines). Numbers that change from run to run (times, Python
versions, platform tags, hashes, timestamps, paths of the test) are normalized on both sides.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
# Pages whose `console` blocks run, and the example files each starts with.
PAGES = {"tutorial.md": ROOT / "scripts-examples" / "tutorial"}
# The wheels the tutorial's notebook needs (tests/fetch_wheels.py downloads them, pinned).
WHEELS = ("tabulate", "python_dateutil", "tzdata")
NORMALIZE = [
    (re.compile(r"\d{8}T\d{6}Z-([\w.-]+?)-\w+"), r"<stamp>-\1-<id>"),
    (re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?Z?"), "<time>"),
    (re.compile(r"cpython-3\.\d+\.\d+-[\w]+"), "<tag>"),
    (re.compile(r"\b3\.\d+\.\d+\b"), "<py>"),
    (re.compile(r"\b\d+(\.\d+)?m?s\b"), "<t>"),
    (re.compile(r"\b[0-9a-f]{12,64}\b"), "<hex>"),
]


@dataclass(frozen=True)
class Step:
    """One command of a page and the output the page shows for it."""

    page: str
    line: int
    command: str
    expected: tuple[str, ...]


def steps(page: str) -> list[Step]:
    """The commands of a page's `console` blocks, in order."""
    found: list[Step] = []
    text = (DOCS / page).read_text(encoding="utf-8")
    for block in re.finditer(r"^```console\n(.*?)^```", text, flags=re.S | re.M):
        first = text.count("\n", 0, block.start()) + 2
        command: str | None = None
        start = 0
        expected: list[str] = []
        for offset, line in enumerate(block.group(1).splitlines()):
            if line.startswith("$ "):
                if command is not None:
                    found.append(Step(page, start, command, tuple(expected)))
                command, start, expected = line[2:], first + offset, []
            elif command is not None:
                expected.append(line)
        if command is not None:
            found.append(Step(page, start, command, tuple(expected)))
    return found


def normalize(line: str, work: Path) -> str:
    """A line with what varies between runs replaced by placeholders, and spaces collapsed."""
    line = line.replace(str(work), "~/tutorial")
    for pattern, replacement in NORMALIZE:
        line = pattern.sub(replacement, line)
    return " ".join(line.split())


def matches(expected: tuple[str, ...], output: str, work: Path) -> str | None:
    """None if the output shows every expected line in order; else the first line not found."""
    actual = [normalize(line, work) for line in output.splitlines() if line.strip()]
    position = 0
    for raw in expected:
        want = normalize(raw, work)
        if not want or want == "...":
            continue
        pattern = re.compile(".*".join(re.escape(part) for part in want.split("...")) + "$")
        while position < len(actual) and not pattern.match(actual[position]):
            position += 1
        if position == len(actual):
            return raw
        position += 1
    return None


# Read at import: the autouse fixture clears REPRORUN_* variables before each test.
WHEEL_FOLDER = Path(os.environ.get("REPRORUN_TEST_WHEELS") or ROOT / ".test-wheels")


def _wheels() -> Path:
    folder = WHEEL_FOLDER
    missing = [name for name in WHEELS if not list(folder.glob(f"{name}-*.whl"))]
    if missing:
        reason = f"the documentation's wheels are not in {folder} ({', '.join(missing)}): run tests/fetch_wheels.py"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return folder


@pytest.mark.parametrize("page", sorted(PAGES))
def test_every_command_of_the_page_runs_as_shown(page, tmp_path, reprorun_exe, monkeypatch):
    wheels = _wheels()
    work = tmp_path / "tutorial"
    shutil.copytree(PAGES[page], work)
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    monkeypatch.setenv("UV_FIND_LINKS", str(wheels))
    monkeypatch.setenv("PATH", f"{reprorun_exe.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("HOME", str(tmp_path))
    for step in steps(page):
        result = subprocess.run(["bash", "-c", step.command], cwd=work, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, timeout=600, check=False)  # fmt: skip
        output = result.stdout
        shows_failure = any("Traceback" in line or "Error" in line for line in step.expected)
        where = f"{page}:{step.line}: $ {step.command}"
        assert result.returncode == 0 or shows_failure, f"{where}\nexit {result.returncode}\n{output}"
        missing = matches(step.expected, output, work)
        assert missing is None, f"{where}\nthe page shows {missing!r}, the command printed:\n{output}"


def test_the_pages_have_commands():
    assert len(steps("tutorial.md")) >= 10


def test_matching_in_substance(tmp_path):
    output = "reprorun: installed 3 packages in 0.4s\nOslo: 12 days\nextra\n2024-01  4  -3.2\n"
    assert matches(("reprorun: installed 3 packages in 1.2s", "...", "2024-01 4 -3.2"), output, tmp_path) is None
    assert matches(("Oslo: ... days",), output, tmp_path) is None
    assert matches(("2024-01  4  -3.2", "Oslo: 12 days"), output, tmp_path) == "Oslo: 12 days"  # order counts
    assert matches(("Lisbon: 12 days",), output, tmp_path) == "Lisbon: 12 days"


def test_every_environment_variable_and_config_key_is_documented():
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "src").rglob("*.py"))
    documented = (DOCS / "reference" / "environment.md").read_text(encoding="utf-8")
    for name in sorted(set(re.findall(r"\bREPRORUN_[A-Z_]+\b", source))):
        assert f"`{name}`" in documented, f"{name} is read by reprorun but not in docs/reference/environment.md"
    from reprorun import config

    keys = (DOCS / "reference" / "config.md").read_text(encoding="utf-8")
    for key in (*config._STRINGS, *config._LISTS, *getattr(config, "_BOOLEANS", ())):
        assert f"`{key}`" in keys, f"config key {key} is not in docs/reference/config.md"


def test_the_site_builds_strictly(tmp_path):
    beside = Path(sys.executable).parent / "mkdocs"
    mkdocs = str(beside) if beside.exists() else shutil.which("mkdocs")
    if mkdocs is None:
        reason = "mkdocs is not installed (pip install -e '.[docs]')"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    quiet = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run([mkdocs, "build", "--strict", "--site-dir", str(tmp_path / "site")], cwd=ROOT,
                            capture_output=True, text=True, check=False, env=quiet)  # fmt: skip
    assert result.returncode == 0, result.stderr
    reference = (tmp_path / "site" / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    for command in ("reprorun sync", "reprorun cache", "--installer", "reprorun completions"):
        assert command in reference, command
